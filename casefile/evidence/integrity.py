"""Checking the store against the log (``evidence verify``) and clearing orphans (``evidence sweep``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from casefile import access
from casefile.evidence import owners
from casefile.evidence.blobs import BlobError, decrypt_chunks, encrypted_size, read_header
from casefile.evidence.models import EvidenceItem
from casefile.evidence.storage import BlobMissing, FilesystemStore
from casefile.extensions import db
from casefile.packets.render import RENDER_FOLDER_PREFIX


@dataclass(frozen=True)
class Problem:
    item_ids: tuple[int, ...]
    case_refs: tuple[str, ...]
    address: str
    kind: str  # missing, truncated, reordered, altered, key, header, hash, size
    message: str
    owner: str = ""  # for a blob that is not an evidence item's: "packet PK-2026-00001"

    def describe(self) -> str:
        if self.owner:
            return f"{self.owner}: {self.kind}: {self.message}"
        items = ", ".join(f"#{item_id}" for item_id in self.item_ids)
        cases = ", ".join(sorted(set(self.case_refs)))
        return f"evidence {items} ({cases}): {self.kind}: {self.message}"


@dataclass
class VerifyReport:
    blobs: int = 0
    items: int = 0
    others: int = 0  # packet PDFs and receipts
    bytes: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Expected:
    sha256: str
    size: int
    item_ids: tuple[int, ...]
    case_refs: tuple[str, ...]
    owner: str = ""


def stored_blobs() -> dict[str, _Expected]:
    """Every address the log says holds bytes, with what those bytes must hash to."""
    from casefile.cases.models import Case

    rows = db.session.execute(
        select(EvidenceItem.blob_address, EvidenceItem.sha256, EvidenceItem.size, EvidenceItem.id, Case.reference)
        .join(Case, Case.id == EvidenceItem.case_id)
        .where(EvidenceItem.blob_address.is_not(None), EvidenceItem.purged_at.is_(None))
        .order_by(EvidenceItem.blob_address, EvidenceItem.id)
        .execution_options(**access.unscoped("evidence verify: hashes and addresses only"))
    )
    grouped: dict[str, list[tuple[str, int, int, str]]] = defaultdict(list)
    for address, sha256, size, item_id, reference in rows:
        grouped[address].append((sha256, size, item_id, reference))
    expected = {
        address: _Expected(entries[0][0], entries[0][1], tuple(e[2] for e in entries), tuple(e[3] for e in entries))
        for address, entries in grouped.items()
    }
    # Packets' PDFs and other blobs the app made: named by their owner instead of an item.
    for owner in owners.owners():
        if owner.kind == "evidence":
            continue
        rows = db.session.execute(select(owner.address, owner.sha256, owner.size, owner.label)
                                  .where(owner.address.is_not(None)).order_by(owner.label)
                                  .execution_options(**access.unscoped("evidence verify: hashes only")))
        for address, sha256, size, label in rows:
            expected.setdefault(address, _Expected(sha256, size, (), (), f"{owner.kind} {label}"))
    return expected


def verify_store(store: FilesystemStore, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Decrypt and re-hash every blob the log refers to; collect every problem, stop at none."""
    expected = stored_blobs()
    report = VerifyReport(blobs=len(expected), items=sum(len(e.item_ids) for e in expected.values()),
                          others=sum(1 for e in expected.values() if e.owner))
    started = time.perf_counter()
    for address, facts in expected.items():
        problem = _check_blob(store, address, facts)
        if problem is not None:
            report.problems.append(problem)
        else:
            report.bytes += facts.size
        if progress is not None:
            progress(1)
    report.seconds = time.perf_counter() - started
    return report


def _check_blob(store: FilesystemStore, address: str, facts: _Expected) -> Problem | None:
    def problem(kind: str, message: str) -> Problem:
        return Problem(facts.item_ids, facts.case_refs, address, kind, message, facts.owner)

    try:
        stream = store.open(address)
    except BlobMissing:
        return problem("missing", "no blob is stored at its address")
    digest = hashlib.sha256()
    size = 0
    try:
        with stream:
            for chunk in decrypt_chunks(stream, store.keys.wrap):
                digest.update(chunk)
                size += len(chunk)
    except BlobError as error:
        expected_size = _expected_blob_size(store, address, facts.size)
        actual_size = store.size(address)
        if error.kind == "altered" and expected_size is not None and actual_size < expected_size:
            # A chunk cut short looks altered to GCM; the log's size tells the two apart.
            return problem("truncated", f"the blob holds {actual_size} of its {expected_size} bytes")
        return problem(error.kind, str(error))
    if digest.hexdigest() != facts.sha256:
        return problem("hash", f"SHA-256 is {digest.hexdigest()}, the log says {facts.sha256}")
    if size != facts.size:
        return problem("size", f"{size} bytes, the log says {facts.size}")
    return None


def _expected_blob_size(store: FilesystemStore, address: str, plain_size: int) -> int | None:
    with store.open(address) as stream:
        try:
            header, _cipher, chunk_size = read_header(stream, store.keys.wrap)
        except BlobError:
            return None
    return encrypted_size(plain_size, chunk_size, len(header))


@dataclass
class SweepReport:
    orphans: list[str] = field(default_factory=list)
    stale_uploads: int = 0
    render_folders: int = 0


def sweep(store: FilesystemStore, grace_seconds: float, dry_run: bool = False) -> SweepReport:
    """Remove blobs no item refers to, and uploads a crash left behind, older than the grace period.

    The grace period spares an upload whose row is about to be committed.
    """
    referenced = set(db.session.scalars(owners.all_addresses()))
    report = SweepReport()
    limit = time.time() - grace_seconds
    for address, modified in store.addresses():
        if address not in referenced and modified < limit:
            report.orphans.append(address)
            if not dry_run:
                store.delete(address)
    for path in store.stale_pending(grace_seconds):
        report.stale_uploads += 1
        if not dry_run:
            path.unlink(missing_ok=True)
    for folder in _stale_render_folders(limit):
        report.render_folders += 1
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    return report


def _stale_render_folders(limit: float) -> list[Path]:
    """Render folders of this user in the temporary folder, untouched since ``limit``."""
    found = []
    for folder in Path(tempfile.gettempdir()).glob(f"{RENDER_FOLDER_PREFIX}*"):
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if folder.is_dir() and not folder.is_symlink() and info.st_uid == os.getuid() and info.st_mtime < limit:
            found.append(folder)
    return found

