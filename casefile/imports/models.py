"""Spreadsheet imports: saved column mappings, and each uploaded file from staging to commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.auth.models import Team, User
from casefile.db import utcnow
from casefile.evidence import owners
from casefile.extensions import db


class ImportMapping(db.Model):
    """A saved column mapping: header as written in the file -> canonical column ("" = ignored)."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User] = relationship()


class ImportBatch(db.Model):
    """One uploaded file: staged (sealed in the store) until committed or discarded.

    The file stays in the encrypted store after the commit, as the source the cases came from.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_address: Mapped[str | None] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="staged")  # staged, committed, discarded
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # the mapping used
    decisions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # row -> "new" | "person:ID" | "row:N"
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime)
    report: Mapped[dict] = mapped_column(JSON, default=dict)

    team: Mapped[Team] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def label(self) -> str:
        return f"IM-{self.id}"


owners.register(owners.BlobOwner("import", ImportBatch.file_address, ImportBatch.file_sha256,
                                 ImportBatch.file_size, ImportBatch.id))
