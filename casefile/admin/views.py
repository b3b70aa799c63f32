"""Admins manage accounts and teams. No hard delete: deactivation keeps the trail readable."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile import access
from casefile.admin.forms import ConfirmForm, CreateUserForm, EditUserForm, PasswordForm
from casefile.auth import services
from casefile.auth.models import Role, Team, User
from casefile.core.errors import DomainError
from casefile.core.forms import show_error
from casefile.db import utcnow
from casefile.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _team_choices(form: CreateUserForm | EditUserForm) -> None:
    form.teams.choices = [(team.name, team.name) for team in db.session.scalars(select(Team).order_by(Team.name))]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _apply_error(form, error: DomainError) -> None:  # type: ignore[no-untyped-def]
    db.session.rollback()
    show_error(form, error)


@bp.route("/users")
@access.roles(Role.ADMIN)
def users() -> str:
    accounts = db.session.scalars(select(User).order_by(User.active.desc(), User.username))
    return render_template("admin/users.html", users=accounts, confirm=ConfirmForm(), now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def create_user() -> Response | str | tuple[str, int]:
    form = CreateUserForm()
    _team_choices(form)
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user._get_current_object(), username=form.username.data or "", role=form.role.data,
                password=form.password.data or "", teams=form.team_names(), display_name=form.display_name.data or "")
        except DomainError as error:
            _apply_error(form, error)
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def edit_user(user_id: int) -> Response | str | tuple[str, int]:
    user = _user_or_404(user_id)
    form = EditUserForm(obj=None) if _posted() else EditUserForm(
        formdata=None, data={"display_name": user.display_name, "role": user.role,
                             "teams": [team.name for team in user.teams]})
    _team_choices(form)
    if form.validate_on_submit():
        try:
            services.update_user(current_user._get_current_object(), user, role=form.role.data,
                                 teams=form.team_names(), display_name=form.display_name.data or "")
        except DomainError as error:
            _apply_error(form, error)
        else:
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_form.html", form=form, user=user, confirm=ConfirmForm(),
                           locked=services.is_locked(user)), status


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def reset_password(user_id: int) -> Response | str | tuple[str, int]:
    user = _user_or_404(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(current_user._get_current_object(), user, form.password.data or "")
        except DomainError as error:
            _apply_error(form, error)
        else:
            flash(_("New password set for %(name)s; their sessions have ended.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/password.html", form=form, user=user), status


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def set_active(user_id: int) -> Response:
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_active(current_user._get_current_object(), user, not user.active)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("%(name)s is active again.", name=user.username) if user.active
              else _("%(name)s is deactivated; their sessions have ended.", name=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def unlock(user_id: int) -> Response:
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.unlock(current_user._get_current_object(), user)
    flash(_("%(name)s can log in again.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/two-factor/remove", methods=["POST"])
@access.roles(Role.ADMIN)
@access.recent_auth(methods=("POST",))
def remove_two_factor(user_id: int) -> Response:
    """For a lost phone: the user sets up a new app at the next login (where the role requires one)."""
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.remove_second_factor(current_user._get_current_object(), user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The second factor of %(name)s is removed; their sessions have ended.", name=user.username),
              "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _posted() -> bool:
    return request.method == "POST"
