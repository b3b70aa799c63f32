"""CSV that a spreadsheet opens as text, never as formulas (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """A cell a spreadsheet shows as text: one starting with a formula trigger gets a ``'``."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_line(values: tuple[object, ...] | list[object]) -> str:
    """One CSV record, every cell quoted and neutralised, ending in CRLF."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow([neutralise(v) for v in values])
    return buffer.getvalue()
