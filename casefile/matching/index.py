"""Blocking keys kept in the database, and matching new or edited people against them at scale.

Every recorded person has their ``blocking_keys`` in ``person_match_keys``. A new row is
compared only with the people who share a key with it: the keys are looked up in chunks,
the candidates filtered (visibility, merged records) in SQL, and only the survivors' facts
read and prepared.

Most people who share a key are namesakes. Before a recorded person's names are read, a
pair is dropped when its other facts keep it below the threshold even if the names agreed
perfectly (``_ceiling``: birth dates that differ, recorded sexes that differ, hometowns far
apart). The bound is computed with ``score``'s own weights, so it follows them when they
change (``tests/matching/test_index.py`` checks it against ``compare`` on the labelled set);
the same identifier (valid or not) on both sides always goes through to ``compare``. On
100,000 recorded people and 10,000 new rows this leaves about 18,000 of 300,000 pairs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, and_, any_, bindparam, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casefile import access
from casefile.auth.models import User
from casefile.cases.models import Case
from casefile.core.batches import collector_paused
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.matching import score as _score
from casefile.matching.models import DuplicateCandidate, PersonDistinction, PersonMatchKey
from casefile.matching.score import (
    DEFAULT_THRESHOLD,
    Match,
    PersonFacts,
    PreparedPerson,
    blocking_keys,
    candidate_pairs,
    compare,
    prepare,
)
from casefile.people.models import NameKind, Person, PersonName

CHUNK = 500  # ids or keys per IN list
KEY_LENGTH = 80  # person_match_keys.key
_CACHE_LIMIT = 20_000  # prepared people kept for records that say the same, in long runs


class FoundCase(NamedTuple):
    reference: str
    source_ref: str


@dataclass(frozen=True)
class Found:
    """A recorded person a new row may be: their visible cases, the score and its reasons."""

    person_id: int
    name: str
    cases: tuple[FoundCase, ...]
    score: float
    reasons: tuple[str, ...]
    same_identifier: bool  # the same valid PRC ID or IIN on both

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(case.reference for case in self.cases)

    @property
    def source_refs(self) -> tuple[str, ...]:
        return tuple(case.source_ref for case in self.cases)


# -- keys ------------------------------------------------------------------------------------


def key_rows(person_id: int, prepared: PreparedPerson) -> list[dict[str, Any]]:
    """The ``person_match_keys`` rows of one person, for a bulk insert."""
    return [{"key": key, "person_id": person_id} for key in sorted({k[:KEY_LENGTH] for k in blocking_keys(prepared)})]


def bulk_key_rows(rows: Iterable[tuple[int, PersonFacts]]) -> Iterator[dict[str, Any]]:
    """Key rows for many (person id, facts) pairs, lazily (benchmark data, demo generator)."""
    cache: dict[tuple, PreparedPerson] = {}
    for person_id, facts in rows:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        yield from key_rows(person_id, _prepared(facts, cache))


def facts_of(person: Person) -> PersonFacts:
    """What matching reads of a person record."""
    return PersonFacts(names=[(name.text, name.script) for name in person.names], birth_date=person.birth_date,
                       sex=person.sex, prc_id=person.prc_id, iin=person.iin, hometown_code=person.hometown_code)


def refresh_keys(person: Person) -> None:
    """Replace the person's blocking keys with those of their current names and facts (none once merged)."""
    db.session.execute(delete(PersonMatchKey).where(PersonMatchKey.person_id == person.id))
    if person.merged_into_id is None:
        rows = key_rows(person.id, prepare(facts_of(person)))
        if rows:
            db.session.execute(insert(PersonMatchKey), rows)


