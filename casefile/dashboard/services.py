"""The dashboard's figures: counts of the cases a user may see, each a GROUP BY in SQL.

Every query starts from ``access.visible_cases(actor)``, so a restricted case the user is not
named on is in no figure. Each figure is defined with the same conditions as the case-list
filter it links to (``casefile.cases.search``), so a count equals the length of its list.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Row, Select, case, distinct, func, select

from casefile import access, audit
from casefile.auth.models import Role, User
from casefile.cases import search
from casefile.cases.models import Case
from casefile.db import defer_sqlite_write_lock
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from casefile.packets.models import Packet, PacketCase, Recipient, Response, ResponseOutcome, Submission
from casefile.people.models import Person

NONE = search.NO_VALUE
YEAR_ONLY = "year"


@dataclass
class RecipientFigures:
    recipient_id: int
    name: str
    submitted: int
    answered: int

    @property
    def awaiting(self) -> int:
        return self.submitted - self.answered


@dataclass
class Figures:
    """Counts by key; ``NONE`` is the key of "not recorded" (and, for outcomes, "no outcome")."""

    total: int
    by_status: dict[str, int]
    by_prefecture: dict[str, int]
    by_hometown: dict[str, int]
    detained_by_month: dict[str, int]  # "YYYY-MM", plus YEAR_ONLY and NONE
    created_by_month: dict[str, int]  # "YYYY-MM"
    with_documents: int
    followup: bool  # submissions and outcomes are the coordinators' work
    submissions: list[RecipientFigures] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def without_documents(self) -> int:
        return self.total - self.with_documents


def _counts(statement: Select[tuple[Case]], key, counted=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``{key: count}`` over the scoped statement; a NULL key becomes ``NONE``."""
    counted = func.count() if counted is None else counted
    rows = db.session.execute(statement.with_only_columns(key, counted).group_by(key).order_by(None))
    return {NONE if value is None else str(value): count for value, count in rows}


def _add(counts: dict[str, int], key: str, count: int) -> None:
    counts[key] = counts.get(key, 0) + count


def _documented():  # type: ignore[no-untyped-def]
    """The cases with documents as one hashed set, joined once: a correlated EXISTS per case costs
    several times more on both backends. The same rule as the list's filter (search.has_documents)."""
    return select(EvidenceItem.case_id).where(*search.DOCUMENT_CONDITIONS).distinct().subquery()


def _detained_month():  # type: ignore[no-untyped-def]
    # Partial dates are ISO text: the first seven characters are the month when one is known,
    # so "2017-08" and "2017-08-14" fall together.
    return case((Case.detained_on.is_(None), NONE), (func.length(Case.detained_on) == 4, YEAR_ONLY),
                else_=func.substr(Case.detained_on, 1, 7))


def _add_case_group(result: Figures, status: str, prefecture: str | None, month: object, documents: bool,
                    count: int) -> None:
    result.total += count
    _add(result.by_status, status, count)
    _add(result.by_prefecture, NONE if prefecture is None else prefecture, count)
    _add(result.created_by_month, month if isinstance(month, str) else f"{month:%Y-%m}", count)
    result.with_documents += count if documents else 0


def _add_place_group(result: Figures, hometown: str | None, month: str, count: int) -> None:
    _add(result.by_hometown, NONE if hometown is None else hometown, count)
    _add(result.detained_by_month, month, count)


def _case_pass(scoped: Select[tuple[Case]], result: Figures) -> None:
    """Status, prefecture, month logged and documents in one pass over the visible cases.

    A few hundred groups per month logged. (GROUPING SETS with the place pass would save a scan
    on PostgreSQL, but its estimate of the groups makes it sort on disk: slower.)
    """
    documented = _documented()
    if db.session.get_bind().dialect.name == "postgresql":
        logged = func.date_trunc("month", Case.created_at)  # cheaper per row than to_char
    else:
        logged = func.substr(Case.created_at, 1, 7)  # SQLite keeps the naive UTC timestamp as ISO text
    keys = (Case.status, Case.prefecture_code, logged, documented.c.case_id.is_not(None))
    statement = (scoped.outerjoin(documented, documented.c.case_id == Case.id)
                 .with_only_columns(*keys, func.count()).group_by(*keys).order_by(None))
    for row in db.session.execute(statement):
        _add_case_group(result, *row)


