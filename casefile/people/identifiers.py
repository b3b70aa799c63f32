"""Personal identity numbers: the PRC resident ID and the Kazakhstan IIN.

Both numbers embed the holder's birth date and sex and end in a check character, so a
typo is usually caught here, and the embedded facts can be compared with what the case
record says about the person (``birth_date_and_sex_agree``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from casefile.core.partial_dates import PartialDate

# Earliest birth year accepted; older dates in an ID are typos.
MIN_BIRTH_YEAR = 1900

# GB 11643-1999, ISO 7064 MOD 11-2.
PRC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PRC_CHECK_CHARACTERS = "10X98765432"

# Kazakhstan IIN: two weighting passes; the second is used when the first gives 10.
IIN_WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
IIN_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Seventh IIN digit -> (century, sex).
IIN_CENTURY_SEX: dict[str, tuple[int, str]] = {
    "1": (1800, "M"),
    "2": (1800, "F"),
    "3": (1900, "M"),
    "4": (1900, "F"),
    "5": (2000, "M"),
    "6": (2000, "F"),
}

# People paste numbers with spaces or hyphens between groups of digits.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")


class InvalidIdentifier(ValueError):
    """An identity number that cannot be accepted; ``str()`` is a translated message."""


@dataclass(frozen=True)
class PrcId:
    """A checked PRC resident ID in its 18-character form (X in upper case).

    ``address_code`` is the county where the number was registered (frozen at issue, so
    it may be a code that no longer exists); ``sex`` is "M" for an odd sequence number,
    "F" for an even one; ``converted_from_legacy`` is True when the person entered the
    old 15-digit form and ``number`` was computed from it.
    """

    number: str
    address_code: str
    birth_date: date
    sex: str
    converted_from_legacy: bool


@dataclass(frozen=True)
class Iin:
    """A checked Kazakhstan IIN: 12 digits, birth date, sex ("M"/"F") and birth century."""

    number: str
    birth_date: date
    sex: str
    century: int


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text or "")


def _checked_birth_date(
    year: int, month: int, day: int, today: date | None, min_year: int | None = MIN_BIRTH_YEAR
) -> date:
    """The embedded birth date, or ``InvalidIdentifier`` if impossible, too early or future."""
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIdentifier(
            _l(
                "The birth date in this number, %(date)s, does not exist.",
                date=f"{year:04d}-{month:02d}-{day:02d}",
            )
        ) from None
    if min_year is not None and born.year < min_year:
        raise InvalidIdentifier(
            _l(
                "The birth date in this number, %(date)s, is before %(min)s.",
                date=born.isoformat(),
                min=min_year,
            )
        )
    if born > (today if today is not None else date.today()):
        raise InvalidIdentifier(
            _l("The birth date in this number, %(date)s, is in the future.", date=born.isoformat())
        )
    return born


# -- PRC resident ID ------------------------------------------------------------------


def prc_check_character(first17: str) -> str:
    """The check character ("0"–"9" or "X") for the first 17 digits of a PRC resident ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidIdentifier(_l("Expected the first 17 digits of the ID number."))
    total = sum(int(d) * w for d, w in zip(first17, PRC_WEIGHTS))
    return PRC_CHECK_CHARACTERS[total % 11]


def convert_legacy_prc_id(fifteen: str) -> str:
    """The 18-character ID for a legacy 15-digit one (born 19YY; "19" inserted, check added)."""
    if len(fifteen) != 15 or not fifteen.isascii() or not fifteen.isdigit():
        raise InvalidIdentifier(_l("An old-format ID number has exactly 15 digits."))
    first17 = fifteen[:6] + "19" + fifteen[6:]
    return first17 + prc_check_character(first17)


def parse_prc_id(text: str, today: date | None = None) -> PrcId:
    """Check a PRC resident ID and return what it encodes, or raise ``InvalidIdentifier``.

    Spaces and hyphens are ignored and a lower-case x is accepted. Accepts 17 digits plus
    a digit or X, or the legacy 15 digits (converted to 18). The embedded birth date must
    exist, be in 1900 or later and not after ``today`` (default: the real today); then the
    check character must match. Unfamiliar address codes are accepted.
    """
    raw = _compact(text).upper()
    if not raw:
        raise InvalidIdentifier(_l("Enter the ID number."))
    if not raw.isascii() or not re.fullmatch(r"\d+X?", raw):
        raise InvalidIdentifier(
            _l("An ID number has only digits, with X allowed as the last character.")
        )
    legacy = len(raw) == 15
    if legacy:
        if not raw.isdigit():
            raise InvalidIdentifier(_l("An old-format ID number has 15 digits and no X."))
        number = convert_legacy_prc_id(raw)
    elif len(raw) == 18:
        number = raw
    else:
        raise InvalidIdentifier(
            _l(
                "An ID number has 18 characters (or 15 digits in the old format); "
                "this one has %(count)s.",
                count=len(raw),
            )
        )
    # Date before check character: a wrong date is the more precise explanation.
    born = _checked_birth_date(int(number[6:10]), int(number[10:12]), int(number[12:14]), today)
    expected = prc_check_character(number[:17])
    if number[17] != expected:
        raise InvalidIdentifier(
            _l(
                "The last character does not match the rest of the number: expected "
                "%(expected)s. Check the number for a typo.",
                expected=expected,
            )
        )
    # The sequence number is digits 15-17; its parity (that of digit 17) gives the sex.
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return PrcId(
        number=number,
        address_code=number[:6],
        birth_date=born,
        sex=sex,
        converted_from_legacy=legacy,
    )


