"""One corpus of hostile strings, by what each must come to (see ``casefile.core.text``).

``STORED``: must be kept exactly as typed wherever free text is allowed, and shown escaped.
``REFUSED``: must be refused with a message in every field, never stored.
``REFUSED_ON_ONE_LINE``: refused in single-line fields, kept in multi-line ones.
Invalid UTF-8 cannot be a ``str``: ``INVALID_UTF8`` holds raw bytes to put into a request body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    label: str
    text: str


STORED = [
    Hostile("script tag", "<script>alert(1)</script>"),
    Hostile("img onerror", "<img src=x onerror=alert(1)>"),
    Hostile("svg onload", "<svg/onload=alert(document.domain)>"),
    Hostile("closing textarea", "</textarea><script>alert(2)</script>"),
    Hostile("double-quote attribute breaker", '"><b id=x onmouseover="alert(1)">'),
    Hostile("single-quote attribute breaker", "' autofocus onfocus='alert(1)"),
    Hostile("javascript url", "javascript:alert(1)//"),
    Hostile("template syntax", "{{ 7*7 }} {% raw %}${7*7}"),
    Hostile("html entity", "&lt;b&gt; &amp; &#x3C;"),  # must come back escaped once more
    Hostile("sql quote", "'; DROP TABLE cases; --"),
    Hostile("sql tautology", "' OR '1'='1' /*"),
    Hostile("sql like wildcards", "%_\\%' UNION SELECT password_hash FROM users --"),
    Hostile("typst call", '#panic("boom")'),
    Hostile("typst brackets", '] #set page(width: 1cm) [ $x^2$ @ref <label> // c'),
    Hostile("typst raw and emphasis", "`raw` *bold* _em_ = heading \\"),
    Hostile("csv formula cmd", "=cmd|' /C calc'!A0"),
    Hostile("csv formula plus", "+SUM(1,2)"),
    Hostile("csv formula at", "@HYPERLINK(\"http://x.invalid\")"),
    Hostile("csv formula minus", "-2+3"),
    Hostile("digits that are not ASCII", "²٣"),  # str.isdigit() is true, int() fails on the first
    Hostile("path traversal", "../../../../etc/passwd"),
    Hostile("windows path traversal", "..\\..\\windows\\win.ini"),
    Hostile("arabic with zwnj and marks", "نۇرلان\u200cتوقتار \u200fقىزى\u200e \u061c"),
    Hostile("zwj", "a\u200db"),
]

REFUSED = [
    Hostile("right-to-left override U+202E", "invoice\u202efdp.exe"),
    Hostile("left-to-right isolate U+2066", "\u2066Nurlan\u2069 Toktar"),
    Hostile("left-to-right embedding U+202A", "x\u202ay\u202c"),
    Hostile("null byte", "abc\x00def"),
    Hostile("escape sequence", "\x1b[2J\x1b[31mred"),
    Hostile("C1 control", "next\x85line"),
    Hostile("U+FFFD (what invalid UTF-8 becomes)", "caf\ufffd"),
    Hostile("line separator", "one\u2028two"),
]

REFUSED_ON_ONE_LINE = [
    Hostile("zero-width space U+200B", "Nur\u200blan"),
    Hostile("byte-order mark U+FEFF", "\ufeffNurlan"),
    Hostile("word joiner U+2060", "Nur\u2060lan"),
    Hostile("newline", "one\ntwo"),
    Hostile("tab", "one\ttwo"),
]

ONE_MEGABYTE = "A" * 2**20
INVALID_UTF8 = b"caf\xc3(\xff\xfe\xed\xa0\x80"  # a broken sequence, bytes never valid, an encoded surrogate

ALL = [*STORED, *REFUSED, *REFUSED_ON_ONE_LINE]


def pick(*labels: str) -> list[Hostile]:
    """The strings with these labels, in this order."""
    found = {hostile.label: hostile for hostile in ALL}
    return [found[label] for label in labels]


# A sample for the fields that parse what they get (dates, IDs, codes) and for choices and passwords.
SAMPLE = pick("script tag", "double-quote attribute breaker", "single-quote attribute breaker", "sql quote",
              "typst call", "csv formula cmd", "digits that are not ASCII", "path traversal",
              "arabic with zwnj and marks")
CHOICES = pick("script tag", "sql quote", "digits that are not ASCII", "null byte")
