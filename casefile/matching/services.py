"""Candidate duplicates among the people already recorded, for review outside the UI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casefile import access
from casefile.cases.models import Case
from casefile.extensions import db
from casefile.matching.score import PersonFacts, candidate_pairs, compare, prepare
from casefile.people.models import Person


@dataclass(frozen=True)
class Candidate:
    first_id: int
    second_id: int
    first_name: str
    second_name: str
    first_cases: tuple[str, ...]
    second_cases: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


def facts_of(person: Person) -> PersonFacts:
    return PersonFacts(names=[(name.text, name.script) for name in person.names], birth_date=person.birth_date,
                       sex=person.sex, prc_id=person.prc_id, iin=person.iin, hometown_code=person.hometown_code)


def recorded_duplicates(min_score: float) -> list[Candidate]:
    """Every pair of recorded people that shares a blocking key and scores at least ``min_score``.

    Reads every person (an operator's command, not a page): names, dates and identifiers only.
    """
    people = list(db.session.scalars(
        select(Person).options(selectinload(Person.names)).order_by(Person.id)
        .execution_options(**access.unscoped("duplicates command: every person is compared"))))
    cases: dict[int, list[str]] = {}
    for person_id, reference in db.session.execute(
            select(Case.person_id, Case.reference).order_by(Case.reference)
            .execution_options(**access.unscoped("duplicates command: case references of people"))):
        cases.setdefault(person_id, []).append(reference)
    prepared = [prepare(facts_of(person)) for person in people]
    found = []
    for i, j in sorted(candidate_pairs(prepared)):
        match = compare(prepared[i], prepared[j])
        if match.score < min_score:
            continue
        first, second = people[i], people[j]
        found.append(Candidate(first.id, second.id, first.primary_name, second.primary_name,
                               tuple(cases.get(first.id, [])), tuple(cases.get(second.id, [])),
                               round(match.score, 3), tuple(match.reasons)))
    return sorted(found, key=lambda candidate: (-candidate.score, candidate.first_id, candidate.second_id))
