"""The evidence log's rules: add, deduplicate, preview, download, correct, remove, purge.

Every function that reads item content or changes anything takes the actor first and
records an audit event and, for an item, a custody event, in the caller's transaction.
Bytes reach the store before the row is flushed; a rollback removes the blobs this
transaction created (see ``_discard_uncommitted``).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from casefile import access, audit
from casefile.auth.models import User
from casefile.cases.models import Case
from casefile.core.crypto import read_master_key, seal, unseal
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.core.partial_dates import PartialDate
from casefile.db import utcnow
from casefile.evidence import owners, sniff, vocab
from casefile.evidence.blobs import BlobError, decrypt_chunks
from casefile.evidence.models import CustodyEvent, EvidenceItem
from casefile.evidence.storage import BlobMissing, EvidenceKeys, FilesystemStore, PendingBlob
from casefile.extensions import db

_EXTENSION = "casefile_evidence_store"
_NEW_BLOBS = "casefile_new_blobs"
PREVIEW_MAX_SOURCE_BYTES = 50 * 1024 * 1024
PREVIEW_BOX = (640, 640)
_PG_BLOB_LOCK_CLASS = 0x45564944  # "EVID": the two-key advisory lock space of blob addresses
_PREVIEWABLE = {"image/jpeg", "image/png", "image/webp", "image/tiff"}


# --- the store -------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Open the store and prove the master key is the one it was written with."""
    from casefile.config import ConfigError

    settings = app.config["CASEFILE_SETTINGS"]
    keys = EvidenceKeys.from_master(read_master_key(settings.master_key_file))
    store = FilesystemStore(settings.evidence_dir, keys)
    try:
        store.check_key()
    except BlobError as error:
        raise ConfigError(f"The master key in {settings.master_key_file} does not open the evidence store "
                          f"{settings.evidence_dir} ({error}). Use the key the store was written with.") from error
    app.extensions[_EXTENSION] = store


def store() -> FilesystemStore:
    return current_app.extensions[_EXTENSION]


def open_sink() -> PendingBlob:
    return store().pending()


def max_upload_bytes() -> int:
    return int(current_app.config["CASEFILE_SETTINGS"].evidence_max_bytes)


def _lock_blob(connection: Any, address: str) -> None:
    # Serialises "is this blob stored / still referenced" decisions per address on PostgreSQL;
    # SQLite has one writer, which serialises them already.
    if connection.dialect.name == "postgresql":
        key = int(address[:8], 16) - 2**31
        connection.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _PG_BLOB_LOCK_CLASS - 2**31, "key": key})


@event.listens_for(Session, "after_commit")
def _forget_new_blobs(session: Session) -> None:
    session.info.pop(_NEW_BLOBS, None)


@event.listens_for(Session, "after_rollback")
def _discard_uncommitted(session: Session) -> None:
    """A transaction that stored blobs did not commit: remove those no committed row uses."""
    addresses = session.info.pop(_NEW_BLOBS, None)
    if addresses and current_app:
        for address in addresses:
            _delete_if_unreferenced(session.get_bind(), address)


def _delete_if_unreferenced(engine: Any, address: str) -> bool:
    """Delete a blob in its own transaction, under its lock, only if no item row refers to it."""
    with engine.connect() as connection, connection.begin():
        _lock_blob(connection, address)
        used = connection.execute(owners.referencing(address)).first()
        return used is None and store().delete(address)


# --- input -----------------------------------------------------------------------------------

@dataclass
class EvidenceInput:
    kind: str
    description: str = ""
    source: str = ""
    document_date: PartialDate | None = None
    original_url: str = ""
    note: str = ""
    corrects_id: int | None = None


@dataclass
class Upload:
    filename: str
    sink: PendingBlob


@dataclass
class AddResult:
    added: list[EvidenceItem] = field(default_factory=list)
    duplicates: list[tuple[str, EvidenceItem]] = field(default_factory=list)


