"""The packet's ZIP bundle, streamed: the PDF, manifest.json, list.csv and the evidence files the policy allows.

Nothing is assembled on disk: the archive is written into a small buffer that is handed to
the response as it fills (ZIP data descriptors make that possible without seeking).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from casefile import access
from casefile.auth.models import User
from casefile.core.crypto import unseal
from casefile.core.spreadsheets import csv_line
from casefile.evidence import services as evidence_services
from casefile.evidence.blobs import decrypt_chunks
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from casefile.packets import labels, services
from casefile.packets.models import Packet

LIST_COLUMNS = ("number", "reference", "names", "sex", "birth_date", "prc_id", "hometown", "detained_on",
                "detention_place", "status")
# Most evidence (photos, video, PDF) is compressed already: store it as it is.
_STORED = zipfile.ZIP_STORED


class _Buffer:
    """A write-only file object whose contents the generator takes away piece by piece."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def manifest(packet: Packet, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "packet": packet.reference, "built_at": inputs["packet"]["built_at"], "recipient": packet.recipient.code,
        "language": packet.language, "cases": packet.case_count, "pdf_sha256": packet.pdf_sha256,
        "inputs_sha256": packet.inputs_sha256, "audit_head": packet.audit_head,
        "evidence": inputs["manifest"]["evidence"],
    }


def list_csv(inputs: dict[str, Any]) -> str:
    language = inputs["packet"]["language"]
    lines = ["\ufeff" + csv_line(list(LIST_COLUMNS))]
    for entry in inputs["cases"]:
        names = " / ".join(name["text"] for name in entry["names"])
        lines.append(csv_line([
            entry["number"], entry["reference"], names, entry["sex"] or "", entry["birth_date"] or "",
            entry["prc_id"] or "", entry["hometown"], entry["detained_on"] or "", entry["detention_place"],
            labels.label(language, "status", entry["status"]),
        ]))
    return "".join(lines)


def stream(actor: User, packet: Packet) -> Iterator[bytes]:
    """Record the download (packet and evidence custody), then yield the archive as it is written."""
    inputs = json.loads(unseal(packet.inputs_sealed, f"packet:{packet.reference}:inputs"))
    pdf_chunks = services.open_pdf(actor, packet, what="bundle")
    files = _allowed_files(inputs)
    # The body is written after the request's context (and its database session) is gone.
    store = evidence_services.store()
    manifest_json = json.dumps(manifest(packet, inputs), ensure_ascii=False, indent=2)
    listing = list_csv(inputs)
    pdf_name = f"{packet.reference}.pdf"

    def generate() -> Iterator[bytes]:
        buffer = _Buffer()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open(pdf_name, "w", force_zip64=True) as out:
                for chunk in pdf_chunks:
                    out.write(chunk)
                    yield buffer.take()
            archive.writestr("manifest.json", manifest_json)
            archive.writestr("list.csv", listing)
            yield buffer.take()
            for name, address in files:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = _STORED
                with archive.open(info, "w", force_zip64=True) as out, store.open(address) as blob:
                    for chunk in decrypt_chunks(blob, store.keys.wrap):
                        out.write(chunk)
                        yield buffer.take()
        yield buffer.take()

    return generate()


def _allowed_files(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """The original files (name in the archive, blob address) of the items of cases whose policy allows files."""
    wanted = {item["item"]: entry for entry in inputs["cases"] if entry.get("files_allowed")
              for item in entry["evidence"]}
    if not wanted:
        return []
    items = db.session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(list(wanted)))
                               .order_by(EvidenceItem.id)
                               .execution_options(**access.unscoped("packet bundle: the files it lists")))
    files = []
    for item in items:
        if not item.bytes_available:
            continue
        entry = wanted[item.id]
        name = f"evidence/{entry['number']:04d}-{entry['reference']}/{item.id}-{item.filename}"
        files.append((name, item.blob_address or ""))
    return files
