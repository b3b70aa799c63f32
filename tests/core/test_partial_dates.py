"""PartialDate: parsing what people type, the periods it covers, and string-equal ordering."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from casefile.core.partial_dates import InvalidDate, PartialDate

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("typed", "iso", "precision"),
    [
        ("2017", "2017", "year"),
        ("2017-08", "2017-08", "month"),
        ("2017-08-14", "2017-08-14", "day"),
        ("  2017-08-14\n", "2017-08-14", "day"),
        ("2017.08.14", "2017-08-14", "day"),
        ("14.08.2017", "2017-08-14", "day"),
        ("1.8.2017", "2017-08-01", "day"),
        ("08.2017", "2017-08", "month"),
        ("8.2017", "2017-08", "month"),
        ("2017-8", "2017-08", "month"),
        ("2016-02-29", "2016-02-29", "day"),
        ("29.02.2000", "2000-02-29", "day"),
        ("1900", "1900", "year"),
        ("1900-01-01", "1900-01-01", "day"),
        ("2025", "2025", "year"),  # this year has started: not in the future
        ("2025-06", "2025-06", "month"),
        ("2025-06-15", "2025-06-15", "day"),
    ],
)
def test_parse_accepts_and_normalises(typed: str, iso: str, precision: str) -> None:
    value = PartialDate.parse(typed, today=TODAY)
    assert value.isoformat() == iso
    assert str(value) == iso
    assert value.precision == precision


@pytest.mark.parametrize(
    ("typed", "in_message"),
    [
        ("", "Enter a date"),
        ("   ", "Enter a date"),
        ("2017-02-30", "30"),
        ("30.02.2017", "30"),
        ("2019-02-29", "29"),
        ("1900-02-29", "29"),  # 1900 was not a leap year
        ("2017-04-31", "31"),
        ("2017-13", "13"),
        ("2017-00", "0"),
        ("2017-13-01", "13"),
        ("13.2017", "13"),
        ("2017-08-00", "0"),
        ("1899", "1900"),
        ("1899-12-31", "1900"),
        ("31.12.1899", "1900"),
        ("0000", "1900"),
        ("2026", "future"),
        ("2025-07", "future"),
        ("2025-06-16", "future"),
        ("16.06.2025", "future"),
        ("2017/08/14", "YYYY"),
        ("14-08-2017", "YYYY"),
        ("17", "YYYY"),
        ("20170", "YYYY"),
        ("20170814", "YYYY"),
        ("2017-08-14T10:00", "YYYY"),
        ("2017-008", "YYYY"),
        ("2017.08", "YYYY"),
        ("August 2017", "YYYY"),
        ("２０１７", "YYYY"),  # full-width digits are not ASCII digits
    ],
)
def test_parse_refuses_with_a_message(typed: str, in_message: str) -> None:
    with pytest.raises(InvalidDate) as excinfo:
        PartialDate.parse(typed, today=TODAY)
    message = str(excinfo.value)
    assert in_message in message
    assert len(message) > 15


def test_parse_defaults_to_the_real_today() -> None:
    next_year = str(date.today().year + 1)
    with pytest.raises(InvalidDate):
        PartialDate.parse(next_year)
    assert PartialDate.parse(str(date.today().year)).year == date.today().year


def test_invalid_date_is_a_value_error() -> None:
    assert issubclass(InvalidDate, ValueError)


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [(2017, None, 3), (2017, 13, None), (2017, 0, None), (2017, 2, 29), (0, None, None)],
)
def test_constructor_enforces_invariants(year: int, month: int | None, day: int | None) -> None:
    with pytest.raises(InvalidDate):
        PartialDate(year, month, day)


@pytest.mark.parametrize(
    ("iso", "earliest", "latest"),
    [
        ("2017", date(2017, 1, 1), date(2017, 12, 31)),
        ("2017-08", date(2017, 8, 1), date(2017, 8, 31)),
        ("2017-02", date(2017, 2, 1), date(2017, 2, 28)),
        ("2016-02", date(2016, 2, 1), date(2016, 2, 29)),
        ("2017-04", date(2017, 4, 1), date(2017, 4, 30)),
        ("2017-12", date(2017, 12, 1), date(2017, 12, 31)),
        ("2017-08-14", date(2017, 8, 14), date(2017, 8, 14)),
    ],
)
def test_earliest_and_latest(iso: str, earliest: date, latest: date) -> None:
    value = PartialDate.from_iso(iso)
    assert value.earliest() == earliest
    assert value.latest() == latest


@pytest.mark.parametrize(
    ("iso", "day", "inside"),
    [
        ("2017", date(2017, 1, 1), True),
        ("2017", date(2017, 12, 31), True),
        ("2017", date(2016, 12, 31), False),
        ("2017", date(2018, 1, 1), False),
        ("2017-08", date(2017, 8, 31), True),
        ("2017-08", date(2017, 9, 1), False),
        ("2017-08", date(2017, 7, 31), False),
        ("2017-08-14", date(2017, 8, 14), True),
        ("2017-08-14", date(2017, 8, 15), False),
    ],
)
def test_contains(iso: str, day: date, inside: bool) -> None:
    assert PartialDate.from_iso(iso).contains(day) is inside


@pytest.mark.parametrize("iso", ["2017", "2017-08", "2017-08-14", "1850", "2999-12-31", "0001"])
def test_from_iso_round_trips_without_future_or_1900_checks(iso: str) -> None:
    assert PartialDate.from_iso(iso).isoformat() == iso


@pytest.mark.parametrize(
    "stored", ["14.08.2017", "2017-8", "2017-02-30", "2017-13", "", "17", "2017-08-14 x"]
)
def test_from_iso_refuses_non_iso_text(stored: str) -> None:
    with pytest.raises(InvalidDate):
        PartialDate.from_iso(stored)


def test_from_date() -> None:
    assert PartialDate.from_date(date(2018, 3, 5)).isoformat() == "2018-03-05"


def test_equality_and_hash_follow_the_value() -> None:
    typed = PartialDate.parse("14.08.2017", today=TODAY)
    assert typed == PartialDate(2017, 8, 14)
    assert typed != PartialDate(2017, 8)
    assert len({typed, PartialDate.from_iso("2017-08-14"), PartialDate(2017, 8)}) == 2


_ORDER_SAMPLE = [
    "1900",
    "1900-01",
    "1900-01-01",
    "1999-12-31",
    "2000",
    "2017",
    "2017-01",
    "2017-01-01",
    "2017-01-31",
    "2017-02",
    "2017-08",
    "2017-08-09",
    "2017-08-10",
    "2017-10",
    "2017-10-01",
    "2017-12-31",
    "2018",
]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(_ORDER_SAMPLE, repeat=2)))
def test_ordering_equals_string_ordering_of_isoformat(a: str, b: str) -> None:
    # The database stores isoformat() and range filters compare strings in SQL.
    x, y = PartialDate.from_iso(a), PartialDate.from_iso(b)
    assert (x < y) == (a < b)
    assert (x <= y) == (a <= b)
    assert (x > y) == (a > b)
    assert (x >= y) == (a >= b)
    assert (x == y) == (a == b)


def test_sorting_matches_sorting_the_strings() -> None:
    shuffled = list(reversed(_ORDER_SAMPLE))
    values = sorted(PartialDate.from_iso(s) for s in shuffled)
    assert [v.isoformat() for v in values] == sorted(shuffled)


def test_comparing_with_a_date_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = PartialDate(2017) < date(2017, 1, 1)  # type: ignore[operator]
