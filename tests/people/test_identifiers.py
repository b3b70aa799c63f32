"""PRC resident IDs, Kazakhstan IINs, and their agreement with the person record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask_babel import Babel

from casefile.core.partial_dates import PartialDate
from casefile.people.identifiers import (
    Iin,
    InvalidIdentifier,
    PrcId,
    birth_date_and_sex_agree,
    convert_legacy_prc_id,
    iin_check_digit,
    parse_iin,
    parse_prc_id,
    prc_check_character,
)

TODAY = date(2025, 6, 15)


@pytest.fixture
def request_context() -> Iterator[None]:
    """birth_date_and_sex_agree renders eagerly, as it would inside a request."""
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


# -- PRC resident ID ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),
        ("65402819850315002", "5"),
        ("65432119720601003", "1"),
        ("65230019610710004", "1"),
        ("65052119850101003", "6"),
        ("99999919800101001", "1"),
    ],
)
def test_prc_check_character(first17: str, check: str) -> None:
    assert prc_check_character(first17) == check


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100X"])
def test_prc_check_character_needs_17_digits(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        prc_check_character(bad)


@pytest.mark.parametrize(
    ("typed", "number", "address", "born", "sex"),
    [
        ("11010519491231002X", "11010519491231002X", "110105", date(1949, 12, 31), "F"),
        ("11010519491231002x", "11010519491231002X", "110105", date(1949, 12, 31), "F"),
        (" 110105 19491231 002X ", "11010519491231002X", "110105", date(1949, 12, 31), "F"),
        ("110105-19491231-002x", "11010519491231002X", "110105", date(1949, 12, 31), "F"),
        ("654028198503150025", "654028198503150025", "654028", date(1985, 3, 15), "F"),
        ("654321197206010031", "654321197206010031", "654321", date(1972, 6, 1), "M"),
        ("652300196107100041", "652300196107100041", "652300", date(1961, 7, 10), "F"),
        ("650521198501010036", "650521198501010036", "650521", date(1985, 1, 1), "M"),
        ("654221199202290017", "654221199202290017", "654221", date(1992, 2, 29), "M"),
        # An address code nobody knows is not an error (codes get renamed).
        ("999999198001010011", "999999198001010011", "999999", date(1980, 1, 1), "M"),
    ],
)
def test_parse_prc_id_accepts(typed: str, number: str, address: str, born: date, sex: str) -> None:
    parsed = parse_prc_id(typed, today=TODAY)
    assert parsed == PrcId(
        number=number,
        address_code=address,
        birth_date=born,
        sex=sex,
        converted_from_legacy=False,
    )


@pytest.mark.parametrize(
    ("fifteen", "eighteen", "sex"),
    [
        ("110105491231002", "11010519491231002X", "F"),
        ("654028850315002", "654028198503150025", "F"),
        ("654321720601003", "654321197206010031", "M"),
    ],
)
def test_legacy_15_digit_ids_are_converted(fifteen: str, eighteen: str, sex: str) -> None:
    assert convert_legacy_prc_id(fifteen) == eighteen
    parsed = parse_prc_id(fifteen, today=TODAY)
    assert parsed.number == eighteen
    assert parsed.converted_from_legacy is True
    assert parsed.sex == sex
    assert parsed.birth_date.year < 2000


@pytest.mark.parametrize("bad", ["11010549123100", "1101054912310021", "11010549123100X"])
def test_convert_legacy_needs_15_digits(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        convert_legacy_prc_id(bad)


@pytest.mark.parametrize("wrong", [c for c in "0123456789"])
def test_wrong_prc_check_character_names_the_expected_one(wrong: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_prc_id("11010519491231002" + wrong, today=TODAY)
    assert "expected X" in str(excinfo.value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("65402819850315002X", "5"),
        ("654028198503150024", "5"),
        ("654321197206010032", "1"),
        ("654321197206010013", "5"),  # last two digits swapped
        ("654028198503150052", "X"),  # last two digits swapped
    ],
)
def test_prc_typos_are_caught(typed: str, expected: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_prc_id(typed, today=TODAY)
    assert f"expected {expected}" in str(excinfo.value)


@pytest.mark.parametrize(
    ("typed", "in_message"),
    [
        ("", "Enter"),
        ("   ", "Enter"),
        ("11010519491231002", "17"),
        ("1101051949123100211", "19"),
        ("11010519491231002X1", "digits"),
        ("1101051949123100", "16"),
        ("11010549123100", "14"),
        ("11010549123100X", "15 digits"),
        ("1101051949123100XX", "digits"),
        ("X1010519491231002X", "digits"),
        ("11010519491231O02X", "digits"),  # letter O for zero
        ("11010519491231002A", "digits"),
        ("１１０１０５１９４９１２３１００２X", "digits"),  # full-width digits
        ("110105/19491231/002X", "digits"),
    ],
)
def test_parse_prc_id_refuses_malformed(typed: str, in_message: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_prc_id(typed, today=TODAY)
    assert in_message in str(excinfo.value)


@pytest.mark.parametrize(
    ("typed", "in_message"),
    [
        ("654028194902310016", "1949-02-31"),
        ("654221199002290012", "1990-02-29"),
        ("654028198513010018", "1985-13-01"),
        ("654028198500010019", "1985-00-01"),
        ("654028198501000015", "1985-01-00"),
        ("654028198504320022", "1985-04-32"),
        ("654028189912310013", "1900"),
        ("654028203001010018", "future"),
    ],
)
def test_parse_prc_id_refuses_impossible_birth_dates(typed: str, in_message: str) -> None:
    # The check characters here are right, so only the date can be the reason.
    assert prc_check_character(typed[:17]) == typed[17]
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_prc_id(typed, today=TODAY)
    assert in_message in str(excinfo.value)


def test_prc_birth_date_in_the_future_uses_today() -> None:
    number = "65402820250616001" + prc_check_character("65402820250616001")
    with pytest.raises(InvalidIdentifier):
        parse_prc_id(number, today=date(2025, 6, 15))
    assert parse_prc_id(number, today=date(2025, 6, 16)).birth_date == date(2025, 6, 16)


# -- Kazakhstan IIN -------------------------------------------------------------------


def _first_pass(first11: str) -> int:
    return sum(int(d) * w for d, w in zip(first11, range(1, 12))) % 11


def _second_pass(first11: str) -> int:
    return sum(int(d) * w for d, w in zip(first11, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))) % 11


def _serials(prefix7: str) -> Iterator[str]:
    for serial in range(10000):
        yield f"{prefix7}{serial:04d}"


def _find(prefix7: str, first: str) -> str:
    """The first 11 digits after prefix7 whose passes fall in the case ``first`` names."""
    for first11 in _serials(prefix7):
        s1, s2 = _first_pass(first11), _second_pass(first11)
        if first == "single" and s1 != 10:
            return first11
        if first == "second" and s1 == 10 and s2 != 10:
            return first11
        if first == "none" and s1 == 10 and s2 == 10:
            return first11
    raise AssertionError(f"no serial for {prefix7} in case {first}")


def test_known_iin() -> None:
    assert iin_check_digit("06121160001") == 2
    assert parse_iin("061211600012", today=TODAY) == Iin(
        number="061211600012", birth_date=date(2006, 12, 11), sex="F", century=2000
    )


@pytest.mark.parametrize(
    ("prefix7", "born", "sex", "century"),
    [
        ("8503153", date(1985, 3, 15), "M", 1900),
        ("7206014", date(1972, 6, 1), "F", 1900),
        ("1001015", date(2010, 1, 1), "M", 2000),
        ("0002296", date(2000, 2, 29), "F", 2000),
        ("9912311", date(1899, 12, 31), "M", 1800),
        ("7001012", date(1870, 1, 1), "F", 1800),
    ],
)
@pytest.mark.parametrize("case", ["single", "second"])
def test_brute_forced_iins_are_accepted(
    prefix7: str, born: date, sex: str, century: int, case: str
) -> None:
    first11 = _find(prefix7, case)
    expected = _first_pass(first11) if case == "single" else _second_pass(first11)
    assert iin_check_digit(first11) == expected
    number = first11 + str(expected)
    assert parse_iin(number, today=TODAY) == Iin(
        number=number, birth_date=born, sex=sex, century=century
    )
    # Every other final digit is refused, naming the right one.
    for wrong in set("0123456789") - {str(expected)}:
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_iin(first11 + wrong, today=TODAY)
        assert f"expected {expected}" in str(excinfo.value)


@pytest.mark.parametrize("prefix7", ["8503153", "7206014", "1001015"])
def test_iin_with_no_possible_check_digit_is_refused(prefix7: str) -> None:
    first11 = _find(prefix7, "none")
    assert iin_check_digit(first11) is None
    for last in "0123456789":
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_iin(first11 + last, today=TODAY)
        assert "No valid IIN" in str(excinfo.value)


@pytest.mark.parametrize("bad", ["", "0612116000", "061211600012", "0612116000A"])
def test_iin_check_digit_needs_11_digits(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        iin_check_digit(bad)


def test_iin_separators_are_ignored() -> None:
    assert parse_iin(" 061211 600012 ", today=TODAY).number == "061211600012"
    assert parse_iin("061211-600012", today=TODAY).number == "061211600012"


@pytest.mark.parametrize(
    ("typed", "in_message"),
    [
        ("", "Enter"),
        ("06121160001", "11"),
        ("0612116000123", "13"),
        ("06121160001X", "only digits"),
        ("O61211600012", "only digits"),
        ("０６１２１１６０００１２", "only digits"),
        ("061211000012", "seventh"),
        ("061211700012", "seventh"),
        ("061211800012", "seventh"),
        ("061211900012", "seventh"),
    ],
)
def test_parse_iin_refuses_malformed(typed: str, in_message: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_iin(typed, today=TODAY)
    assert in_message in str(excinfo.value)


@pytest.mark.parametrize(
    ("prefix7", "in_message"),
    [
        ("8502313", "1985-02-31"),
        ("9002294", "1990-02-29"),
        ("0002291", "1800-02-29"),  # 1800 was not a leap year
        ("8513013", "1985-13-01"),
        ("8500013", "1985-00-01"),
        ("8501003", "1985-01-00"),
        ("2506165", "future"),
        ("3001016", "future"),
    ],
)
def test_parse_iin_refuses_impossible_birth_dates(prefix7: str, in_message: str) -> None:
    # A correct check digit, so only the date can be the reason.
    first11 = _find(prefix7, "single")
    number = first11 + str(_first_pass(first11))
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_iin(number, today=TODAY)
    assert in_message in str(excinfo.value)


def test_iin_future_check_uses_today() -> None:
    first11 = _find("2506165", "single")
    number = first11 + str(_first_pass(first11))
    assert parse_iin(number, today=date(2025, 6, 16)).birth_date == date(2025, 6, 16)


# -- agreement with the person record -------------------------------------------------

BORN = date(1985, 3, 15)


@pytest.mark.parametrize(
    ("birth", "sex"),
    [
        (None, None),
        ("1985", None),
        ("1985-03", "F"),
        ("1985-03-15", "F"),
        (None, "F"),
        (None, "f"),
        ("1985", "U"),  # unknown sex cannot contradict
        (None, ""),
    ],
)
def test_agreeing_records(request_context: None, birth: str | None, sex: str | None) -> None:
    given = PartialDate.from_iso(birth) if birth else None
    assert birth_date_and_sex_agree(BORN, "F", given, sex) is None


@pytest.mark.parametrize(
    ("birth", "sex", "fragments"),
    [
        ("1986", None, ["1986", "1985-03-15"]),
        ("1985-04", None, ["1985-04", "1985-03-15"]),
        ("1985-03-16", "F", ["1985-03-16", "1985-03-15"]),
        (None, "M", ["female"]),
        ("1985-03-15", "m", ["female"]),
        ("1984", "M", ["1984", "female"]),
    ],
)
def test_contradicting_records(
    request_context: None, birth: str | None, sex: str | None, fragments: list[str]
) -> None:
    given = PartialDate.from_iso(birth) if birth else None
    message = birth_date_and_sex_agree(BORN, "F", given, sex)
    assert message is not None
    assert isinstance(message, str)
    for fragment in fragments:
        assert fragment in message


def test_identifier_sex_male_is_reported(request_context: None) -> None:
    message = birth_date_and_sex_agree(BORN, "M", None, "F")
    assert message is not None and "male" in message and "female" not in message


def test_agreement_works_with_parsed_identifiers(request_context: None) -> None:
    prc = parse_prc_id("654028198503150025", today=TODAY)
    assert birth_date_and_sex_agree(prc.birth_date, prc.sex, PartialDate(1985, 3), "F") is None
    iin = parse_iin("061211600012", today=TODAY)
    assert birth_date_and_sex_agree(iin.birth_date, iin.sex, PartialDate(2006), "M") is not None
