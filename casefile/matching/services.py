"""Candidate duplicates among the people already recorded, for review outside the UI."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from casefile import access
from casefile.cases.models import Case
from casefile.extensions import db
from casefile.matching import index
from casefile.matching.index import facts_of
from casefile.matching.score import Match

__all__ = ["Candidate", "facts_of", "queue_recorded", "recorded_duplicates"]


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
    first_source_refs: tuple[str, ...] = ()  # one per case, in the order of first_cases ("" when none)
    second_source_refs: tuple[str, ...] = ()


def recorded_duplicates(min_score: float) -> list[Candidate]:
    """Every pair of recorded people that shares a blocking key and scores at least ``min_score``.

    Reads every unmerged person (an operator's command, not a page): names, dates and
    identifiers only. Pairs a coordinator marked "not the same person" are left out.
    """
    matches = index.scan_recorded(min_score)
    involved = {person_id for pair in matches for person_id in pair}
    names = index.primary_names(involved)
    cases: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in index.chunks(involved):
        for person_id, reference, source_ref in db.session.execute(
                select(Case.person_id, Case.reference, Case.source_ref).where(Case.person_id.in_(chunk))
                .order_by(Case.reference)
                .execution_options(**access.unscoped("duplicates command: case references of people"))):
            cases[person_id].append((reference, source_ref or ""))
    found = []
    for (first, second), match in matches.items():
        found.append(Candidate(
            first, second, names.get(first, ""), names.get(second, ""),
            tuple(ref for ref, _s in cases[first]), tuple(ref for ref, _s in cases[second]),
            round(match.score, 3), tuple(match.reasons),
            tuple(source for _r, source in cases[first]), tuple(source for _r, source in cases[second])))
    return sorted(found, key=lambda candidate: (-candidate.score, candidate.first_id, candidate.second_id))


def queue_recorded(candidates: list[Candidate]) -> int:
    """Put the pairs of a full scan into the coordinators' review queue; returns how many were added."""
    return index.queue_candidates((c.first_id, c.second_id, Match(c.score, list(c.reasons))) for c in candidates)
