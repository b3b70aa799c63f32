"""Which characters a typed or imported text may hold: one rule for every form field and import cell.

Refused everywhere: null bytes and other control characters (a multi-line text keeps its tabs
and line breaks), lone surrogates, private-use characters, line and paragraph separators, the
replacement character U+FFFD (what invalid UTF-8 turns into on the way in), and the bidi
embedding, override and isolate controls, which can make a name or a file name display reversed.
Refused on one line only: the invisible zero-width space, word joiner and byte-order mark.
Kept as typed: ZWNJ and ZWJ, and the direction marks LRM, RLM and ALM, which Arabic-script
Uyghur and Kazakh text needs. Everything else (markup, quotes, SQL, formulas) is stored as typed
and escaped wherever it is shown.
"""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

REPLACEMENT = "\ufffd"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
SINGLE_LINE_INVISIBLE = frozenset("\u200b\u2060\ufeff")
KEPT_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c")  # joiners and direction marks
MULTILINE_WHITESPACE = frozenset("\r\n\t")
_REFUSED_CATEGORIES = ("Cc", "Cs", "Co")
_SEPARATORS = frozenset("\u2028\u2029")


def describe(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named so that its invisibility does not hide it."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}"


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored (a translatable message), or None when it can be stored as typed."""
    if value.isascii() and value.isprintable():
        return None  # the common case, without a look at each character
    for ch in value:
        if ch == REPLACEMENT:
            return _l("This text holds bytes that are not valid UTF-8 (they arrive as U+FFFD): "
                      "type or paste it again, or save the file as UTF-8.")
        if ch in BIDI_CONTROLS:
            return _l("Remove the invisible direction control %(char)s: it can make a name or a file name "
                      "display reversed.", char=describe(ch))
        if ch in SINGLE_LINE_INVISIBLE and not multiline:
            return _l("Remove the invisible character %(char)s.", char=describe(ch))
        if multiline and ch in MULTILINE_WHITESPACE:
            continue
        if ch in _SEPARATORS or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return _l("Remove control characters and null bytes. The first one is %(char)s.",
                      char=f"U+{ord(ch):04X}")
    return None

