"""The login form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=256)])
