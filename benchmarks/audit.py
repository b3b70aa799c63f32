"""The audit chain at scale: verifying N events, append throughput, what ``record()`` costs.

``generate`` writes a realistic chain of N events by bulk Core inserts, hashed with the real
``canonical_event``; the append-only triggers stay in place (they refuse changes, not inserts).
Targets (DESIGN.md, issue 3): verify 1,000,000 events in under 10 s; recording an event adds
under 2 ms to a request at the median.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from casefile import audit
from casefile.app import create_app
from casefile.audit.models import AuditEvent
from casefile.audit.services import canonical_event, canonical_time
from casefile.audit.verify import chain_head, verify_chain
from casefile.config import load_settings
from casefile.extensions import db

BATCH = 10_000
APPEND_EVENTS = 2_000  # per throughput measurement: bounded, whatever the chain's length
WRITERS = 8
RECORD_SAMPLES = 500
VERIFY_RUNS = 3

# (action, object type, share): roughly what a working organisation's trail looks like.
ACTIONS = (
    ("case.view", "case", 55), ("case.search", "case", 15), ("login.success", "user", 6),
    ("logout", "user", 5), ("case.update", "case", 6), ("case.status", "case", 3),
    ("login.failure", "user", 3), ("reporter.update", "reporter", 3), ("case.create", "case", 2),
    ("consent.record", "consent", 1), ("session.expired", "user", 1),
)
QUERIES = ("Нұрлан", "Toktar", "努尔兰", "نۇرلان", "Серік Болат", "KZ-2024-000042", "Айгүл", "Bolat")
ROLES = ("advocate",) * 6 + ("coordinator",) * 3 + ("auditor",)
Row = tuple[str, str, float, float | None]  # backend, measure, median (or the one figure), p95 / slowest


def _event_fields(rng: random.Random, seq: int, moment: datetime) -> dict[str, Any]:
    action, object_type, _share = rng.choices(ACTIONS, weights=[share for *_rest, share in ACTIONS])[0]
    user = rng.randrange(1, 201)
    case_id = rng.randrange(1, 100_001)
    case_ref = f"KZ-2024-{case_id:06d}" if object_type == "case" and action != "case.search" else None
    details: dict[str, Any] = {}
    if action == "case.search":
        details = {"q": rng.choice(QUERIES), "results": rng.randrange(0, 400)}
    elif action == "case.update":
        details = {"changed": rng.sample(["status", "narrative", "names", "detention_facility", "sentence"], 2)}
    elif action == "login.failure":
        details = {"reason": "wrong password", "username": f"user{user}"}
    return {
        "seq": seq, "occurred_at": moment, "actor_id": user, "actor_username": f"user{user}",
        "actor_role": ROLES[user % len(ROLES)], "action": action, "object_type": object_type,
        "object_id": str(case_id if object_type == "case" and case_ref else user), "case_ref": case_ref,
        "client_addr": f"10.{user % 7}.{user % 251}.{rng.randrange(2, 254)}",
        "outcome": "failure" if action == "login.failure" else "success",
        "details": json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    }


def generate(events: int, seed: int = 11, label: str = "") -> str:
    """Append ``events`` chained events after the current head by bulk insert; return the new head hash."""
    rng = random.Random(seed)
    _count, head_seq, prev_hash = chain_head(db.session)
    db.session.commit()
    moment = datetime(2023, 1, 1)
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for start in range(head_seq + 1, head_seq + events + 1, BATCH):
        rows = []
        for seq in range(start, min(start + BATCH, head_seq + events + 1)):
            moment += timedelta(microseconds=rng.randrange(1, 60_000_000))
            row = _event_fields(rng, seq, moment)
            row["prev_hash"] = prev_hash
            prev_hash = row["hash"] = sha256(canonical_event(
                seq, canonical_time(moment), row["actor_id"], row["actor_username"], row["actor_role"],
                row["action"], row["object_type"], row["object_id"], row["case_ref"], row["client_addr"],
                row["outcome"], row["details"], prev_hash)).hexdigest()
            rows.append(row)
        db.session.execute(insert(AuditEvent.__table__), rows)
        db.session.commit()
        done = start + len(rows) - head_seq - 1
        if label and done % 200_000 < BATCH:
            print(f"  {label}: {done} events ({time.perf_counter() - started:.0f} s)", flush=True)
    return prev_hash


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def _append(app: Flask, count: int, timings: list[float] | None = None) -> None:
    """``count`` events, one committed transaction each, as requests make them."""
    with app.app_context():
        audit.set_client("127.0.0.1")
        for number in range(count):
            if timings is not None:
                db.session.execute(select(1))  # a request's transaction is open before it records
            started = time.perf_counter()
            audit.record(None, "bench.append", object_type="case", object_id=number, case_ref="KZ-2024-000001",
                         details={"q": "Нұрлан", "n": number})
            if timings is not None:
                timings.append((time.perf_counter() - started) * 1000)
            db.session.commit()
        db.session.remove()


def _throughput(app: Flask, writers: int) -> float:
    """Events per second that ``writers`` concurrent threads append through ``record()``."""
    each = APPEND_EVENTS // writers
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            _append(app, each)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return each * writers / elapsed


def _bench_backend(label: str, database_url: str, events: int) -> list[Row]:
    instance = Path(tempfile.mkdtemp(prefix="casefile-bench-audit-"))
    app = create_app(load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url}))
    rows: list[Row] = []
    with app.app_context():
        upgrade()  # the real schema, append-only triggers included
        print(f"{label}: generating {events} audit events", flush=True)
        started = time.perf_counter()
        generate(events, label=label)
        print(f"{label}: generated in {time.perf_counter() - started:.1f} s", flush=True)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE audit_events" if connection.dialect.name == "postgresql"
                                       else "ANALYZE")

    timings: list[float] = []
    _append(app, 50)  # warm up
    _append(app, RECORD_SAMPLES, timings)
    median, p95 = _percentiles(timings)
    rows.append((label, "record() inside a transaction (ms)", median, p95))
    print(f"  {label:<10} record() median {median:.2f} ms, p95 {p95:.2f} ms", flush=True)
    for writers in (1, WRITERS):
        if writers > 1 and not database_url.startswith("postgresql"):
            continue  # SQLite has one writer at a time whatever the threads do
        rate = _throughput(app, writers)
        rows.append((label, f"append, {writers} writer{'s' if writers > 1 else ''} (events/s)", rate, None))
        print(f"  {label:<10} append with {writers} writer(s): {rate:.0f} events/s", flush=True)

    with app.app_context():
        seconds = []
        for _ in range(VERIFY_RUNS):
            started = time.perf_counter()
            report = verify_chain(db.session)
            seconds.append(time.perf_counter() - started)
            assert report.ok, report.message
        median, slowest = statistics.median(seconds), max(seconds)
        rows.append((label, f"verify {report.count} events (s)", median, slowest))
        print(f"  {label:<10} verify {report.count} events: median {median:.2f} s, slowest {slowest:.2f} s",
              flush=True)
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(instance, ignore_errors=True)
    return rows


def run(database_url_label_pairs: list[tuple[str, str]], events: int = 1_000_000) -> list[Row]:
    """Benchmark each ``(database URL, label)`` (empty databases); rows of (backend, measure, median, p95)."""
    rows: list[Row] = []
    for database_url, label in database_url_label_pairs:
        rows.extend(_bench_backend(label, database_url, events))
    return rows


def print_table(rows: list[Row], events: int) -> bool:
    """The audit table in Markdown; True when the verify and record() targets are met."""
    print(f"\naudit chain of {events} generated events (+ the appended ones)\n")
    print("| backend | measure | median | p95 / slowest |\n|---|---|---:|---:|")
    met = True
    for backend, measure, median, spread in rows:
        flag = ""
        # 10 s per million events (never less than 10 s for a short chain); 2 ms per record().
        if (measure.startswith("verify") and median >= 10 * max(1.0, events / 1_000_000)) or (
                measure.startswith("record()") and median >= 2):
            flag, met = " ⚠", False
        digits = 0 if "events/s" in measure else 2
        spread_text = "" if spread is None else f"{spread:.{digits}f}"
        print(f"| {backend} | {measure} | {median:.{digits}f}{flag} | {spread_text} |")
    return met

