"""Headers for files sent to the browser: always saved, never rendered."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition: attachment`` for any name: an ASCII fallback and the UTF-8 form (RFC 6266)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(char for char in fallback if char.isprintable() and char not in '"\\;').strip()
    if not fallback or fallback.startswith("."):
        fallback = "download" + fallback
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
