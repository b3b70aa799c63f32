"""The audit chain: append-only in the database, verified by ``casefile audit verify``, never forked.

Events come from real actions (accounts, a case, logins, case views, a search). Tampering is
done the way an intruder with database access would: direct SQL, after lifting the triggers.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from casefile import access, audit
from casefile.audit.models import AuditEvent
from casefile.audit.services import CANONICAL_FIELDS, CANONICAL_VERSION, GENESIS_HASH, canonical_event, event_hash
from casefile.audit.verify import chain_head, verify_chain
from casefile.auth.models import User
from casefile.cli import main
from casefile.extensions import db
from tests.cases.test_case_forms import case_form
from tests.factories import Factory
from tests.helpers import WebSession

BROKEN = re.compile(r"^Error: audit chain broken at event (\d+) \((altered|removed|inserted|reordered)\): .+$")
INTACT = re.compile(r"^Audit chain intact: (\d+) events, head hash ([0-9a-f]{64})\.$")
_table = AuditEvent.__table__


def invoke(app: Flask, args: list[str]) -> Result:
    """``casefile ARGS`` on the test app, in a context of its own as a separate process would be."""
    runner = CliRunner()
    return contextvars.Context().run(runner.invoke, main, args, obj=ScriptInfo(create_app=lambda: app))


def event_count() -> int:
    db.session.rollback()  # a fresh snapshot: see what requests and commands committed
    return db.session.scalar(select(func.count()).select_from(_table)) or 0


def row(connection: Connection, seq: int) -> dict[str, Any]:
    found = connection.execute(select(_table).where(_table.c.seq == seq)).mappings().one()
    return dict(found)


@contextmanager
def triggers_lifted() -> Iterator[Connection]:
    """One transaction with the append-only triggers out of the way, put back before it commits."""
    db.session.rollback()  # hold no lock that the DDL below would wait for
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            yield connection
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            triggers = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")).all()
            assert len(triggers) == 2
            for name, _sql in triggers:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
            yield connection
            for _name, sql in triggers:
                connection.execute(text(sql))


@pytest.fixture
def chain(factory: Factory, login: Callable[[User], WebSession]) -> int:
    """A trail made by real actions; returns its length (at least 8 events)."""
    advocate = factory.user("advocate", teams=("Almaty",))
    case = factory.case(advocate)
    web = login(advocate)
    for _ in range(3):
        assert web.get(f"/cases/{case.reference}").status_code == 200
    assert web.get("/cases?q=Нұрлан").status_code == 200
    assert web.post("/logout").status_code == 302
    failed = WebSession(web.client).post("/login", {"username": advocate.username, "password": "wrong password x"})
    assert failed.status_code == 200
    count = event_count()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert {"user.create", "case.create", "login.success", "case.view", "case.search", "logout",
            "login.failure"} <= set(actions)
    assert count >= 8
    return count


# --- the serialisation --------------------------------------------------------------------------

def test_the_canonical_form_is_a_fixed_order_json_array_of_every_field() -> None:
    fields = (7, "2026-01-02 03:04:05.000006", None, 'a"b\\c', "ро\x01ль", "act\nion", "\t", "",
              None, "10.0.0.1", "success", '{"q":"努尔兰 نۇرلان 😀"}', GENESIS_HASH)
    assert canonical_event(*fields) == json.dumps([CANONICAL_VERSION, *fields], ensure_ascii=False,
                                                  separators=(",", ":")).encode()
    assert len(CANONICAL_FIELDS) == len(fields) and CANONICAL_FIELDS[-1] == "prev_hash"
    # No two different field lists share bytes: a character moved across a boundary, an empty
    # string for an absent value, another previous hash, all change them.
    moved = (7, "2026-01-02 03:04:05.000006", None, 'a"b', '\\c' + "ро\x01ль", *fields[5:])
    assert canonical_event(*moved) != canonical_event(*fields)
    assert canonical_event(*fields[:8], "", *fields[9:]) != canonical_event(*fields)
    assert canonical_event(*fields[:12], "1" * 64) != canonical_event(*fields)


def test_stored_events_hash_to_their_fields_on_this_database(chain: int) -> None:
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [event.seq for event in events] == list(range(1, chain + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, event in zip(events, events[1:]):
        assert event.prev_hash == before.hash
    assert all(event_hash(event) == event.hash for event in events)


def test_events_recorded_in_bulk_continue_the_chain_as_one_by_one_events_do(chain: int, factory: Factory) -> None:
    advocate = factory.user("advocate", teams=("Almaty",))
    written = audit.record_many(advocate, "case.create", [
        {"object_id": 100 + i, "case_ref": f"KZ-2026-{i:05d}", "details": {"import": 1, "row": i}}
        for i in range(5)], object_type="case")
    audit.record(advocate, "import.commit", object_type="import", object_id=1)
    db.session.commit()
    assert written == 5
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    bulk = [event for event in events if event.action == "case.create" and event.object_id.startswith("10")]
    assert [event.case_ref for event in bulk] == [f"KZ-2026-{i:05d}" for i in range(5)]
    assert bulk[0].actor_username == advocate.username and json.loads(bulk[2].details) == {"import": 1, "row": 2}
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert all(event_hash(event) == event.hash for event in events)
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    assert verify_chain(db.session).ok


# --- append-only in the database ----------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor_username = 'nobody' WHERE seq = 2",
    "UPDATE audit_events SET outcome = outcome",
    "DELETE FROM audit_events WHERE seq = 3",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_delete_events(chain: int, statement: str) -> None:
    head = chain_head(db.session)
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))
    assert chain_head(db.session) == head
    assert verify_chain(db.session).ok


@pytest.mark.postgres_only
def test_postgresql_refuses_truncate(chain: int, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_events"))
    assert event_count() == chain


def test_inserting_is_still_allowed_with_the_triggers_in_place(chain: int) -> None:
    db.session.rollback()
    with db.engine.begin() as connection:
        head = row(connection, chain)
        connection.execute(insert(_table).values(**_forge(head, seq=chain + 1, prev_hash=head["hash"],
                                                              action="test.append")))
    assert verify_chain(db.session).ok


# --- the commands ---------------------------------------------------------------------------------

def test_verify_passes_on_an_untouched_chain_and_records_that_it_ran(app: Flask, chain: int) -> None:
    count, head_seq, head_hash = chain_head(db.session)
    assert (count, head_seq) == (chain, chain)
    result = invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    match = INTACT.match(result.stdout.strip())
    assert match and int(match.group(1)) == chain and match.group(2) == head_hash
    assert result.stdout.count("\n") == 1

    event_count()
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.action == "audit.verify" and last.actor_id is None
    assert last.outcome == "success" and last.prev_hash == head_hash and last.seq == chain + 1
    assert json.loads(last.details) == {"ok": True, "count": chain, "first_broken_seq": None, "kind": None,
                                              "head_hash": head_hash}
    assert invoke(app, ["audit", "verify"]).exit_code == 0  # its own event extends the chain properly


def test_head_prints_the_count_and_head_hash(app: Flask, chain: int) -> None:
    count, _seq, head_hash = chain_head(db.session)
    db.session.rollback()
    result = invoke(app, ["audit", "head"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{count} events, head hash {head_hash}\n"
    assert event_count() == chain  # reading the head records nothing


def test_an_empty_chain_is_intact(app: Flask, factory: Factory) -> None:
    report = verify_chain(db.session)
    assert report.ok and report.count == 0 and report.head_hash == GENESIS_HASH
    assert chain_head(db.session) == (0, 0, GENESIS_HASH)
    db.session.rollback()
    assert invoke(app, ["audit", "head"]).stdout == f"0 events, head hash {GENESIS_HASH}\n"


# --- tampering --------------------------------------------------------------------------------

def _shift(connection: Connection, from_seq: int, delta: int) -> None:
    """Renumber the events from ``from_seq`` on, in two steps so the unique seq never collides."""
    connection.execute(text("UPDATE audit_events SET seq = -seq WHERE seq >= :s"), {"s": from_seq})
    connection.execute(text("UPDATE audit_events SET seq = :d - seq WHERE seq < 0"), {"d": delta})


def _swap(connection: Connection, a: int, b: int) -> None:
    connection.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :a"), {"a": a})
    connection.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    connection.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": b})


def _forge(fields: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A row with ``changes`` and a hash that matches them, as a forger with the code would make it."""
    forged = {name: value for name, value in fields.items() if name != "id"} | changes
    forged["hash"] = event_hash(AuditEvent(**{name: forged[name] for name in CANONICAL_FIELDS}))
    return forged