def rebuild_all(batch: int = 2000) -> tuple[int, int]:
    """Recompute every unmerged person's keys (after the matcher changed); returns (people, keys)."""
    db.session.execute(delete(PersonMatchKey))
    people = keys = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Person.id).where(Person.id > last_id, Person.merged_into_id.is_(None))
            .order_by(Person.id).limit(batch)
            .execution_options(**access.unscoped("rebuild of every person's matching keys"))).all()
        if not ids:
            return people, keys
        last_id = ids[-1]
        with collector_paused():
            rows = list(bulk_key_rows(load_facts(ids).items()))
        if rows:
            db.session.execute(insert(PersonMatchKey), rows)
        people, keys = people + len(ids), keys + len(rows)


# -- reading recorded people -----------------------------------------------------------------


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """Sorted values in lists of at most ``size`` (for IN lists)."""
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def _in(column: Any, values: list[Any]) -> Any:
    """``column IN values``; one array parameter on PostgreSQL (cheaper to send and plan)."""
    if db.session.get_bind().dialect.name == "postgresql" and values and isinstance(values[0], int):
        return column == any_(bindparam("ids", values, type_=ARRAY(Integer), unique=True))
    return column.in_(values)


def _unscoped(reason: str) -> dict[str, str]:
    return access.unscoped(f"matching: {reason}")


def _postings(keys: Iterable[str]) -> dict[str, list[int]]:
    """key → ids of the people who have it (one row per key: far fewer rows to fetch than pairs)."""
    dialect = db.session.get_bind().dialect.name
    ids = func.array_agg(PersonMatchKey.person_id) if dialect == "postgresql" else \
        func.group_concat(PersonMatchKey.person_id) if dialect == "sqlite" else None
    found: dict[str, list[int]] = defaultdict(list)
    for chunk in chunks(set(keys)):
        if ids is None:
            statement = select(PersonMatchKey.key, PersonMatchKey.person_id).where(PersonMatchKey.key.in_(chunk))
        else:
            statement = (select(PersonMatchKey.key, ids).where(PersonMatchKey.key.in_(chunk))
                         .group_by(PersonMatchKey.key))
        for key, people in db.session.execute(statement.execution_options(
                **_unscoped("which people share a blocking key; visibility is applied next"))):
            if isinstance(people, int):
                found[key].append(people)
            else:
                found[key].extend(map(int, people.split(",")) if isinstance(people, str) else people)
    return found


class _Light(NamedTuple):
    """The facts besides names that ``compare`` weighs (see ``_ceiling``); None where not known."""

    birth: PartialDate | None
    sex: str | None
    sex_from_names: bool
    hometown: str | None
    identifiers: tuple[str, ...]
    opaque_identifier: bool = False  # a stored ID whose other forms we did not work out

    @classmethod
    def of(cls, person: PreparedPerson) -> _Light:
        ids = tuple(i for i in (person.prc_id, person.prc_raw, person.iin, person.iin_raw) if i)
        return cls(person.birth_date, person.sex, person.sex_from_names, person.hometown, ids)


def _compact(text: str | None) -> str | None:
    if not text:
        return None
    if text.isalnum():  # as stored: already compact
        return text.upper()
    return "".join(ch for ch in text if ch.isalnum()).upper() or None


def _light_of_row(birth: PartialDate | None, sex: str | None, prc_id: str | None, iin: str | None,
                  hometown: str | None) -> _Light:
    """A stored record's light facts. A missing birth date, sex or hometown stays unknown here
    (``prepare`` would read them from the ID), which only makes the bound looser."""
    prc, iin_ = _compact(prc_id), _compact(iin)
    ids = (prc, iin_) if prc and iin_ else (prc,) if prc else (iin_,) if iin_ else ()
    return _Light(birth, sex if sex in ("M", "F") else None, False, (hometown or "").strip() or None, ids,
                  bool(prc and len(prc) != 18))


# The most each piece of evidence can add (``score``'s weights): names, birth date, hometown.
_NAME_MAX = max(2 * _score._GIVEN_CURVE[0][1], _score._GIVEN_CURVE[0][1] * _score._WHOLE_NAME)
_BIRTH_MAX = max(_score._SAME_DAY, _score._SAME_MONTH, _score._SAME_YEAR)
_HOMETOWN_MAX = _score._SAME_COUNTY