def _place_statement(scoped: Select[tuple[Case]]) -> Select[tuple[str | None, str, int]]:
    """Hometown and month of detention in one pass."""
    detained = _detained_month()
    return (scoped.join(Person, Person.id == Case.person_id)
            .with_only_columns(Person.hometown_code, detained, func.count())
            .group_by(Person.hometown_code, detained).order_by(None))


def _read_aside(engine: Engine, statement: Select[Any]) -> list[Row[Any]]:
    """Run a scoped, read-only statement on a connection of its own (in a worker thread)."""
    defer_sqlite_write_lock()  # a reader beside the request's writer, never waiting for it
    with engine.connect() as connection:
        return list(connection.execute(statement))


def _submissions(scoped: Select[tuple[Case]]) -> list[RecipientFigures]:
    """Per recipient: the visible cases handed over to it, and of those the ones whose submission
    got an answer (the list's ``recipient`` and ``answer`` filters)."""
    answered = case((Response.id.is_not(None), Case.id))  # NULL, so not counted, without an answer
    statement = (scoped.join(PacketCase, PacketCase.case_id == Case.id).join(Packet, Packet.id == PacketCase.packet_id)
                 .join(Submission, Submission.packet_id == Packet.id)
                 .outerjoin(Response, Response.submission_id == Submission.id)
                 .with_only_columns(Packet.recipient_id, func.count(distinct(Case.id)), func.count(distinct(answered)))
                 .group_by(Packet.recipient_id).order_by(None))
    rows = db.session.execute(statement).all()
    if not rows:
        return []
    names = {row.id: row.name for row in db.session.execute(select(Recipient.id, Recipient.name))}
    figures = [RecipientFigures(recipient_id, names.get(recipient_id, ""), submitted, answers)
               for recipient_id, submitted, answers in rows]
    return sorted(figures, key=lambda row: (-row.submitted, row.name))


def _outcomes(scoped: Select[tuple[Case]]) -> dict[str, int]:
    """Visible cases handed over, per outcome recorded for them; NONE for those without any.

    Driven from the cases in submitted packets (a few thousand), not from every visible case. An
    outcome is only ever recorded for a case of the answered packet, so every one is counted.
    """
    handed = (scoped.join(PacketCase, PacketCase.case_id == Case.id)
              .join(Submission, Submission.packet_id == PacketCase.packet_id)
              .outerjoin(ResponseOutcome, ResponseOutcome.case_id == Case.id))
    return _counts(handed, ResponseOutcome.outcome, func.count(distinct(Case.id)))


def figures(actor: User) -> Figures:
    """Every figure of the dashboard for ``actor``; reading them is an audit event."""
    scoped = access.visible_cases(actor)
    result = Figures(total=0, by_status={}, by_prefecture={}, by_hometown={}, detained_by_month={},
                     created_by_month={}, with_documents=0, followup=actor.role == Role.COORDINATOR)
    # The two passes over every visible case run side by side: the place pass on a connection of
    # its own, in a thread (both drivers release the GIL while the database works).
    with ThreadPoolExecutor(max_workers=1) as pool:
        places = pool.submit(_read_aside, db.engine, _place_statement(scoped))
        _case_pass(scoped, result)
        for row in places.result():
            _add_place_group(result, *row)
    if result.total:
        if result.followup:
            result.submissions = _submissions(scoped)
            result.outcomes = _outcomes(scoped)
    audit.record(actor, "dashboard.view", object_type="dashboard", details={"cases": result.total})
    return result
