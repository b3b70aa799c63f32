"""``casefile evidence verify|sweep|purge`` as an operator runs them, on files uploaded through the web form."""

from __future__ import annotations

import contextvars
import json
import os
import random
import shutil
import time
from pathlib import Path

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.cli import main
from casefile.evidence.blobs import DEFAULT_CHUNK_SIZE, TAG_BYTES
from casefile.evidence.models import CustodyEvent, EvidenceItem
from casefile.extensions import db
from tests.evidence.helpers import PDF, png, upload

SEALED = DEFAULT_CHUNK_SIZE + TAG_BYTES
HOUR = 3600


def invoke(app: Flask, args: list[str], stdin: str | None = None) -> Result:
    """Run ``casefile ARGS`` on ``app`` in a context of its own, as a separate process would."""
    runner = CliRunner()
    return contextvars.Context().run(runner.invoke, main, args, input=stdin,
                                     obj=ScriptInfo(create_app=lambda: app))


def big_pdf(seed: int, size: int = 2_500_000) -> bytes:
    """A file of three chunks (1 MiB, 1 MiB, the rest) that the sniffer takes for a PDF."""
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(size)


def items() -> list[EvidenceItem]:
    db.session.commit()  # a fresh snapshot: see what the requests and commands committed
    return list(db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)
                                   .execution_options(**unscoped("test"))))


def item(item_id: int) -> EvidenceItem:
    [found] = [candidate for candidate in items() if candidate.id == item_id]
    return found


def custody(item_id: int) -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(CustodyEvent.action).where(CustodyEvent.evidence_id == item_id)
                                   .order_by(CustodyEvent.id).execution_options(**unscoped("test"))))


def events(action: str) -> list[AuditEvent]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def evidence_dir(app: Flask) -> Path:
    return app.config["CASEFILE_SETTINGS"].evidence_dir


def blob_path(app: Flask, address: str | None) -> Path:
    assert address is not None
    return evidence_dir(app) / "blobs" / address[:2] / address


def header_length(raw: bytes) -> int:
    return 10 + raw[9]  # magic, version, chunk size, wrapped key length, wrapped key


def stored_files(app: Flask, folder: str) -> list[Path]:
    return sorted(path for path in (evidence_dir(app) / folder).rglob("*") if path.is_file())


def make_old(path: Path, seconds: float = 2 * HOUR) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def problem_lines(result: Result) -> dict[int, str]:
    """``evidence #N (...): kind: message`` lines of a verify run, by item number, kind only."""
    found: dict[int, str] = {}
    for line in result.output.splitlines():
        if line.startswith("evidence #"):
            number, rest = line.removeprefix("evidence #").split(" ", 1)
            found[int(number.rstrip(","))] = rest.split(": ")[1]
    return found


# --- verify ----------------------------------------------------------------------------------

