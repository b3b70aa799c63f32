"""The shipped gazetteer: its data, lookups and the hometown <select> choices."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from casefile.places.gazetteer import (
    Place,
    all_places,
    counties_of,
    get_place,
    hometown_choices,
    place_for_address_code,
    prefecture_of,
    prefectures,
)

# Every prefecture (or prefecture-level city) DOMAIN.md names, with its Latin name.
DOMAIN_PREFECTURES = {
    "654000": "Ile",
    "654200": "Tarbağatai",
    "654300": "Altai",
    "650100": "Ürımjı",
    "652300": "Sanjy",
    "650500": "Qūmyl",
    "652700": "Börtala",
    "650200": "Qaramai",
}

# County code prefix -> prefecture, as DOMAIN.md's codes imply.
PARENT_BY_PREFIX = {
    "6540": "654000",
    "6542": "654200",
    "6543": "654300",
    "6523": "652300",
    "6505": "650500",
    "6527": "652700",
}


def test_codes_are_six_digits_and_unique() -> None:
    codes = [place.code for place in all_places()]
    assert codes
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert len(codes) == len(set(codes))


def test_every_place_has_all_three_names_and_a_level() -> None:
    for place in all_places():
        assert place.level in ("prefecture", "county")
        assert place.name_zh and place.name_kk and place.name_latin
        assert re.search(r"[\u4e00-\u9fff]", place.name_zh), place.code
        assert re.search(r"[\u0400-\u04ff]", place.name_kk), place.code
        assert not re.search(r"[\u0400-\u04ff]", place.name_latin), place.code


def test_every_prefecture_named_in_the_domain_exists() -> None:
    for code, latin in DOMAIN_PREFECTURES.items():
        place = get_place(code)
        assert place is not None, code
        assert place.level == "prefecture"
        assert place.parent_code is None
        assert place.name_latin == latin
    assert {p.code for p in prefectures()} == set(DOMAIN_PREFECTURES)


def test_every_county_has_a_known_parent() -> None:
    counties = [place for place in all_places() if place.level == "county"]
    assert len(counties) >= 20
    for county in counties:
        assert county.parent_code is not None, county.code
        parent = get_place(county.parent_code)
        assert parent is not None and parent.level == "prefecture", county.code
        assert county.parent_code == PARENT_BY_PREFIX[county.code[:4]], county.code


@pytest.mark.parametrize(
    ("code", "zh", "kk", "latin"),
    [
        ("654028", "尼勒克县", "Нылқы", "Nylqy"),
        ("654003", "奎屯市", "Күйтүн", "Küitün"),
        ("654223", "沙湾", "Сауан", "Sauan"),
        ("652328", "木垒哈萨克自治县", "Мори", "Mori"),
        ("650521", "巴里坤哈萨克自治县", "Баркөл", "Barköl"),
        ("654325", "青河县", "Шіңгіл", "Şıñgıl"),
        ("654301", "阿勒泰市", "Алтай қаласы", "Altai qalasy"),
    ],
)
def test_names_match_the_domain_table(code: str, zh: str, kk: str, latin: str) -> None:
    place = get_place(code)
    assert place is not None
    assert (place.name_zh, place.name_kk, place.name_latin) == (zh, kk, latin)


def test_the_checked_entry_is_marked_uncertain() -> None:
    horgos = get_place("654023")
    assert horgos is not None and horgos.uncertain is True
    nylqy = get_place("654028")
    assert nylqy is not None and nylqy.uncertain is False


def test_json_marks_uncertain_explicitly() -> None:
    raw = resources.files("casefile.places").joinpath("gazetteer.json").read_text("utf-8")
    entries = {e["code"]: e for e in json.loads(raw)["places"]}
    assert entries["654023"]["uncertain"] is True


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("654028", "654028"),  # Nylqy, exact
        ("654000", "654000"),
        ("654099", "654000"),  # unlisted county of Ili
        ("654228", "654200"),
        ("654399", "654300"),
        ("650102", "650100"),  # an Urumqi district
        ("650502", "650500"),  # Hami's renamed district
        ("652701", "652700"),
        ("110105", None),
        ("650000", None),  # the region itself is not a prefecture here
        ("6540", None),
        ("65402X", None),
        ("", None),
    ],
)
def test_place_for_address_code(code: str, expected: str | None) -> None:
    place = place_for_address_code(code)
    assert (place.code if place else None) == expected


def test_place_for_address_code_is_nylqy() -> None:
    place = place_for_address_code("654028")
    assert place is not None and place.name_latin == "Nylqy"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("654028", "654000"),
        ("654000", "654000"),
        ("654325", "654300"),
        ("652328", "652300"),
        ("650100", "650100"),
        ("654099", None),
        ("110105", None),
    ],
)
def test_prefecture_of(code: str, expected: str | None) -> None:
    place = prefecture_of(code)
    assert (place.code if place else None) == expected


def test_counties_of() -> None:
    ili = [place.code for place in counties_of("654000")]
    assert "654028" in ili and "654003" in ili
    assert ili == sorted(ili)
    assert [place.code for place in counties_of("650500")] == ["650521"]
    assert counties_of("650100") == []
    assert counties_of("654028") == []
    assert counties_of("999999") == []


def test_get_place_unknown() -> None:
    assert get_place("999999") is None


@pytest.mark.parametrize(
    ("locale", "label"),
    [
        ("kk", "Нылқы (尼勒克县)"),
        ("kk_KZ", "Нылқы (尼勒克县)"),
        ("ru", "Нылқы (尼勒克县)"),
        ("ru-RU", "Нылқы (尼勒克县)"),
        ("en", "Nylqy (尼勒克县)"),
        ("zh", "Nylqy (尼勒克县)"),
        ("", "Nylqy (尼勒克县)"),
    ],
)
def test_label(locale: str, label: str) -> None:
    place = get_place("654028")
    assert place is not None
    assert place.label(locale) == label


def test_label_on_a_hand_built_place() -> None:
    place = Place("000001", "county", None, "中", "Қаз", "Qaz")
    assert place.label("kk") == "Қаз (中)"
    assert place.label("en") == "Qaz (中)"


@pytest.mark.parametrize("locale", ["kk", "en"])
def test_hometown_choices_group_by_prefecture(locale: str) -> None:
    groups = hometown_choices(locale)
    assert len(groups) == len(DOMAIN_PREFECTURES)
    seen: list[str] = []
    for group_label, options in groups:
        prefecture_code = options[0][0]
        prefecture = get_place(prefecture_code)
        assert prefecture is not None and prefecture.level == "prefecture"
        assert group_label == prefecture.label(locale)
        assert options[0][1] == prefecture.label(locale)
        for code, text in options[1:]:
            county = get_place(code)
            assert county is not None and county.parent_code == prefecture_code
            assert text == county.label(locale)
        seen.extend(code for code, _ in options)
    assert sorted(seen) == sorted(place.code for place in all_places())


def test_hometown_choices_first_group_is_ili_in_cyrillic() -> None:
    label, options = hometown_choices("kk")[0]
    assert label == "Іле Қазақ автономиялық облысы (伊犁哈萨克自治州)"
    assert ("654028", "Нылқы (尼勒克县)") in options