@lru_cache(maxsize=65536)
def _birth_weight(a: PartialDate, b: PartialDate) -> float:
    return _score._birth_weight(a, b)[0]


@lru_cache(maxsize=65536)
def _hometown_weight(a: str, b: str) -> float:
    return _score._hometown_weight(a, b)[0]


def _ceiling(a: _Light, b: _Light) -> float:
    """An upper bound of ``compare(a, b)``'s log-odds whatever the names say, or +inf when unbounded.

    The birth date, hometown and sex weigh exactly what ``compare`` gives them; the names are
    taken at their best. The same identifier (valid or not) decides alone, so it is never bounded.
    """
    if a.opaque_identifier or b.opaque_identifier or any(i in b.identifiers for i in a.identifiers):
        return math.inf
    bound = _score.PRIOR + _NAME_MAX
    if a.birth is None or b.birth is None:
        bound += _BIRTH_MAX
    elif abs(a.birth.year - b.birth.year) > 1:
        bound += _score._YEARS_APART  # what _birth_weight gives, without writing its reason
    else:
        bound += _birth_weight(a.birth, b.birth)
    bound += _hometown_weight(a.hometown, b.hometown) if a.hometown and b.hometown else _HOMETOWN_MAX
    if a.sex and b.sex and a.sex != b.sex:
        bound += _score._SEX_HINT_DIFFERS if a.sex_from_names or b.sex_from_names else _score._SEX_DIFFERS
    return bound


def _log_odds(min_score: float) -> float:
    if min_score <= 0:
        return -math.inf
    if min_score >= 1:
        return math.inf
    return math.log(min_score / (1 - min_score))


def _light_rows(statement: Select[Any], ids: Iterable[int], id_column: Any) -> dict[int, _Light]:
    found = {}
    for chunk in chunks(set(ids)):
        for person_id, birth, sex, prc_id, iin, hometown in db.session.execute(
                statement.where(_in(id_column, chunk))):
            found[person_id] = _light_of_row(birth, sex, prc_id, iin, hometown)
    return found


_LIGHT_COLUMNS = (Person.id, Person.birth_date, Person.sex, Person.prc_id, Person.iin, Person.hometown_code)


def _visible_light(actor: User, ids: Iterable[int]) -> dict[int, _Light]:
    """Light facts of the unmerged people among ``ids`` that ``actor`` may see."""
    statement = (access.visible_cases(actor).with_only_columns(*_LIGHT_COLUMNS)
                 .join_from(Case, Person, Case.person_id == Person.id)
                 .where(Person.merged_into_id.is_(None)).distinct())
    return _light_rows(statement, ids, Case.person_id)


def _any_light(ids: Iterable[int]) -> dict[int, _Light]:
    """Light facts of the unmerged people among ``ids``, whoever may see them."""
    statement = (select(*_LIGHT_COLUMNS).where(Person.merged_into_id.is_(None))
                 .execution_options(**_unscoped("facts of people sharing a key, for the review queue")))
    return _light_rows(statement, ids, Person.id)


def load_facts(ids: Iterable[int]) -> dict[int, PersonFacts]:
    """Names and facts of people already chosen (and filtered) by the caller, by id."""
    facts: dict[int, PersonFacts] = {}
    ids = set(ids)
    for chunk in chunks(ids):
        for person_id, birth, sex, prc_id, iin, hometown in db.session.execute(
                select(Person.id, Person.birth_date, Person.sex, Person.prc_id, Person.iin, Person.hometown_code)
                .where(_in(Person.id, chunk)).execution_options(**_unscoped("facts of people already filtered"))):
            facts[person_id] = PersonFacts([], birth_date=birth, sex=sex, prc_id=prc_id, iin=iin,
                                           hometown_code=hometown)
        for person_id, text, script in db.session.execute(
                select(PersonName.person_id, PersonName.text, PersonName.script)
                .where(_in(PersonName.person_id, chunk)).order_by(PersonName.person_id, PersonName.position)
                .execution_options(**_unscoped("names of people already filtered"))):
            if person_id in facts:
                facts[person_id].names.append((text, script))
    return facts