def clean_filename(raw: str | None) -> str:
    """The name as metadata only: no folders, no control or invisible characters, at most 200."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = " ".join(name.split()).lstrip(".").strip()
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        keep = dot + extension if stem and len(extension) <= 10 else ""
        name = name[: 200 - len(keep)].rstrip() + keep
    return name or "file"


# --- reading ---------------------------------------------------------------------------------

def case_log(actor: User, case: Case, include_removed: bool = False) -> list[EvidenceItem]:
    """The case's items, newest first; tombstoned ones only when asked."""
    statement = access.visible_evidence(actor).where(EvidenceItem.case_id == case.id)
    if not include_removed:
        statement = statement.where(EvidenceItem.tombstoned_at.is_(None))
    statement = statement.order_by(EvidenceItem.added_at.desc(), EvidenceItem.id.desc())
    return list(db.session.scalars(statement))


def removed_count(actor: User, case: Case) -> int:
    statement = access.visible_evidence(actor).where(
        EvidenceItem.case_id == case.id, EvidenceItem.tombstoned_at.is_not(None))
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def get_item(actor: User, case: Case, item_id: int) -> EvidenceItem:
    """An item of ``case`` that ``actor`` may see; 404 otherwise."""
    from werkzeug.exceptions import NotFound

    item = db.session.scalar(access.visible_evidence(actor).where(
        EvidenceItem.id == item_id, EvidenceItem.case_id == case.id))
    if item is None:
        raise NotFound()
    return item


def view_item(actor: User, case: Case, item_id: int) -> EvidenceItem:
    item = get_item(actor, case, item_id)
    _audit(actor, "evidence.view", item)
    return item


def _audit(actor: User | None, action: str, item: EvidenceItem, outcome: str = "success",
           actor_username: str | None = None, **details: Any) -> None:
    audit.record(actor, action, object_type="evidence", object_id=item.id, case_ref=item.case.reference,
                 outcome=outcome, details={"evidence_id": item.id, **details}, actor_username=actor_username)


def _custody(item: EvidenceItem, action: str, actor: User | None, reference: str = "", label: str = "") -> None:
    db.session.add(CustodyEvent(item=item, action=action, actor=actor, reference=reference,
                                actor_label=label or getattr(actor, "username", "")))


def record_packet_download(actor: User, item: EvidenceItem, packet_reference: str) -> None:
    """Custody of an item whose packet (PDF or bundle) was downloaded."""
    _custody(item, "downloaded", actor, reference=packet_reference)
    _audit(actor, "evidence.download", item, packet=packet_reference)


def promote_upload(sink: PendingBlob, sha256: str) -> str:
    """Move a finished upload to its address (removed again if the transaction does not commit)."""
    address = store().keys.address_of(sha256)
    _lock_blob(db.session.connection(), address)
    if store().promote(sink, address):
        db.session.info.setdefault(_NEW_BLOBS, []).append(address)
    return address


def store_bytes(data: bytes) -> tuple[str, int, str]:
    """Put bytes the app made (a packet's PDF) into the store: (sha256, size, address)."""
    sink = store().pending()
    try:
        sink.write(data)
        written = sink.finish()
        address = promote_upload(sink, written.sha256)
    finally:
        sink.discard()
    return written.sha256, written.size, address


def stream_bytes(address: str) -> Iterator[bytes]:
    """A stored blob, decrypted chunk by chunk as it is consumed (after the request's context too)."""
    stream = store().open(address)
    wrap_key = store().keys.wrap

    def chunks() -> Iterator[bytes]:
        with stream:
            yield from decrypt_chunks(stream, wrap_key)

    return chunks()


def record_packet_inclusion(actor: User, item: EvidenceItem, packet_reference: str) -> None:
    """Custody of an item that went into a packet (called by the packet builder)."""
    _custody(item, "included_in_packet", actor, reference=packet_reference)
    _audit(actor, "evidence.packet", item, packet=packet_reference)


# --- adding ----------------------------------------------------------------------------------

def _require_team(actor: User, case: Case) -> None:
    if not access.can_edit_case(actor, case):
        raise NotAllowed(str(_l("You may not change this case's evidence.")))


def _check_input(data: EvidenceInput) -> None:
    if data.kind not in vocab.KINDS:
        raise InvalidInput(str(_l("Choose the kind of evidence.")), field="kind")
    url = data.original_url.strip()
    if url and (not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or " " in url):
        raise InvalidInput(str(_l("The original address must be a web address starting with https:// or http://.")),
                           field="original_url")


