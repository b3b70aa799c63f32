"""The forms of the duplicates queue: merge one record into the other, or mark them as different people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import DataRequired, InputRequired


class MergeForm(FlaskForm):
    # The pressed button carries the id of the record to keep.
    keep = IntegerField(validators=[InputRequired()])
    confirm = BooleanField(_l("These two records are one person: move every case to the kept record"),
                           validators=[DataRequired(_l("Tick the box to confirm the merge."))])


class DistinctForm(FlaskForm):
    """Only the CSRF token: the pair is in the address."""