def primary_names(ids: Iterable[int]) -> dict[int, str]:
    """The primary name (else the first) of people already chosen by the caller, by id."""
    names: dict[int, str] = {}
    primary: set[int] = set()
    for chunk in chunks(set(ids)):
        for person_id, text, kind in db.session.execute(
                select(PersonName.person_id, PersonName.text, PersonName.kind)
                .where(_in(PersonName.person_id, chunk)).order_by(PersonName.person_id, PersonName.position)
                .execution_options(**_unscoped("names of people already filtered"))):
            if person_id not in names or (kind == NameKind.PRIMARY and person_id not in primary):
                names[person_id] = text
            if kind == NameKind.PRIMARY:
                primary.add(person_id)
    return names


def visible_case_refs(actor: User, ids: Iterable[int]) -> dict[int, list[FoundCase]]:
    """Reference and source reference of the cases ``actor`` may see, of each person among ``ids``."""
    refs: dict[int, list[FoundCase]] = defaultdict(list)
    for chunk in chunks(set(ids)):
        for person_id, reference, source_ref in db.session.execute(
                access.visible_cases(actor).with_only_columns(Case.person_id, Case.reference, Case.source_ref)
                .where(_in(Case.person_id, chunk)).order_by(Case.reference)):
            refs[person_id].append(FoundCase(reference, source_ref or ""))
    return refs


# -- matching --------------------------------------------------------------------------------


def _facts_key(facts: PersonFacts) -> tuple:
    birth = facts.birth_date.isoformat() if facts.birth_date else None
    return (tuple(facts.names), birth, facts.sex, facts.prc_id, facts.iin, facts.hometown_code)


def _prepared(facts: PersonFacts, cache: dict[tuple, PreparedPerson]) -> PreparedPerson:
    """``prepare(facts)``, once for records that say exactly the same."""
    key = _facts_key(facts)
    found = cache.get(key)
    if found is None:
        found = cache[key] = prepare(facts)
    return found


def _same_identifier(a: PreparedPerson, b: PreparedPerson) -> bool:
    return bool((a.prc_id and a.prc_id == b.prc_id) or (a.iin and a.iin == b.iin))


def _match_recorded(new: Sequence[PreparedPerson], min_score: float, light_of: Any,
                    above: Sequence[int] | None = None) -> list[list[tuple[int, Match, bool]]]:
    """For each prepared person, the recorded people sharing a key and scoring ``min_score`` or more.

    ``light_of(ids)`` filters the candidates (visibility, merged) and gives their light facts;
    with ``above``, only people whose id is greater than ``above[i]`` are candidates of row i.
    Returns, per person, (person id, match, same identifier), best first.
    """
    keys = [{k[:KEY_LENGTH] for k in blocking_keys(person)} for person in new]
    postings = _postings(set().union(*keys)) if keys else {}
    candidates = [set().union(*(postings.get(k, ()) for k in person_keys)) for person_keys in keys]
    if above is not None:
        candidates = [{j for j in found if j > floor_id} for found, floor_id in zip(candidates, above)]
    light = light_of(set().union(*candidates)) if candidates else {}
    floor = _log_odds(min_score)
    pairs: list[list[int]] = []
    needed: set[int] = set()
    for person, found in zip(new, candidates):
        mine = _Light.of(person)
        kept = [j for j in found if j in light and _ceiling(mine, light[j]) >= floor]
        pairs.append(kept)
        needed.update(kept)
    facts = load_facts(needed)
    cache: dict[tuple, PreparedPerson] = {}
    recorded = {person_id: _prepared(f, cache) for person_id, f in facts.items()}
    results = []
    for person, kept in zip(new, pairs):
        matches = []
        for j in kept:
            other = recorded.get(j)
            if other is None:
                continue
            match = compare(person, other)
            if match.score >= min_score:
                matches.append((j, match, _same_identifier(person, other)))
        matches.sort(key=lambda m: (-m[1].score, m[0]))
        results.append(matches)
    return results


