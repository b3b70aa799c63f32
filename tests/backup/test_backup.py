"""``casefile backup`` and ``casefile restore``: round trips between databases, and every refusal."""

from __future__ import annotations

import io
import re
import secrets
import tarfile
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.auth.services import user_by_username
from casefile.backup import archive as backup_archive
from casefile.core.crypto import read_master_key
from casefile.evidence.blobs import DEFAULT_CHUNK_SIZE, TAG_BYTES, BlobWriter
from casefile.extensions import db
from tests.backup.helpers import (
    PHONE,
    Organisation,
    invoke,
    populate,
    postgres_server,
    reference_of,
    table_counts,
)
from tests.factories import Factory
from tests.helpers import WebSession

HEADER_BYTES = backup_archive.PREAMBLE_BYTES + 10 + 40  # preamble, fixed blob header, wrapped key


def master_key_file(app: Flask) -> Path:
    return app.config["CASEFILE_SETTINGS"].master_key_file


def hashes(app: Flask, count: int) -> list[str]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq).limit(count)))
        db.session.remove()
    return found


def blob_files(app: Flask) -> list[Path]:
    root = app.config["CASEFILE_SETTINGS"].evidence_dir / "blobs"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def check_restored(source_counts: dict[str, int], source_hashes: list[str], target: Flask,
                   organisation: Organisation) -> None:
    """Counts equal, the chain continues the source's, both verifies pass, files and seals open."""
    after = table_counts(target)
    assert after["audit_events"] == source_counts["audit_events"] + 1  # the restore's own event
    assert {**after, "audit_events": 0} == {**source_counts, "audit_events": 0}
    assert hashes(target, len(source_hashes)) == source_hashes
    verified = invoke(target, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    evidence = invoke(target, ["evidence", "verify"])
    assert evidence.exit_code == 0, evidence.output
    assert f"{len(organisation.files)} items" in evidence.stdout

    web = WebSession(target.test_client())
    assert web.login(organisation.advocate, Factory.password).status_code == 302
    for item_id, content in organisation.files.items():
        download = web.get(f"/cases/{reference_of(target, item_id)}/evidence/{item_id}/download")
        assert download.status_code == 200
        assert download.get_data() == content
    page = web.get(f"/cases/{organisation.reference}").get_data(as_text=True)
    assert PHONE in page  # the sealed contact details open on the restored instance

    # New rows get new ids, and the year's case numbers continue.
    with target.app_context():
        factory = Factory(target)
        advocate = user_by_username(organisation.advocate)
        existing = _case_numbers(target)
        case = factory.case(advocate)
        assert case.id > max(number for number, _ref in existing)
        year, number = case.reference.rsplit("-", 2)[1:]
        assert int(number) == max(int(ref.rsplit("-", 1)[1]) for _id, ref in existing if f"-{year}-" in ref) + 1
        db.session.remove()


def _case_numbers(app: Flask) -> list[tuple[int, str]]:
    from casefile.access import unscoped
    from casefile.cases.models import Case

    db.session.commit()
    return [tuple(row) for row in db.session.execute(select(Case.id, Case.reference)
                                                     .execution_options(**unscoped("test")))]


def test_round_trip_into_a_new_database_of_the_same_kind(app, factory, backend, make_target,  # type: ignore[no-untyped-def]
                                                        tmp_path) -> None:
    organisation = populate(app, factory)
    before = table_counts(app)
    source_hashes = hashes(app, before["audit_events"])
    archive = tmp_path / "casefile.backup"
    made = invoke(app, ["backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert "Backup written" in made.stdout and "3 blobs" in made.stdout
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    raw = archive.read_bytes()
    assert PHONE.encode() not in raw and b"%PDF" not in raw and organisation.reference.encode() not in raw

    target = make_target(backend, master_key_file(app))
    restored = invoke(target, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "audit chain intact" in restored.stdout
    check_restored(before, source_hashes, target, organisation)
    # A second restore into the now filled instance is refused.
    again = invoke(target, ["restore", str(archive)])
    assert again.exit_code == 1 and "not empty" in again.output


@pytest.mark.skipif(not postgres_server(), reason="needs PostgreSQL (CASEFILE_TEST_DATABASE_URL)")
def test_sqlite_to_postgresql_with_a_backup_key_file(make_target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_app

    source = make_app(tmp_path / "source", f"sqlite:///{tmp_path / 'source.sqlite3'}")
    with source.app_context():
        upgrade()
        organisation = populate(source, Factory(source))
        db.session.remove()
    before = table_counts(source)
    source_hashes = hashes(source, before["audit_events"])
    key_file = tmp_path / "backup.key"
    key_file.write_text(secrets.token_hex(32) + "\n")
    archive = tmp_path / "casefile.backup"
    made = invoke(source, ["backup", str(archive), "--key-file", str(key_file)])
    assert made.exit_code == 0, made.output

    target = make_target("postgresql", master_key_file(source))
    without_key = invoke(target, ["restore", str(archive)])
    assert without_key.exit_code == 1 and "wrong key" in without_key.output
    assert "backup key file" in without_key.output
    restored = invoke(target, ["restore", str(archive), "--key-file", str(key_file)])
    assert restored.exit_code == 0, restored.output
    check_restored(before, source_hashes, target, organisation)
    with source.app_context():
        db.engine.dispose()


# --- refusals -------------------------------------------------------------------------------------

def _plaintext(archive: Path, key: bytes) -> bytes:
    with open(archive, "rb") as stream:
        backup_archive.read_preamble(stream)
        return backup_archive.PlaintextReader(stream, key).read()


def _cipher_offset(plain_offset: int) -> int:
    chunk, within = divmod(plain_offset, DEFAULT_CHUNK_SIZE)
    return HEADER_BYTES + chunk * (DEFAULT_CHUNK_SIZE + TAG_BYTES) + within


def _rewritten(archive: Path, key: bytes, out: Path, name: str, change) -> None:  # type: ignore[no-untyped-def]
    """The archive re-encrypted with the right key, one part's bytes changed (a forger holding the key)."""
    plain = _plaintext(archive, key)
    rebuilt = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(plain)) as source, \
            tarfile.open(fileobj=rebuilt, mode="w", format=tarfile.PAX_FORMAT) as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == name:
                data = change(data)
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    with open(out, "wb") as stream:
        stream.write(archive.read_bytes()[: backup_archive.PREAMBLE_BYTES])
        writer = BlobWriter(stream, key)
        writer.write(rebuilt.getvalue())
        writer.finish()


def _still_empty(target: Flask) -> None:
    counts = table_counts(target)
    assert {name: rows for name, rows in counts.items() if rows and name != "recipients"} == {}
    assert blob_files(target) == []


def test_damaged_archives_wrong_keys_and_filled_instances_are_refused(app, factory, backend,  # type: ignore[no-untyped-def]
                                                                     make_target, tmp_path) -> None:
    populate(app, factory)
    archive = tmp_path / "casefile.backup"
    assert invoke(app, ["backup", str(archive)]).exit_code == 0
    key = backup_archive.key_from_master(read_master_key(master_key_file(app)))
    plain = _plaintext(archive, key)
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        members = tar.getmembers()
    names = [member.name for member in members]
    assert names[0] == "header.json" and names[-1] == "manifest.json"
    assert any(name.startswith("db/cases/") for name in names)
    big = max((member for member in members if member.name.startswith("blobs/")), key=lambda m: m.size)

    raw = archive.read_bytes()
    flipped = bytearray(raw)
    flipped[_cipher_offset(big.offset_data + big.size // 2)] ^= 0x01
    (tmp_path / "flipped").write_bytes(bytes(flipped))
    (tmp_path / "cut").write_bytes(raw[: len(raw) * 2 // 3])
    (tmp_path / "cut-at-chunk").write_bytes(raw[: _cipher_offset(2 * DEFAULT_CHUNK_SIZE)])
    _rewritten(archive, key, tmp_path / "forged", "db/cases/00000.jsonl",
               lambda data: data.replace(b"KZ-", b"KX-", 1))
    _rewritten(archive, key, tmp_path / "no-manifest", "manifest.json", lambda data: b"{}")
    wrong_key = tmp_path / "other.key"
    wrong_key.write_text(secrets.token_hex(32))

    target = make_target(backend, master_key_file(app))
    expected = {
        "flipped": ([], f"tampered archive: part {big.name} fails authentication"),
        "cut": ([], "truncated archive: it ends in"),
        "cut-at-chunk": ([], "truncated archive"),
        "forged": ([], "tampered archive: part db/cases/00000.jsonl does not match its SHA-256 in the manifest"),
        "no-manifest": ([], "tampered archive"),
        "casefile.backup": (["--key-file", str(wrong_key)], "wrong key"),
    }
    for name, (options, message) in expected.items():
        refused = invoke(target, ["restore", str(tmp_path / name), *options])
        assert refused.exit_code == 1, (name, refused.output)
        assert "Restore refused, nothing was restored:" in refused.output
        assert message in refused.output, (name, refused.output)
        _still_empty(target)

    # The instance a backup came from is not empty: refused, and nothing changed there.
    before = table_counts(app)
    filled = invoke(app, ["restore", str(archive)])
    assert filled.exit_code == 1 and re.search(r"not empty \(rows in .*users", filled.output), filled.output
    assert table_counts(app) == before

    # An instance with another master key could not open the blobs and sealed fields: refused before any write.
    backup_key = tmp_path / "backup.key"
    backup_key.write_text(secrets.token_hex(32))
    keyed = tmp_path / "keyed.backup"
    assert invoke(app, ["backup", str(keyed), "--key-file", str(backup_key)]).exit_code == 0
    other = tmp_path / "other-master.key"
    other.write_text(secrets.token_hex(32))
    stranger = make_target(backend, other, name="stranger")
    refused = invoke(stranger, ["restore", str(keyed), "--key-file", str(backup_key)])
    assert refused.exit_code == 1 and "master key is not the one" in refused.output, refused.output
    _still_empty(stranger)

    # After all those refusals the untouched archive restores into the same target.
    restored = invoke(target, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
