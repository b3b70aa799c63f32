"""The shipped gazetteer of Xinjiang prefectures and counties where Kazakhs live.

Read-only data from ``gazetteer.json`` (next to this module), loaded once per process.
Codes are the 6-digit administrative codes that also open a PRC resident ID number, so
``place_for_address_code`` maps an ID's address code to a hometown. Entries marked
``uncertain`` are kept for lookup but their names or codes still need confirming.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Level = Literal["prefecture", "county"]

PREFECTURE: Level = "prefecture"
COUNTY: Level = "county"


@dataclass(frozen=True)
class Place:
    """A prefecture or county: its code, its parent prefecture and its names.

    ``parent_code`` is None for a prefecture (or prefecture-level city) and the code of
    the prefecture for a county. Names are in Chinese, Kazakh Cyrillic and Kazakh Latin
    (2021 alphabet).
    """

    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_kk: str
    name_latin: str
    uncertain: bool = False

    def label(self, locale: str) -> str:
        """The name to show in ``locale``, with the Chinese in parentheses.

        Kazakh and Russian readers get the Cyrillic name ("Нылқы (尼勒克县)"); everyone
        else the Latin one ("Nylqy (尼勒克县)"). Accepts "kk", "ru_RU", "en-GB" and so on.
        """
        language = (locale or "").replace("-", "_").split("_")[0].lower()
        name = self.name_kk if language in ("kk", "ru") else self.name_latin
        return f"{name} ({self.name_zh})"


@cache
def _load() -> tuple[Place, ...]:
    text = resources.files("casefile.places").joinpath("gazetteer.json").read_text("utf-8")
    return tuple(
        Place(
            code=entry["code"],
            level=entry["level"],
            parent_code=entry.get("parent_code"),
            name_zh=entry["name_zh"],
            name_kk=entry["name_kk"],
            name_latin=entry["name_latin"],
            uncertain=bool(entry.get("uncertain", False)),
        )
        for entry in json.loads(text)["places"]
    )


@cache
def _by_code() -> dict[str, Place]:
    return {place.code: place for place in _load()}


def all_places() -> list[Place]:
    """Every place in the gazetteer, in file order (prefecture before its counties)."""
    return list(_load())


def get_place(code: str) -> Place | None:
    """The place with exactly this code, or None."""
    return _by_code().get(code)


def prefectures() -> list[Place]:
    """Every prefecture and prefecture-level city, in file order."""
    return [place for place in _load() if place.level == PREFECTURE]


def counties_of(prefecture_code: str) -> list[Place]:
    """The counties of a prefecture, by code; empty for an unknown code or a county."""
    return sorted(
        (place for place in _load() if place.parent_code == prefecture_code),
        key=lambda place: place.code,
    )


def prefecture_of(code: str) -> Place | None:
    """The prefecture a place belongs to: a county's parent, a prefecture itself.

    None for a code not in the gazetteer (use ``place_for_address_code`` to fall back
    to the prefecture of an unlisted county).
    """
    place = get_place(code)
    if place is None:
        return None
    if place.level == PREFECTURE:
        return place
    return get_place(place.parent_code) if place.parent_code else None


def place_for_address_code(code6: str) -> Place | None:
    """The place for the 6-digit address code that opens a PRC resident ID.

    The exact place when the code is listed; otherwise the prefecture whose code is the
    first four digits followed by "00" (a county not in the gazetteer, or a renamed one);
    otherwise None.
    """
    code = (code6 or "").strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    exact = get_place(code)
    if exact is not None:
        return exact
    fallback = get_place(code[:4] + "00")
    if fallback is not None and fallback.level == PREFECTURE:
        return fallback
    return None


def hometown_choices(locale: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Choices for a hometown <select> with one optgroup per prefecture.

    Each group is (prefecture label, [(code, label), ...]) with the prefecture itself
    first, so a person who only knows the prefecture can pick it, then its counties by
    code. Prefectures keep file order.
    """
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for prefecture in prefectures():
        options = [(prefecture.code, prefecture.label(locale))]
        options.extend(
            (county.code, county.label(locale)) for county in counties_of(prefecture.code)
        )
        groups.append((prefecture.label(locale), options))
    return groups
