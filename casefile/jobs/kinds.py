"""The kinds of job: a large import's commit, a large packet's build, evidence verify, a backup.

Each takes the actor (loaded in the job's own session), its parameters and a progress
callback, does its work in the job's transaction, and returns what the job page links to:
an endpoint with its values and a short label, never case content.
"""

from __future__ import annotations

import contextvars
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from casefile import audit
from casefile.auth.models import User
from casefile.core.partial_dates import PartialDate
from casefile.db import defer_sqlite_write_lock
from casefile.extensions import db
from casefile.jobs import services
from casefile.jobs.services import Progress

IMPORT = "import"
PACKET = "packet"
EVIDENCE_VERIFY = "evidence_verify"
BACKUP = "backup"


def import_commit(actor: User, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from casefile.imports import services as imports

    batch = imports.get_batch(actor, int(params["batch_id"]))
    table = imports.batch_table(batch)
    columns, filename, batch_id = dict(batch.columns), batch.filename, batch.id
    db.session.rollback()
    # The rows are checked and matched against the people recorded in a reading transaction; only
    # the writing takes SQLite's single write lock, so the progress page (and everyone else) gets
    # answers meanwhile. The commit checks again that every linked person is still there.
    rows = imports.check_rows(table, columns, filename, progress)

    def matched() -> imports.Review:
        defer_sqlite_write_lock()  # in this copied context only
        try:
            return imports.review(actor, table, columns, filename, progress=progress, rows=rows)
        finally:
            db.session.rollback()

    result = contextvars.copy_context().run(matched)
    batch = imports.get_batch(actor, batch_id)
    decisions = {int(number): choice for number, choice in params.get("decisions", {}).items()}
    report = imports.commit(actor, batch, result, imports.resolve_decisions(result, decisions), progress=progress)
    return {"endpoint": "imports.review", "values": {"batch_id": batch_id},
            "label": str(_l("Import %(label)s: %(cases)s case(s), %(people)s new people, %(linked)s row(s) linked.",
                            label=batch.label, cases=report.cases, people=report.people,
                            linked=len(report.linked)))}


def packet_params(recipient: str, criteria: Any, letter: Any) -> dict[str, Any]:
    """A packet build's parameters as JSON (the dates as ISO text)."""
    values = asdict(criteria)
    for key in ("detained_from", "detained_to"):
        values[key] = values[key].isoformat() if values[key] is not None else None
    return {"recipient": recipient, "criteria": values, "letter": asdict(letter)}


def packet_build(actor: User, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from casefile.packets import services as packets

    criteria_values = dict(params["criteria"])
    for key in ("detained_from", "detained_to"):
        if criteria_values.get(key):
            criteria_values[key] = PartialDate.from_iso(criteria_values[key])
    criteria = packets.Criteria(**criteria_values)
    letter = packets.Letter(**params["letter"])
    progress(0, 3, str(_l("Selecting the cases")))
    recipient = packets.recipient_by_code(params["recipient"])
    selection = packets.select_cases(actor, recipient, criteria)
    progress(1, 3, str(_l("Rendering %(n)s cases", n=len(selection.included))))
    packet = packets.build_packet(actor, recipient, criteria, letter, selection)
    progress(3, 3, str(_l("Stored")))
    return {"endpoint": "packets.show", "values": {"packet_ref": packet.reference},
            "label": str(_l("Packet %(ref)s built with %(n)s cases.", ref=packet.reference, n=packet.case_count))}


def evidence_verify(actor: User, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from casefile.evidence import integrity
    from casefile.evidence import services as evidence

    store = evidence.store()
    progress(0, len(integrity.stored_blobs()), str(_l("Decrypting and hashing every stored file")))
    report = integrity.verify_store(store, progress=progress.advance)
    audit.record(actor, "evidence.verify", object_type="evidence_store",
                 outcome="success" if report.ok else "failure",
                 details={"blobs": report.blobs, "items": report.items, "problems": len(report.problems),
                          "problem_items": sorted(i for p in report.problems for i in p.item_ids)})
    if report.ok:
        label = _l("Evidence store intact: %(items)s item(s) and %(others)s packet or receipt file(s) in "
                   "%(blobs)s stored file(s).", items=report.items, others=report.others, blobs=report.blobs)
    else:
        label = _l("%(count)s problem(s) found in %(blobs)s stored file(s).", count=len(report.problems),
                   blobs=report.blobs)
    # Item numbers, references and what is wrong: what the command line prints, no content.
    return {"label": str(label), "ok": report.ok, "problems": [p.describe() for p in report.problems[:200]]}


def backup_folder() -> Path:
    """Where backups started from the web go: ``backups/`` in the instance folder, for the service's user only."""
    folder = Path(current_app.instance_path) / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def backup(actor: User, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from casefile.backup.services import write_backup

    out = backup_folder() / str(params["name"])
    progress(0, 1, str(_l("Writing the encrypted archive")))
    # The archive key is derived from the master key, as ``casefile backup`` does without --key-file.
    result = write_backup(out, progress=progress, actor=actor)
    return {"label": str(_l("Backup written to %(path)s: %(size)s bytes, SHA-256 %(sha)s.", path=str(result.path),
                            size=f"{result.size:,}", sha=result.sha256))}


services.register(IMPORT, _l("Import"), import_commit)
services.register(PACKET, _l("Packet build"), packet_build)
services.register(EVIDENCE_VERIFY, _l("Evidence verify"), evidence_verify)
services.register(BACKUP, _l("Backup"), backup)
