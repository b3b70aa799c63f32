"""The coordinators' review of candidate duplicates: the queue, "not the same person", and merges.

A merge keeps both rows: the merged record gets ``merged_into_id`` and loses its cases to the
kept record, which gains its names (as aliases) and the facts it lacked. A ``PersonMerge`` row
holds both records as they were, so the merge can be read back, and every moved case gets an
audit event of its own so its access history shows the move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from casefile import access, audit
from casefile.auth.models import Role, User
from casefile.cases.models import Case
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.core.partial_dates import PartialDate
from casefile.db import utcnow
from casefile.extensions import db
from casefile.matching import index
from casefile.matching.index import FoundCase
from casefile.matching.models import DuplicateCandidate, PersonDistinction, PersonMerge
from casefile.matching.score import compare, prepare
from casefile.people.identifiers import InvalidIdentifier, birth_date_and_sex_agree, parse_iin, parse_prc_id
from casefile.people.models import Citizenship, NameKind, Person
from casefile.people.services import PERSON_FIELDS, append_names, prefecture_code

PER_PAGE = 20
MAX_NAME = 200

FIELD_LABELS = {
    "sex": _l("Sex"), "birth_date": _l("Birth date"), "ethnicity": _l("Ethnicity"), "prc_id": _l("PRC resident ID"),
    "iin": _l("Kazakhstan IIN"), "hometown_code": _l("Hometown"), "hometown_village": _l("Village"),
    "occupation": _l("Occupation"), "citizenship": _l("Citizenship status"), "kz_documents": _l("Kazakh documents"),
    "kazakhstan_ties": _l("Ties to Kazakhstan"),
}
# Filled first: the identifiers are only taken when they agree with the birth date and sex.
_FILL_ORDER = ("sex", "birth_date", *[name for name in PERSON_FIELDS if name not in ("sex", "birth_date")])


@dataclass
class Side:
    """One record of a pair: the person (names loaded) and the cases the viewer may see."""

    person: Person
    cases: list[FoundCase]


@dataclass
class Pair:
    first: Side
    second: Side
    score: float
    reasons: list[str]
    found_at: datetime | None = None

    @property
    def ids(self) -> tuple[int, int]:
        return self.first.person.id, self.second.person.id


@dataclass
class QueuePage:
    items: list[Pair]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass
class MergeResult:
    merge: PersonMerge
    kept: Person
    moved: list[str]  # references of the moved cases the actor may see
    filled: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _require_coordinator(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.role == Role.COORDINATOR):
        raise NotAllowed(_l("Only coordinators review duplicates."))


def _visible_ids(actor: User) -> Select[Any]:
    return access.visible_persons(actor).with_only_columns(Person.id).where(Person.merged_into_id.is_(None))


def _queue(actor: User) -> Select[Any]:
    """Queue entries whose two people ``actor`` may both see, never a pair decided distinct."""
    visible = _visible_ids(actor)
    decided = exists().where(and_(PersonDistinction.first_id == DuplicateCandidate.first_id,
                                  PersonDistinction.second_id == DuplicateCandidate.second_id))
    return (select(DuplicateCandidate)
            .where(DuplicateCandidate.first_id.in_(visible), DuplicateCandidate.second_id.in_(visible), ~decided)
            .execution_options(**access.SCOPED))


def _people(actor: User, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    people = db.session.scalars(access.visible_persons(actor).where(Person.id.in_(sorted(ids)))
                                .options(selectinload(Person.names)))
    return {person.id: person for person in people}


def open_candidates(actor: User, page: int = 1, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the review queue for ``actor``, best score first; viewing it is an audit event."""
    _require_coordinator(actor)
    page = max(1, page)
    statement = _queue(actor)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())
                              .execution_options(**access.SCOPED)) or 0
    rows = db.session.scalars(statement.order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.first_id,
                                                 DuplicateCandidate.second_id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    ids = {i for row in rows for i in (row.first_id, row.second_id)}
    people = _people(actor, ids)
    refs = index.visible_case_refs(actor, ids)
    items = [Pair(Side(people[row.first_id], refs.get(row.first_id, [])),
                  Side(people[row.second_id], refs.get(row.second_id, [])),
                  row.score, list(row.reasons or []), row.found_at)
             for row in rows if row.first_id in people and row.second_id in people]
    audit.record(actor, "person.duplicates.view", object_type="persons",
                 details={"page": page, "pairs": len(items), "person_ids": sorted(ids)})
    return QueuePage(items, total, page, per_page)


def _ordered(first_id: int, second_id: int) -> tuple[int, int]:
    if first_id == second_id:
        raise InvalidInput(_l("A record cannot be compared with itself."))
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def _get(actor: User, person_id: int, for_update: bool = False) -> Person:
    """A person ``actor`` may see (through a visible case), or 404."""
    statement = access.visible_persons(actor).where(Person.id == person_id).options(selectinload(Person.names))
    if for_update:
        statement = statement.with_for_update(of=Person)
    person = db.session.scalar(statement)
    if person is None:
        raise NotFound()
    return person


def _candidate(first_id: int, second_id: int) -> DuplicateCandidate | None:
    return db.session.scalar(select(DuplicateCandidate).where(
        DuplicateCandidate.first_id == first_id, DuplicateCandidate.second_id == second_id)
        .execution_options(**access.unscoped("review: the queue entry of two people already authorised")))


def get_pair(actor: User, first_id: int, second_id: int) -> Pair:
    """Two records side by side with their score and reasons (queued or computed now); an audit event."""
    _require_coordinator(actor)
    first_id, second_id = _ordered(first_id, second_id)
    first, second = _get(actor, first_id), _get(actor, second_id)
    if first.merged_into_id is not None or second.merged_into_id is not None:
        raise NotFound()
    queued = _candidate(first_id, second_id)
    if queued is not None:
        score, reasons, found_at = queued.score, list(queued.reasons or []), queued.found_at
    else:
        match = compare(prepare(index.facts_of(first)), prepare(index.facts_of(second)))
        score, reasons, found_at = round(match.score, 4), list(match.reasons), None
    refs = index.visible_case_refs(actor, {first_id, second_id})
    audit.record(actor, "person.duplicates.view", object_type="persons",
                 details={"pairs": 1, "person_ids": [first_id, second_id]})
    return Pair(Side(first, refs.get(first_id, [])), Side(second, refs.get(second_id, [])), score, reasons, found_at)


def mark_distinct(actor: User, first_id: int, second_id: int) -> None:
    """Record that two records are different people: the pair leaves the queue and is never proposed again."""
    _require_coordinator(actor)
    first_id, second_id = _ordered(first_id, second_id)
    _get(actor, first_id)
    _get(actor, second_id)
    index.insert_new(PersonDistinction, [{"first_id": first_id, "second_id": second_id, "decided_by_id": actor.id,
                                          "decided_at": utcnow()}])
    index.forget_pair(first_id, second_id)
    db.session.flush()
    audit.record(actor, "person.distinct", object_type="person", object_id=first_id,
                 details={"first_id": first_id, "second_id": second_id})


def _empty(name: str, value: object) -> bool:
    return value is None or value == "" or (name == "citizenship" and value == Citizenship.UNKNOWN.value)


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _record(person: Person) -> dict[str, Any]:
    """A person as it is now, for the merge snapshot."""
    values: dict[str, Any] = {"id": person.id, **{name: _plain(getattr(person, name)) for name in PERSON_FIELDS}}
    values["names"] = [{"script": n.script, "kind": n.kind, "text": n.text} for n in person.names]
    return values


def _overlap(a: PartialDate, b: PartialDate) -> bool:
    return a.earliest() <= b.latest() and b.earliest() <= a.latest()


def _identifier_agrees(name: str, value: str, kept: Person) -> bool:
    """Whether an identifier from the merged record agrees with the kept record's birth date and sex."""
    try:
        parsed = parse_prc_id(value) if name == "prc_id" else parse_iin(value)
    except InvalidIdentifier:
        return True  # stored unchecked by an older version: nothing to compare with
    return birth_date_and_sex_agree(parsed.birth_date, parsed.sex, kept.birth_date, kept.sex) is None


def _fill_blanks(kept: Person, merged: Person) -> tuple[list[str], list[str]]:
    """Copy what the kept record lacks; never overwrite. Returns (filled, conflicting) field names."""
    filled, conflicts = [], []
    for name in _FILL_ORDER:
        ours, theirs = getattr(kept, name), getattr(merged, name)
        if _empty(name, theirs) or ours == theirs:
            continue
        if not _empty(name, ours):
            if not (name == "birth_date" and _overlap(ours, theirs)):
                conflicts.append(name)  # 1971-05 and 1971 agree: the kept, finer date stays
        elif name in ("prc_id", "iin") and not _identifier_agrees(name, theirs, kept):
            conflicts.append(name)
        else:
            setattr(kept, name, theirs)
            filled.append(name)
    return filled, conflicts


def _copy_names(kept: Person, merged: Person) -> int:
    have = {name.text for name in kept.names}
    rows = []
    for name in merged.names:
        text = name.text[:MAX_NAME]
        if text and text not in have:
            have.add(text)
            rows.append((name.script, NameKind.ALIAS.value, text))
    append_names(kept, rows)
    return len(rows)


def _carry_distinctions(kept_id: int, merged_id: int, actor: User) -> None:
    """Someone who is not the merged record is not the kept one either."""
    others = db.session.execute(
        select(PersonDistinction.first_id, PersonDistinction.second_id)
        .where((PersonDistinction.first_id == merged_id) | (PersonDistinction.second_id == merged_id))
        .execution_options(**access.unscoped("merge: decisions about the merged record"))).all()
    pairs = {index._ordered(kept_id, a if b == merged_id else b) for a, b in others}
    pairs = {pair for pair in pairs if pair[0] != pair[1]}
    index.insert_new(PersonDistinction, [{"first_id": a, "second_id": b, "decided_by_id": actor.id,
                                          "decided_at": utcnow()} for a, b in sorted(pairs)])


def merge(actor: User, kept_id: int, merged_id: int) -> MergeResult:
    """Merge one record into another that ``actor`` may both see (see the module docstring)."""
    _require_coordinator(actor)
    if kept_id == merged_id:
        raise InvalidInput(_l("A record cannot be merged into itself."))
    first_id, second_id = sorted((kept_id, merged_id))
    locked = {person_id: _get(actor, person_id, for_update=True) for person_id in (first_id, second_id)}
    kept, merged = locked[kept_id], locked[merged_id]
    if kept.merged_into_id is not None or merged.merged_into_id is not None:
        raise InvalidInput(_l("One of these records was already merged into another."))
    before = {"kept": _record(kept), "merged": _record(merged)}
    cases = list(db.session.scalars(
        select(Case).where(Case.person_id == merged.id).order_by(Case.reference)
        .execution_options(**access.unscoped("merge: every case of the merged record moves with it"))))
    filled, conflicts = _fill_blanks(kept, merged)
    names_added = _copy_names(kept, merged)
    now = utcnow()
    for case in cases:
        case.person = kept
        case.updated_at = now
    # A case copies its person's prefecture: the moved ones, and all of them when the hometown was filled.
    following = cases if "hometown_code" not in filled else list(db.session.scalars(
        select(Case).where(Case.person_id == kept.id)
        .execution_options(**access.unscoped("merge: the kept record's cases follow its hometown"))))
    for case in following:
        case.prefecture_code = prefecture_code(kept.hometown_code)
    kept.updated_at = merged.updated_at = now
    merged.merged_into_id = kept.id
    queued = _candidate(first_id, second_id)
    db.session.flush()
    record = PersonMerge(kept_id=kept.id, merged_id=merged.id, merged_by_id=actor.id, merged_at=now,
                         score=queued.score if queued is not None else None,
                         snapshot={**before, "cases": [case.reference for case in cases], "filled": filled,
                                   "conflicts": conflicts, "names_added": names_added})
    db.session.add(record)
    index.forget_pairs_of(merged.id)
    _carry_distinctions(kept.id, merged.id, actor)
    index.refresh_keys(merged)  # none: a merged record is never proposed again
    index.refresh_keys(kept)
    db.session.flush()
    index.propose_for(kept)
    audit.record(actor, "person.merge", object_type="person", object_id=kept.id,
                 details={"kept_id": kept.id, "merged_id": merged.id, "merge_id": record.id,
                          "cases_moved": len(cases), "names_added": names_added, "filled": filled,
                          "conflicts": conflicts})
    for case in cases:
        audit.record(actor, "case.update", object_type="case", object_id=case.id, case_ref=case.reference,
                     details={"fields": ["person"], "merge_id": record.id, "from_person_id": merged.id,
                              "to_person_id": kept.id})
    visible = set(db.session.scalars(access.visible_cases(actor).with_only_columns(Case.reference)
                                     .where(Case.person_id == kept.id)))
    return MergeResult(record, kept, [case.reference for case in cases if case.reference in visible], filled,
                       conflicts)
