"""Log in (password, then the second factor), log out, confirm the password again, and the
user's own account: password, authenticator app, recovery codes, log out everywhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from casefile import access, audit
from casefile.auth import services, sessions, totp
from casefile.auth.forms import ActionForm, CodeForm, LoginForm, PasswordChangeForm, ReauthForm
from casefile.auth.models import User
from casefile.core.errors import DomainError
from casefile.core.forms import show_error
from casefile.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only paths on this site: no scheme, no host, no protocol-relative '//'.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
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
            next_url = _safe_next(request.args.get("next"))
            if user.has_totp:
                sessions.hold_for_second_factor(user.id, user.session_version, next_url)
                return redirect(url_for("auth.second_factor"))
            return _finish_login(user, None, next_url)
        flash(_("Login failed."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@access.public
def second_factor() -> Response | str:
    pending = sessions.pending_login()
    user = db.session.get(User, int(pending["user"])) if pending else None  # type: ignore[call-overload]
    if user is None or pending is None or user.session_version != pending["version"] or not user.active:
        session.pop(sessions.PENDING, None)
        flash(_("Log in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        method = services.check_second_factor(user, form.code.data or "")
        if method is not None:
            return _finish_login(user, method, pending.get("next"))  # type: ignore[arg-type]
        flash(_("Login failed."), "error")
    return render_template("auth/second_factor.html", form=form)


def _finish_login(user: User, method: str | None, next_url: str | None) -> Response:
    services.complete_login(user, method)
    session.clear()  # nothing from before the login survives into the new session
    login_user(user)
    session.permanent = True
    sessions.start(user.id, request.remote_addr or "")
    if services.is_locked(user):  # cannot happen: authenticate refused it; kept as a guard
        logout_user()
        return redirect(url_for("auth.login"))
    if method == "recovery_code":
        flash(_("You used a recovery code; %(n)s are left. Make new ones on your account page.",
                n=totp.unused_recovery_codes(user)), "info")
    return redirect(next_url or url_for("web.home"))


@bp.route("/logout", methods=["POST"])
@access.authenticated
def logout() -> Response:
    audit.record(current_user._get_current_object(), "logout", object_type="user", object_id=current_user.id)
    sessions.end()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/reauth", methods=["GET", "POST"])
@access.authenticated
def reauth() -> Response | str:
    """Confirm the password (and second factor) before a sensitive step reached by a link."""
    user = _actor()
    form = ReauthForm()
    next_url = _safe_next(request.args.get("next")) or url_for("web.home")
    if form.validate_on_submit():
        if services.confirm_identity(user, form.reauth_password.data or "", form.reauth_code.data or ""):
            sessions.confirm_recent()
            return redirect(next_url)
        flash(_("That did not match. Try again."), "error")
    return render_template("auth/reauth.html", form=form, action=url_for("auth.reauth", next=next_url),
                           replay=[], needs_code=user.has_totp)


@bp.route("/account")
@access.authenticated
def account() -> str:
    user = _actor()
    return render_template("auth/account.html", user=user, action_form=ActionForm(),
                           unused_codes=totp.unused_recovery_codes(user) if user.has_totp else 0,
                           required=services.second_factor_required(user))


@bp.route("/account/password", methods=["GET", "POST"])
@access.authenticated
def change_password() -> Response | str | tuple[str, int]:
    user = _actor()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(user, form.current.data or "", form.password.data or "")
        except DomainError as error:
            show_error(form, error)
            db.session.commit()  # a wrong current password is a failed attempt; keep its record
        else:
            login_user(user)  # this session continues under the new session version; the others end
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("auth.account"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@access.authenticated
@access.recent_auth(methods=("GET", "POST"))
def two_factor() -> Response | str | tuple[str, int]:
    """Enrol an authenticator app (or replace the one enrolled)."""
    user = _actor()
    form = CodeForm()
    if form.validate_on_submit():
        codes = services.enable_second_factor(user, form.code.data or "")
        if codes is not None:
            flash(_("Your authenticator app is set up."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors = [_("That code does not match. Check the time on your phone and try again.")]
        db.session.commit()  # keep the failed attempt's record: the 400 below rolls back
    enrolment = totp.pending_enrolment(user)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/two_factor.html", form=form, enrolment=enrolment, user=user,
                           required=services.second_factor_required(user)), status


@bp.route("/account/recovery-codes", methods=["POST"])
@access.authenticated
@access.recent_auth(methods=("POST",))
def recovery_codes() -> Response | str:
    user = _actor()
    if not user.has_totp or not ActionForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=services.new_recovery_codes(user))


@bp.route("/account/two-factor/remove", methods=["POST"])
@access.authenticated
@access.recent_auth(methods=("POST",))
def remove_two_factor() -> Response:
    user = _actor()
    if ActionForm().validate_on_submit():
        try:
            services.remove_second_factor(user, user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("The second factor is switched off for your account."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/logout-everywhere", methods=["POST"])
@access.authenticated
def logout_everywhere() -> Response:
    user = _actor()
    if ActionForm().validate_on_submit():
        services.logout_everywhere(user)
        logout_user()
        session.clear()
        flash(_("Every session of your account has ended, this one too. Log in again."), "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.account"))


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]
