"""Checks before every request that follow from the account, not the route's roles:
a role that must use a second factor enrols one first, and sensitive steps ask for the
password again when the last confirmation is older than the window."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from casefile import access
from casefile.auth import services, sessions
from casefile.auth.forms import ReauthForm
from casefile.extensions import db

# What a user who still has to enrol a second factor may reach.
_ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout", "auth.reauth", "static"})
_REPLAY_SKIPPED = frozenset({"csrf_token", "reauth_password", "reauth_code"})


def require_second_factor() -> Response | None:
    if not current_user.is_authenticated or request.endpoint in _ENROLMENT_ENDPOINTS:
        return None
    user = current_user._get_current_object()
    if user.has_totp or not services.second_factor_required(user):
        return None
    flash(_("Your role must use a second factor. Set up your authenticator app to continue."), "info")
    return redirect(url_for("auth.two_factor"))


def require_recent_auth() -> Response | str | None:
    """Before a declared sensitive step: go on if the password was confirmed recently, else ask for it.

    A link (GET) goes to the confirmation page and comes back. A form (POST) is answered with a
    page that asks for the password and carries the submitted fields along, so nothing typed is lost.
    """
    if request.endpoint is None or not current_user.is_authenticated:
        return None
    declared = access.recent_auth_required(request.endpoint)
    if declared is None or not declared.applies(request.method, request.form) or sessions.is_recent():
        return None
    if request.method == "GET":
        return redirect(url_for("auth.reauth", next=request.full_path.rstrip("?")))
    user = current_user._get_current_object()
    form = ReauthForm()
    if "reauth_password" in request.form:
        if form.validate() and services.confirm_identity(user, form.reauth_password.data or "",
                                                         form.reauth_code.data or ""):
            sessions.confirm_recent()
            return None  # on to the view, with the submission as it came
        db.session.commit()  # keep the failed attempt's record
        flash(_("That did not match. Try again."), "error")
    replay = [(key, value) for key, value in request.form.items(multi=True) if key not in _REPLAY_SKIPPED]
    return render_template("auth/reauth.html", form=form, action=request.full_path.rstrip("?"), replay=replay,
                           needs_code=user.has_totp)
