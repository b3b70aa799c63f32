"""The dashboard at scale: ``GET /dashboard`` through the real app over 100,000 cases.

Each backend gets a throwaway database with ``dataset.generate(N)`` cases (as the case-list
benchmark makes them), then what the dashboard counts beyond the cases themselves, written with
Core inserts: evidence on about 60% of the cases (files and notes, some removed), the recipients a
new instance starts with, twelve packets of 1,000 cases each, nine of them handed over, five of
those answered, with an outcome for a third of each answered packet's cases. After ``ANALYZE``
the advocate (two of four teams) and the coordinator each load the dashboard ``repeat`` times; a
few case lists with the filters the dashboard links to are timed beside it.

Target (issue 9): the dashboard answers in under 300 ms at the median.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

TARGET_MS = 300.0
EVIDENCE_SHARE = 0.6
PACKETS = 12
PACKET_SIZE = 1000
SUBMITTED = 9
ANSWERED = 5
OUTCOME_SHARE = 1 / 3
SEED = 19

LINKED_LISTS = [
    ("list: hometown", "/cases?county=654021"),
    ("list: logged in a month", "/cases?created_from={month}&created_to={month}"),
    ("list: without documents", "/cases?evidence=without"),
    ("list: awaiting an answer", "/cases?recipient=1&answer=awaiting"),
    ("list: released", "/cases?outcome=released"),
]

Row = tuple[str, str, str, float, float]  # backend, role, operation, median, p95


def populate_followup(case_count: int, seed: int = SEED) -> None:
    """Evidence, recipients, packets, submissions, answers and outcomes over the generated cases."""
    from sqlalchemy import insert, select

    from casefile.access import unscoped
    from casefile.auth.models import User
    from casefile.cases.models import Case
    from casefile.db import utcnow
    from casefile.evidence.models import EvidenceItem
    from casefile.extensions import db
    from casefile.packets.followup import OUTCOMES, RESPONSE_KINDS
    from casefile.packets.models import Packet, PacketCase, Recipient, Response, ResponseOutcome, Submission
    from casefile.packets.recipients import seeded_rows

    rng = random.Random(seed)
    author = db.session.scalar(select(User.id).where(User.username == "bench.coordinator"))
    now = utcnow()
    items = []
    for case_id in range(1, case_count + 1):
        if rng.random() >= EVIDENCE_SHARE:
            continue
        for _ in range(rng.randint(1, 3)):
            note = rng.random() < 0.15
            removed = rng.random() < 0.05
            items.append({
                "case_id": case_id, "entry": "note" if note else "file",
                "kind": rng.choice(("identity_document", "letter", "photo", "video_testimony")),
                "sha256": f"{rng.getrandbits(256):064x}", "size": 0 if note else rng.randint(10_000, 5_000_000),
                "added_by_id": author, "added_at": now,
                "tombstoned_at": now if removed else None, "tombstoned_by_id": author if removed else None,
                "tombstone_reason": "benchmark" if removed else "",
            })
    for start in range(0, len(items), 10_000):
        db.session.execute(insert(EvidenceItem), items[start:start + 10_000])
    if not db.session.scalar(select(Recipient.id).limit(1)):
        db.session.execute(insert(Recipient), seeded_rows(now))
    recipients = list(db.session.scalars(select(Recipient.id).order_by(Recipient.id)))
    eligible = list(db.session.scalars(select(Case.id).where(Case.restricted.is_(False))
                                       .execution_options(**unscoped("benchmark data"))))
    outcomes = list(OUTCOMES)
    for number in range(PACKETS):
        packet = Packet(reference=f"PK-2025-{number + 1:04d}", recipient_id=recipients[number % 5], language="ru",
                        form="standard", built_by_id=author, built_at=now, case_count=PACKET_SIZE, left_out={},
                        inputs_sealed=b"", inputs_sha256="0" * 64, pdf_address=f"{number:064x}",
                        pdf_sha256=f"{number:064x}", pdf_size=0, audit_head="0" * 64)
        db.session.add(packet)
        db.session.flush()
        members = rng.sample(eligible, min(PACKET_SIZE, len(eligible)))
        db.session.execute(insert(PacketCase), [
            {"packet_id": packet.id, "case_id": case_id, "number": index + 1, "consent_ids": []}
            for index, case_id in enumerate(members)])
        if number >= SUBMITTED:
            continue
        handed = date(2025, 1, 15) + timedelta(days=20 * number)
        submission = Submission(packet_id=packet.id, handed_over_on=handed, channel="post",
                                handed_over_by="benchmark", follow_up_on=handed + timedelta(days=30),
                                recorded_by_id=author)
        db.session.add(submission)
        db.session.flush()
        if number >= ANSWERED:
            continue
        response = Response(submission_id=submission.id, received_on=handed + timedelta(days=45),
                            kind=rng.choice(list(RESPONSE_KINDS)), recorded_by_id=author)
        db.session.add(response)
        db.session.flush()
        chosen = members[:int(len(members) * OUTCOME_SHARE)]
        db.session.execute(insert(ResponseOutcome), [
            {"response_id": response.id, "case_id": case_id, "outcome": rng.choice(outcomes)} for case_id in chosen])
    db.session.commit()


def prepare(label: str, database_url: str, instance: Path, cases: int) -> Any:
    """An app on a fresh database holding the benchmark organisation; returns the app."""
    from benchmarks import dataset
    from casefile.app import create_app
    from casefile.config import load_settings
    from casefile.extensions import db

    settings = load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url,
                              "CASEFILE_TOTP_REQUIRED_ROLES": ""})
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        print(f"{label}: generating {cases} cases for the dashboard", flush=True)
        dataset.generate(cases)
        populate_followup(cases)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")
    return app


def measure(app: Any, label: str, repeat: int, measure_call: Callable[[Callable[[], object], int], tuple[float, float]]
            ) -> list[Row]:
    """Time the dashboard and the lists it links to, for the advocate and the coordinator."""
    from benchmarks import dataset
    from casefile.db import utcnow
    from tests.helpers import WebSession

    month = utcnow().strftime("%Y-%m")
    rows: list[Row] = []
    for role in ("advocate", "coordinator"):
        web = WebSession(app.test_client())
        web.login(f"bench.{role}", dataset.PASSWORD)
        operations = [("dashboard", "/dashboard")] + [
            (name, url.format(month=month)) for name, url in LINKED_LISTS
            if role == "coordinator" or "recipient" not in url and "outcome" not in url]
        for name, url in operations:
            def call(url: str = url, web: WebSession = web) -> None:
                response = web.get(url)
                assert response.status_code == 200, (url, response.status_code)

            median, p95 = measure_call(call, repeat)
            rows.append((label, role, name, median, p95))
            print(f"  {label:<10} {role:<11} {name:<26} median {median:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    return rows


def run(databases: list[tuple[str, Any]], cases: int, repeat: int,
        measure_call: Callable[[Callable[[], object], int], tuple[float, float]]) -> list[Row]:
    from casefile.extensions import db

    rows: list[Row] = []
    for label, database in databases:
        with database as url, tempfile.TemporaryDirectory(prefix="casefile-bench-dashboard-") as folder:
            app = prepare(label, url, Path(folder), cases)
            rows += measure(app, label, repeat, measure_call)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return rows


def print_table(rows: list[Row], cases: int, repeat: int) -> bool:
    print(f"\ndashboard: {cases} cases, {repeat} requests each (milliseconds, through the Flask test client)\n")
    print("| backend | role | operation | median | p95 | target |\n|---|---|---|---:|---:|---|")
    met = True
    for backend, role, name, median, p95 in rows:
        target = TARGET_MS if name == "dashboard" else 50.0
        ok = median < target
        met &= ok or name != "dashboard"
        print(f"| {backend} | {role} | {name} | {median:.1f} | {p95:.1f} | < {target:.0f} {'PASS' if ok else 'MISS'} |")
    return met