def _insert_forged(connection: Connection, seq: int, *, copy_of: int | None = None, link: str | None = None,
                   bad_hash: bool = False) -> None:
    """A forged event at ``seq``, the later ones moved up: chained to its predecessor and hashed
    like a real one; or chained to ``link``; or with a hash that fits nothing; or a verbatim
    replay of event ``copy_of``."""
    template = row(connection, max(seq - 1, 1))
    prev_hash = link or (template["hash"] if seq > 1 else GENESIS_HASH)
    _shift(connection, seq, +1)
    if copy_of is not None:
        forged = {name: value for name, value in row(connection, copy_of).items() if name != "id"} | {"seq": seq}
    else:
        forged = _forge(template, seq=seq, prev_hash=prev_hash, action="case.view", actor_username="nobody",
                        case_ref="KZ-2020-00001", details='{"page":"case"}')
    if bad_hash:
        forged["hash"] = "e" * 64
    connection.execute(insert(_table).values(**forged))


def _recompute(connection: Connection, seq: int) -> None:
    """Alter event ``seq`` and recompute its own hash (the one after it still names the old hash)."""
    forged = _forge(row(connection, seq), actor_username="nobody")
    connection.execute(text("UPDATE audit_events SET actor_username = :u, hash = :h WHERE seq = :s"),
                       {"u": forged["actor_username"], "h": forged["hash"], "s": seq})


