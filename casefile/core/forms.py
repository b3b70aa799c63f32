"""Field types and validators that every form shares."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional, ValidationError

from casefile.core.errors import DomainError
from casefile.core.partial_dates import InvalidDate, PartialDate
from casefile.core.text import text_problem


def strip_text(value: Any) -> Any:
    """Trim surrounding white space; keep everything else exactly as typed."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form: FlaskForm, field: Field) -> None:
    """Refuse what ``casefile.core.text`` refuses: control characters and null bytes, invalid UTF-8,
    bidi controls, and on one line the invisible zero-width characters (see ``text_problem``)."""
    value = field.data
    if not isinstance(value, str):
        return
    problem = text_problem(value, multiline=bool(getattr(field, "multiline", False)))
    if problem:
        raise ValidationError(problem)


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it names, or at the top of the page."""
    target = getattr(form, error.field, None) if error.field else None
    if isinstance(target, Field):
        target.errors = [*target.errors, str(error)] if isinstance(target.errors, list) else [str(error)]
    else:
        flash(str(error), "error")


def own_errors(field: Field) -> list[str]:
    """A list field's own messages, without its entries' nested error dicts and lists."""
    return [str(error) for error in field.errors if not isinstance(error, (dict, list, tuple))]


class TextField(StringField):
    """A single-line text field: trimmed, no control characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip_text])
        validators = list(kwargs.pop("validators", None) or [])
        super().__init__(*args, validators=[no_control_characters, *validators], **kwargs)


def choices_of(vocabulary: dict[Any, Any]) -> list[tuple[str, Any]]:
    """SelectField choices from a vocabulary of value → label."""
    return [(str(key), value) for key, value in vocabulary.items()]


class LongText(TextAreaField):
    """A multi-line text: newlines and tabs allowed, other control characters refused."""

    multiline = True

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip_text])
        super().__init__(*args, validators=[Optional(), Length(max=max_length), no_control_characters], **kwargs)


class PartialDateField(StringField):
    """A date known to the year, month or day: ``2017``, ``2017-08``, ``2017-08-14``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("description", _l("YYYY, YYYY-MM or YYYY-MM-DD"))
        super().__init__(*args, **kwargs)
        self.parsed: PartialDate | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.parsed = None
        raw = (valuelist[0] if valuelist else "") or ""
        self.data = raw.strip()
        if not self.data:
            return
        try:
            self.parsed = PartialDate.parse(self.data)
        except InvalidDate as exc:
            self.parsed = None
            raise ValueError(str(exc)) from exc

    def process_data(self, value: Any) -> None:
        self.parsed = value if isinstance(value, PartialDate) else None
        self.data = value.isoformat() if isinstance(value, PartialDate) else (value or "")

    def _value(self) -> str:
        return self.data or ""


class CheckboxListField(SelectMultipleField):
    """Several choices as checkboxes (works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
