"""Writing a backup archive and restoring one into an empty instance.

The database goes into the archive as a logical export: every table's rows as JSON lines,
in foreign-key order, read in one snapshot (a read transaction in SQLite's WAL mode, a
REPEATABLE READ read-only transaction on PostgreSQL). A byte copy of a SQLite file (the
online backup API) or a ``pg_dump`` script restores only into its own kind of database; the
export restores into either, so the same archive moves an organisation from SQLite to
PostgreSQL. Blobs are copied as stored, still encrypted under their data keys: restoring
them needs the master key they were written with (the manifest carries a check value of it).

Sessions and background-job records are left out: they are transient, and a restored
session would let an old cookie back in.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import io
import json
import math
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Integer, MetaData, Table, false, func, inspect, select, text

from casefile import audit
from casefile.audit.services import GENESIS_HASH
from casefile.audit.verify import _walk
from casefile.backup.archive import (
    KEY_FROM_FILE,
    KEY_FROM_MASTER,
    ArchiveError,
    HashingReader,
    PlaintextReader,
    key_from_master,
    preamble,
    read_preamble,
)
from casefile.core.crypto import derive_key, read_master_key
from casefile.db import defer_sqlite_write_lock
from casefile.evidence import owners
from casefile.evidence.blobs import BlobError, BlobWriter, decrypt_chunks
from casefile.evidence.storage import FilesystemStore
from casefile.extensions import db

FORMAT = "casefile-backup/1"
EXCLUDED_TABLES = frozenset({"alembic_version", "login_sessions", "jobs"})
# Rows a freshly migrated instance already holds; a restore replaces them.
SEEDED_TABLES = frozenset({"recipients"})
PART_BYTES = 8 * 1024 * 1024  # a table is split into parts of about this size (held in memory once)
INSERT_BATCH = 1_000
COPY_BYTES = 1024 * 1024

Progress = Callable[[int, int], None]


class RestoreRefused(Exception):
    """The archive or the target instance does not allow a restore; nothing was changed."""


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str  # of the archive file, to note beside it
    tables: dict[str, int]
    blobs: int
    blob_bytes: int
    missing_blobs: list[str]
    audit_events: int
    audit_head: str
    schema_revision: str
    seconds: float


@dataclass
class RestoreResult:
    tables: dict[str, int]
    blobs: int
    audit_events: int
    audit_head: str
    schema_revision: str
    created_at: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


def master_key_check(master_key: bytes) -> str:
    """A value that tells whether two instances share a master key, and nothing about the key."""
    return derive_key(master_key, "casefile master key check v1").hex()[:32]


def _master_key() -> bytes:
    return read_master_key(current_app.config["CASEFILE_SETTINGS"].master_key_file)


def _store() -> FilesystemStore:
    from casefile.evidence import services

    return services.store()


# --- values as JSON -----------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    """A column value as JSON: plain values as they are, others as a one-key tagged object."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, (dict, list)):
        return {"j": value}
    raise TypeError(f"a value of type {type(value).__name__} cannot go into a backup")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = value.items()
    if tag == "b":
        return base64.b64decode(inner)
    if tag == "t":
        return datetime.fromisoformat(inner)
    if tag == "d":
        return date.fromisoformat(inner)
    if tag == "n":
        return Decimal(inner)
    if tag == "j":
        return inner
    raise ValueError(f"unknown value tag {tag!r}")


# --- the snapshot -------------------------------------------------------------------------------

def _tables(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name not in EXCLUDED_TABLES]


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _snapshot(connection: Connection) -> Connection:
    if connection.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return connection