TAMPERINGS: list[tuple[str, Callable[[Connection], None], int, str]] = [
    ("a field altered", lambda c: c.execute(text("UPDATE audit_events SET actor_username = 'nobody' WHERE seq = 4")),
     4, "altered"),
    ("details altered", lambda c: c.execute(text("UPDATE audit_events SET details = '{}' WHERE seq = 6")),
     6, "altered"),
    ("the link altered", lambda c: c.execute(text("UPDATE audit_events SET prev_hash = :h WHERE seq = 5"),
                                             {"h": "f" * 64}), 5, "altered"),
    ("an event deleted", lambda c: c.execute(text("DELETE FROM audit_events WHERE seq = 4")), 4, "removed"),
    ("the first event deleted", lambda c: c.execute(text("DELETE FROM audit_events WHERE seq = 1")), 1, "removed"),
    ("two events deleted, the rest renumbered",
     lambda c: (c.execute(text("DELETE FROM audit_events WHERE seq IN (4, 5)")), _shift(c, 6, -2)), 4, "removed"),
    ("an event altered with its hash recomputed", lambda c: _recompute(c, 4), 5, "removed"),
    ("a forged event inserted, the rest renumbered", lambda c: _insert_forged(c, 4), 4, "inserted"),
    ("a forged first event", lambda c: _insert_forged(c, 1), 1, "inserted"),
    ("a forged event with a made-up link", lambda c: _insert_forged(c, 4, link="d" * 64), 4, "inserted"),
    ("a forged event with a wrong hash", lambda c: _insert_forged(c, 4, bad_hash=True), 4, "inserted"),
    ("an event replayed", lambda c: _insert_forged(c, 5, copy_of=2), 5, "inserted"),
    ("two events swapped", lambda c: _swap(c, 3, 6), 3, "reordered"),
    ("neighbours swapped", lambda c: _swap(c, 4, 5), 4, "reordered"),
]


@pytest.mark.parametrize(("tamper", "seq", "kind"), [(t[1], t[2], t[3]) for t in TAMPERINGS],
                         ids=[t[0] for t in TAMPERINGS])