def add_evidence(actor: User, case: Case, data: EvidenceInput, uploads: list[Upload]) -> AddResult:
    """Add files (each its own item) or a note. A file already in the case is not stored again."""
    _require_team(actor, case)
    _check_input(data)
    corrects = _corrected_item(actor, case, data.corrects_id)
    chosen = [upload for upload in uploads if upload.filename or upload.sink.finish().size]
    if not chosen and not data.note.strip():
        raise InvalidInput(str(_l("Choose at least one file, or write a note.")), field="files")
    if chosen and data.note.strip():
        raise InvalidInput(str(_l("Add files or a note, not both at once.")), field="note")

    typed: list[tuple[Upload, Any, sniff.FileType]] = []
    for upload in chosen:
        written = upload.sink.finish()
        name = clean_filename(upload.filename)
        try:
            file_type = sniff.detect(written.head)
        except sniff.Refused as refusal:
            raise InvalidInput(f"{name}: {refusal}", field="files") from refusal
        typed.append((upload, written, file_type))

    # One writer per case at a time, so two uploads of the same file cannot both be stored.
    access.get_case(actor, case.reference, for_update=True)
    result = AddResult()
    if not chosen:
        note = data.note.strip()
        item = _new_item(actor, case, data, corrects, entry="note", note=note,
                         sha256=hashlib.sha256(note.encode()).hexdigest(), size=len(note.encode()))
        result.added.append(item)
    for upload, written, file_type in typed:
        name = clean_filename(upload.filename)
        existing = _same_file(actor, case, written.sha256)
        if existing is not None:
            upload.sink.discard()
            result.duplicates.append((name, existing))
            _audit(actor, "evidence.duplicate", existing, sha256=written.sha256)
            continue
        address = promote_upload(upload.sink, written.sha256)
        item = _new_item(actor, case, data, corrects, entry="file", filename=name, sha256=written.sha256,
                         size=written.size, content_type=file_type.mime, type_label=file_type.label,
                         blob_address=address)
        if file_type.mime in _PREVIEWABLE and written.size <= PREVIEW_MAX_SOURCE_BYTES:
            _store_preview(item)
        result.added.append(item)
    return result


def _same_file(actor: User, case: Case, sha256: str) -> EvidenceItem | None:
    return db.session.scalar(access.visible_evidence(actor).where(
        EvidenceItem.case_id == case.id, EvidenceItem.sha256 == sha256, EvidenceItem.entry == "file",
        EvidenceItem.tombstoned_at.is_(None)).order_by(EvidenceItem.id).limit(1))


def _corrected_item(actor: User, case: Case, item_id: int | None) -> EvidenceItem | None:
    if item_id is None:
        return None
    item = db.session.scalar(access.visible_evidence(actor).where(
        EvidenceItem.id == item_id, EvidenceItem.case_id == case.id))
    if item is None:
        raise InvalidInput(str(_l("The item to correct is not in this case.")), field="corrects_id")
    if not item.is_live:
        raise InvalidInput(str(_l("A removed item cannot be corrected.")), field="corrects_id")
    return item


def _new_item(actor: User, case: Case, data: EvidenceInput, corrects: EvidenceItem | None, **facts: Any) -> EvidenceItem:
    item = EvidenceItem(
        case=case, kind=data.kind, description=data.description.strip(), source=data.source.strip(),
        document_date=data.document_date, original_url=data.original_url.strip(), corrects=corrects,
        added_by=actor, added_at=utcnow(), **facts,
    )
    db.session.add(item)
    db.session.flush()
    _custody(item, "added", actor)
    _audit(actor, "evidence.add", item, entry=item.entry, kind=item.kind, size=item.size,
           content_type=item.content_type, sha256=item.sha256, corrects=corrects.id if corrects else None)
    if corrects is not None:
        _custody(corrects, "corrected", actor, reference=str(item.id))
        _audit(actor, "evidence.correct", corrects, correction_id=item.id)
    return item


