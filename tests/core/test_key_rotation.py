"""``casefile keys rotate``: every sealed field and evidence file opens with the new key only."""

from __future__ import annotations

import logging
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import LargeBinary, select, text

from casefile.audit.models import AuditEvent
from casefile.auth import totp
from casefile.auth.services import user_by_username
from casefile.config import ConfigError
from casefile.core import keys
from casefile.core.crypto import SealError, field_cipher, read_master_key, unseal_with
from casefile.db import defer_sqlite_write_lock
from casefile.evidence.blobs import BlobError, decrypt_chunks, read_header
from casefile.evidence.storage import EvidenceKeys
from casefile.extensions import db
from tests.backup.helpers import PHONE, invoke, populate, postgres_server, reference_of
from tests.conftest import make_app
from tests.databases import throwaway_postgres_database
from tests.factories import Factory
from tests.helpers import WebSession


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A new database of the backend under test: the rotation must not touch the shared instance."""
    server = postgres_server()
    if server:
        with throwaway_postgres_database(server, "test_backup_keys") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'keys.sqlite3'}"


@pytest.fixture
def instance(tmp_path: Path, database: str) -> Iterator[Flask]:
    manager = logging.root.manager
    loggers = {name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
               for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    defer_sqlite_write_lock()  # the test's reads must not hold the lock its requests wait for
    app = make_app(tmp_path / "instance", database)
    with app.app_context():
        upgrade()
        db.session.remove()
    for name, (disabled, level, handlers, propagate) in loggers.items():  # alembic's fileConfig turned them off
        logger = logging.getLogger(name)
        logger.disabled, logger.level, logger.handlers, logger.propagate = disabled, level, handlers, propagate
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def reopen(app: Flask, key_file: Path | None = None) -> Flask:
    """The same instance as a new process would start it (optionally with another key file)."""
    settings = app.config["CASEFILE_SETTINGS"]
    env = {"CASEFILE_MASTER_KEY_FILE": str(key_file)} if key_file else {}
    return make_app(settings.instance_path, settings.database_url, env=env)


def sealed_values(app: Flask) -> list[tuple[str, int, bytes]]:
    found = []
    with app.app_context(), db.engine.connect() as connection:
        for sealed in keys.SEALED_COLUMNS:
            rows = connection.execute(text(f"SELECT id, {sealed.column} FROM {sealed.table} "
                                           f"WHERE {sealed.column} IS NOT NULL"))
            found.extend((f"{sealed.table}.{sealed.column}", row[0], bytes(row[1])) for row in rows if row[1])
    return found


def make_version_one(path: Path, wrap_key: bytes) -> None:
    """Rewrite a stored blob in the first format (its chunks bind the wrapped key), as older instances hold."""
    with open(path, "rb") as stream:
        plaintext = b"".join(decrypt_chunks(stream, wrap_key))
    data_key = AESGCM.generate_key(bit_length=256)
    wrapped = aes_key_wrap(wrap_key, data_key)
    chunk_size = 1024 * 1024
    header = struct.pack(">4sBIB", b"CFEV", 1, chunk_size, len(wrapped)) + wrapped
    aead = AESGCM(data_key)
    pieces = [plaintext[i : i + chunk_size] for i in range(0, len(plaintext), chunk_size)] or [b""]
    body = b"".join(aead.encrypt(index.to_bytes(11, "big") + (b"\x01" if index == len(pieces) - 1 else b"\x00"),
                                 piece, header) for index, piece in enumerate(pieces))
    path.write_bytes(header + body)


def test_every_binary_column_is_a_known_sealed_column_or_not_sealed(app) -> None:  # type: ignore[no-untyped-def]
    registered = {(sealed.table, sealed.column) for sealed in keys.SEALED_COLUMNS}
    binary = {(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
              if isinstance(column.type, LargeBinary)}
    assert binary <= registered, binary - registered


def test_rotation_reseals_and_rewraps_everything_and_the_old_key_opens_nothing(instance: Flask) -> None:
    with instance.app_context():
        factory = Factory(instance)
        organisation = populate(instance, factory)
        user = factory.user("admin", username="second-factor")
        secret = totp.pending_enrolment(user).secret
        assert totp.confirm_enrolment(user, pyotp.TOTP(secret).now()) is not None
        db.session.commit()
        db.session.remove()
    settings = instance.config["CASEFILE_SETTINGS"]
    key_file = settings.master_key_file
    old_master = read_master_key(key_file)
    old_keys = EvidenceKeys.from_master(old_master)
    blobs_root = settings.evidence_dir / "blobs"
    before = sorted(path.name for path in blobs_root.rglob("*") if path.is_file())
    assert len(before) == 3
    smallest = min(blobs_root.rglob("*"), key=lambda path: path.stat().st_size if path.is_file() else 1 << 62)
    make_version_one(smallest, old_keys.wrap)
    sealed_before = sealed_values(instance)
    assert {name for name, _id, _value in sealed_before} >= {
        "reporters.contact_sealed", "users.totp_secret_sealed", "evidence_items.preview"}

    rotated = invoke(instance, ["keys", "rotate", "--operator", "Aigerim (ops)"])
    assert rotated.exit_code == 0, rotated.output
    assert "2 blob headers re-wrapped, 1 older blobs re-encrypted, 3 blobs moved" in rotated.stdout
    retired = next(key_file.parent.glob(key_file.name + ".retired-*"))
    assert read_master_key(retired) == old_master
    new_master = read_master_key(key_file)
    assert new_master != old_master and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert not (settings.evidence_dir / "ROTATING").exists()

    # The instance starts with the new key and reads every sealed field and every file.
    fresh = reopen(instance)
    for command in (["evidence", "verify"], ["audit", "verify"]):
        checked = invoke(fresh, command)
        assert checked.exit_code == 0, checked.output
    web = WebSession(fresh.test_client())
    assert web.login(organisation.advocate, Factory.password).status_code == 302
    with fresh.app_context():
        reference = organisation.reference
        assert totp._secret(user_by_username("second-factor")) == secret
        last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).where(
            AuditEvent.action == "keys.rotate"))
        assert last is not None and "Aigerim (ops)" in last.details
        db.session.remove()
    for item_id, content in organisation.files.items():
        download = web.get(f"/cases/{reference_of(fresh, item_id)}/evidence/{item_id}/download")
        assert download.status_code == 200 and download.get_data() == content
    assert PHONE in web.get(f"/cases/{reference}").get_data(as_text=True)

    # Nothing opens with the old key any more: no sealed value, no blob header, no address.
    old_cipher = field_cipher(old_master)
    sealed_after = sealed_values(fresh)
    assert len(sealed_after) == len(sealed_before)
    for name, row_id, value in sealed_after:
        context = next(s for s in keys.SEALED_COLUMNS if f"{s.table}.{s.column}" == name)
        with pytest.raises(SealError):
            unseal_with(old_cipher, value, _context(fresh, context, row_id))
    after = sorted(path.name for path in blobs_root.rglob("*") if path.is_file())
    assert len(after) == 3 and not set(after) & set(before)
    for path in blobs_root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as stream, pytest.raises(BlobError) as caught:
                read_header(stream, old_keys.wrap)
            assert caught.value.kind == "key"
    with pytest.raises(ConfigError, match="does not open the evidence store"):
        reopen(instance, retired)


def _context(app: Flask, sealed: keys.SealedColumn, row_id: int) -> str:
    with app.app_context(), db.engine.connect() as connection:
        columns = "id, reference" if sealed.table == "packets" else "id"
        row = connection.execute(text(f"SELECT {columns} FROM {sealed.table} WHERE id = :id"), {"id": row_id}).first()
    return sealed.context(row)


def test_an_interrupted_rotation_blocks_the_app_and_finishes_when_run_again(instance: Flask, tmp_path: Path) -> None:
    with instance.app_context():
        organisation = populate(instance, Factory(instance))
        db.session.remove()
    settings = instance.config["CASEFILE_SETTINGS"]
    new_key = tmp_path / "elsewhere" / "master.key"
    new_key.parent.mkdir()
    # A sealed value no key opens stops the rotation after the blob step, before the database changes.
    with instance.app_context(), db.engine.begin() as connection:
        good = connection.execute(text("SELECT contact_sealed FROM reporters WHERE id = :id"),
                                  {"id": organisation.reporter_id}).scalar()
        connection.execute(text("UPDATE reporters SET contact_sealed = :bad WHERE id = :id"),
                           {"bad": b"\x01" + secrets.token_bytes(40), "id": organisation.reporter_id})
    stopped = invoke(instance, ["keys", "rotate", "--new-key-file", str(new_key)])
    assert stopped.exit_code == 1 and "opens with neither key" in stopped.output, stopped.output
    assert (settings.evidence_dir / "ROTATING").exists() and new_key.exists()

    with pytest.raises(ConfigError, match="rotation was interrupted"):
        reopen(instance)
    with instance.app_context(), db.engine.begin() as connection:  # the operator mends the value
        connection.execute(text("UPDATE reporters SET contact_sealed = :good WHERE id = :id"),
                           {"good": good, "id": organisation.reporter_id})
    other = invoke(instance, ["keys", "rotate", "--new-key-file", str(tmp_path / "another.key")])
    assert other.exit_code == 1 and "must be finished first" in other.output
    resumed = invoke(instance, ["keys", "rotate"])
    assert resumed.exit_code == 0, resumed.output
    assert "resumed at database" in resumed.stdout and "CASEFILE_MASTER_KEY_FILE" in resumed.stdout

    with pytest.raises(ConfigError):
        reopen(instance)  # the old key file, still configured, no longer opens the store
    fresh = reopen(instance, new_key)
    checked = invoke(fresh, ["evidence", "verify"])
    assert checked.exit_code == 0, checked.output
    web = WebSession(fresh.test_client())
    assert web.login(organisation.advocate, Factory.password).status_code == 302
    assert PHONE in web.get(f"/cases/{organisation.reference}").get_data(as_text=True)


def test_a_header_torn_by_a_crash_is_mended_from_its_side_file(instance: Flask, tmp_path: Path) -> None:
    with instance.app_context():
        organisation = populate(instance, Factory(instance))
        db.session.remove()
    evidence = instance.config["CASEFILE_SETTINGS"].evidence_dir
    with instance.app_context(), db.engine.begin() as connection:  # stop the first run after the blob step
        good = connection.execute(text("SELECT contact_sealed FROM reporters WHERE id = :id"),
                                  {"id": organisation.reporter_id}).scalar()
        connection.execute(text("UPDATE reporters SET contact_sealed = :bad WHERE id = :id"),
                           {"bad": b"\x01" + secrets.token_bytes(40), "id": organisation.reporter_id})
    assert invoke(instance, ["keys", "rotate"]).exit_code == 1
    with instance.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE reporters SET contact_sealed = :good WHERE id = :id"),
                           {"good": good, "id": organisation.reporter_id})
    # As if the power failed while one re-wrapped header was being written over the old one:
    # the side file holds the new header, the file a mix that opens with neither key.
    journal = evidence / "ROTATING"
    journal.write_text(journal.read_text().replace('"phase": "database"', '"phase": "blobs"'))
    with instance.app_context(), db.engine.connect() as connection:  # before the new addresses were linked
        referenced = {row[0] for row in connection.execute(text("SELECT blob_address FROM evidence_items"))}
    for path in list((evidence / "blobs").rglob("*")):
        if path.is_file() and path.name not in referenced:
            path.unlink()
    victim = next(path for path in (evidence / "blobs").rglob("*") if path.is_file())
    raw = bytearray(victim.read_bytes())
    (evidence / "tmp" / f"{victim.name}.rewrap").write_bytes(bytes(raw[:50]))
    raw[30] ^= 0xFF
    victim.write_bytes(bytes(raw))

    resumed = invoke(instance, ["keys", "rotate"])
    assert resumed.exit_code == 0, resumed.output
    assert "1 blob headers re-wrapped" in resumed.stdout
    assert not (evidence / "tmp" / f"{victim.name}.rewrap").exists()
    fresh = reopen(instance)
    checked = invoke(fresh, ["evidence", "verify"])
    assert checked.exit_code == 0, checked.output
