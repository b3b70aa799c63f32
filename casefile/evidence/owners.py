"""Which tables hold addresses of blobs in the store, so that no check or clean-up forgets one.

Evidence items own most blobs; packet PDFs and submission receipts live in the same store.
Each owner registers its columns here when its models are imported; sweep, verify, purge and
the rollback clean-up ask every registered owner before they call a blob unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, literal, select

from casefile import access


@dataclass(frozen=True)
class BlobOwner:
    kind: str  # how a problem names the owner: "evidence", "packet", "receipt"
    address: Any
    sha256: Any
    size: Any
    label: Any  # a column that names the row in a report (a reference or an id)


_OWNERS: dict[str, BlobOwner] = {}


def register(owner: BlobOwner) -> None:
    _OWNERS[owner.kind] = owner


def owners() -> list[BlobOwner]:
    return list(_OWNERS.values())


def referencing(address: str) -> Select[Any]:
    """A select that finds a row of any owner referring to ``address`` (one row is enough)."""
    parts = [select(literal(owner.kind)).where(owner.address == address) for owner in owners()]
    statement = parts[0].union_all(*parts[1:]) if len(parts) > 1 else parts[0]
    return select(statement.subquery()).limit(1).execution_options(
        **access.unscoped("blob clean-up: is an address still in use"))


def all_addresses() -> Select[Any]:
    parts = [select(owner.address.label("address")).where(owner.address.is_not(None)) for owner in owners()]
    statement = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return select(statement.subquery()).execution_options(**access.unscoped("evidence sweep: addresses only"))
