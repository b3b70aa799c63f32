"""Log in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from casefile import access, audit
from casefile.auth import services, sessions
from casefile.auth.forms import LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only paths on this site: no scheme, no host, no protocol-relative '//'.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            sessions.start()
            return redirect(_safe_next(request.args.get("next")) or url_for("web.home"))
        flash(_("Login failed."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access.authenticated
def logout() -> Response:
    audit.record(current_user._get_current_object(), "logout", object_type="user", object_id=current_user.id)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
