"""The forms of the evidence log: add (files or a note, or a correction) and remove."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField
from wtforms.validators import Length, Optional, ValidationError

from casefile.core.forms import LongText, PartialDateField, TextField, choices_of
from casefile.evidence import vocab

MAX_NOTE = 100_000
# ASCII digits only ("²".isdigit() is true, int("²") is not) and few enough for any database integer.
ITEM_ID = re.compile(r"[0-9]{1,15}")


class EvidenceForm(FlaskForm):
    files = MultipleFileField(_l("Files"), description=_l("One or several files; each becomes its own entry."))
    note = LongText(_l("Or a note"), max_length=MAX_NOTE,
                    description=_l("A written account, instead of files."))
    kind = SelectField(_l("Kind"), choices=choices_of(vocab.KINDS), default="other")
    description = LongText(_l("Description"), max_length=5000)
    source = TextField(_l("Source"), validators=[Length(max=1000)],
                       description=_l("Who gave it, and how (in person, by messenger, by post)."))
    document_date = PartialDateField(_l("Date of the document"))
    original_url = TextField(_l("Original address"), validators=[Length(max=2000)],
                             description=_l("For a testimony published online: where it was published."))
    corrects_id = HiddenField(validators=[Optional()])

    def validate_corrects_id(self, field: HiddenField) -> None:
        if field.data and not ITEM_ID.fullmatch(str(field.data)):
            raise ValidationError(_l("Unknown item."))

    @property
    def corrects(self) -> int | None:
        """The id of the item this entry corrects; None when there is none or it is not an id."""
        value = str(self.corrects_id.data or "")
        return int(value) if ITEM_ID.fullmatch(value) else None


class TombstoneForm(FlaskForm):
    reason = LongText(_l("Why is it removed?"), max_length=1000)

    def validate_reason(self, field: LongText) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Say why the item is removed."))