def find_for_new(actor: User, facts_list: Sequence[PersonFacts],
                 min_score: float = DEFAULT_THRESHOLD) -> list[list[Found]]:
    """For each new (not yet stored) person, the recorded people ``actor`` may see that may be them.

    Only unmerged people sharing a blocking key and scoring at least ``min_score``, best first;
    each with the references and source references of the cases ``actor`` may see.
    """
    cache: dict[tuple, PreparedPerson] = {}
    with collector_paused():
        new = [_prepared(facts, cache) for facts in facts_list]
        matched = _match_recorded(new, min_score, lambda ids: _visible_light(actor, ids))
        del new, cache
    found_ids = {person_id for matches in matched for person_id, _m, _s in matches}
    names = primary_names(found_ids)
    refs = visible_case_refs(actor, found_ids)
    return [[Found(person_id, names.get(person_id, ""), tuple(refs.get(person_id, ())), round(match.score, 4),
                   tuple(match.reasons), same) for person_id, match, same in matches] for matches in matched]


def find_within(facts_list: Sequence[PersonFacts], min_score: float = DEFAULT_THRESHOLD
                ) -> list[tuple[int, int, Match]]:
    """Pairs (i, j, match) with i < j among the new rows themselves that score ``min_score`` or more."""
    cache: dict[tuple, PreparedPerson] = {}
    with collector_paused():
        prepared = [_prepared(facts, cache) for facts in facts_list]
    light = [_Light.of(person) for person in prepared]
    floor = _log_odds(min_score)
    found = []
    with collector_paused():
        for i, j in sorted(candidate_pairs(prepared)):
            if _ceiling(light[i], light[j]) < floor:
                continue
            match = compare(prepared[i], prepared[j])
            if match.score >= min_score:
                found.append((i, j, match))
    return found


def scan_recorded(min_score: float = DEFAULT_THRESHOLD, batch: int = 5000) -> dict[tuple[int, int], Match]:
    """Every pair (smaller id first) of unmerged recorded people sharing a stored key and scoring
    ``min_score`` or more, except pairs decided "not the same person". For operators' commands.

    Reads every person, a batch at a time, and matches each against the people with a greater id
    through ``person_match_keys`` (after the matcher changed, ``rebuild_all`` first).
    """
    found: dict[tuple[int, int], Match] = {}
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Person.id).where(Person.id > last_id, Person.merged_into_id.is_(None))
            .order_by(Person.id).limit(batch)
            .execution_options(**_unscoped("full scan: every person is compared"))).all()
        if not ids:
            break
        last_id = ids[-1]
        with collector_paused():
            facts = load_facts(ids)
            people = sorted(facts)
            cache: dict[tuple, PreparedPerson] = {}
            prepared = [_prepared(facts[person_id], cache) for person_id in people]
            matched = _match_recorded(prepared, min_score, _any_light, above=people)
            for person_id, matches in zip(people, matched):
                for other_id, match, _same in matches:
                    found[(person_id, other_id)] = match
            del facts, cache, prepared, matched
    for pair in distinct_pairs(set(found)):
        del found[pair]
    return found


