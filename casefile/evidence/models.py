"""Evidence items and their custody trail. Rows are never deleted: removal is a tombstone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.auth.models import User
from casefile.cases.models import Case
from casefile.core.partial_dates import PartialDate
from casefile.db import PartialDateType, utcnow
from casefile.extensions import db


class EvidenceItem(db.Model):
    """One file or note in a case's evidence log."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        Index("ix_evidence_items_case_sha256", "case_id", "sha256"),
        Index("ix_evidence_items_case_added", "case_id", "added_at", "id"),
        # "Has documents" (dashboard, case list) answered from the index alone (migration 0009).
        Index("ix_evidence_items_documents", "case_id", "entry", "tombstoned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    entry: Mapped[str] = mapped_column(String(10))  # "file" or "note"
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(1000), default="")
    document_date: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    # Where a testimony was published; the archived copy is the stored file.
    original_url: Mapped[str] = mapped_column(String(2000), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # File facts: sanitised name (metadata only), sniffed type, plaintext size and SHA-256.
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    type_label: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_address: Mapped[str | None] = mapped_column(String(64), index=True)
    # A re-encoded thumbnail, sealed like every other secret field.
    preview: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    has_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    tombstoned_at: Mapped[datetime | None] = mapped_column(DateTime)
    tombstoned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tombstone_reason: Mapped[str] = mapped_column(String(1000), default="")
    purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    purge_reason: Mapped[str] = mapped_column(String(1000), default="")

    case: Mapped[Case] = relationship()
    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
    tombstoned_by: Mapped[User | None] = relationship(foreign_keys=[tombstoned_by_id])
    corrects: Mapped[EvidenceItem | None] = relationship(remote_side=[id], back_populates="corrections")
    corrections: Mapped[list[EvidenceItem]] = relationship(back_populates="corrects", order_by="EvidenceItem.id")
    custody: Mapped[list[CustodyEvent]] = relationship(
        back_populates="item", order_by="CustodyEvent.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def is_note(self) -> bool:
        return self.entry == "note"

    @property
    def is_live(self) -> bool:
        return self.tombstoned_at is None

    @property
    def bytes_available(self) -> bool:
        return self.blob_address is not None and self.purged_at is None


def _register_blob_owner() -> None:
    from casefile.evidence import owners

    # Purged items keep their hash but not their address, so only live bytes are counted.
    owners.register(owners.BlobOwner("evidence", EvidenceItem.blob_address, EvidenceItem.sha256,
                                     EvidenceItem.size, EvidenceItem.id))


class CustodyEvent(db.Model):
    """Who did what to one item, when: added, previewed, downloaded, packed, corrected, removed."""

    __tablename__ = "evidence_custody"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Operators act from the command line, without an account.
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A packet reference or the id of a correcting item; never case content.
    reference: Mapped[str] = mapped_column(String(100), default="")

    item: Mapped[EvidenceItem] = relationship(back_populates="custody")
    actor: Mapped[User | None] = relationship()


_register_blob_owner()
