"""Dates known only to the year, the month or the day.

Families often remember "summer 2017" or "August 2017" rather than a day, so every date
of an event about a detained person is a ``PartialDate``. It is stored in the database as
its ISO text ("2017", "2017-08", "2017-08-14"); ordering of ``PartialDate`` values is
defined to equal the lexicographic order of that text, so that range filters comparing
strings in SQL give the same answer as comparing the objects in Python.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from flask_babel import lazy_gettext as _l

Precision = Literal["year", "month", "day"]

# Earliest year accepted from a person typing; older years are almost certainly typos.
MIN_YEAR = 1900

# Strict ISO, as written by isoformat() and stored in the database.
_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)

# What people type. Month and day may have one digit ("1.8.2017" is common).
# ASCII only: \d would otherwise match any Unicode digit.
_TYPED_FORMS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"(\d{4})", re.ASCII), ("year",)),
    (re.compile(r"(\d{4})-(\d{1,2})", re.ASCII), ("year", "month")),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII), ("year", "month", "day")),
    (re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})", re.ASCII), ("year", "month", "day")),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII), ("day", "month", "year")),
    (re.compile(r"(\d{1,2})\.(\d{4})", re.ASCII), ("month", "year")),
)


class InvalidDate(ValueError):
    """A date that cannot be accepted; ``str()`` is a translated message for the person."""


@dataclass(frozen=True)
class PartialDate:
    """A date known to year, month or day precision.

    Invariants (checked on construction): ``day`` is only set when ``month`` is; month is
    1–12; the day exists in that month; the year has four digits. Instances are hashable,
    and ``a < b`` exactly when ``a.isoformat() < b.isoformat()`` as strings — so "2017"
    sorts before "2017-01", which sorts before "2017-01-01".
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        # Four digits keep isoformat() fixed-width, which string ordering relies on.
        if not 1 <= self.year <= 9999:
            raise InvalidDate(_l("The year must have four digits."))
        if self.day is not None and self.month is None:
            raise InvalidDate(_l("A day needs a month: enter the month as well."))
        if self.month is not None and not 1 <= self.month <= 12:
            raise InvalidDate(
                _l("There is no month %(month)s: the month must be 1 to 12.", month=self.month)
            )
        if self.day is not None and self.month is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise InvalidDate(
                    _l(
                        "%(year)04d-%(month)02d has no day %(day)s: it has %(last)s days.",
                        year=self.year,
                        month=self.month,
                        day=self.day,
                        last=last,
                    )
                )

    # -- construction -------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, today: date | None = None) -> PartialDate:
        """Read a date typed by a person and return it, or raise ``InvalidDate``.

        Accepts ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` and the forms common in Kazakhstan
        and Russia, ``YYYY.MM.DD``, ``DD.MM.YYYY`` and ``MM.YYYY`` (surrounding whitespace
        ignored; month and day may have one digit). Refuses impossible dates, years
        before 1900, and dates that lie wholly after ``today`` (default: the real today).
        A partial date that includes today ("this year") is not in the future.
        """
        cleaned = (text or "").strip()
        if not cleaned:
            raise InvalidDate(_l("Enter a date, for example 2017, 2017-08 or 2017-08-14."))
        parts: dict[str, int] | None = None
        for pattern, names in _TYPED_FORMS:
            match = pattern.fullmatch(cleaned)
            if match:
                parts = {name: int(value) for name, value in zip(names, match.groups())}
                break
        if parts is None:
            raise InvalidDate(
                _l(
                    "Enter the date as YYYY, YYYY-MM or YYYY-MM-DD "
                    "(for example 2017, 2017-08 or 2017-08-14)."
                )
            )
        if parts["year"] < MIN_YEAR:
            raise InvalidDate(_l("The year must be %(min)s or later.", min=MIN_YEAR))
        value = cls(parts["year"], parts.get("month"), parts.get("day"))
        reference = today if today is not None else date.today()
        if value.earliest() > reference:
            raise InvalidDate(
                _l("%(date)s is in the future: enter a date up to today.", date=value.isoformat())
            )
        return value

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        """Rebuild a value stored by ``isoformat()``; raise ``InvalidDate`` if it is not one.

        Only the strict ISO forms are accepted and the date must exist, but neither the
        1900 limit nor the future check applies: stored values are read back as they are.
        """
        match = _ISO.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidDate(
                _l("%(value)s is not a stored date (YYYY, YYYY-MM or YYYY-MM-DD).", value=text)
            )
        year, month, day = match.groups()
        return cls(
            int(year),
            int(month) if month is not None else None,
            int(day) if day is not None else None,
        )

    @classmethod
    def from_date(cls, value: date) -> PartialDate:
        """A day-precision ``PartialDate`` for a full ``date``."""
        return cls(value.year, value.month, value.day)

    # -- reading ------------------------------------------------------------------------

    @property
    def precision(self) -> Precision:
        """How much of the date is known: "year", "month" or "day"."""
        if self.day is not None:
            return "day"
        if self.month is not None:
            return "month"
        return "year"

    def isoformat(self) -> str:
        """"2017", "2017-08" or "2017-08-14": zero padded, only the known parts."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.isoformat()

    def earliest(self) -> date:
        """The first day the partial date covers (1 January for a year)."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """The last day the partial date covers (31 December for a year)."""
        if self.month is None:
            return date(self.year, 12, 31)
        if self.day is None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, self.month, self.day)

    def contains(self, d: date) -> bool:
        """True when the day ``d`` falls within the period this partial date covers."""
        return self.earliest() <= d <= self.latest()

    # -- ordering -----------------------------------------------------------------------
    # Not dataclass(order=True): it would compare None with int and fail on mixed
    # precisions. A missing part sorts as 0, before any real month or day, which is
    # exactly where a shorter ISO string sorts ("2017" < "2017-01").

    def _sort_key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._sort_key() <= other._sort_key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._sort_key() > other._sort_key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._sort_key() >= other._sort_key()