def _store_preview(item: EvidenceItem) -> None:
    """A re-encoded JPEG thumbnail from the pixels alone: no EXIF, GPS, ICC or comments."""
    with store().open(item.blob_address or "") as stream:
        original = b"".join(decrypt_chunks(stream, store().keys.wrap))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(original)) as image:
                image.seek(0)
                upright = ImageOps.exif_transpose(image.convert("RGB"))
                upright.thumbnail(PREVIEW_BOX)
                # A new image from the raw pixels carries nothing of the original's metadata.
                clean = Image.frombytes("RGB", upright.size, upright.tobytes())
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return  # no preview for an image Pillow cannot or should not decode; the file is kept
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=82)
    item.preview = seal(out.getvalue(), f"evidence:{item.id}:preview")
    item.has_preview = True


# --- reading bytes ---------------------------------------------------------------------------

def preview_bytes(actor: User, case: Case, item_id: int) -> bytes:
    item = get_item(actor, case, item_id)
    if not item.has_preview or item.preview is None or item.purged_at is not None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    _custody(item, "previewed", actor)
    _audit(actor, "evidence.preview", item)
    return unseal(item.preview, f"evidence:{item.id}:preview")


@dataclass
class Download:
    filename: str
    content_type: str
    size: int
    chunks: Iterator[bytes]


def download(actor: User, case: Case, item_id: int) -> Download:
    """The original, decrypted chunk by chunk as it is sent; recorded before the first byte."""
    item = get_item(actor, case, item_id)
    if not item.bytes_available:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    try:
        chunks = stream_bytes(item.blob_address or "")
    except BlobMissing:
        _audit(actor, "evidence.download", item, outcome="failure", size=item.size, problem="missing")
        raise
    _custody(item, "downloaded", actor)
    _audit(actor, "evidence.download", item, size=item.size)
    return Download(item.filename, item.content_type or "application/octet-stream", item.size, chunks)


# --- removing --------------------------------------------------------------------------------

def tombstone(actor: User, case: Case, item_id: int, reason: str) -> EvidenceItem:
    """Hide an item from the log and from packets; it stays in the trail and in storage."""
    _require_team(actor, case)
    item = get_item(actor, case, item_id)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(str(_l("Say why the item is removed.")), field="reason")
    if not item.is_live:
        raise InvalidInput(str(_l("This item was already removed.")), field="reason")
    item.tombstoned_at = utcnow()
    item.tombstoned_by = actor
    item.tombstone_reason = reason
    _custody(item, "tombstoned", actor)
    _audit(actor, "evidence.tombstone", item)
    return item


@dataclass(frozen=True)
class PurgeResult:
    item: EvidenceItem
    address: str | None
    shared: int


def purge(item_id: int, reason: str, operator: str) -> PurgeResult:
    """The operator's irreversible step: the item's bytes and preview go; the row and hash stay.

    The caller commits, then calls ``destroy_blob``: a blob is deleted only once the trail
    says so, and only when no other item still holds the same bytes.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("A reason is required.")
    item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.id == item_id)
                             .execution_options(**access.unscoped("operator purge")))
    if item is None:
        raise InvalidInput(f"There is no evidence item {item_id}.")
    if item.purged_at is not None:
        raise InvalidInput(f"Evidence item {item_id} was already purged.")
    address = item.blob_address
    now = utcnow()
    if item.tombstoned_at is None:
        item.tombstoned_at, item.tombstone_reason = now, reason
        _custody(item, "tombstoned", None, label=operator)
    item.purged_at, item.purge_reason = now, reason
    item.blob_address, item.preview, item.has_preview = None, None, False
    shared = 0
    if address is not None:
        _lock_blob(db.session.connection(), address)
        shared = db.session.scalar(select(func.count(EvidenceItem.id)).where(
            EvidenceItem.blob_address == address, EvidenceItem.id != item.id)
            .execution_options(**access.unscoped("operator purge: other holders of the blob"))) or 0
    _custody(item, "purged", None, label=operator)
    _audit(None, "evidence.purge", item, actor_username=operator, sha256=item.sha256,
           bytes_destroyed=address is not None and shared == 0, shared_with=shared)
    return PurgeResult(item, address, shared)


def delete_if_unused(address: str) -> bool:
    """After a commit that let go of a blob (a discarded import): delete it unless a row still uses it."""
    return _delete_if_unreferenced(db.engine, address)


def destroy_blob(result: PurgeResult) -> bool:
    """After the purge committed: delete its blob unless an item (old or just added) holds the same bytes."""
    if result.address is None or result.shared:
        return False
    return _delete_if_unreferenced(db.engine, result.address)
