"""Recording audit events inside the caller's transaction, one chain, never forked."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from casefile.audit.models import AuditEvent
from casefile.db import utcnow
from casefile.extensions import db

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every writer of the chain.
_PG_CHAIN_LOCK = 0x43415345

_client_addr: ContextVar[str] = ContextVar("casefile_client_addr", default="")


def set_client(address: str) -> None:
    """Remember where the current request or command comes from (set by the web layer or CLI)."""
    _client_addr.set(address[:64])


def canonical_event(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_username: str,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    case_ref: str | None,
    client_addr: str,
    outcome: str,
    details: str,
    prev_hash: str,
) -> bytes:
    """The exact bytes an event's hash covers: sorted-key JSON of every field."""
    payload = {
        "seq": seq,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "actor_role": actor_role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "case_ref": case_ref,
        "client_addr": client_addr,
        "outcome": outcome,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: AuditEvent) -> str:
    """Recompute the hash of a stored event from its fields."""
    return hashlib.sha256(
        canonical_event(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_username=event.actor_username,
            actor_role=event.actor_role,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            case_ref=event.case_ref,
            client_addr=event.client_addr,
            outcome=event.outcome,
            details=event.details,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


def _lock_chain() -> None:
    # SQLite already holds its write lock (BEGIN IMMEDIATE); PostgreSQL needs one taken here.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})


def record(
    actor: Any,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    case_ref: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    actor_username: str | None = None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction and return it.

    The event lands if and only if the caller's transaction commits. ``actor`` is a User
    or None (an anonymous attempt, a system command); ``details`` must never hold the
    values of secret fields.
    """
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_username=actor_username if actor_username is not None else getattr(actor, "username", ""),
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        case_ref=case_ref,
        client_addr=_client_addr.get(),
        outcome=outcome,
        details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event
