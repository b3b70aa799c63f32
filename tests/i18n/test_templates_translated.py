"""Every piece of text a person reads in a template goes through the catalogue.

The template source is read with the Jinja constructs blanked out (``{{ ... }}``, ``{% ... %}``,
``{# ... #}`` and whole ``{% trans %}`` blocks), then parsed as HTML: any text node, or any
user-visible attribute, that still holds a letter was written outside ``_()``/``{% trans %}``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Attributes a person reads (or hears, through a screen reader).
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description", "aria-roledescription"}
# A submit input's value is its caption (a <button>'s value is only sent, its content is shown).
CAPTION_INPUT_TYPES = {"submit", "button", "reset"}

# Text that is the same in every language: the product name, codes and format names.
ALLOWED = {
    "casefile",  # the product name
    "SHA",  # SHA-256
    "UTC",
    "CSV",
    "XLSX",
    "L",  # verification levels are written L1 to L4
    "KZ",  # case references, KZ-2025-00001
}

_TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.DOTALL)
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")


def _blank_jinja(source: str) -> str:
    # A blanked construct leaves a space so that text on either side does not join.
    source = _TRANS_BLOCK.sub(" ", source)
    return _JINJA.sub(" ", source)


def _untranslated(text: str) -> bool:
    words = [word for word in re.split(r"[\s·/|()«»‹›:,.;!?\-–—]+", text) if word]
    return any(_LETTER.search(word) and word not in ALLOWED for word in words)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0  # inside <script> or <style>: not text a person reads

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            if not value:
                continue
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in CAPTION_INPUT_TYPES
            )
            if visible and _untranslated(value):
                self.found.append(f'<{tag} {name}="{value.strip()}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and _untranslated(data):
            self.found.append(" ".join(data.split()))


def untranslated_text(source: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(_blank_jinja(source))
    scanner.close()
    return scanner.found


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_the_scanner_sees_text_outside_the_catalogue() -> None:
    source = """{% extends "base.html" %}{% block content %}
      <h1>{{ _('Cases') }}</h1><p>Plain words</p>
      <input type="submit" value="Save"><button title="Close it" value="close">{{ _('Close') }}</button>
      <img alt="{{ _('Photo') }}"> {% trans n=3 %}{{ n }} files{% endtrans %} casefile · KZ-
      {# a comment #}{{ case.reference }}{% endblock %}"""
    assert untranslated_text(source) == ["Plain words", '<input value="Save">', '<button title="Close it">']


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_template_has_no_untranslated_text(template: Path) -> None:
    found = untranslated_text(template.read_text(encoding="utf-8"))
    assert not found, f"{template.relative_to(TEMPLATES)} shows text outside _(): {found}"
