"""Recording audit events inside the caller's transaction, one chain, never forked."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from datetime import datetime
from json.encoder import encode_basestring  # the C escaper json.dumps uses
from typing import Any

from sqlalchemy import insert, select, text

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


# The hashed fields, in the order of the canonical serialisation (and of ``canonical_event``'s
# parameters, so a selected row can be passed as it comes).
CANONICAL_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_username", "actor_role", "action", "object_type",
    "object_id", "case_ref", "client_addr", "outcome", "details", "prev_hash",
)
CANONICAL_VERSION = "casefile.audit/1"
_VERSION_PREFIX = f"[{encode_basestring(CANONICAL_VERSION)},"


def canonical_time(moment: datetime) -> str:
    """A timestamp as the chain hashes it: ``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC.

    Always six fraction digits. It is also the text SQLAlchemy stores on SQLite, and what
    ``to_char(occurred_at, 'YYYY-MM-DD HH24:MI:SS.US')`` gives on PostgreSQL, so the verifier
    can read it from the database as it is.
    """
    return moment.isoformat(sep=" ", timespec="microseconds")


def canonical_event(
    seq: int,
    occurred_at: str,
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
    """The exact bytes an event's hash covers (format ``casefile.audit/1``).

    A JSON array (RFC 8259) of a version tag and every field in ``CANONICAL_FIELDS`` order,
    without whitespace, encoded as UTF-8::

        ["casefile.audit/1",seq,"occurred_at",actor_id,"actor_username","actor_role",
         "action","object_type","object_id","case_ref","client_addr","outcome","details",
         "prev_hash"]

    Integers are decimal; an absent ``actor_id`` or ``case_ref`` is ``null`` (so it differs
    from ""); ``occurred_at`` is ``canonical_time``'s text; ``details`` is the stored JSON
    text, hashed as one string and never re-parsed. Strings are escaped exactly as Python's
    ``json.dumps(..., ensure_ascii=False)`` does: ``\\"`` and ``\\\\``, ``\\b \\f \\n \\r \\t``,
    any other character below U+0020 as ``\\u00xx`` (lower-case hex), every other character
    as itself. The result equals ``json.dumps([CANONICAL_VERSION, *fields],
    ensure_ascii=False, separators=(",", ":")).encode()``; it is built field by field only
    because the verifier hashes a million of these in seconds.
    """
    return (
        f"{_VERSION_PREFIX}{seq:d},{encode_basestring(occurred_at)},"
        f"{'null' if actor_id is None else format(actor_id, 'd')},{encode_basestring(actor_username)},"
        f"{encode_basestring(actor_role)},{encode_basestring(action)},{encode_basestring(object_type)},"
        f"{encode_basestring(object_id)},{'null' if case_ref is None else encode_basestring(case_ref)},"
        f"{encode_basestring(client_addr)},{encode_basestring(outcome)},{encode_basestring(details)},"
        f"{encode_basestring(prev_hash)}]"
    ).encode()


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of an event's canonical serialisation: what ``hash`` must hold."""
    fields = [getattr(event, name) for name in CANONICAL_FIELDS]
    fields[1] = canonical_time(event.occurred_at)
    return hashlib.sha256(canonical_event(*fields)).hexdigest()


def _lock_chain() -> None:
    # SQLite already holds its write lock (BEGIN IMMEDIATE); PostgreSQL needs one taken here.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})


def _details_text(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
        details=_details_text(details),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


def record_many(actor: Any, action: str, events: list[dict[str, Any]], *, object_type: str = "") -> int:
    """Append one event per item of ``events`` (keys ``object_id``, ``case_ref``, ``details``) in
    one statement: what ``record`` does for each, chained in order, for bulk work such as an
    import of thousands of cases. Returns how many were written."""
    if not events:
        return 0
    db.session.flush()  # events recorded one by one earlier in this transaction come first
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    moment = utcnow()
    when = canonical_time(moment)
    actor_id = getattr(actor, "id", None)
    username = getattr(actor, "username", "")
    role = getattr(actor, "role", "") or ""
    client = _client_addr.get()
    rows = []
    for item in events:
        object_id = str(item.get("object_id", ""))
        case_ref = item.get("case_ref")
        details = _details_text(item.get("details"))
        digest = hashlib.sha256(canonical_event(seq, when, actor_id, username, role, action, object_type, object_id,
                                                case_ref, client, "success", details, prev_hash)).hexdigest()
        rows.append({"seq": seq, "occurred_at": moment, "actor_id": actor_id, "actor_username": username,
                     "actor_role": role, "action": action, "object_type": object_type, "object_id": object_id,
                     "case_ref": case_ref, "client_addr": client, "outcome": "success", "details": details,
                     "prev_hash": prev_hash, "hash": digest})
        seq, prev_hash = seq + 1, digest
    db.session.execute(insert(AuditEvent), rows)
    return len(rows)
