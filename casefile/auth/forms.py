"""Forms of logging in, the second factor, re-authentication and the user's own account."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from casefile.auth.passwords import MAX_PASSWORD_LENGTH
from casefile.core.forms import TextField


class LoginForm(FlaskForm):
    username = TextField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class CodeForm(FlaskForm):
    """The six-digit code of the authenticator app, or a recovery code."""

    code = TextField(_l("Code"), validators=[InputRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True})


class ReauthForm(FlaskForm):
    # Prefixed names: the fields travel along with another form's fields when a submission is replayed.
    reauth_password = PasswordField(_l("Password"), validators=[InputRequired(),
                                                                Length(max=MAX_PASSWORD_LENGTH)])
    reauth_code = TextField(_l("Code from your authenticator app, or a recovery code"),
                              validators=[Optional(), Length(max=32)], render_kw={"autocomplete": "one-time-code"})


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
