"""Forms of the auditor's console: the filters (GET, no CSRF), a page number, the verify button."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from casefile.audit.console import EventFilters
from casefile.cases.search import REFERENCE
from casefile.core.forms import TextField

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Wide enough for any real trail; the bounds keep "the day after" computable.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
OUTCOME_CHOICES = [("", _l("Any outcome")), ("success", _l("Success")), ("failure", _l("Failure"))]


class DayField(StringField):
    """A calendar day written ``YYYY-MM-DD``; ``parsed`` holds the date."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("description", _l("YYYY-MM-DD"))
        super().__init__(*args, **kwargs)
        self.parsed: date | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.parsed = None
        self.data = ((valuelist[0] if valuelist else "") or "").strip()
        if not self.data:
            return
        if not DAY.match(self.data):
            raise ValueError(str(_l("Write the date as YYYY-MM-DD, e.g. 2025-03-31.")))
        try:
            day = date.fromisoformat(self.data)
        except ValueError:
            raise ValueError(str(_l("There is no such day."))) from None
        if not EARLIEST <= day <= LATEST:
            raise ValueError(str(_l("Choose a day between 1970 and 2999.")))
        self.parsed = day


class PageField(IntegerField):
    """A page number from 1 to a million (beyond the last page shows the last one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional(), NumberRange(min=1, max=1_000_000,
                                                                 message=_l("A page number from 1."))])
        kwargs.setdefault("default", 1)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("A page number is a whole number from 1."))) from None


def _valid_reference(form: FlaskForm, field: Field) -> None:
    if field.data and not REFERENCE.match(field.data):
        raise ValidationError(_l("Write a case reference such as KZ-2025-00042."))


class EventFilterForm(FlaskForm):
    """The event list's query parameters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    user = TextField(_l("User"), validators=[Length(max=64, message=_l("A username has at most 64 characters."))],
                     description=_l("Username, or the name tried at a failed login"))
    action = SelectField(_l("Action"), choices=[], default="")
    case_ref = TextField(_l("Case reference"), validators=[Length(max=20), _valid_reference])
    date_from = DayField(_l("From (UTC)"))
    date_to = DayField(_l("Until (UTC)"))
    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES, default="")
    page = PageField(_l("Page"))

    def set_actions(self, actions: list[str]) -> None:
        """Offer the actions that occur in the trail (any other value is refused)."""
        self.action.choices = [("", str(_l("Any action")))] + [(action, action) for action in actions]

    def validate_date_to(self, field: DayField) -> None:
        if field.parsed and self.date_from.parsed and field.parsed < self.date_from.parsed:
            raise ValidationError(_l("The end of the range is before its start."))

    def filters(self) -> EventFilters:
        """The validated filters; usernames and references compare in their stored case."""
        return EventFilters(
            user=(self.user.data or "").lower(), action=self.action.data or "",
            case_ref=(self.case_ref.data or "").upper(), date_from=self.date_from.parsed,
            date_to=self.date_to.parsed, outcome=self.outcome.data or "",
        )

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters (for page and export links), without the page."""
        return {name: value for name, value in (
            ("user", self.user.data), ("action", self.action.data), ("case_ref", self.case_ref.data),
            ("date_from", self.date_from.data), ("date_to", self.date_to.data), ("outcome", self.outcome.data),
        ) if value}


class PageForm(FlaskForm):
    """Only a page number (per-user, per-case and flag pages)."""

    class Meta:
        csrf = False

    page = PageField(_l("Page"))


class VerifyForm(FlaskForm):
    """The "verify the chain now" button: a POST with the CSRF token and nothing else."""
