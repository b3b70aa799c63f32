"""Rotating the master key: re-wrap every blob's data key, move blobs to their new addresses,
re-seal every sealed field, in steps that can each be run again.

Three things derive from the master key: the wrap key of the blobs' data keys, the key of
their addresses (an HMAC of the content's SHA-256), and the key of sealed fields. Rotation:

1. ``prepare``  — write the new key file (0600) and the journal ``<evidence>/ROTATING``
   (paths and phase, no secret). While it exists the app refuses to start.
2. ``blobs``    — for every stored file, write the new header (the data key wrapped under the
   new key) to a side file, then over the old header in place (same length), then drop the
   side file. A header that opens with the new key is done already; one that opens with
   neither is a torn write, mended from its side file. Blobs written before format version 2
   are re-encrypted once (to a temporary file, then renamed over). Every referenced blob
   also gets a hard link at its new address.
3. ``database`` — one transaction: the address columns point at the new addresses, every
   sealed value is opened with the old key and sealed with the new one (a value that opens
   only with the new one is done already), and ``keys.rotate`` is audited.
4. ``keycheck`` — the store's key check is rewritten under the new key.
5. ``swap``     — without ``--new-key-file`` the old key file is kept as
   ``<file>.retired-<time>`` (a hard link) and the new one renamed over it.
6. ``cleanup``  — the old addresses' links are removed and the journal with them.

An interruption anywhere leaves the journal: running ``casefile keys rotate`` again resumes
at the recorded phase. Until then neither key alone runs the instance, by design: the app
refuses to start rather than serve half-rotated data.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from flask import current_app
from sqlalchemy import Table, bindparam, inspect, select, update

from casefile import access, audit
from casefile.core.crypto import SealError, field_cipher, read_master_key, seal_with, unseal_with
from casefile.evidence import owners
from casefile.evidence.blobs import VERSION, BlobError, BlobWriter, decrypt_chunks, split_header, unwrap
from casefile.evidence.storage import (
    ROTATION_JOURNAL,
    EvidenceKeys,
    FilesystemStore,
    _fsync_directory,
    rotation_in_progress_allowed,
)
from casefile.extensions import db

PHASES = ("blobs", "database", "keycheck", "swap", "cleanup")
BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    context: Callable[[Any], str]  # the row (id, reference, ...) -> the context it was sealed with


# Every column written with casefile.core.crypto.seal(); tests/core/test_key_rotation.py checks
# that no binary column of the schema is missing here.
SEALED_COLUMNS = (
    SealedColumn("reporters", "contact_sealed", lambda row: f"reporter:{row.id}:contact"),
    SealedColumn("users", "totp_secret_sealed", lambda row: f"user:{row.id}:totp:secret"),
    SealedColumn("users", "totp_pending_sealed", lambda row: f"user:{row.id}:totp:pending"),
    SealedColumn("evidence_items", "preview", lambda row: f"evidence:{row.id}:preview"),
    SealedColumn("packets", "inputs_sealed", lambda row: f"packet:{row.reference}:inputs"),
    SealedColumn("jobs", "params_sealed", lambda row: f"job:{row.id}:params"),
)


class RotationError(Exception):
    """The rotation cannot go on; the message says why and what to do."""


@dataclass
class RotationReport:
    new_key_file: Path
    retired_key_file: Path | None
    rewrapped: int = 0
    reencrypted: int = 0
    moved: int = 0
    sealed: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    resumed_at: str | None = None

    def summary(self) -> str:
        sealed = ", ".join(f"{count} {name}" for name, count in self.sealed.items() if count) or "none"
        lines = [f"Master key rotated{f' (resumed at {self.resumed_at})' if self.resumed_at else ''}: "
                 f"{self.rewrapped} blob headers re-wrapped, {self.reencrypted} older blobs re-encrypted, "
                 f"{self.moved} blobs moved to their new addresses; sealed values re-sealed: {sealed}."]
        if self.missing:
            lines.append(f"{len(self.missing)} referenced blob(s) were missing from the store already.")
        if self.retired_key_file is not None:
            lines.append(f"The new key is in {self.new_key_file}; the old one is kept as {self.retired_key_file}: "
                         "move it off this server, keep it with the backups written before today, then delete it.")
        else:
            lines.append(f"The new key is in {self.new_key_file}: set CASEFILE_MASTER_KEY_FILE to it before you "
                         "start casefile again, and keep the old key with the backups written before today.")
        return "\n".join(lines)


@contextmanager
def rotation_allowed() -> Iterator[None]:
    """Let the app open an instance whose rotation is unfinished (only to finish it)."""
    token = rotation_in_progress_allowed.set(True)
    try:
        yield
    finally:
        rotation_in_progress_allowed.reset(token)


def _store() -> FilesystemStore:
    from casefile.evidence import services

    return services.store()


def _write_key_file(path: Path) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
        out.flush()
        os.fsync(out.fileno())
    _fsync_directory(path.parent)


def _save_journal(path: Path, journal: dict[str, Any]) -> None:
    temporary = path.with_suffix(".part")
    temporary.write_text(json.dumps(journal, indent=1))
    with open(temporary, "rb+") as stream:
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def rotate(new_key_file: Path | None, operator: str, progress: Callable[[str], None] | None = None) -> RotationReport:
    """Rotate to a new master key, or finish a rotation that was interrupted. See the module docstring."""
    say = progress or (lambda _message: None)
    settings = current_app.config["CASEFILE_SETTINGS"]
    current_path: Path = settings.master_key_file
    store = _store()
    journal_path = store.root / ROTATION_JOURNAL
    resumed_at = None
    if journal_path.exists():
        journal = json.loads(journal_path.read_text())
        resumed_at = journal["phase"]
        if new_key_file is not None and Path(journal["new_key_file"]) != new_key_file.resolve():
            raise RotationError(f"an interrupted rotation to {journal['new_key_file']} must be finished first "
                                "(run this command without --new-key-file)")
        say(f"Resuming the interrupted rotation at its {resumed_at} step.")
    else:
        swap = new_key_file is None
        target = (current_path.with_name(current_path.name + ".new") if swap else new_key_file).resolve()
        if target.exists():
            raise RotationError(f"{target} exists already: remove it or name another file with --new-key-file")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        journal = {"phase": PHASES[0], "old_key_file": str(current_path), "new_key_file": str(target),
                   "swap": swap, "retired_key_file": str(current_path) + f".retired-{stamp}" if swap else None,
                   "operator": operator, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        _write_key_file(target)
        _save_journal(journal_path, journal)
    new_path = Path(journal["new_key_file"])
    retired = Path(journal["retired_key_file"]) if journal["retired_key_file"] else None
    # Once the swap has begun the old key lives at the retired path and, after it, the new one
    # at the current path.
    old_path = retired if retired is not None and retired.exists() else Path(journal["old_key_file"])
    new_key_path = new_path if new_path.exists() else current_path
    old_master, new_master = read_master_key(old_path), read_master_key(new_key_path)
    if old_master == new_master:
        raise RotationError("the old and the new key file hold the same key")
    old_keys, new_keys = EvidenceKeys.from_master(old_master), EvidenceKeys.from_master(new_master)
    report = RotationReport(new_key_file=current_path if journal["swap"] else new_path,
                            retired_key_file=retired, resumed_at=resumed_at)

    def advance(phase: str) -> None:
        journal["phase"] = phase
        _save_journal(journal_path, journal)

    phase = journal["phase"]
    if phase == "blobs":
        say("Re-wrapping the data key of every stored file ...")
        _rewrap_blobs(store, old_keys, new_keys, report)
        _link_new_addresses(store, old_keys, new_keys, report)
        advance("database")
        phase = "database"
    if phase == "database":
        say("Re-sealing sealed fields and moving addresses, in one transaction ...")
        _rotate_database(old_master, new_master, old_keys, new_keys, operator, report)
        advance("keycheck")
        phase = "keycheck"
    if phase == "keycheck":
        store.write_key_check(new_keys)
        advance("swap")
        phase = "swap"
    if phase == "swap":
        if journal["swap"] and retired is not None:
            if not retired.exists():
                os.link(current_path, retired)
            if new_path.exists():
                os.replace(new_path, current_path)
            _fsync_directory(current_path.parent)
        advance("cleanup")
        phase = "cleanup"
    if phase == "cleanup":
        _remove_old_links(store)
        journal_path.unlink()
        _fsync_directory(store.root)
    # This process's caches still hold the old key.
    current_app.extensions.pop("casefile_field_cipher", None)
    return report


# --- blobs --------------------------------------------------------------------------------------

def _blob_files(store: FilesystemStore) -> Iterator[Path]:
    for address, _mtime in store.addresses():
        yield store.path(address)


def _rewrap_blobs(store: FilesystemStore, old: EvidenceKeys, new: EvidenceKeys, report: RotationReport) -> None:
    for path in _blob_files(store):
        side = store.root / "tmp" / f"{path.name}.rewrap"
        with open(path, "r+b") as stream:
            version, fixed, wrapped = split_header(stream)
            if _unwraps(new.wrap, wrapped):
                side.unlink(missing_ok=True)
                continue
            if not _unwraps(old.wrap, wrapped):
                if side.exists():  # a header write torn by a crash: the side file holds the new one
                    _write_in_place(stream, side.read_bytes())
                    side.unlink()
                    report.rewrapped += 1
                    continue
                raise RotationError(f"blob {path.name} opens with neither the old nor the new key")
            if version != VERSION:
                stream.close()
                _reencrypt(store, path, old, new)
                report.reencrypted += 1
                continue
            header = fixed + aes_key_wrap(new.wrap, unwrap(old.wrap, wrapped))
            side.write_bytes(header)
            with open(side, "rb+") as written:
                os.fsync(written.fileno())
            _write_in_place(stream, header)
            side.unlink()
            report.rewrapped += 1


def _unwraps(key: bytes, wrapped: bytes) -> bool:
    try:
        unwrap(key, wrapped)
    except BlobError:
        return False
    return True


def _write_in_place(stream: Any, header: bytes) -> None:
    stream.seek(0)
    stream.write(header)
    stream.flush()
    os.fsync(stream.fileno())


def _reencrypt(store: FilesystemStore, path: Path, old: EvidenceKeys, new: EvidenceKeys) -> None:
    """A version 1 blob, whose chunks bind the wrapped key: re-encrypted once, then renamed over."""
    temporary = store.temporary(".reencrypt")
    try:
        with open(path, "rb") as source, open(temporary, "xb") as out:
            writer = BlobWriter(out, new.wrap, store.chunk_size)
            for chunk in decrypt_chunks(source, old.wrap):
                writer.write(chunk)
            writer.finish()
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _referenced(session_or_connection: Any) -> list[tuple[Any, str, str]]:
    """(owner, address, sha256) of every referenced blob."""
    found = []
    for owner in owners.owners():
        rows = session_or_connection.execute(
            select(owner.address, owner.sha256).where(owner.address.is_not(None))
            .execution_options(**access.unscoped("key rotation: blob addresses")))
        found.extend((owner, address, sha256) for address, sha256 in rows)
    return found


def _link_new_addresses(store: FilesystemStore, old: EvidenceKeys, new: EvidenceKeys,
                        report: RotationReport) -> None:
    """A hard link at the new address of every referenced blob: both names stay valid until cleanup."""
    for _owner, address, sha256 in _referenced(db.session):
        if address != old.address_of(sha256):
            continue  # moved already (a resumed rotation)
        source, target = store.path(address), store.path(new.address_of(sha256))
        if target.exists():
            continue
        if not source.exists():
            report.missing.append(address)
            continue
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.link(source, target)
        _fsync_directory(target.parent)
        report.moved += 1
    db.session.rollback()


def _remove_old_links(store: FilesystemStore) -> None:
    """Drop the names no row refers to any more that share their file with another name."""
    referenced = {row[0] for row in db.session.execute(owners.all_addresses())}
    db.session.rollback()
    for address, _mtime in list(store.addresses()):
        path = store.path(address)
        if address not in referenced and path.stat().st_nlink > 1:
            path.unlink()
            _fsync_directory(path.parent)


# --- the database -------------------------------------------------------------------------------

def _rotate_database(old_master: bytes, new_master: bytes, old: EvidenceKeys, new: EvidenceKeys,
                     operator: str, report: RotationReport) -> None:
    session = db.session
    session.rollback()
    for owner, address, sha256 in _referenced(session):
        if address == old.address_of(sha256):
            session.execute(update(owner.address.class_).where(owner.address == address)
                            .values({owner.address.key: new.address_of(sha256)})
                            .execution_options(synchronize_session=False))
    old_cipher, new_cipher = field_cipher(old_master), field_cipher(new_master)
    existing = set(inspect(session.connection()).get_table_names())
    for sealed in SEALED_COLUMNS:
        if sealed.table not in existing or sealed.table not in db.metadata.tables:
            continue
        report.sealed[f"{sealed.table}.{sealed.column}"] = _reseal(session, db.metadata.tables[sealed.table],
                                                                   sealed, old_cipher, new_cipher)
    from casefile.backup.services import master_key_check

    audit.record(None, "keys.rotate", object_type="master_key",
                 details={"operator": operator[:100], "old_key_check": master_key_check(old_master),
                          "new_key_check": master_key_check(new_master), "rewrapped": report.rewrapped,
                          "reencrypted": report.reencrypted, "moved": report.moved, "sealed": report.sealed})
    session.commit()


def _reseal(session: Any, table: Table, sealed: SealedColumn, old: AESGCM, new: AESGCM) -> int:
    column = table.c[sealed.column]
    keys = [table.c.id] + ([table.c.reference] if "reference" in table.c else [])
    unscoped = access.unscoped("key rotation: re-sealing")
    ids = list(session.scalars(select(table.c.id).where(column.is_not(None), column != b"").order_by(table.c.id)
                               .execution_options(**unscoped)))
    count = 0
    for start in range(0, len(ids), BATCH):
        rows = session.execute(select(*keys, column).where(table.c.id.in_(ids[start : start + BATCH]))
                               .execution_options(**unscoped)).all()
        changes = []
        for row in rows:
            context = sealed.context(row)
            value = row[-1]
            try:
                plaintext = unseal_with(old, value, context)
            except SealError:
                try:
                    unseal_with(new, value, context)
                except SealError as exc:
                    raise RotationError(f"{table.name}.{sealed.column} of row {row.id} opens with neither key") from exc
                continue  # re-sealed already
            changes.append({"row_id": row.id, "value": seal_with(new, plaintext, context)})
        if changes:
            session.execute(update(table).where(table.c.id == bindparam("row_id"))
                            .values({sealed.column: bindparam("value")}).execution_options(**unscoped),
                            changes)
            count += len(changes)
    return count
