"""Template filters and globals: labels of vocabularies, places, dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from casefile.admin.forms import ROLE_CHOICES
from casefile.cases import vocab
from casefile.core.forms import own_errors
from casefile.core.partial_dates import InvalidDate, PartialDate
from casefile.places.gazetteer import get_place
from casefile.web.forms import LANGUAGE_NAMES


def _place(code: str | None) -> str:
    place = get_place(code) if code else None
    return place.label(str(get_locale() or "en")) if place else ""


def _when(value: datetime | None) -> str:
    return format_datetime(value, "short") if value else ""


def _day(value: date | None) -> str:
    """A full date in the reader's language: "14 авг. 2017 г.", "Aug 14, 2017"."""
    return format_date(value, "medium") if value else ""


def _partial_date(value: PartialDate | str | None) -> Markup | str:
    """A partial date as far as it is known, in the reader's language ("2017", "август 2017",
    "14 авг. 2017 г."), in a <time> element that keeps the ISO value for machines and searching."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = PartialDate.from_iso(value)
        except InvalidDate:
            return value
    if value.precision == "year":
        shown = str(value.year)
    elif value.precision == "month":
        # LLLL: the month's name as it stands alone ("август", not the genitive "августа").
        shown = format_date(value.earliest(), "LLLL y")
    else:
        shown = format_date(value.earliest(), "medium")
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), shown)


def _role(code: str | None) -> str:
    """The name of a role in the reader's language ("Координатор" for "coordinator")."""
    return next((str(name) for value, name in ROLE_CHOICES if value == code), code or "")


def _number(value: int | float | None) -> str:
    return format_decimal(value) if value is not None else ""


def _filesize(size: int | None) -> str:
    value = float(size or 0)
    if value < 1024:
        return _("%(size)s B", size=format_decimal(int(value)))
    units = (lambda n: _("%(size)s KB", size=n), lambda n: _("%(size)s MB", size=n), lambda n: _("%(size)s GB", size=n))
    for shown in units:  # noqa: B007 - the unit reached is the one printed
        value /= 1024
        if value < 1024:
            break
    return shown(format_decimal(round(value, 1)))


def register(app: Flask) -> None:
    """Make vocabularies and formatting helpers available in every template."""

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {"vocab": vocab, "label": vocab.label, "place_label": _place}

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["own_errors"] = own_errors
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["day"] = _day
    app.jinja_env.filters["pdate"] = _partial_date
    app.jinja_env.filters["number"] = _number
    app.jinja_env.filters["role"] = _role