def test_verify_names_the_first_broken_event_and_how(app: Flask, chain: int, tamper: Callable[[Connection], None],
                                                     seq: int, kind: str) -> None:
    assert invoke(app, ["audit", "verify"]).exit_code == 0
    with triggers_lifted() as connection:
        tamper(connection)

    report = verify_chain(db.session)
    assert not report.ok and (report.first_broken_seq, report.kind) == (seq, kind), report.message
    assert report.count == seq - 1

    result = invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = BROKEN.match(lines[0])
    assert match and (int(match.group(1)), match.group(2)) == (seq, kind), lines[0]

    # The failed check is on the trail too, appended after it.
    event_count()
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.action == "audit.verify" and last.outcome == "failure"
    details = json.loads(last.details)
    assert (details["ok"], details["first_broken_seq"], details["kind"]) == (False, seq, kind)


@pytest.mark.sqlite_only
def test_a_value_of_the_wrong_type_is_reported_not_a_crash(app: Flask, chain: int, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("only SQLite stores a text in an integer column")
    with triggers_lifted() as connection:
        connection.execute(text("UPDATE audit_events SET actor_id = 'someone' WHERE seq = 5"))
    report = verify_chain(db.session)
    assert (report.ok, report.first_broken_seq, report.kind) == (False, 5, "altered")
    assert BROKEN.match(invoke(app, ["audit", "verify"]).stderr.strip())


# --- no event without its transaction -----------------------------------------------------------

def test_a_refused_form_records_nothing(chain: int, factory: Factory,
                                        login: Callable[[User], WebSession]) -> None:
    advocate = factory.user("advocate", teams=("Shymkent",))
    web = login(advocate)
    before = event_count()
    response = web.post("/cases/new", case_form(advocate.teams[0].id, iin="061211600013"))
    assert response.status_code == 400
    assert event_count() == before
    assert verify_chain(db.session).ok


def test_an_exception_after_record_rolls_the_event_back(chain: int) -> None:
    with pytest.raises(RuntimeError):
        try:
            audit.record(None, "test.doomed", object_type="case", object_id=1)
            db.session.flush()
            raise RuntimeError("the change this event describes failed")
        except RuntimeError:
            db.session.rollback()
            raise
    assert event_count() == chain
    event = audit.record(None, "test.kept")
    db.session.commit()
    assert event.seq == chain + 1  # the rolled-back seq is reused: no gap, no fork
    assert verify_chain(db.session).ok


def test_a_request_that_fails_after_recording_leaves_no_event(fresh_app: Flask, factory: Factory) -> None:
    def failing() -> str:
        audit.record(None, "test.request_doomed")
        raise RuntimeError("after the event, before the commit")

    fresh_app.add_url_rule("/failing-after-record", "failing_after_record", access.authenticated(failing))
    user = factory.user("advocate")
    web = WebSession(fresh_app.test_client())
    web.login(user.username, factory.password)
    before = event_count()
    assert web.get("/failing-after-record").status_code == 500
    assert event_count() == before
    assert not db.session.scalar(select(func.count()).where(AuditEvent.action == "test.request_doomed"))
    assert verify_chain(db.session).ok


# --- concurrent writers -------------------------------------------------------------------------

WRITERS, EACH = 8, 50


@pytest.mark.postgres_only
def test_concurrent_writers_never_fork_the_chain(app: Flask, chain: int, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has a single writer by construction")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with app.app_context():  # each thread its own app context, session and connection
                audit.set_client(f"10.0.0.{number}")
                start.wait(timeout=30)
                for index in range(EACH):
                    audit.record(None, "test.concurrent", object_type="writer", object_id=f"{number}-{index}",
                                 details={"writer": number, "index": index})
                    db.session.commit()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    total = chain + WRITERS * EACH
    report = verify_chain(db.session)
    assert report.ok and report.count == total, report.message
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all() == list(range(1, total + 1))
    written = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "test.concurrent")).all()
    assert sorted(written) == sorted(f"{n}-{i}" for n in range(WRITERS) for i in range(EACH))
    assert invoke(app, ["audit", "verify"]).exit_code == 0

