"""Forms for managing accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField
from wtforms.validators import EqualTo, InputRequired, Length

from casefile.auth.forms import ActionForm as ConfirmForm
from casefile.auth.models import Role
from casefile.core.forms import CheckboxListField, TextField

ROLE_CHOICES = [
    (Role.ADVOCATE.value, _l("Advocate")),
    (Role.COORDINATOR.value, _l("Coordinator")),
    (Role.AUDITOR.value, _l("Auditor")),
    (Role.ADMIN.value, _l("Admin")),
]


class _AccountFields(FlaskForm):
    display_name = TextField(_l("Display name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    teams = CheckboxListField(_l("Teams"), choices=[])
    new_teams = TextField(_l("New teams, separated by commas"), validators=[Length(max=400)])

    def team_names(self) -> list[str]:
        chosen = list(self.teams.data or [])
        extra = [name.strip() for name in (self.new_teams.data or "").split(",") if name.strip()]
        return list(dict.fromkeys(chosen + extra))


class CreateUserForm(_AccountFields):
    username = TextField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Initial password"), validators=[InputRequired(), Length(max=256)])


class EditUserForm(_AccountFields):
    pass


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))])

__all__ = ["ConfirmForm", "CreateUserForm", "EditUserForm", "PasswordForm", "ROLE_CHOICES"]