def test_verify_of_an_intact_store_exits_0_and_is_recorded(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    assert upload(web, case.reference, [(PDF, "letter.pdf"), (big_pdf(1), "scan.pdf"), (png(), "photo.png")]
                  ).status_code == 302
    upload(web, case.reference, note="A note has no bytes in the store.")
    for path in stored_files(app, "blobs"):
        raw = path.read_bytes()
        assert b"%PDF-1.4" not in raw and b"/Catalog" not in raw and b"IHDR" not in raw  # encrypted at rest
    result = invoke(app, ["evidence", "verify"])
    assert result.exit_code == 0, result.output
    assert "Evidence store intact: 3 items in 3 blobs checked" in result.output
    assert problem_lines(result) == {}
    [event] = events("evidence.verify")
    assert event.outcome == "success" and event.actor_id is None
    details = json.loads(event.details)
    assert (details["blobs"], details["items"], details["problems"]) == (3, 3, 0)


def test_verify_names_every_damaged_item_with_what_happened_to_it(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    files = [(big_pdf(seed), f"scan-{seed}.pdf") for seed in range(3)] + [(PDF, "letter.pdf"), (png(), "intact.png")]
    assert upload(web, case.reference, files).status_code == 302
    flipped, cut, swapped, deleted, intact = items()

    path = blob_path(app, flipped.blob_address)
    raw = bytearray(path.read_bytes())
    raw[header_length(raw) + SEALED + 12345] ^= 0x04  # one bit, in the second chunk
    path.write_bytes(bytes(raw))

    path = blob_path(app, cut.blob_address)
    raw = path.read_bytes()
    path.write_bytes(raw[: header_length(raw) + 2 * SEALED])  # the final chunk is gone

    path = blob_path(app, swapped.blob_address)
    raw = path.read_bytes()
    start = header_length(raw)
    first, second = raw[start : start + SEALED], raw[start + SEALED : start + 2 * SEALED]
    path.write_bytes(raw[:start] + second + first + raw[start + 2 * SEALED :])

    blob_path(app, deleted.blob_address).unlink()

    result = invoke(app, ["evidence", "verify"])
    assert result.exit_code == 1, result.output
    assert problem_lines(result) == {flipped.id: "altered", cut.id: "truncated", swapped.id: "reordered",
                                     deleted.id: "missing"}
    assert f"({case.reference})" in result.output
    assert "Error: 4 problem(s) found; 5 items in 5 blobs checked" in result.output
    [event] = events("evidence.verify")
    assert event.outcome == "failure"
    assert json.loads(event.details)["problem_items"] == sorted([flipped.id, cut.id, swapped.id, deleted.id])
    assert intact.id not in problem_lines(result)


def test_verify_calls_a_blob_cut_inside_a_chunk_truncated(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    # The log knows the file's size, so a blob shorter than that size was cut, wherever the cut fell.
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(big_pdf(7), "scan.pdf")])
    [cut] = items()
    path = blob_path(app, cut.blob_address)
    raw = path.read_bytes()
    path.write_bytes(raw[: header_length(raw) + SEALED + 400_000])
    result = invoke(app, ["evidence", "verify"])
    assert result.exit_code == 1, result.output
    assert problem_lines(result) == {cut.id: "truncated"}, result.output


def test_verify_catches_a_whole_blob_replaced_by_another_one(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    # Every chunk authenticates (same master key), but it is not the file the log holds.
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(PDF, "a.pdf"), (png(), "b.png")])
    first, second = items()
    shutil.copyfile(blob_path(app, second.blob_address), blob_path(app, first.blob_address))
    result = invoke(app, ["evidence", "verify"])
    assert result.exit_code == 1
    assert problem_lines(result) == {first.id: "hash"}


# --- sweep -----------------------------------------------------------------------------------

def _store_with_an_orphan_and_a_stale_upload(app: Flask, factory, login) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    """A referenced blob, an unreferenced one and a crash's leftover upload, all two hours old."""
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(PDF, "kept.pdf")])
    [kept] = items()
    referenced = blob_path(app, kept.blob_address)
    orphan = evidence_dir(app) / "blobs" / "ab" / ("ab" + "0123456789abcdef" * 3 + "0123456789abcd")
    orphan.parent.mkdir(exist_ok=True)
    shutil.copyfile(referenced, orphan)
    stale = evidence_dir(app) / "tmp" / "4f0c2a.part"
    stale.write_bytes(b"CFEV half an upload")
    for path in (referenced, orphan, stale):
        make_old(path)
    return referenced, orphan, stale