def _audit_head(connection: Connection) -> tuple[int, int, str]:
    table = Table("audit_events", MetaData(), autoload_with=connection)
    count = connection.execute(select(func.count()).select_from(table)).scalar() or 0
    head = connection.execute(select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    return (count, head.seq, head.hash) if head else (0, 0, GENESIS_HASH)


# --- writing ------------------------------------------------------------------------------------

class _TarWriter:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.parts: list[dict[str, Any]] = []

    def add_bytes(self, name: str, data: bytes) -> None:
        self._add(name, len(data), io.BytesIO(data))

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            self._add(name, size, stream)

    def _add(self, name: str, size: int, stream: Any) -> None:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = 0
        info.mode = 0o600
        hashing = HashingReader(stream)
        self.tar.addfile(info, hashing)  # type: ignore[arg-type]
        if hashing.size != size:
            raise OSError(f"{name} changed size while it was being backed up")
        self.parts.append({"name": name, "size": size, "sha256": hashing.hash.hexdigest()})


def write_backup(out_path: str | Path, *, key: bytes | None = None, key_source: bytes = KEY_FROM_MASTER,
                 progress: Progress | None = None, actor: Any = None) -> BackupResult:
    """Write one encrypted archive of the database and every stored blob to ``out_path``.

    ``key`` is the archive key (``archive.key_from_file`` with ``key_source=KEY_FROM_FILE``);
    None derives it from the master key. ``progress(done, total)`` is called as work units are done (a
    row, or a MiB of a blob). The archive is written next to ``out_path`` and renamed into
    place when whole. Records ``backup.create`` in the caller's transaction (flushed only).
    """
    started = time.monotonic()
    if key is None:
        key, key_source = key_from_master(_master_key()), KEY_FROM_MASTER
    out_path = Path(out_path)
    temporary = out_path.with_name(out_path.name + ".part")
    try:
        with open(temporary, "xb") as out:
            os.chmod(temporary, 0o600)
            out.write(preamble(key_source))
            writer = BlobWriter(out, key)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                facts = contextvars.copy_context().run(_write_parts, _TarWriter(tar), progress)
            writer.finish()
        os.replace(temporary, out_path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    digest = hashlib.sha256()
    with open(out_path, "rb") as written:
        while block := written.read(COPY_BYTES):
            digest.update(block)
    result = BackupResult(path=out_path, size=out_path.stat().st_size, sha256=digest.hexdigest(),
                          seconds=time.monotonic() - started, **facts)
    audit.record(actor, "backup.create", object_type="backup",
                 details={"sha256": result.sha256, "size": result.size, "blobs": result.blobs,
                          "missing_blobs": len(result.missing_blobs), "audit_events": result.audit_events,
                          "audit_head": result.audit_head, "schema_revision": result.schema_revision})
    db.session.flush()
    return result


def _write_parts(parts: _TarWriter, progress: Progress | None) -> dict[str, Any]:
    defer_sqlite_write_lock()  # a reader: the backup never holds SQLite's write lock
    store = _store()
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with db.engine.connect() as plain:
        connection = _snapshot(plain)
        with connection.begin():
            revision = _revision(connection)
            if revision is None:
                raise RuntimeError("the database has no schema yet: there is nothing to back up")
            tables = _tables(connection)
            counts = {table.name: connection.execute(select(func.count()).select_from(table)).scalar() or 0
                      for table in tables}
            events, head_seq, head_hash = _audit_head(connection)
            addresses = sorted({row[0] for row in connection.execute(owners.all_addresses())})
            sizes: dict[str, int] = {}
            missing: list[str] = []
            for address in addresses:
                path = store.path(address)
                if path.exists():
                    sizes[address] = path.stat().st_size
                else:
                    missing.append(address)
            total = sum(counts.values()) + sum(max(1, math.ceil(size / COPY_BYTES)) for size in sizes.values())
            done = 0

            def advance(units: int) -> None:
                nonlocal done
                done += units
                if progress is not None:
                    progress(done, total)

            advance(0)
            header = {"format": FORMAT, "created_at": created_at, "schema_revision": revision,
                      "source_database": connection.dialect.name, "master_key_check": master_key_check(_master_key()),
                      "tables": [table.name for table in tables]}
            parts.add_bytes("header.json", json.dumps(header, indent=1).encode())
            columns: dict[str, list[str]] = {}
            for table in tables:
                columns[table.name] = [column.name for column in table.columns]
                for number, (chunk, rows) in enumerate(_table_parts(connection, table)):
                    parts.add_bytes(f"db/{table.name}/{number:05d}.jsonl", chunk)
                    advance(rows)
        # The blobs are read after the snapshot: they never change once stored, and one that
        # is gone now was removed (purged or swept) after the snapshot was taken.
        for address in addresses:
            if address not in sizes:
                continue
            try:
                parts.add_file(f"blobs/{address}", store.path(address))
            except FileNotFoundError:
                missing.append(address)
                continue
            advance(max(1, math.ceil(sizes[address] / COPY_BYTES)))
    blob_names = {part["name"] for part in parts.parts if part["name"].startswith("blobs/")}
    manifest = {
        **header,
        "tables": {name: {"columns": columns[name], "rows": counts[name]} for name in columns},
        "audit": {"events": events, "head_seq": head_seq, "head_hash": head_hash},
        "blobs": {"count": len(blob_names), "bytes": sum(p["size"] for p in parts.parts if p["name"] in blob_names),
                  "missing": sorted(missing)},
        "parts": parts.parts,
    }
    parts.add_bytes("manifest.json", json.dumps(manifest, indent=1).encode())
    return {"tables": counts, "blobs": manifest["blobs"]["count"], "blob_bytes": manifest["blobs"]["bytes"],
            "missing_blobs": sorted(missing), "audit_events": events, "audit_head": head_hash,
            "schema_revision": revision}


def _table_parts(connection: Connection, table: Table) -> Iterator[tuple[bytes, int]]:
    """The table's rows as JSON lines, in primary-key order, in pieces of about PART_BYTES."""
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True, yield_per=2_000).execute(
        select(*table.columns).order_by(*order))
    buffer = io.BytesIO()
    rows = 0
    for row in result:
        buffer.write(json.dumps([_encode(value) for value in row], ensure_ascii=False,
                                separators=(",", ":")).encode())
        buffer.write(b"\n")
        rows += 1
        if buffer.tell() >= PART_BYTES:
            yield buffer.getvalue(), rows
            buffer, rows = io.BytesIO(), 0
    if rows or buffer.tell():
        yield buffer.getvalue(), rows


# --- restoring ----------------------------------------------------------------------------------

def archive_key_source(archive_path: str | Path) -> bytes:
    """Which key the archive was written with (``KEY_FROM_MASTER`` or ``KEY_FROM_FILE``)."""
    with open(archive_path, "rb") as stream:
        return read_preamble(stream)


def restore_backup(archive_path: str | Path, *, key: bytes, progress: Progress | None = None,
                   actor: Any = None) -> RestoreResult:
    """Restore an archive into this (empty) instance, or refuse and leave it as it was.

    Every row goes in within one transaction; every blob is written to the store, its bytes
    checked against the manifest and its content decrypted and checked against its address.
    Before the transaction commits, every part's hash, every table's count and the audit
    chain (walked on the restored rows, its head compared with the manifest's) must agree.
    On refusal the transaction is rolled back and the blobs this restore added are removed.
    Records ``backup.restore`` afterwards (flushed; the caller commits).
    """
    started = time.monotonic()
    archive_path = Path(archive_path)
    size = archive_path.stat().st_size
    _refuse_unless_empty()
    store = _store()
    added: list[str] = []
    try:
        outcome = contextvars.copy_context().run(_restore, archive_path, key, size, store, added, progress)
    except BaseException:
        for address in added:
            store.delete(address)
        raise
    outcome.seconds = time.monotonic() - started
    audit.record(actor, "backup.restore", object_type="backup",
                 details={"created_at": outcome.created_at, "schema_revision": outcome.schema_revision,
                          "blobs": outcome.blobs, "audit_events": outcome.audit_events,
                          "audit_head": outcome.audit_head, "warnings": len(outcome.warnings)})
    db.session.flush()
    return outcome


def _refuse_unless_empty() -> None:
    db.session.rollback()
    with db.engine.connect() as connection:
        if _revision(connection) is None:
            others = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
            if others:
                raise RestoreRefused("the database has tables but no schema revision: restore into an empty "
                                     "database")
            return
        filled = []
        for table in _tables(connection):
            if table.name in SEEDED_TABLES:
                continue
            rows = connection.execute(select(func.count()).select_from(table)).scalar() or 0
            if rows:
                filled.append(f"{table.name} ({rows})")
        connection.rollback()
    if filled:
        raise RestoreRefused("this instance is not empty (rows in " + ", ".join(filled[:6])
                             + (", ..." if len(filled) > 6 else "")
                             + "): restore only into a new, empty instance")


class _Reading:
    """The tar being read: the current part's name goes to the decrypting reader for messages."""

    def __init__(self, reader: PlaintextReader) -> None:
        self.reader = reader
        # Closed with the archive file it reads from.
        self.tar = tarfile.open(fileobj=reader, mode="r|")  # type: ignore[call-overload]  # noqa: SIM115
        self.seen: dict[str, tuple[str, int]] = {}

    def members(self) -> Iterator[tuple[tarfile.TarInfo, HashingReader]]:
        while True:
            self.reader.part = "the part after " + (next(reversed(self.seen)) if self.seen else "the header")
            try:
                member = self.tar.next()
            except tarfile.TarError as exc:
                raise ArchiveError(f"damaged archive: the part after {self._last()} cannot be read ({exc})") from exc
            if member is None:
                return
            if not member.isfile() or member.name in self.seen:
                raise ArchiveError(f"damaged archive: unexpected entry {member.name!r}")
            self.reader.part = f"part {member.name}"
            stream = self.tar.extractfile(member)
            assert stream is not None  # a regular file
            hashing = HashingReader(stream)  # type: ignore[arg-type]
            yield member, hashing
            while hashing.read(COPY_BYTES):  # whatever the consumer left unread
                pass
            if hashing.size != member.size:
                raise ArchiveError(f"truncated archive: part {member.name} is shorter than recorded")
            self.seen[member.name] = (hashing.hash.hexdigest(), hashing.size)

    def _last(self) -> str:
        return next(reversed(self.seen)) if self.seen else "the header"


def _restore(archive_path: Path, key: bytes, size: int, store: FilesystemStore, added: list[str],
             progress: Progress | None) -> RestoreResult:
    master = _master_key()
    with open(archive_path, "rb") as stream:
        source = read_preamble(stream)
        try:
            reading = _Reading(PlaintextReader(stream, key))
        except ArchiveError as error:
            if "wrong key" in str(error):
                hint = ("a backup key file (--key-file or CASEFILE_BACKUP_KEY_FILE)" if source == KEY_FROM_FILE
                        else "the master key of the instance that made it")
                raise ArchiveError(f"{error}; this archive was written with {hint}") from error
            raise
        members = reading.members()
        member, part = next(members, (None, None))  # type: ignore[arg-type]
        if member is None or member.name != "header.json":
            raise ArchiveError("damaged archive: it does not start with header.json")
        header = _json_part(part, "header.json", ("format", "created_at", "schema_revision", "master_key_check",
                                                  "tables"))
        if header.get("format") != FORMAT:
            raise ArchiveError(f"archive format {header.get('format')!r} is not {FORMAT}")
        if header["master_key_check"] != master_key_check(master):
            raise RestoreRefused("this instance's master key is not the one the backed-up data was written with: "
                                 "put that master key file in place (CASEFILE_MASTER_KEY_FILE) before restoring")
        _prepare_schema(header["schema_revision"])

        with db.engine.connect() as connection, connection.begin():
            tables = {table.name: table for table in _tables(connection)}
            for name in header["tables"]:
                if name not in tables:
                    raise RestoreRefused(f"table {name} of the archive does not exist in this instance's schema")
            for name in SEEDED_TABLES & set(tables):
                connection.execute(tables[name].delete())
            inserted = dict.fromkeys(header["tables"], 0)
            blobs = 0
            warnings: list[str] = []
            manifest: dict[str, Any] | None = None
            done = 0

            def advance() -> None:
                if progress is not None:
                    progress(min(done, size), size)

            for member, part in members:
                name = member.name
                if name.startswith("db/"):
                    table_name = name.split("/")[1]
                    if table_name not in inserted:
                        raise ArchiveError(f"damaged archive: part {name} names a table the header does not list")
                    inserted[table_name] += _insert_part(connection, tables[table_name], part, name)
                elif name.startswith("blobs/"):
                    problem = _restore_blob(store, name.removeprefix("blobs/"), part, member.size, added)
                    blobs += 1
                    if problem:
                        warnings.append(problem)
                elif name == "manifest.json":
                    manifest = _json_part(part, name, ("parts", "tables", "audit", "blobs"))
                else:
                    raise ArchiveError(f"damaged archive: unexpected part {name}")
                done += member.size
                advance()
            left = reading.reader.drain()
            if manifest is None:
                raise ArchiveError("truncated archive: it ends before its manifest")
            if left > 16 * 1024:  # tar pads to its record size; more than that was never written by us
                raise ArchiveError("damaged archive: data follows the manifest")
            _check_manifest(manifest, reading.seen, inserted, header)
            _reset_sequences(connection, tables.values())
            chain = _walk(connection, 2_000)
            expected = manifest["audit"]
            if not chain.ok:
                raise RestoreRefused(f"the restored audit chain does not verify: {chain.message}")
            if (chain.count, chain.head_hash) != (expected["events"], expected["head_hash"]):
                raise RestoreRefused(f"the restored audit chain ends at event {chain.count} with head "
                                     f"{chain.head_hash}, the manifest says {expected['events']} and "
                                     f"{expected['head_hash']}")
            for missing in manifest["blobs"]["missing"]:
                warnings.append(f"blob {missing} was already missing from the store the backup was made of")
        if progress is not None:
            progress(size, size)
        return RestoreResult(tables=inserted, blobs=blobs, audit_events=chain.count, audit_head=chain.head_hash,
                             schema_revision=header["schema_revision"], created_at=header["created_at"],
                             seconds=0.0, warnings=warnings)


def _prepare_schema(revision: str) -> None:
    """Bring an empty database to the archive's schema revision; refuse another revision."""
    from flask_migrate import upgrade

    with db.engine.connect() as connection:
        current = _revision(connection)
        connection.rollback()
    if current is None:
        try:
            upgrade(revision=revision)
        except Exception as exc:  # alembic names an unknown revision in several ways
            raise RestoreRefused(f"this casefile cannot create schema revision {revision} of the archive "
                                 f"({exc}); restore with the casefile version that wrote it") from exc
    elif current != revision:
        raise RestoreRefused(f"this instance's schema is at revision {current}, the archive's at {revision}: "
                             "restore into a new database (casefile creates the schema the archive needs) "
                             "or with the casefile version that wrote the archive")


def _insert_part(connection: Connection, table: Table, part: HashingReader, name: str) -> int:
    columns = [column.name for column in table.columns]
    count = 0
    batch: list[dict[str, Any]] = []
    for number, line in enumerate(_lines(part), start=1):
        try:
            values = json.loads(line)
            if len(values) != len(columns):
                raise ValueError(f"{len(values)} values for {len(columns)} columns")
            batch.append({column: _decode(value) for column, value in zip(columns, values)})
        except ValueError as exc:
            raise ArchiveError(f"damaged archive: line {number} of part {name} is not a row ({exc})") from exc
        if len(batch) >= INSERT_BATCH:
            connection.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
        count += len(batch)
    return count


def _lines(part: HashingReader) -> Iterator[bytes]:
    pending = b""
    while block := part.read(COPY_BYTES):
        pending += block
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _restore_blob(store: FilesystemStore, address: str, part: HashingReader, size: int,
                  added: list[str]) -> str | None:
    """Write one blob to the store and check its content; a problem of the source comes back."""
    if len(address) != 64 or any(char not in "0123456789abcdef" for char in address):
        raise ArchiveError(f"damaged archive: blob part name {address!r} is not an address")
    temporary = store.temporary(".restore")
    try:
        with open(temporary, "xb") as out:
            while block := part.read(COPY_BYTES):
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        problem = _check_blob_content(store, temporary, address)
        if store.install(temporary, address):
            added.append(address)
    finally:
        temporary.unlink(missing_ok=True)
    return problem


def _check_blob_content(store: FilesystemStore, path: Path, address: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for chunk in decrypt_chunks(stream, store.keys.wrap):
                digest.update(chunk)
    except BlobError as error:
        return f"blob {address} was damaged in the store the backup was made of ({error.kind}: {error})"
    if store.keys.address_of(digest.hexdigest()) != address:
        return f"blob {address} holds content that does not belong at its address"
    return None


def _json_part(part: HashingReader, name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        value = json.loads(part.read())
    except ValueError as exc:
        raise ArchiveError(f"tampered archive: part {name} is not JSON") from exc
    if not isinstance(value, dict) or any(key not in value for key in keys):
        raise ArchiveError(f"tampered archive: part {name} lacks what casefile writes into it")
    return value


def _check_manifest(manifest: dict[str, Any], seen: dict[str, tuple[str, int]], inserted: dict[str, int],
                    header: dict[str, Any]) -> None:
    try:
        listed = {part["name"]: part for part in manifest["parts"]}
        facts = {name: int(table["rows"]) for name, table in manifest["tables"].items()}
        manifest["audit"]["events"], manifest["audit"]["head_hash"], manifest["blobs"]["missing"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArchiveError("tampered archive: the manifest lacks what casefile writes into it") from exc
    for name, (sha256, size) in seen.items():
        if name == "manifest.json":
            continue
        if name not in listed:
            raise ArchiveError(f"tampered archive: part {name} is not in the manifest")
        if listed[name]["sha256"] != sha256 or listed[name]["size"] != size:
            raise ArchiveError(f"tampered archive: part {name} does not match its SHA-256 in the manifest")
    absent = sorted(set(listed) - set(seen))
    if absent:
        raise ArchiveError(f"truncated archive: part {absent[0]} listed in the manifest is missing"
                           + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
    for key in ("format", "created_at", "schema_revision", "master_key_check"):
        if manifest.get(key) != header.get(key):
            raise ArchiveError(f"tampered archive: the manifest's {key} differs from the header's")
    for name, rows in facts.items():
        if inserted.get(name) != rows:
            raise ArchiveError(f"tampered archive: table {name} has {inserted.get(name)} rows, the manifest "
                               f"says {rows}")


def _reset_sequences(connection: Connection, tables: Any) -> None:
    """Let new rows get ids after the restored ones (PostgreSQL; SQLite takes the largest rowid + 1)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        highest = select(func.max(keys[0])).scalar_subquery()
        connection.execute(select(func.setval(func.pg_get_serial_sequence(table.name, keys[0].name),
                                              func.coalesce(highest, 0) + 1, false())))