# -- the review queue ------------------------------------------------------------------------


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _existing_pairs(model: Any, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    by_first: dict[int, set[int]] = defaultdict(set)
    for first, second in pairs:
        by_first[first].add(second)
    for chunk in chunks(by_first):
        rows = db.session.execute(
            select(model.first_id, model.second_id).where(_in(model.first_id, chunk))
            .execution_options(**_unscoped("is a pair already queued or decided"))).all()
        found.update((first, second) for first, second in rows if second in by_first.get(first, ()))
    return found


def _merged_ids(ids: set[int]) -> set[int]:
    merged: set[int] = set()
    for chunk in chunks(ids):
        merged.update(db.session.scalars(
            select(Person.id).where(_in(Person.id, chunk), Person.merged_into_id.is_not(None))
            .execution_options(**_unscoped("which people were merged"))))
    return merged


def queue_candidates(pairs: Iterable[tuple[int, int, Match]]) -> int:
    """Put pairs of recorded people (ids) into the review queue; returns how many were added.

    Pairs of one person, pairs decided "not the same person", pairs already queued and pairs
    with a merged person are skipped; a pair given twice keeps its best score.
    """
    best: dict[tuple[int, int], Match] = {}
    for a, b, match in pairs:
        if a == b:
            continue
        key = _ordered(int(a), int(b))
        if key not in best or match.score > best[key].score:
            best[key] = match
    if not best:
        return 0
    skip = _existing_pairs(PersonDistinction, set(best)) | _existing_pairs(DuplicateCandidate, set(best))
    merged = _merged_ids({i for pair in best for i in pair})
    rows = [{"first_id": first, "second_id": second, "score": round(match.score, 4), "reasons": list(match.reasons)}
            for (first, second), match in sorted(best.items())
            if (first, second) not in skip and first not in merged and second not in merged]
    # A concurrent request may have queued the same pair a moment ago: that one stays.
    insert_new(DuplicateCandidate, rows)
    return len(rows)


def insert_new(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows, leaving alone those whose primary key is already there."""
    dialect_insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), CHUNK):
        db.session.execute(dialect_insert(model).on_conflict_do_nothing(), rows[start:start + CHUNK])


def queue_pairs(pairs: Iterable[tuple[int, int, float, list[str]]]) -> int:
    """``queue_candidates`` for (person, person, score, reasons) tuples."""
    return queue_candidates((a, b, Match(score, list(reasons))) for a, b, score, reasons in pairs)


def propose_for(person: Person, min_score: float = DEFAULT_THRESHOLD) -> int:
    """Queue the recorded people who share a key with ``person`` and score ``min_score`` or more.

    Every unmerged person is considered, whoever may see them: the queue is filtered by
    visibility when it is shown. Returns how many pairs were added.
    """
    if person.merged_into_id is not None:
        return 0
    prepared = prepare(facts_of(person))
    with collector_paused():
        [matches] = _match_recorded([prepared], min_score, _any_light, above=[0])
    matches = [m for m in matches if m[0] != person.id]
    return queue_candidates((person.id, other_id, match) for other_id, match, _same in matches)


def forget_pairs_of(person_id: int) -> None:
    """Remove the queue entries of one person (merged away)."""
    db.session.execute(delete(DuplicateCandidate).where(
        or_(DuplicateCandidate.first_id == person_id, DuplicateCandidate.second_id == person_id)))


def forget_pair(first_id: int, second_id: int) -> None:
    """Remove one queue entry."""
    first, second = _ordered(first_id, second_id)
    db.session.execute(delete(DuplicateCandidate).where(
        and_(DuplicateCandidate.first_id == first, DuplicateCandidate.second_id == second)))


def distinct_pairs(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (ordered) pairs among ``pairs`` that a coordinator decided are different people."""
    return _existing_pairs(PersonDistinction, {_ordered(a, b) for a, b in pairs})


__all__ = [
    "Found", "FoundCase", "bulk_key_rows", "chunks", "distinct_pairs", "facts_of", "find_for_new", "find_within",
    "forget_pair", "forget_pairs_of", "insert_new", "key_rows", "load_facts", "primary_names", "propose_for",
    "queue_candidates", "queue_pairs", "rebuild_all", "refresh_keys", "scan_recorded", "visible_case_refs",
]