def test_sweep_removes_orphans_and_stale_uploads_and_keeps_referenced_blobs(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    referenced, orphan, stale = _store_with_an_orphan_and_a_stale_upload(app, factory, login)
    result = invoke(app, ["evidence", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output == "Removed 1 unreferenced blob(s) and 1 stale upload(s).\n"
    assert stored_files(app, "blobs") == [referenced]
    assert stored_files(app, "tmp") == []
    [event] = events("evidence.sweep")
    assert json.loads(event.details) == {"orphans": 1, "stale_uploads": 1, "render_folders": 0}
    assert invoke(app, ["evidence", "verify"]).exit_code == 0


def test_a_dry_run_sweep_lists_and_removes_nothing(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    referenced, orphan, stale = _store_with_an_orphan_and_a_stale_upload(app, factory, login)
    result = invoke(app, ["evidence", "sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output == "Would remove 1 unreferenced blob(s) and 1 stale upload(s).\n"
    assert stored_files(app, "blobs") == sorted([referenced, orphan])
    assert stored_files(app, "tmp") == [stale]
    assert events("evidence.sweep") == []


def test_sweep_spares_what_is_younger_than_the_grace_period(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    referenced, orphan, stale = _store_with_an_orphan_and_a_stale_upload(app, factory, login)
    make_old(orphan, 50 * 60)  # an upload whose row may be committing right now
    make_old(stale, 50 * 60)
    result = invoke(app, ["evidence", "sweep"])
    assert result.output == "Removed 0 unreferenced blob(s) and 0 stale upload(s).\n"
    assert stored_files(app, "blobs") == sorted([referenced, orphan])
    assert stored_files(app, "tmp") == [stale]
    result = invoke(app, ["evidence", "sweep", "--grace-minutes", "45"])
    assert result.output == "Removed 1 unreferenced blob(s) and 1 stale upload(s).\n"
    assert stored_files(app, "blobs") == [referenced] and stored_files(app, "tmp") == []


# --- purge -----------------------------------------------------------------------------------

def test_purge_destroys_the_bytes_and_keeps_the_record(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(png(), "photo.png"), (PDF, "other.pdf")])
    target, other = items()
    assert target.has_preview
    path = blob_path(app, target.blob_address)
    result = invoke(app, ["evidence", "purge", "--id", str(target.id), "--reason", "Family asked for removal",
                          "--operator", "ops", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Evidence item {target.id} purged: its bytes are destroyed.\n"
    assert not path.exists()

    purged = item(target.id)
    assert purged.purged_at is not None and purged.purge_reason == "Family asked for removal"
    assert purged.sha256 == target.sha256 and purged.size == target.size and purged.filename == "photo.png"
    assert purged.tombstoned_at is not None and not purged.has_preview and purged.blob_address is None
    assert custody(target.id) == ["added", "tombstoned", "purged"]
    [event] = events("evidence.purge")
    assert event.actor_username == "operator ops" and event.object_id == str(target.id)
    assert json.loads(event.details)["bytes_destroyed"] is True

    base = f"/cases/{case.reference}/evidence/{target.id}"
    assert web.get(f"{base}/download").status_code == 404
    assert web.get(f"{base}/preview").status_code == 404
    page = web.get(base)
    assert page.status_code == 200 and target.sha256 in page.get_data(as_text=True)
    assert web.get(f"/cases/{case.reference}/evidence/{other.id}/download").get_data() == PDF
    assert invoke(app, ["evidence", "verify"]).exit_code == 0  # a purged item is not a missing one


def test_purge_refuses_an_unknown_item_and_a_second_purge(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(PDF, "a.pdf")])
    [target] = items()
    unknown = invoke(app, ["evidence", "purge", "--id", str(target.id + 100), "--reason", "x", "--yes"])
    assert unknown.exit_code == 1
    assert f"Error: There is no evidence item {target.id + 100}." in unknown.output
    blank = invoke(app, ["evidence", "purge", "--id", str(target.id), "--reason", "  ", "--yes"])
    assert blank.exit_code == 1 and "A reason is required." in blank.output
    assert item(target.id).purged_at is None
    assert invoke(app, ["evidence", "purge", "--id", str(target.id), "--reason", "x", "--yes"]).exit_code == 0
    again = invoke(app, ["evidence", "purge", "--id", str(target.id), "--reason", "x", "--yes"])
    assert again.exit_code == 1
    assert f"Error: Evidence item {target.id} was already purged." in again.output
    assert custody(target.id).count("purged") == 1 and len(events("evidence.purge")) == 1


def test_purge_asks_before_destroying(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(PDF, "a.pdf")])
    [target] = items()
    result = invoke(app, ["evidence", "purge", "--id", str(target.id), "--reason", "x"], stdin="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert item(target.id).purged_at is None and blob_path(app, target.blob_address).exists()
    assert events("evidence.purge") == []


def test_a_file_two_cases_hold_keeps_its_bytes_until_the_last_one_is_purged(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    first_case, second_case = factory.case(advocate), factory.case(advocate)
    web = login(advocate)
    shared = big_pdf(3)
    upload(web, first_case.reference, [(shared, "verdict.pdf")])
    upload(web, second_case.reference, [(shared, "verdict-copy.pdf")])
    first, second = items()
    assert first.blob_address == second.blob_address and len(stored_files(app, "blobs")) == 1
    path = blob_path(app, first.blob_address)

    result = invoke(app, ["evidence", "purge", "--id", str(first.id), "--reason", "x", "--yes"])
    assert result.exit_code == 0, result.output
    assert "its bytes are kept because 1 other item(s) hold the same file" in result.output
    assert path.exists()
    assert web.get(f"/cases/{first_case.reference}/evidence/{first.id}/download").status_code == 404
    assert web.get(f"/cases/{second_case.reference}/evidence/{second.id}/download").get_data() == shared
    assert json.loads(events("evidence.purge")[0].details)["bytes_destroyed"] is False
    assert invoke(app, ["evidence", "verify"]).exit_code == 0

    result = invoke(app, ["evidence", "purge", "--id", str(second.id), "--reason", "x", "--yes"])
    assert result.output == f"Evidence item {second.id} purged: its bytes are destroyed.\n"
    assert not path.exists() and stored_files(app, "blobs") == []


def test_a_purge_never_destroys_bytes_that_a_new_upload_uses(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    from casefile.evidence import services

    advocate = factory.user("advocate")
    first_case, second_case = factory.case(advocate), factory.case(advocate)
    web = login(advocate)
    upload(web, first_case.reference, [(PDF, "a.pdf")])
    [first] = items()
    with app.app_context():
        result = services.purge(first.id, "wrong person", "operator test")
        db.session.commit()
        # The same file arrives in another case between the purge's commit and the deletion.
        upload(web, second_case.reference, [(PDF, "a.pdf")])
        assert services.destroy_blob(result) is False
    second = items()[-1]
    assert blob_path(app, second.blob_address).exists()
    assert web.get(f"/cases/{second_case.reference}/evidence/{second.id}/download").get_data() == PDF


def test_a_missing_blob_answers_a_clear_error_and_is_recorded(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(PDF, "a.pdf")])
    [target] = items()
    blob_path(app, target.blob_address).unlink()
    response = web.get(f"/cases/{case.reference}/evidence/{target.id}/download")
    assert response.status_code == 500
    assert "stored file of this item is missing" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    [event] = events("evidence.download")
    assert event.outcome == "failure"
    assert custody(target.id) == ["added"]


def test_sweep_ignores_stray_files_it_did_not_write(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(PDF, "a.pdf")])
    [target] = items()
    blobs = evidence_dir(app) / "blobs"
    stray_in_folder = blob_path(app, target.blob_address).parent / ".rsync-tmp-123"
    stray_at_top = blobs / "README"
    for stray in (stray_in_folder, stray_at_top):
        stray.write_bytes(b"not a blob")
        make_old(stray)
    result = invoke(app, ["evidence", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Removed 0 unreferenced blob(s)" in result.output
    assert stray_in_folder.exists() and stray_at_top.exists()
    assert blob_path(app, target.blob_address).exists()
