"""The forms of the import steps: upload, column mapping, commit and discard."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, SelectField
from wtforms.validators import DataRequired, Length

from casefile.core.forms import TextField
from casefile.imports import columns


class UploadForm(FlaskForm):
    file = FileField(_l("Spreadsheet"), description=_l("CSV (UTF-8 or Windows-1251; comma, semicolon or tab) or XLSX."))
    team_id = SelectField(_l("Team"), coerce=int, validators=[DataRequired()])


class MappingForm(FlaskForm):
    """One choice per header of the file (``column_<i>``), built by ``mapping_form``."""

    saved_mapping = SelectField(_l("Use a saved mapping"), coerce=int, default=0)
    mapping_name = TextField(_l("Save this mapping as"), validators=[Length(max=100)],
                             description=_l("Optional: a name to reuse this mapping with the next file."))


def column_choices() -> list[tuple[str, str]]:
    return [("", str(_l("— ignore this column —")))] + [
        (code, f"{code} · {label}") for code, label in columns.CANONICAL.items()]


def mapping_form(headers: list[str], proposed: dict[str, str], saved: list[tuple[int, str]],
                 formdata: object = None) -> MappingForm:
    class Form(MappingForm):
        pass

    for i, header in enumerate(headers):
        setattr(Form, f"column_{i}", SelectField(header or _l("(no header)"), choices=column_choices(),
                                                 default=proposed.get(header, "")))
    form = Form() if formdata is None else Form(formdata=formdata)
    form.saved_mapping.choices = [(0, str(_l("—")))] + saved
    return form


def posted_mapping(form: MappingForm, headers: list[str]) -> dict[str, str]:
    return {header: getattr(form, f"column_{i}").data or "" for i, header in enumerate(headers)}


class CommitForm(FlaskForm):
    """CSRF for the commit; each flagged row's decision comes as ``row-<number>``."""


class DiscardForm(FlaskForm):
    pass
