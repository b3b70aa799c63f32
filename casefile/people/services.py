"""Rules for the detained person: identifiers that agree, hometowns, names and their tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from casefile.core.errors import InvalidInput
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.matching import index as match_index
from casefile.people.identifiers import InvalidIdentifier, birth_date_and_sex_agree, parse_iin, parse_prc_id
from casefile.people.models import Citizenship, NameKind, NameToken, Person, PersonName, Script
from casefile.people.names import index_tokens, normalize_display, script_error
from casefile.places.gazetteer import get_place, place_for_address_code, prefecture_of

PERSON_FIELDS = (
    "sex", "birth_date", "ethnicity", "prc_id", "iin", "hometown_code", "hometown_village",
    "occupation", "citizenship", "kz_documents", "kazakhstan_ties",
)


@dataclass
class PersonInput:
    """The person's part of a case form, parsed."""

    names: list[tuple[str, str, str]] = field(default_factory=list)  # (script, kind, text)
    sex: str | None = None
    birth_date: PartialDate | None = None
    ethnicity: str = ""
    prc_id: str | None = None
    iin: str | None = None
    hometown_code: str | None = None
    hometown_village: str = ""
    occupation: str = ""
    citizenship: str = Citizenship.UNKNOWN.value
    kz_documents: str = ""
    kazakhstan_ties: str = ""


def _normalised(data: PersonInput) -> dict[str, object]:
    """Validate cross-field rules and return the values to store."""
    values: dict[str, object] = {name: getattr(data, name) for name in PERSON_FIELDS}
    if data.sex not in (None, "", "M", "F"):
        raise InvalidInput(_l("Unknown sex."), field="sex")
    values["sex"] = data.sex or None
    if data.citizenship not in {c.value for c in Citizenship}:
        raise InvalidInput(_l("Unknown citizenship status."), field="citizenship")
    for field_name, parse in (("prc_id", parse_prc_id), ("iin", parse_iin)):
        raw = getattr(data, field_name)
        if not raw:
            values[field_name] = None
            continue
        try:
            parsed = parse(raw)
        except InvalidIdentifier as exc:
            raise InvalidInput(str(exc), field=field_name) from exc
        conflict = birth_date_and_sex_agree(parsed.birth_date, parsed.sex, data.birth_date, values["sex"])
        if conflict:
            raise InvalidInput(conflict, field=field_name)
        values[field_name] = parsed.number
    code = data.hometown_code or None
    if code and get_place(code) is None:
        raise InvalidInput(_l("Choose a hometown from the list."), field="hometown_code")
    if code is None and values["prc_id"]:
        # The ID's address code is where the person was registered; a known one fills the hometown.
        place = place_for_address_code(str(values["prc_id"])[:6])
        code = place.code if place else None
    values["hometown_code"] = code
    return values


def _check_names(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    if not rows:
        raise InvalidInput(_l("Give at least one name."), field="names")
    cleaned = []
    for script, kind, text in rows:
        text = normalize_display(text)
        if script not in {s.value for s in Script} or kind not in {k.value for k in NameKind}:
            raise InvalidInput(_l("Unknown script or kind of name."), field="names")
        error = script_error(text, script)
        if error:
            raise InvalidInput(error, field="names")
        if len(text) > 200:
            raise InvalidInput(_l("A name has at most 200 characters."), field="names")
        cleaned.append((script, kind, text))
    primaries = [row for row in cleaned if row[1] == NameKind.PRIMARY]
    if len(primaries) > 1:
        raise InvalidInput(_l("Mark only one name as primary."), field="names")
    if not primaries:
        script, _kind, text = cleaned[0]
        cleaned[0] = (script, NameKind.PRIMARY.value, text)
    return cleaned


def _set_names(person: Person, rows: list[tuple[str, str, str]]) -> None:
    person.names.clear()
    db.session.flush()
    for position, (script, kind, text) in enumerate(rows):
        name = PersonName(script=script, kind=kind, text=text, position=position)
        person.names.append(name)
        db.session.flush()
        name.tokens = [NameToken(person_id=person.id, token=token) for token in sorted(index_tokens(text))]


def new_person(data: PersonInput) -> Person:
    """Create a person with their names and search tokens."""
    values = _normalised(data)
    rows = _check_names(data.names)
    person = Person(**values)
    db.session.add(person)
    db.session.flush()
    _set_names(person, rows)
    _matching_changed(person)
    return person


def apply_person(person: Person, data: PersonInput) -> list[str]:
    """Apply edited values; returns the names of the fields that changed."""
    values = _normalised(data)
    rows = _check_names(data.names)
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, values[name])
    if [(n.script, n.kind, n.text) for n in person.names] != rows:
        _set_names(person, rows)
        changed.append("names")
    if set(changed) & MATCHED_FIELDS:
        _matching_changed(person)
    return [f"person.{name}" for name in changed]


# What duplicate detection reads (``casefile.matching.index.facts_of``).
MATCHED_FIELDS = frozenset({"names", "birth_date", "sex", "prc_id", "iin", "hometown_code"})


def _matching_changed(person: Person) -> None:
    """New blocking keys, and the recorded people this record may now be into the review queue."""
    db.session.flush()
    match_index.refresh_keys(person)
    match_index.propose_for(person)


def append_names(person: Person, rows: list[tuple[str, str, str]]) -> None:
    """Add (script, kind, text) names after the person's current ones, with their search tokens."""
    position = max((name.position for name in person.names), default=-1) + 1
    for offset, (script, kind, text) in enumerate(rows):
        name = PersonName(script=script, kind=kind, text=text, position=position + offset)
        person.names.append(name)
        db.session.flush()
        name.tokens = [NameToken(person_id=person.id, token=token) for token in sorted(index_tokens(text))]


def prefecture_code(hometown_code: str | None) -> str | None:
    """The prefecture of a hometown code from the gazetteer (None when unknown)."""
    place = prefecture_of(hometown_code) if hometown_code else None
    return place.code if place else None


def check_person(data: PersonInput) -> tuple[dict[str, object], list[tuple[str, str, str]]]:
    """The values and names ``new_person`` would store for ``data``, or ``InvalidInput``; changes nothing."""
    return _normalised(data), _check_names(data.names)
