"""One spreadsheet row read into a person, a case and a reporter, or the reasons it cannot be.

Every problem names its row (as numbered in the file), its column and why; a row with any
error is never imported, and one such row stops the whole file (see ``services.commit``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from flask_babel import lazy_gettext as _l

from casefile.cases.services import ReporterInput
from casefile.core.errors import InvalidInput
from casefile.core.partial_dates import InvalidDate, PartialDate
from casefile.core.text import text_problem
from casefile.imports import columns
from casefile.people.identifiers import InvalidIdentifier, parse_iin, parse_prc_id
from casefile.people.names import detect_script, normalize_display, script_error
from casefile.people.services import PersonInput, check_person
from casefile.places.gazetteer import all_places

MAX_CELL = {"source_ref": 100, "hometown": 200, "detention_place": 200, "reporter_name": 200,
            "reporter_relationship": 200, "reporter_phone": 50, "narrative": 100_000}
MAX_OTHER_CELL = 1000  # names, dates, codes: checked further, but never megabytes long
MULTILINE_COLUMNS = frozenset({"narrative"})  # every other cell is one line (see ``casefile.core.text``)
_NAME_ORDER = ("name_cyrillic", "name_latin", "name_chinese", "name_arabic")  # the first present is primary


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str  # canonical column ("" for the row as a whole)
    header: str  # the header as written in the file
    message: str


@dataclass
class ParsedRow:
    number: int
    source_ref: str
    person: PersonInput
    status: str
    detained_on: PartialDate | None
    detention_place: str
    narrative: str
    reporter: ReporterInput | None
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    # What ``check_person`` gave: the person's values and names as they will be stored.
    checked: tuple[dict[str, object], list[tuple[str, str, str]]] | None = None

    @property
    def primary_name(self) -> str:
        return self.person.names[0][2] if self.person.names else ""


def _fold_place(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^\w]+", " ", columns.fold_header(plain)).strip()


_PLACE_SUFFIXES = re.compile(r"(哈萨克自治州|蒙古自治州|自治州|自治县|地区|县|市)$")
_PLACE_WORDS = re.compile(r"\s+(ауданы|облысы|audany|oblysy|казак автономиялык облысы|район|county|prefecture)$")


@cache
def _place_names() -> list[tuple[str, str, int]]:
    """(folded name, code, rank) of every gazetteer place, longest first; counties rank first."""
    out = set()
    for place in all_places():
        rank = 0 if place.level == "county" else 1
        for name in (place.name_zh, place.name_kk, place.name_latin):
            folded = _fold_place(name)
            if folded:
                out.add((folded, place.code, rank))
            shorter = _PLACE_WORDS.sub("", folded)
            shorter = _PLACE_SUFFIXES.sub("", shorter) if len(_PLACE_SUFFIXES.sub("", shorter)) >= 2 else shorter
            if shorter and shorter != folded:
                out.add((shorter, place.code, rank + 2))  # a name without "county" is a weaker hit
    return sorted(out, key=lambda entry: (-len(entry[0]), entry[2], entry[1]))


def hometown_place(text: str) -> tuple[str | None, str]:
    """(gazetteer code or None, village text) for a typed hometown.

    An exact name gives its place and no village; a text that mentions a place ("Нылқы ауданы,
    Жаңа ауыл") gives the most specific place and keeps the whole text as the village.
    """
    folded = _fold_place(text)
    if not folded:
        return None, ""
    padded = f" {folded} "
    best = None
    for name, code, rank in _place_names():
        if folded == name:
            return code, ""
        hit = name in folded if _has_cjk(name) else f" {name} " in padded
        if hit and (best is None or (rank % 2, -len(name)) < (best[1] % 2, -len(best[0]))):
            best = (name, rank, code)
    return (best[2], text) if best else (None, text)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _date(text: str) -> PartialDate:
    cleaned = text.strip().replace("/", ".")
    if re.fullmatch(r"\d{4}\.0?\d{1,2}\.\d{1,2}", cleaned) is None and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", cleaned):
        cleaned = "-".join(f"{int(part):02d}" if i else part for i, part in enumerate(cleaned.split("-")))
    return PartialDate.parse(cleaned)


class _Row:
    """Collects the problems of one row while its cells are read."""

    def __init__(self, number: int, cells: dict[str, str], headers: dict[str, str]):
        self.number = number
        self.cells = cells
        self.headers = headers
        self.errors: list[RowProblem] = []
        self.warnings: list[RowProblem] = []

    def error(self, column: str, message: object) -> None:
        self.errors.append(RowProblem(self.number, column, self.headers.get(column, ""), str(message)))

    def warn(self, column: str, message: object) -> None:
        self.warnings.append(RowProblem(self.number, column, self.headers.get(column, ""), str(message)))

    def get(self, column: str) -> str:
        value = self.cells.get(column, "")
        if not value:
            return ""
        limit = MAX_CELL.get(column, MAX_OTHER_CELL)
        if len(value) > limit:
            self.error(column, _l("At most %(limit)s characters.", limit=limit))
            return ""
        problem = text_problem(value, multiline=column in MULTILINE_COLUMNS)
        if problem:
            self.error(column, problem)
            return ""
        return value


def parse_row(number: int, cells: dict[str, str], headers: dict[str, str], default_ref: str) -> ParsedRow:
    """Read one row. ``cells`` maps canonical column -> text; ``headers`` canonical -> header in the file."""
    row = _Row(number, cells, headers)
    names = _names(row)
    person = PersonInput(names=names)
    _person_facts(row, person)
    status = _status(row)
    detained_on = _optional_date(row, "detained_on")
    reporter = _reporter(row)
    parsed = ParsedRow(number=number, source_ref=row.get("source_ref") or default_ref, person=person, status=status,
                       detained_on=detained_on, detention_place=row.get("detention_place"),
                       narrative=row.get("narrative"), reporter=reporter)
    if not row.errors:
        try:
            parsed.checked = check_person(person)
        except InvalidInput as exc:
            row.error(_column_of(exc.field), exc)
    parsed.errors, parsed.warnings = row.errors, row.warnings
    return parsed


def _column_of(field_name: str | None) -> str:
    return {"names": "name_cyrillic", "prc_id": "prc_id", "iin": "iin", "sex": "sex",
            "hometown_code": "hometown"}.get(field_name or "", "")


def _names(row: _Row) -> list[tuple[str, str, str]]:
    names = []
    for column in _NAME_ORDER:
        text = normalize_display(row.get(column))
        if not text:
            continue
        script = columns.NAME_COLUMNS[column]
        problem = script_error(text, script)
        if problem:
            found = detect_script(text)
            if found and found != script:
                row.error(column, _l("Script mismatch: this column is for %(expected)s names, the text is %(found)s.",
                                     expected=script, found=found))
            else:
                row.error(column, problem)
            continue
        if len(text) > 200:
            row.error(column, _l("A name has at most 200 characters."))
            continue
        names.append((script, "primary" if not names else "alias", text))
    if not names and not row.errors:
        row.error("", _l("The row has no name in any script."))
    return names


def _person_facts(row: _Row, person: PersonInput) -> None:
    sex = row.get("sex")
    if sex:
        person.sex = columns.sex_choice(sex)
        if person.sex is None:
            row.error("sex", _l("Unknown sex %(value)s: use M or F.", value=sex))
    person.birth_date = _optional_date(row, "birth_date")
    for column, parse in (("prc_id", parse_prc_id), ("iin", parse_iin)):
        value = row.get(column)
        if not value:
            continue
        try:
            setattr(person, column, parse(value).number)
        except InvalidIdentifier as exc:
            row.error(column, exc)
    hometown = row.get("hometown")
    if hometown:
        person.hometown_code, person.hometown_village = hometown_place(hometown)
        if person.hometown_code is None:
            row.warn("hometown", _l("Not a county or prefecture casefile knows: kept as the village text."))


def _optional_date(row: _Row, column: str) -> PartialDate | None:
    value = row.get(column)
    if not value:
        return None
    try:
        return _date(value)
    except InvalidDate as exc:
        row.error(column, _l("Unparseable date %(value)s: %(reason)s", value=value, reason=str(exc)))
        return None


def _status(row: _Row) -> str:
    value = row.get("status")
    if not value:
        return "unknown"
    status = columns.status_choice(value)
    if status is None:
        row.error("status", _l("Unknown status %(value)s.", value=value))
        return "unknown"
    return status


def _reporter(row: _Row) -> ReporterInput | None:
    name = normalize_display(row.get("reporter_name"))
    if len(name) > MAX_CELL["reporter_name"]:  # normalising can lengthen a text (NFC splits a few characters)
        row.error("reporter_name", _l("At most %(limit)s characters.", limit=MAX_CELL["reporter_name"]))
        return None
    consents = {}
    for column, kind in columns.CONSENT_COLUMNS.items():
        value = row.get(column)
        if not value:
            continue
        choice = columns.consent_choice(value)
        if choice is None:
            row.error(column, _l("Unknown consent %(value)s: use yes or no (да/нет, иә/жоқ).", value=value))
        elif choice != "none":
            consents[kind] = choice
    relationship_text = row.get("reporter_relationship")
    phone = row.get("reporter_phone")
    if not name:
        if consents:
            row.error("reporter_name", _l("Consent is given by a reporter: give the reporter's name."))
        elif relationship_text or phone:
            row.error("reporter_name", _l("Give the reporter's name, or leave the reporter's columns empty."))
        return None
    relationship = "other_relative"
    if relationship_text:
        found = columns.relationship_choice(relationship_text)
        if found is None:
            row.warn("reporter_relationship", _l("Unknown relationship: recorded as another relative, "
                                                 "with the text kept as written."))
        else:
            relationship = found
    detail = relationship_text if relationship_text and columns.relationship_choice(relationship_text) is None else ""
    return ReporterInput(full_name=name, relationship_kind=relationship, relationship_detail=detail[:200],
                         contact={"phone": phone} if phone else {}, consents=consents)


def guess_name_column(values: list[str]) -> str:
    """For a header that only says "name": the name column its values' script points to."""
    counts: dict[str, int] = {}
    for value in values:
        script = detect_script(value) if value else None
        if script:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "name_latin"
    script = max(sorted(counts), key=lambda key: counts[key])
    return {value: key for key, value in columns.NAME_COLUMNS.items()}[script]
