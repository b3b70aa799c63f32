"""Address parts that cannot name a row are answered 404 before any query sees them.

A null byte in a reference is refused by PostgreSQL, an id beyond 64 bits by both databases'
drivers: either would be a 500. Blueprints install ``refuse_impossible`` as a URL value preprocessor.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.exceptions import NotFound

MAX_ID = 2**63 - 1  # the largest integer either database binds
REFERENCE_PARTS = frozenset({"reference"})  # packet references: ``packets.services.get_packet``
_REFERENCE_SHAPE = re.compile(r"[A-Za-z0-9-]{1,20}")


def reference_shaped(value: str) -> bool:
    """Whether a case or packet reference could name a row: at most 20 ASCII letters, digits, hyphens."""
    return _REFERENCE_SHAPE.fullmatch(value) is not None


def refuse_impossible(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """404 for an address whose reference or id no row can have (a ``url_value_preprocessor``)."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound()
        if name in REFERENCE_PARTS and not reference_shaped(str(value)):
            raise NotFound()