# -- Kazakhstan IIN -------------------------------------------------------------------


def iin_check_digit(first11: str) -> int | None:
    """The IIN check digit for the first 11 digits, or None when no valid one exists.

    s1 = Σ dᵢ·(1…11) mod 11; if s1 is 10, s2 = Σ dᵢ·(3…11, 1, 2) mod 11 is used; if that
    is 10 as well, no 12-digit IIN can start with these digits.
    """
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise InvalidIdentifier(_l("Expected the first 11 digits of the IIN."))
    digits = [int(d) for d in first11]
    s1 = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_FIRST)) % 11
    if s1 != 10:
        return s1
    s2 = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_SECOND)) % 11
    return None if s2 == 10 else s2


def parse_iin(text: str, today: date | None = None) -> Iin:
    """Check a Kazakhstan IIN and return what it encodes, or raise ``InvalidIdentifier``.

    Spaces and hyphens are ignored. Requires 12 digits; the seventh must be 1–6 (century
    and sex); the birth date YYMMDD must exist and not be after ``today`` (default: the
    real today); the check digit must match.
    """
    raw = _compact(text)
    if not raw:
        raise InvalidIdentifier(_l("Enter the IIN."))
    if not raw.isascii() or not raw.isdigit():
        raise InvalidIdentifier(_l("An IIN has only digits."))
    if len(raw) != 12:
        raise InvalidIdentifier(
            _l("An IIN has 12 digits; this one has %(count)s.", count=len(raw))
        )
    century_sex = IIN_CENTURY_SEX.get(raw[6])
    if century_sex is None:
        raise InvalidIdentifier(
            _l(
                "The seventh digit of an IIN must be 1 to 6 (century and sex); "
                "this one is %(digit)s.",
                digit=raw[6],
            )
        )
    century, sex = century_sex
    # No 1900 floor here: the century digit itself allows births in the 1800s.
    born = _checked_birth_date(
        century + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]), today, min_year=None
    )
    expected = iin_check_digit(raw[:11])
    if expected is None:
        raise InvalidIdentifier(
            _l("No valid IIN begins with these 11 digits. Check the number for a typo.")
        )
    if int(raw[11]) != expected:
        raise InvalidIdentifier(
            _l(
                "The last digit does not match the rest of the IIN: expected %(expected)s. "
                "Check the number for a typo.",
                expected=expected,
            )
        )
    return Iin(number=raw, birth_date=born, sex=sex, century=century)


# -- consistency with the person record -----------------------------------------------


def birth_date_and_sex_agree(
    identifier_birth: date,
    identifier_sex: str,
    birth: PartialDate | None,
    sex: str | None,
) -> str | None:
    """A translated message if the person's birth date or sex contradicts an identifier.

    Only the known parts of a partial birth date are compared (a year-only "1975" agrees
    with any date in 1975). A missing date or sex, or a sex other than "M"/"F", is never
    a contradiction. Returns None when nothing contradicts. Rendered in the current
    locale, so call it inside the request that shows the message.
    """
    problems: list[str] = []
    if birth is not None and not birth.contains(identifier_birth):
        problems.append(
            gettext(
                "The birth date %(given)s does not match the ID number, which gives %(date)s.",
                given=birth.isoformat(),
                date=identifier_birth.isoformat(),
            )
        )
    given_sex = (sex or "").strip().upper()
    id_sex = identifier_sex.strip().upper()
    if given_sex in ("M", "F") and id_sex in ("M", "F") and given_sex != id_sex:
        problems.append(
            gettext("The sex does not match the ID number, which gives male.")
            if id_sex == "M"
            else gettext("The sex does not match the ID number, which gives female.")
        )
    return " ".join(problems) or None
