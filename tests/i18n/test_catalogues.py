"""The interface catalogues: complete, current, and compiled.

- messages.pot holds every string the code and templates mark (``make translations`` refreshes it);
- Russian and Kazakh translate every message of it, none fuzzy, with the same placeholders and as
  many plural forms as the language has;
- English is the source language: its catalogue lists every message with an empty msgstr, so the
  text in the code is what is shown;
- each committed .mo holds exactly what its .po says (``make run`` uses the .mo files as they are).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "casefile" / "translations"
TRANSLATED = ("ru", "kk")
LOCALES = ("en", *TRANSLATED)
# The same keywords as BABEL_KEYWORDS in the Makefile, on top of Babel's defaults (_, gettext, ngettext).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "_nl": (1, 2), "lazy_ngettext": (1, 2)}

_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
_BRACES = re.compile(r"{(\w*)(?:[!:][^}]*)?}")


def placeholders(text: str) -> set[str]:
    """``%(name)s``/``%s`` and ``{name}`` placeholders, with their conversion (a %(n)d stays a %(n)d)."""
    found = {match.group(0) for match in _PERCENT.finditer(text) if match.group(0) != "%%"}
    found |= {f"{{{match.group(1)}}}" for match in _BRACES.finditer(text)}
    return found


def _catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _template() -> Catalog:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        return read_po(handle)


def _hashable(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def _ids(catalogue: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalogue if message.id}


def translation_problems(message: Message, plural_forms: int) -> list[str]:
    """What is wrong with one translated message: missing, fuzzy, wrong plural count, placeholders."""
    if message.fuzzy:
        return ["fuzzy"]
    sources = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if isinstance(message.id, tuple) and len(strings) != plural_forms:
        return [f"{len(strings)} plural forms, the language has {plural_forms}"]
    if not all(strings):
        return ["not translated"]
    expected = set().union(*(placeholders(source) for source in sources))
    problems = []
    for string in strings:
        # A singular may leave out the number ("one case"), never add or misname a placeholder.
        if placeholders(string) - expected:
            problems.append(f"unknown placeholders {sorted(placeholders(string) - expected)}")
        elif not isinstance(message.id, tuple) and placeholders(string) != expected:
            problems.append(f"placeholders {sorted(placeholders(string))}, expected {sorted(expected)}")
    return problems


def test_the_template_holds_every_marked_string() -> None:
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open(encoding="utf-8"))
    marked = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        marked.add(message if isinstance(message, str) else tuple(message))
    template = _ids(_template())
    assert not marked - template, f"run `make translations`: new strings {sorted(map(str, marked - template))[:20]}"
    assert not template - marked, f"run `make translations`: gone strings {sorted(map(str, template - marked))[:20]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_each_catalogue_follows_the_template(locale: str) -> None:
    ids, template = _ids(_catalogue(locale)), _ids(_template())
    assert not template - ids, f"{locale}: missing {sorted(map(str, template - ids))[:20]}"
    assert not ids - template, f"{locale}: not in the template {sorted(map(str, ids - template))[:20]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated(locale: str) -> None:
    catalogue = _catalogue(locale)
    problems = {str(message.id): found for message in catalogue if message.id
                for found in [translation_problems(message, catalogue.num_plurals)] if found}
    assert not problems, f"{locale}: {len(problems)} messages: {dict(list(problems.items())[:15])}"


def test_english_is_the_source_text() -> None:
    strings = [message for message in _catalogue("en") if message.id and any(
        message.string if isinstance(message.string, tuple) else (message.string,))]
    assert strings == [], "the English catalogue leaves msgstr empty: edit the English text in the code"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_its_source(locale: str) -> None:
    mo_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run `make translations`"
    with mo_path.open("rb") as handle:
        compiled = {_hashable(message.id): _hashable(message.string) for message in read_mo(handle) if message.id}
    expected = {_hashable(message.id): _hashable(message.string) for message in _catalogue(locale)
                if message.id and not message.fuzzy and all(
                    message.string if isinstance(message.string, tuple) else (message.string,))}
    # An untranslated plural is compiled as the English text itself: the same as not translated.
    def shown(pairs: dict) -> dict:  # type: ignore[type-arg]
        return {key: value for key, value in pairs.items() if value != key}
    assert shown(compiled) == shown(expected), f"{mo_path} differs from its .po: run `make translations`"


def test_the_checks_catch_broken_translations() -> None:
    assert placeholders("%(num)s cases of %(n)d, {count} and %s; 100%%") == {"%(num)s", "%(n)d", "{count}", "%s"}
    good = Message("%(n)s of %(total)s", "%(n)s из %(total)s")
    assert translation_problems(good, 3) == []
    assert translation_problems(Message("%(n)s of %(total)s", "%(n)s из %(всего)s"), 3)
    assert translation_problems(Message("%(n)s of %(total)s", "%(n)s из"), 3)
    assert translation_problems(Message("Save", ""), 3) == ["not translated"]
    assert translation_problems(Message("Save", "Сохранить", flags=["fuzzy"]), 3) == ["fuzzy"]
    plural = ("%(num)s case", "%(num)s cases")
    assert translation_problems(Message(plural, ("%(num)s дело", "%(num)s дела", "%(num)s дел")), 3) == []
    assert translation_problems(Message(plural, ("%(num)s дело", "%(num)s дела")), 3)
    assert translation_problems(Message(plural, ("%(num)s дело", "%(num)s дела", "")), 3)
