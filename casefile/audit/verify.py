"""Walking the audit chain: is it intact, and if not, where and how was it broken.

An intact chain of N events has, in ``seq`` order, the seqs 1..N without a gap; the first
event's ``prev_hash`` is ``GENESIS_HASH`` and every other's is the stored ``hash`` of the
event before it; and every stored ``hash`` is SHA-256 of the event's canonical serialisation
(``services.canonical_event``, the function ``record()`` uses).

``verify_chain`` checks exactly that, event by event, and stops at the first event that fails.
It then names one seq and one kind. The stored ``hash`` and ``prev_hash`` of an event are its
identity and its link: renumbering seqs, which any removal, insertion or reordering that wants
to look tidy needs, breaks the content hash of each renumbered event but leaves those two as
they were. So the links decide first and the content second.

Let P be the last event that verified (seq 0 with ``GENESIS_HASH`` before the first event) and
E the event where the walk stopped; "E" is named by its place, P.seq + 1 (E's own seq, unless
the seqs have a gap there). The first rule that applies decides:

1. another event before E carries E's hash — **inserted**: E is a replayed copy. Named: E.
2. E's seq is not above P's (two events share a seq) — **inserted**. Named: E.
3. the link holds (``E.prev_hash == P.hash``):

   a. a later event links to P too — **inserted**: E was slipped in before it. Named: E.
   b. E's fields do not give its stored hash — **altered**. Named: E.
   c. E's seq jumps past P.seq + 1 — **removed**. Named: P.seq + 1.

4. the link is broken:

   a. E's fields give its stored hash once ``prev_hash`` is put back to P's hash —
      **altered** (its prev_hash was changed). Named: E.
   b. ``E.prev_hash`` is the hash of an event after E — **reordered**: events changed places
      (seqs swapped, or one moved). Named: E.
   c. ``E.prev_hash`` is the hash of an event Q before P — **inserted**: the events after Q up
      to P were slipped in. Named: the first of them.
   d. a later event links to P — **inserted**: E was slipped in before it. Named: E.
   e. otherwise (``E.prev_hash`` matches no event, or only E itself) — **removed**: the
      event(s) E followed are gone. Named: P.seq + 1. If the seqs jump, the message says which
      are missing; if later seqs were renumbered, how many is unknown, and the same evidence
      also fits P having been replaced by a forgery with a recomputed hash: the message says
      both.

What the chain alone cannot show: the newest events removed, or a forged event appended at
the end with a correct hash. For those, compare the head with one written down elsewhere
(``casefile audit head``).

The walk streams plain columns in seq order through its own read-only connection, in
batches, in constant memory, on one snapshot. It never holds SQLite's write lock, so a long
walk does not stall the application. Only when it finds a break does it run a few more
queries to classify it.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.orm import Session

from casefile.audit.models import AuditEvent
from casefile.audit.services import CANONICAL_FIELDS, GENESIS_HASH, canonical_event
from casefile.db import defer_sqlite_write_lock

ALTERED, REMOVED, INSERTED, REORDERED = "altered", "removed", "inserted", "reordered"
DEFAULT_BATCH = 2_000  # rows per fetch: larger batches measured no faster, only bigger

_table = AuditEvent.__table__


@dataclass(frozen=True)
class ChainReport:
    """The outcome of one walk.

    ``count`` is the number of events that verified (every event when ``ok``); ``head_hash``
    is the hash of the last of them (``GENESIS_HASH`` for an empty chain). When the chain is
    broken, ``first_broken_seq`` and ``kind`` say where and how (see the module docstring) and
    ``message`` says it in one line.
    """

    ok: bool
    count: int
    head_hash: str
    first_broken_seq: int | None = None
    kind: str | None = None
    message: str = ""


def chain_head(session: Session) -> tuple[int, int, str]:
    """``(event count, head seq, head hash)``; ``(0, 0, GENESIS_HASH)`` for an empty chain."""
    count = select(func.count()).select_from(_table).scalar_subquery()
    # One statement, so the count and the head come from the same snapshot.
    head = session.execute(
        select(count, _table.c.seq, _table.c.hash).order_by(_table.c.seq.desc()).limit(1)).first()
    return (head[0], head.seq, head.hash) if head else (0, 0, GENESIS_HASH)


def verify_chain(session: Session, batch: int = DEFAULT_BATCH) -> ChainReport:
    """Walk every committed event in seq order; report the chain intact, or its first break.

    Reads through its own connection from ``session``'s engine, in one read-only snapshot
    (events appended meanwhile are simply not part of this walk), so the caller's transaction
    is neither used nor disturbed. ``batch`` is how many rows each fetch brings.
    """
    engine = session.get_bind()
    return contextvars.copy_context().run(_verify_on, engine, batch)


def _verify_on(engine: Any, batch: int) -> ChainReport:
    defer_sqlite_write_lock()  # this copied context only: a plain reader's BEGIN on SQLite
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            return _walk(connection, batch)


def _occurred_at_text(dialect: str) -> ColumnElement[Any]:
    """The timestamp as ``canonical_time`` writes it, as text from the database."""
    column = _table.c.occurred_at
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS.US")
    # SQLite keeps SQLAlchemy's text, which is that format, and the driver's cursor returns it
    # as stored: no parse and format per event, and a stored text in any other form fails the
    # hash, as it should.
    return column


def _rows(connection: Connection, batch: int) -> Iterator[Sequence[Any]]:
    """Every event's canonical fields and stored hash, in seq order, as plain tuples.

    The statement is Core; it runs on the driver's cursor (a server-side one on PostgreSQL)
    because at a million rows SQLAlchemy's result rows cost as much time as the hashing.
    """
    columns = [_occurred_at_text(connection.dialect.name) if name == "occurred_at" else _table.c[name]
               for name in CANONICAL_FIELDS]
    statement = select(*columns, _table.c.hash).order_by(_table.c.seq, _table.c.id)
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name="casefile_audit_walk")  # type: ignore[union-attr]
    else:
        cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _walk(connection: Connection, batch: int) -> ChainReport:
    sha256 = hashlib.sha256
    expected_seq, last_hash, count = 1, GENESIS_HASH, 0
    broken: Sequence[Any] | None = None
    with closing(_rows(connection, batch)) as rows:
        for row in rows:
            # Fields in CANONICAL_FIELDS order (seq first, prev_hash last), then the stored hash.
            try:
                if (row[0] == expected_seq and row[12] == last_hash
                        and sha256(canonical_event(*row[:13])).hexdigest() == row[13]):
                    expected_seq += 1
                    last_hash = row[13]
                    count += 1
                    continue
            except (TypeError, ValueError):  # a value of a type no real event has (SQLite allows it)
                pass
            broken = row
            break
    if broken is not None:
        return _broken(connection, broken, expected_seq - 1, last_hash, count)
    return ChainReport(ok=True, count=count, head_hash=last_hash,
                       message=f"audit chain intact: {count} events, head hash {last_hash}")


def _broken(connection: Connection, row: Sequence[Any], last_seq: int, last_hash: str, count: int) -> ChainReport:
    """Classify the break at ``row`` by the rules in the module docstring.

    The events up to ``last_seq`` verified; the last of them has ``last_hash``.
    """
    seq, prev_hash, stored_hash = row[0], row[12], row[13]
    here = last_seq + 1
    if not isinstance(seq, int):
        return ChainReport(ok=False, count=count, head_hash=last_hash, first_broken_seq=here, kind=ALTERED,
                           message=f"audit chain broken at event {here} ({ALTERED}): its seq is not a number")
    stored_as = "" if seq == here else f" (stored with seq {seq})"
    c = _table.c

    def report(kind: str, broken_seq: int, why: str, *, good: tuple[int, str] = (count, last_hash)) -> ChainReport:
        # ``good``: how many events stand before the break, and the hash of the last of them.
        return ChainReport(ok=False, count=good[0], head_hash=good[1], first_broken_seq=broken_seq, kind=kind,
                           message=f"audit chain broken at event {broken_seq} ({kind}): {why}")

    def first_seq(*conditions: Any) -> int | None:
        return connection.execute(select(func.min(c.seq)).where(*conditions)).scalar()

    copy_of = first_seq(c.hash == stored_hash, c.seq < seq)
    if copy_of is not None:  # 1
        return report(INSERTED, here, f"it is a copy of event {copy_of}{stored_as}")
    if seq <= last_seq:  # 2
        return report(INSERTED, here, f"its seq {seq} repeats that of an earlier event")
    continued_at = first_seq(c.prev_hash == last_hash, c.seq > seq)
    slipped_in = f"event {continued_at} continues the chain from event {last_seq} as if this one were not there"

    if prev_hash == last_hash:  # 3
        if continued_at is not None:
            return report(INSERTED, here, slipped_in + stored_as)
        if _content_hash(row) != stored_hash:
            return report(ALTERED, here, f"its stored hash does not match its fields{stored_as}")
        return _removed(report, last_seq, seq)

    relinked = list(row)
    relinked[12] = last_hash
    if _content_hash(relinked) == stored_hash:  # 4a
        return report(ALTERED, here, f"its prev_hash was changed{stored_as}")
    target = 0 if prev_hash == GENESIS_HASH else first_seq(c.hash == prev_hash)
    if target is not None and target > seq:  # 4b
        return report(REORDERED, here, f"it is chained to event {target}, which comes after it{stored_as}")
    if target is not None and target < last_seq:  # 4c
        first = first_seq(c.seq > target) or here
        inserted = f"event {first}" if first == last_seq else f"events {first}-{last_seq}"
        return report(INSERTED, first, f"{inserted} slipped in: event {seq} is chained to event {target}",
                      good=(count - (last_seq - target), prev_hash))
    if continued_at is not None:  # 4d
        return report(INSERTED, here, slipped_in + stored_as)
    return _removed(report, last_seq, seq)  # 4e (and a link to itself, which only a forger makes)


def _removed(report: Any, last_seq: int, seq: int) -> ChainReport:
    if seq > last_seq + 1:
        missing = f"event {last_seq + 1}" if seq == last_seq + 2 else f"events {last_seq + 1}-{seq - 1}"
        return report(REMOVED, last_seq + 1, f"{missing} missing: event {seq} follows event {last_seq}")
    return report(REMOVED, last_seq + 1,
                  f"the event it followed is gone: events before it were removed and later ones renumbered,"
                  f" or event {last_seq} was replaced by one with a recomputed hash")


def _content_hash(row: Sequence[Any]) -> str | None:
    """The hash a row's canonical fields (the first 13 columns of the walk's select) give, if any."""
    try:
        return hashlib.sha256(canonical_event(*row[:13])).hexdigest()
    except (TypeError, ValueError):
        return None
