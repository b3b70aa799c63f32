"""Template filters and globals: labels of vocabularies, places, dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import format_datetime, format_decimal, get_locale

from casefile.cases import vocab
from casefile.core.forms import own_errors
from casefile.places.gazetteer import get_place


def _place(code: str | None) -> str:
    place = get_place(code) if code else None
    return place.label(str(get_locale() or "en")) if place else ""


def _when(value: datetime | None) -> str:
    return format_datetime(value, "short") if value else ""


def _filesize(size: int | None) -> str:
    value = float(size or 0)
    if value < 1024:
        return f"{format_decimal(int(value))} B"
    for unit in ("KB", "MB", "GB"):  # noqa: B007 - the unit reached is the one printed
        value /= 1024
        if value < 1024:
            break
    return f"{format_decimal(round(value, 1))} {unit}"


def register(app: Flask) -> None:
    """Make vocabularies and formatting helpers available in every template."""

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {"vocab": vocab, "label": vocab.label, "place_label": _place}

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["own_errors"] = own_errors
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["pdate"] = lambda value: value.isoformat() if value else ""
