"""The audit trail: one hash-chained, append-only table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casefile.extensions import db


class AuditEvent(db.Model):
    """Who did what to which object, when, from where, and how it ended.

    ``hash`` is SHA-256 over the canonical serialisation of every other field and
    ``prev_hash``; ``seq`` counts from 1 without gaps, so a removed event shows.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    case_ref: Mapped[str | None] = mapped_column(String(20), index=True)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    # Canonical JSON text, not a JSON column: the hash must see exactly the stored bytes.
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
