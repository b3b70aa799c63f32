"""The interface language switch in the page header."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

# Each language is offered under its own name, so a person who cannot read the current one finds theirs.
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()), validators=[InputRequired()])
