"""The packet PDF: frozen inputs (schema ``casefile.packet/1``) typeset with Typst, as PDF/A-2b.

The inputs are a JSON-able dict built by the packet services from the case snapshot. This module
1. sanitises every string: invisible format and control characters (bidi embeddings, overrides
   and isolates, marks, zero-width characters, BOM, word joiner, C0/C1 controls) are made visible
   as ``[U+XXXX]`` so nobody can reorder or hide part of a line; a ZWNJ or ZWJ between two
   Arabic-script letters is kept, because there it only decides how the letters join;
2. checks that every character has a glyph in the bundled fonts (``check_glyphs``), so a packet
   never goes out with an empty box where a name should be;
3. prepares a *view*: every label in the packet language, every date formatted, every missing
   value spelled "not known", the sections in the order of the chosen form;
4. hands the view to ``typst/packet.typ`` as one JSON string in ``sys.inputs`` (never as source),
   with fonts only from the PyPI font packages, in a private temporary root (mode 0700) that
   holds the template and the thumbnails and is removed afterwards.

Typst runs in short-lived worker processes, never in the calling process: typst-py keeps every
layout result of every compilation in a process-wide cache that it never empties, so a web worker
that rendered packets in-process would only ever grow. A large packet is compiled in parts, two
at a time, and merged with qpdf (pikepdf); see "parts" below.

The same inputs give byte-identical output: the document time is ``packet.built_at``, the fonts are
the bundled ones, part boundaries depend only on the inputs, and the merge writes a deterministic ID.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import typst

from casefile.packets import labels
from casefile.packets.labels import LANGUAGES, format_date, format_period

log = logging.getLogger(__name__)

SCHEMA = "casefile.packet/1"
TEMPLATE = "packet.typ"
PDF_STANDARD = "a-2b"


class RenderError(Exception):
    """A clear one-line message for the coordinator: which character of which case lacks a glyph, or the template error with its line."""


# --- fonts ---------------------------------------------------------------------------------------

def font_files() -> list[Path]:
    """The font files a packet is set in: Noto Sans, Noto Sans Arabic, Noto Sans CJK (a collection)."""
    import fontpkg_noto_sans
    import fontpkg_noto_sans_arabic
    import noto_cjk_sans_otc

    return [
        Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf",
        Path(fontpkg_noto_sans_arabic.ROOT) / "files" / "NotoSansArabic[wdth,wght].ttf",
        Path(str(noto_cjk_sans_otc.FONT_PATH)),
    ]


# The face of the CJK collection the packet uses (Noto Sans CJK SC); all faces map the same characters.
_CJK_SC_INDEX = 2


def font_folders() -> list[str]:
    """The folders Typst is given: the font packages' own (Typst takes folders, not files)."""
    return sorted({str(path.parent) for path in font_files()})


@lru_cache(maxsize=1)
def covered_characters() -> frozenset[int]:
    """Every code point that has a glyph in one of the packet fonts (read once from their cmaps)."""
    from fontTools.ttLib import TTFont

    sans, arabic, cjk = font_files()
    covered: set[int] = set()
    for path, number in ((sans, -1), (arabic, -1), (cjk, _CJK_SC_INDEX)):
        font = TTFont(str(path), fontNumber=number, lazy=True) if number >= 0 else TTFont(str(path), lazy=True)
        try:
            covered.update(font.getBestCmap() or {})
        finally:
            font.close()
    return frozenset(covered)


# --- sanitising ----------------------------------------------------------------------------------

_JOINERS = {"\u200c", "\u200d"}  # ZWNJ, ZWJ


def _is_arabic_letter(char: str) -> bool:
    code = ord(char)
    in_block = (0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF
                or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFC)
    return in_block and unicodedata.category(char)[0] in "LM"


def visible(char: str) -> str:
    """The visible stand-in for an invisible character: ``[U+202E]``."""
    return f"[U+{ord(char):04X}]"


@lru_cache(maxsize=1)
def _needs_care() -> re.Pattern[str]:
    """Every character ``sanitise_text`` changes: Cc and Cf characters but LF, and U+2028/U+2029."""
    # Cc and Cf characters live in planes 0, 1 and 14 only.
    codes = [*range(0xD800), *range(0xE000, 0x20000), *range(0xE0000, 0xE1000)]
    chars = [chr(code) for code in codes if code != 0x0A and unicodedata.category(chr(code)) in ("Cc", "Cf")]
    chars += ["\u2028", "\u2029"]
    return re.compile("[" + "".join(re.escape(char) for char in chars) + "]")


def sanitise_text(text: str) -> str:
    """A string safe to print: invisible format and control characters made visible as ``[U+XXXX]``.

    Line breaks are kept (CR LF and CR become LF; U+2028 and U+2029 too), a tab becomes a space.
    Made visible: every format character (Unicode category Cf: the bidi embeddings, overrides and
    isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C, the
    zero-width characters U+200B–U+200D, U+2060, U+FEFF, soft hyphen, …) and every other control
    character (Cc). Kept: a ZWNJ or ZWJ standing between two Arabic-script letters, where it
    only chooses the joining form of the letters and cannot move anything.
    """
    if text.isascii() and text.isprintable():
        return text
    pattern = _needs_care()
    if pattern.search(text) is None:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char == "\t":
            return " "
        if char == "\n":
            return char
        i = match.start()
        if (char in _JOINERS and 0 < i < len(text) - 1 and _is_arabic_letter(text[i - 1])
                and _is_arabic_letter(text[i + 1])):
            return char
        return visible(char)

    return pattern.sub(replace, text)


def sanitise(value: Any, seen: list[str] | None = None) -> Any:
    """A copy of a JSON-able value with every string passed through ``sanitise_text`` (keys unchanged).

    ``seen``, when given, collects the sanitised strings that are not pure ASCII (for the glyph check).
    """
    if isinstance(value, str):
        if value.isascii() and value.isprintable():
            return value
        clean = sanitise_text(value)
        if seen is not None:
            seen.append(clean)
        return clean
    if isinstance(value, dict):
        return {key: sanitise(item, seen) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitise(item, seen) for item in value]
    return value


# --- glyph check ---------------------------------------------------------------------------------

_NOT_PRINTED = {"\n", "\t", "\r"}


def _strings(value: Any, path: str):
    """(path, string) for every string in a JSON-able value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _first_missing(value: Any, covered: frozenset[int]) -> tuple[str, str] | None:
    """The first (field path, character) without a glyph, or None."""
    for path, text in _strings(value, ""):
        if text.isascii():
            continue  # printable ASCII is in Noto Sans; controls were made visible before
        for char in text:
            if ord(char) not in covered and char not in _NOT_PRINTED:
                return path, char
    return None


def _fast_missing(texts: list[str], covered: frozenset[int]) -> bool:
    """Whether any character of these strings lacks a glyph (one pass over one joined string)."""
    return any(ord(char) not in covered and char not in _NOT_PRINTED for char in set("".join(texts)))


def _glyph_error(where: str, path: str, char: str) -> RenderError:
    name = unicodedata.name(char, "")
    shown = f"'{char}'" if unicodedata.category(char)[0] not in "CZM" else "''"
    return RenderError(f"{where}: the character {shown} (U+{ord(char):04X}{' ' + name if name else ''}) "
                       f"has no glyph in the packet fonts (in {path})")


def _check_clean(clean: dict[str, Any], texts: list[str]) -> None:
    """Raise for the first character without a glyph; ``texts`` are the non-ASCII strings of ``clean``."""
    covered = covered_characters()
    if not _fast_missing(texts, covered):
        return
    for case in clean.get("cases") or []:
        found = _first_missing(case, covered)
        if found:
            reference = case.get("reference") if isinstance(case, dict) else None
            raise _glyph_error(f"Case {reference or '?'}", *found)
    sections = {"packet": "Packet", "organisation": "Organisation", "recipient": "Recipient",
                "letter": "Cover letter", "summary": "Summary", "signatures": "Signature sheet",
                "manifest": "Manifest"}
    for key, value in clean.items():
        if key == "cases":
            continue
        found = _first_missing(value, covered)
        if found:
            packet = clean.get("packet") or {}
            reference = packet.get("reference") if isinstance(packet, dict) else None
            where = sections.get(key, key)
            raise _glyph_error(f"Packet {reference or '?'}, {where}" if reference else where, *found)


def check_glyphs(inputs: dict) -> None:
    """Raise ``RenderError`` naming the first character (U+XXXX and the character) and the case
    reference, or the part of the packet, whose character has no glyph in the packet fonts.

    The strings are checked as they will be printed, that is after sanitising (an invisible
    control made visible as ``[U+202E]`` needs no glyph of its own).
    """
    texts: list[str] = []
    _check_clean(sanitise(inputs, texts), texts)


# --- the view ------------------------------------------------------------------------------------

class _View:
    """Builds the template's view of one packet in one language."""

    def __init__(self, data: dict[str, Any], thumbnail_files: dict[str, str]):
        self.data = data
        packet = data.get("packet") or {}
        self.lang = packet.get("language")
        if self.lang not in LANGUAGES:
            raise RenderError(f"Unknown packet language {self.lang!r}: one of {', '.join(LANGUAGES)}")
        self.form = packet.get("form") or "standard"
        if self.form not in ("standard", "wgeid"):
            raise RenderError(f"Unknown packet form {self.form!r}: standard or wgeid")
        self.thumbnail_files = thumbnail_files
        self.not_known = self.t("text", "not_known")

    # labels
    def t(self, group: str, code: object) -> str:
        return labels.label(self.lang, group, code)

    def f(self, code: str) -> str:
        return self.t("field", code)

    def h(self, code: str) -> str:
        return self.t("heading", code)

    def known(self, value: Any) -> Any:
        """The value, or "not known" for None, an empty string or an empty list."""
        if value is None or value == "" or value == []:
            return self.not_known
        if isinstance(value, str) and not value.strip():
            return self.not_known
        return value

    def date(self, value: str | None) -> str:
        return self.known(format_date(self.lang, value))

    def lines(self, text: str | None) -> Any:
        """Multi-line text as a list of lines (the template joins them with line breaks)."""
        if text is None or not str(text).strip():
            return self.not_known
        return str(text).split("\n")

    def paragraphs(self, text: str | None) -> list[Any]:
        """Text whose paragraphs are separated by blank lines: a list of paragraphs, each a list of lines."""
        if text is None or not str(text).strip():
            return [self.not_known]
        parts = re.split(r"\n[ \t]*\n+", str(text).strip("\n"))
        return [part.split("\n") for part in parts if part.strip()]

    # parts
    def build(self) -> dict[str, Any]:
        """The whole packet as one view (one part)."""
        data = self.data
        packet = data.get("packet") or {}
        cases = data.get("cases") or []
        signatures = data.get("signatures") or []
        return {
            "lang": self.lang,
            "reference": str(packet.get("reference") or ""),
            "title": f"{packet.get('reference') or ''} — {(data.get('letter') or {}).get('subject') or ''}".strip(" —"),
            "author": str((data.get("organisation") or {}).get("name") or ""),
            "footer": True,
            "cover": self.cover(cases, signatures),
            "list": self.case_list(cases),
            "cases_heading": self.h("cases") if cases else None,
            "cases": [self.case(case) for case in cases],
            "signatures": self.signature_sheet(signatures) if signatures else None,
            "manifest": self.manifest(cases),
        }

    def cover(self, cases: list[dict], signatures: list[dict]) -> dict[str, Any]:
        data = self.data
        organisation = data.get("organisation") or {}
        recipient = data.get("recipient") or {}
        letter = data.get("letter") or {}
        summary = data.get("summary") or {}
        recipient_name = recipient.get("name") or self.t("recipient", recipient.get("code"))
        n = len(cases)
        annexes = [self.t("text", "annex_list").format(n=n)]
        if cases:
            annexes.append(self.t("text", "annex_wgeid" if self.form == "wgeid" else "annex_cases").format(n=n))
        if signatures:
            annexes.append(self.t("text", "annex_signatures").format(n=len(signatures)))
        annexes.append(self.t("text", "annex_manifest"))
        separator = "、" if self.lang == "zh" else ", "
        prefectures = [p for p in summary.get("prefectures") or [] if p]
        people = summary.get("people")
        return {
            "heading": self.h("cover_letter"),
            "sender": [str(organisation.get("name") or self.not_known),
                       *str(organisation.get("contact") or "").split("\n")],
            "recipient": [str(recipient_name), *str(recipient.get("address") or "").split("\n")],
            "meta": [
                [self.f("date"), self.date(letter.get("date"))],
                [self.f("outgoing_reference"), self.known(letter.get("outgoing_reference"))],
                [self.f("reference"), str(packet_reference(data))],
            ],
            "subject": f"{self.f('subject')}: {self.known(letter.get('subject'))}",
            "paragraphs": self.paragraphs(letter.get("text")),
            "summary_heading": self.h("summary"),
            "summary": [
                [self.f("people"), str(people if people is not None else n)],
                [self.f("period"), self.known(format_period(self.lang, summary.get("period_from"),
                                                            summary.get("period_to")))],
                [self.f("prefectures"), self.known(separator.join(prefectures))],
            ],
            "requests_heading": self.h("requests"),
            "requests": [self.t("request", code) for code in letter.get("requests") or []],
            "legal_heading": self.h("legal_basis"),
            "legal": [self.t("legal_basis", code) for code in letter.get("legal_basis") or []],
            "annexes_heading": self.h("annexes"),
            "annexes": annexes,
            "signatories_heading": self.h("signatories"),
            "signatories": [{"name": str(s.get("name") or ""), "relationship": self.t("relationship", s.get("relationship"))}
                            for s in letter.get("signatories") or []],
            "signature_label": self.f("signature"),
        }

    def names(self, case: dict) -> Any:
        """Every name on record, as recorded, each with its script and kind."""
        names = [[str(name.get("text") or ""), str(name.get("script") or ""),
                  f"({self.t('script', name.get('script'))} · {self.t('name_kind', name.get('kind'))})"]
                 for name in case.get("names") or []]
        return {"names": names} if names else self.not_known

    def plain_names(self, case: dict) -> Any:
        names = [[str(name.get("text") or ""), str(name.get("script") or ""), None] for name in case.get("names") or []]
        return {"names": names} if names else self.not_known

    def sex(self, case: dict) -> str:
        return self.known(self.t("sex", case.get("sex")) if case.get("sex") else None)

    def case_list(self, cases: list[dict]) -> dict[str, Any]:
        header = [self.f(code) for code in ("number", "names", "sex", "birth_date", "prc_id", "hometown",
                                             "detained_on", "detention_place", "status")]
        rows = [[str(case.get("number") or ""), self.plain_names(case), self.sex(case), self.date(case.get("birth_date")),
                 self.known(case.get("prc_id")), self.lines(case.get("hometown")), self.date(case.get("detained_on")),
                 self.lines(case.get("detention_place")), self.known(self.t("status", case.get("status")))]
                for case in cases]
        return {"heading": self.h("list"), "header": header, "rows": rows}

    def identity_documents(self, case: dict) -> list[str]:
        return [f"{self.f('prc_id')}: {self.known(case.get('prc_id'))}",
                f"{self.f('iin')}: {self.known(case.get('iin'))}",
                f"{self.f('kz_documents')}: {self.known(case.get('kz_documents'))}"]

    def reasons(self, case: dict) -> dict[str, Any]:
        reasons = [self.t("alleged_reason", code) for code in case.get("alleged_reasons") or []]
        other = str(case.get("alleged_reason_other") or "").strip()
        if other:
            reasons.append(f"{self.f('alleged_reason_other')}: {case.get('alleged_reason_other')}")
        return {"heading": self.h("alleged_reasons"), "paragraphs": [reasons or [self.not_known]]}

    def timeline(self, case: dict) -> dict[str, Any]:
        events = case.get("timeline") or []
        section: dict[str, Any] = {"heading": self.h("timeline")}
        if not events:
            section["empty"] = self.not_known
            return section
        section["events"] = [[self.date(e.get("date")), self.t("timeline_kind", e.get("kind")), self.lines(e.get("place")),
                              self.lines(e.get("description"))] for e in events]
        return section

    def evidence(self, case: dict) -> dict[str, Any]:
        items = case.get("evidence") or []
        section: dict[str, Any] = {"heading": self.h("evidence")}
        if not items:
            section["empty"] = self.not_known
            return section
        rows = []
        for item in items:
            sha = str(item.get("sha256") or "")
            rows.append({
                "item": str(item.get("item") if item.get("item") is not None else ""),
                "kind": self.t("evidence_kind", item.get("kind")),
                "date": self.date(item.get("date")),
                "sha256": self.known(sha),
                "type": self.known(item.get("type")),
                "thumbnail": self.thumbnail_files.get(item.get("thumbnail")) if item.get("thumbnail") else None,
            })
        section["evidence"] = {"header": [self.f("item"), self.f("kind"), self.f("date"), self.f("sha256"),
                                          self.f("type"), self.f("preview")], "rows": rows}
        return section

    def sources(self, case: dict) -> list[str]:
        out = []
        for reporter in case.get("reporters") or []:
            name = reporter.get("name") or self.t("text", "identity_withheld")
            consent = self.t("text", "consents" if reporter.get("consents") else "no_consent")
            out.append(f"{self.t('relationship', reporter.get('relationship'))}: {name} — {consent}")
        return out or [self.not_known]

    def case(self, case: dict) -> dict[str, Any]:
        title = self.t("text", "case_of").format(number=case.get("number"), reference=case.get("reference"))
        verification = case.get("verification_level")
        verification_label = self.known(self.t("verification_level", verification) if verification is not None else None)
        status = self.known(self.t("status", case.get("status")) if case.get("status") else None)
        citizenship = self.known(self.t("citizenship", case.get("citizenship")) if case.get("citizenship") else None)
        if self.form == "wgeid":
            first_place = next((e.get("place") for e in case.get("timeline") or []
                                if e.get("kind") == "detention" and str(e.get("place") or "").strip()), None)
            sections = [
                {"heading": self.h("wgeid_identity"), "fields": [
                    [self.f("family_first_name"), self.names(case)],
                    [self.f("sex"), self.sex(case)],
                    [self.f("birth_date"), self.date(case.get("birth_date"))],
                    [self.f("nationality"), citizenship],
                    [self.f("ethnicity"), self.known(case.get("ethnicity"))],
                    [self.f("identity_document"), self.identity_documents(case)],
                    [self.f("occupation"), self.lines(case.get("occupation"))],
                    [self.f("hometown"), self.lines(case.get("hometown"))],
                ]},
                {"heading": self.h("wgeid_arrest"), "fields": [
                    [self.f("date_of_arrest"), self.date(case.get("detained_on"))],
                    [self.f("last_contact_on"), self.date(case.get("last_contact_on"))],
                    [self.f("place_of_arrest"), self.lines(first_place)],
                    [self.f("last_known_place"), self.lines(case.get("detention_place"))],
                    [self.f("status"), status],
                ]},
                {"heading": self.h("wgeid_forces"), "fields": [
                    [self.f("forces_responsible"), self.lines(case.get("responsible_authority"))],
                ]},
                {**self.reasons(case), "heading": self.h("alleged_reasons")},
                {"heading": self.h("wgeid_steps"), "paragraphs": self.paragraphs(case.get("family_steps"))},
                {"heading": self.h("wgeid_source"), "fields": [
                    [self.f("source_relationship"), self.sources(case)],
                ]},
                {"heading": self.h("wgeid_further"), "fields": [
                    [self.f("trial_on"), self.date(case.get("trial_on"))],
                    [self.f("release_on"), self.date(case.get("release_on"))],
                    [self.f("verification_level"), verification_label],
                ]},
                {"heading": self.h("what_happened"), "paragraphs": self.paragraphs(case.get("narrative"))},
                {"heading": self.h("sentence"), "paragraphs": self.paragraphs(case.get("sentence"))},
                self.timeline(case),
                self.evidence(case),
            ]
            urgent = bool(case.get("urgent"))
            return {"title": title, "form_title": self.h("wgeid_form"),
                    "urgent": self.t("text", "urgent") if urgent else None,
                    "urgent_note": self.t("text", "urgent_note") if urgent else None,
                    "sections": sections}
        sections = [
            {"heading": self.h("person"), "fields": [
                [self.f("names"), self.names(case)],
                [self.f("sex"), self.sex(case)],
                [self.f("birth_date"), self.date(case.get("birth_date"))],
                [self.f("citizenship"), citizenship],
                [self.f("ethnicity"), self.known(case.get("ethnicity"))],
                [self.f("prc_id"), self.known(case.get("prc_id"))],
                [self.f("iin"), self.known(case.get("iin"))],
                [self.f("occupation"), self.lines(case.get("occupation"))],
                [self.f("kz_documents"), self.lines(case.get("kz_documents"))],
                [self.f("hometown"), self.lines(case.get("hometown"))],
                [self.f("status"), status],
                [self.f("verification_level"), verification_label],
            ]},
            {"heading": self.h("what_happened"), "fields": [
                [self.f("detained_on"), self.date(case.get("detained_on"))],
                [self.f("last_contact_on"), self.date(case.get("last_contact_on"))],
                [self.f("trial_on"), self.date(case.get("trial_on"))],
                [self.f("release_on"), self.date(case.get("release_on"))],
                [self.f("detention_place"), self.lines(case.get("detention_place"))],
            ], "paragraphs": self.paragraphs(case.get("narrative"))},
            self.timeline(case),
            self.reasons(case),
            {"heading": self.h("sentence"), "paragraphs": self.paragraphs(case.get("sentence"))},
            {"heading": self.h("family_steps"), "paragraphs": self.paragraphs(case.get("family_steps"))},
            {"heading": self.h("responsible_authority"), "paragraphs": self.paragraphs(case.get("responsible_authority"))},
            {"heading": self.h("source"), "fields": [[self.f("source_relationship"), self.sources(case)]]},
            self.evidence(case),
        ]
        return {"title": title, "form_title": None, "urgent": None, "urgent_note": None, "sections": sections}

    def signature_sheet(self, signatures: list[dict]) -> dict[str, Any]:
        data = self.data
        letter = data.get("letter") or {}
        recipient = data.get("recipient") or {}
        recipient_name = recipient.get("name") or self.t("recipient", recipient.get("code"))
        intro = self.t("text", "signature_intro").format(
            ref=letter.get("outgoing_reference") or packet_reference(data),
            date=format_date(self.lang, letter.get("date")) or "", recipient=recipient_name)
        separator = "、" if self.lang == "zh" else ", "
        items = []
        for s in signatures:
            items.append([
                [self.f("full_name"), str(s.get("full_name") or "")],
                [self.f("iin"), str(s.get("iin") or "")],
                [self.f("postal_address"), str(s.get("postal_address") or "").split("\n")],
                [self.f("phone"), str(s.get("phone") or "")],
                [self.f("relationship"), self.t("relationship", s.get("relationship")) if s.get("relationship") else ""],
                [self.f("cases_signed"), ", ".join(str(n) for n in s.get("case_numbers") or [])],
                [self.f("recipients_consented"),
                 separator.join(self.t("recipient", code) for code in s.get("recipients") or [])],
            ])
        return {"heading": self.h("signatures"), "intro": intro, "items": items,
                "date_label": self.f("date"), "signature_label": self.f("signature")}

    def manifest(self, cases: list[dict]) -> dict[str, Any]:
        data = self.data
        packet = data.get("packet") or {}
        recipient = data.get("recipient") or {}
        evidence = (data.get("manifest") or {}).get("evidence") or []
        built_at = str(packet.get("built_at") or "")
        rows = [[str(e.get("case_number") or ""), str(e.get("reference") or ""), str(e.get("item") or ""),
                 str(e.get("sha256") or "")] for e in evidence]
        widths = [max([_width(row[i]) for row in rows] + [_width(label)])
                  for i, label in enumerate((self.f("number"), self.f("case_reference"), self.f("item"), ""))]
        return {
            "heading": self.h("manifest"),
            "fields": [
                [self.f("reference"), self.known(packet.get("reference"))],
                [self.f("built_at"), self.known(built_at.replace("T", " ").replace("Z", " UTC"))],
                [self.f("recipient"), self.known(recipient.get("name") or self.t("recipient", recipient.get("code")))],
                [self.f("language"), self.t("language", self.lang)],
                [self.f("form"), self.t("form", self.form)],
                [self.f("case_count"), str(len(cases))],
                [self.f("evidence_count"), str(len(evidence))],
                [self.f("audit_head"), self.known(packet.get("audit_head")), "mono"],
                [self.f("audit_count"), self.known(str(packet["audit_count"]) if packet.get("audit_count") is not None
                                                   else None)],
            ],
            "evidence_heading": self.h("manifest_evidence"),
            "header": _columns([self.f("number"), self.f("case_reference"), self.f("item"), self.f("sha256")], widths),
            "lines": [_columns(row, widths) for row in rows],
            "empty": self.t("text", "no_evidence"),
            "note": self.t("text", "manifest_note"),
        }


def _width(text: str) -> int:
    """Columns a string takes in the monospaced font: two for wide (CJK) characters."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _columns(cells: list[str], widths: list[int]) -> str:
    """Cells padded to fixed-width columns, two spaces apart."""
    out = [cell + " " * (width - _width(cell)) for cell, width in zip(cells[:-1], widths)]
    return "  ".join(out + [cells[-1]])


def packet_reference(data: dict[str, Any]) -> str:
    return str((data.get("packet") or {}).get("reference") or "")


def build_view(inputs: dict, thumbnail_files: dict[str, str] | None = None) -> dict[str, Any]:
    """The template's view of sanitised inputs (exposed for tests and for a preview)."""
    return _View(inputs, thumbnail_files or {}).build()


# --- parts ---------------------------------------------------------------------------------------
#
# Typst keeps every intermediate layout result of a compilation in a process-wide cache that is
# never emptied (typst-py does not evict it), and a 2,000-case packet laid out in one go needs
# well over a gigabyte. So a packet is compiled in parts, each in a short-lived worker process
# (at most ``WORKERS`` at a time), and the parts are merged with qpdf (pikepdf); the page footers
# ("PK-… · n / N") are compiled last, when N is known, and stamped over the merged pages. A
# packet small enough for one part is compiled in one go, footers included, and not merged.

# The size of a part, in characters of its view (about what it prints): ~120 cases, ~650 rows of
# the list (a table row costs Typst about twice what the same text costs elsewhere: LIST_WEIGHT).
# A worker then peaks at about 200 MB. Changing these changes where parts break, and so the bytes
# of a rebuilt packet (as would another template, Typst or font version).
PART_BUDGET = 360_000
LIST_WEIGHT = 2
WORKERS = max(1, min(2, os.cpu_count() or 1))
WORKER_TIMEOUT = 600
# The interpreter that runs the workers (needs only the typst package): this one, unless the app
# runs embedded (uWSGI, mod_wsgi), where sys.executable is not a Python and this must be set.
PYTHON = sys.executable


MANIFEST_BLOCK = 40  # lines of the manifest per block


def _blocks(lines: list[str]) -> list[list[str]]:
    return [lines[i:i + MANIFEST_BLOCK] for i in range(0, len(lines), MANIFEST_BLOCK)]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Stand-ins for pre-serialised units in a part's JSON: no sanitised string contains U+0000.
_MARK = {section: "\u0000" + section for section in ("cover", "list", "cases", "signatures")}


def split_view(view: dict[str, Any], budget: int = PART_BUDGET) -> list[str]:
    """The view as the JSON of one or more parts of about ``budget`` characters, in reading order.

    Units: the cover letter, each list row, each case, each signature block, each manifest line;
    a part is a run of consecutive units. Headings go with the first unit of their section, the
    manifest's note with its last. One part (with footers) when everything fits.
    """
    manifest = dict(view["manifest"])
    lines = manifest.pop("lines")
    whole = {**view, "manifest": {**manifest, "blocks": _blocks(lines)}}
    encoded = {  # each unit serialised once: its size is its weight, its text goes into a part as is
        "list": [_dumps(row) for row in view["list"]["rows"]],
        "cases": [_dumps(case) for case in view["cases"]],
        "signatures": [_dumps(item) for item in (view["signatures"] or {}).get("items", [])],
    }
    cover = _dumps(view["cover"])
    total = (len(cover) + sum(len(x) for xs in encoded.values() for x in xs) + sum(len(x) + 4 for x in lines)
             + (LIST_WEIGHT - 1) * sum(len(x) for x in encoded["list"]))
    if total <= budget:
        return [_dumps(whole)]

    units: list[tuple[str, int, int]] = [("cover", 0, len(cover))]
    units += [("list", i, LIST_WEIGHT * len(x)) for i, x in enumerate(encoded["list"])] or [("list", -1, 0)]
    units += [("cases", i, len(x)) for i, x in enumerate(encoded["cases"])]
    units += [("signatures", i, len(x)) for i, x in enumerate(encoded["signatures"])]
    units += [("manifest", i, len(x) + 4) for i, x in enumerate(lines)] or [("manifest", -1, 0)]
    groups: list[list[tuple[str, int, int]]] = [[]]
    load = 0
    for unit in units:
        if groups[-1] and load + unit[2] > budget:
            groups.append([])
            load = 0
        groups[-1].append(unit)
        load += unit[2]

    common = {key: view[key] for key in ("lang", "reference", "title", "author")}
    parts = []
    for group in groups:
        part: dict[str, Any] = {**common, "footer": False, "cover": None, "list": None, "cases_heading": None,
                                "cases": None, "signatures": None, "manifest": None}
        taken: dict[str, list[int]] = {"list": [], "cases": [], "signatures": [], "manifest": []}
        for section, index, _ in group:
            if section == "cover":
                part["cover"] = _MARK["cover"]
            else:
                taken[section].append(index)
        if taken["list"]:
            first = taken["list"][0]
            part["list"] = {**view["list"], "rows": _MARK["list"], "heading": view["list"]["heading"] if first <= 0 else None}
        if taken["cases"] and taken["cases"][0] == 0:
            part["cases_heading"] = view["cases_heading"]
        part["cases"] = _MARK["cases"]
        if taken["signatures"]:
            part["signatures"] = {**view["signatures"], "items": _MARK["signatures"],
                                  "heading": view["signatures"]["heading"] if taken["signatures"][0] == 0 else None}
        if taken["manifest"]:
            rows = [i for i in taken["manifest"] if i >= 0]
            part["manifest"] = {**manifest, "blocks": _blocks([lines[i] for i in rows]),
                                "heading": manifest["heading"] if taken["manifest"][0] <= 0 else None,
                                "note": manifest["note"] if taken["manifest"][-1] in (-1, len(lines) - 1) else None}
        text = _dumps(part)
        # Put the pre-serialised units in place of their markers.
        text = text.replace(_dumps(_MARK["cover"]), cover, 1)
        for section in ("list", "cases", "signatures"):
            items = ",".join(encoded[section][i] for i in taken[section] if i >= 0)
            text = text.replace(_dumps(_MARK[section]), f"[{items}]", 1)
        parts.append(text)
    return parts


# --- compiling -----------------------------------------------------------------------------------

def _timestamp(built_at: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(built_at).replace("Z", "+00:00"))
    except ValueError:
        raise RenderError(f"The packet's build time {built_at!r} is not an ISO date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _image_suffix(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    return None


def template_source() -> bytes:
    """The packet template shipped in the package."""
    return resources.files("casefile.packets").joinpath("typst", TEMPLATE).read_bytes()


# The worker: a fresh interpreter that imports nothing but typst (not the application), compiles
# one part and exits, taking Typst's caches with it. Job on stdin (JSON), PDF on stdout; a Typst
# error as JSON on stdout with exit status 3.
_WORKER = r"""
import json, sys
job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
sys.path[:0] = job["path"]
import typst
fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=job["fonts"])
try:
    pdf, warnings = typst.compile_with_warnings(
        job["main"], root=job["root"], font_paths=fonts, ignore_system_fonts=True,
        sys_inputs={"data": job["data"]}, pdf_standards=[job["standard"]], pdf_tags=False,
        timestamp=job["timestamp"])
except typst.TypstError as error:
    sys.stdout.write(json.dumps({"message": error.message, "diagnostic": error.diagnostic,
                                 "hints": list(error.hints or [])}))
    sys.exit(3)
for warning in warnings:
    sys.stderr.write("typst warning: %s\n" % getattr(warning, "message", warning))
sys.stdout.buffer.write(pdf)
"""

_LOCATION = re.compile(r"packet\.typ:(\d+):(\d+)")


def _template_error(message: str, diagnostic: str = "", hints: list[str] | None = None) -> RenderError:
    message = (message or "error").strip().splitlines()[0]
    found = _LOCATION.search(diagnostic or "") or re.search(r"\.typ:(\d+):(\d+)", diagnostic or "")
    where = f" at line {found.group(1)}, column {found.group(2)}" if found else ""
    hint = f" (hint: {hints[0]})" if hints else ""
    return RenderError(f"Packet template error{where}: {message}{hint}")


def _worker_env(single_thread: bool) -> dict[str, str]:
    """The worker's environment: the caller's, with Typst kept to one thread when workers run side by side."""
    env = dict(os.environ)
    if single_thread:
        env["RAYON_NUM_THREADS"] = "1"
    return env


def _compile(root: str, data: str, timestamp: int, single_thread: bool = False) -> bytes:
    """One part (or the footers) compiled in a worker process."""
    job = {
        "path": [str(Path(typst.__file__).resolve().parent.parent)],
        "fonts": font_folders(),
        "main": str(Path(root) / TEMPLATE), "root": root, "data": data,
        "standard": PDF_STANDARD, "timestamp": timestamp,
    }
    try:
        done = subprocess.run([PYTHON, "-I", "-S", "-c", _WORKER], input=json.dumps(job).encode("utf-8"),
                              capture_output=True, timeout=WORKER_TIMEOUT, cwd=root, env=_worker_env(single_thread))
    except subprocess.TimeoutExpired:
        raise RenderError(f"The PDF renderer took longer than {WORKER_TIMEOUT} s and was stopped") from None
    except OSError as error:
        raise RenderError(f"The PDF renderer could not be started ({PYTHON}): {error.strerror or error}") from None
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("typst warning: "):
            log.warning("packet: %s", line)
    if done.returncode == 3:
        try:
            error = json.loads(done.stdout.decode("utf-8"))
        except ValueError:
            error = {"message": done.stdout.decode("utf-8", "replace")}
        raise _template_error(error.get("message", ""), error.get("diagnostic", ""), error.get("hints"))
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise RenderError(f"The PDF renderer failed: {last}")
    return done.stdout


def _page_orientations(pdf: Any) -> list[bool]:
    """For each page, whether it is landscape."""
    out = []
    for page in pdf.pages:
        box = [float(v) for v in page.mediabox]
        out.append(abs(box[2] - box[0]) > abs(box[3] - box[1]))
    return out


def _stamp(merged: Any, footers: bytes) -> None:
    """Draw page i of ``footers`` over page i of ``merged``, as a form XObject named /CfFooter.

    Done by hand rather than with ``Page.add_overlay`` (whose resource names are random): the
    page's own content is wrapped in q/Q, the footer's resources are copied once and shared.
    """
    import pikepdf

    stamps = pikepdf.open(io.BytesIO(footers))
    try:
        if len(stamps.pages) != len(merged.pages):
            raise RenderError("The PDF renderer failed: the footers do not match the pages")
        save = merged.make_stream(b"q\n")
        draw = merged.make_stream(b"\nQ\nq /CfFooter Do Q\n")
        resources: dict[tuple[int, int], Any] = {}
        for page, stamp in zip(merged.pages, stamps.pages):
            source = stamp.obj.Resources
            key = source.objgen if source.is_indirect else (id(source), -1)
            if key not in resources:
                resources[key] = merged.copy_foreign(source if source.is_indirect else merged.make_indirect(source))
            contents = stamp.obj.Contents
            data = (b"\n".join(c.read_bytes() for c in contents) if isinstance(contents, pikepdf.Array)
                    else contents.read_bytes())
            form = merged.make_stream(data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                      BBox=stamp.obj.MediaBox, Resources=resources[key])
            own = pikepdf.Dictionary({k: v for k, v in page.obj.Resources.items()})
            xobjects = pikepdf.Dictionary({k: v for k, v in own.get("/XObject", pikepdf.Dictionary()).items()})
            xobjects["/CfFooter"] = form
            own["/XObject"] = xobjects
            page.obj.Resources = own
            old = page.obj.get("/Contents")
            parts = list(old) if isinstance(old, pikepdf.Array) else ([old] if old is not None else [])
            page.obj.Contents = pikepdf.Array([save, *parts, draw])
    finally:
        stamps.close()


def _outline_items(pdf: Any) -> list[tuple[str, int, Any, Any]]:
    """(title, page index, left, top) of every outline item of a part, in order."""
    import pikepdf

    index_of = {page.objgen: i for i, page in enumerate(pdf.pages)}
    out = []
    outlines = pdf.Root.get("/Outlines")
    stack = [outlines.get("/First")] if outlines is not None and "/First" in outlines else []
    while stack:
        item = stack.pop()
        if item is None:
            continue
        destination = item.get("/Dest")
        if destination is None and "/A" in item:
            destination = item.A.get("/D")
        if isinstance(destination, pikepdf.Array) and len(destination) >= 1:
            page_index = index_of.get(destination[0].objgen)
            if page_index is not None:
                left = destination[2] if len(destination) > 3 else 0
                top = destination[3] if len(destination) > 3 else 0
                out.append((str(item.Title), page_index, left, top))
        if "/Next" in item:
            stack.append(item.Next)
        if "/First" in item:
            stack.append(item.First)
    return out


def _write_outline(pdf: Any, entries: list[tuple[str, int, Any, Any]], case_titles: set[str],
                   cases_heading: str | None) -> None:
    """The document outline: sections at the top, each case under "Individual cases"."""
    import pikepdf

    tree: list[tuple[tuple[str, int, Any, Any], list]] = []
    cases_node: list | None = None
    for entry in entries:
        if entry[0] in case_titles and cases_node is not None:
            cases_node.append((entry, []))
        else:
            children: list = []
            tree.append((entry, children))
            if cases_heading is not None and entry[0] == cases_heading:
                cases_node = children

    def build(nodes: list, parent: Any) -> tuple[Any, Any, int]:
        objects = []
        count = 0
        for (title, page_index, left, top), children in nodes:
            item = pdf.make_indirect(pikepdf.Dictionary(
                Title=pikepdf.String(title), Parent=parent,
                Dest=pikepdf.Array([pdf.pages[page_index].obj, pikepdf.Name.XYZ, left, top, 0])))
            if children:
                first, last, _ = build(children, item)
                item.First, item.Last = first, last
                item.Count = -len(children)  # closed: a 2,000-entry list is opened on demand
            objects.append(item)
            count += 1
        for previous, following in zip(objects, objects[1:]):
            previous.Next, following.Prev = following, previous
        return (objects[0] if objects else None), (objects[-1] if objects else None), count

    root = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    first, last, count = build(tree, root)
    if first is not None:
        root.First, root.Last, root.Count = first, last, count
    pdf.Root.Outlines = root


def _merge(parts: list[Future[bytes]], view: dict[str, Any], root: str, timestamp: int) -> bytes:
    # ``view`` here: lang, reference, title, author, cases_heading and case_titles only.
    """The parts as one PDF/A document: pages in order, footers stamped, one outline, one XMP.

    Parts are gathered as they come out of the workers, while later ones are still compiling; the
    footers are compiled (in a worker) while the outline is written.
    """
    import pikepdf

    sources: list[Any] = []
    try:
        entries: list[tuple[str, int, Any, Any]] = []
        orientations: list[bool] = []
        for number, part in enumerate(parts):
            source = pikepdf.open(io.BytesIO(part.result()))
            sources.append(source)
            entries += [(title, len(orientations) + page, left, top) for title, page, left, top in _outline_items(source)]
            orientations += _page_orientations(source)
            if number:
                sources[0].pages.extend(source.pages)
        merged = sources[0]
        footer_view = {"mode": "footers", "lang": view["lang"], "reference": view["reference"],
                       "title": view["title"], "author": view["author"], "pages": orientations}
        with ThreadPoolExecutor(max_workers=1) as pool:
            footers = pool.submit(_compile, root, _dumps(footer_view), timestamp)
            _write_outline(merged, entries, view["case_titles"], view["cases_heading"])
            # The XMP says how many pages there are: the first part's count is not the document's.
            metadata = merged.Root.Metadata.read_bytes()
            metadata = re.sub(rb"<xmpTPg:NPages>\d+</xmpTPg:NPages>",
                              b"<xmpTPg:NPages>%d</xmpTPg:NPages>" % len(merged.pages), metadata)
            merged.Root.Metadata.write(metadata)
            _stamp(merged, footers.result())

        out = io.BytesIO()
        merged.save(out, deterministic_id=True, preserve_pdfa=True, fix_metadata_version=False,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none, recompress_flate=False,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()
    finally:
        for source in sources:
            source.close()


def render_pdf(inputs: dict, thumbnails: dict[str, bytes] | None = None, *,
               template: bytes | str | None = None, part_budget: int | None = None) -> bytes:
    """The packet PDF (A4, PDF/A-2b) from the frozen inputs.

    Deterministic: the same inputs give byte-identical output (``inputs['packet']['built_at']`` is
    the document time). ``thumbnails`` maps the ``thumbnail`` keys of evidence items to JPEG or PNG
    bytes; an item whose key is not in the mapping is listed without a preview. ``template`` (Typst
    source) replaces the shipped template and ``part_budget`` the size of a part (in characters),
    both for tests.

    Raises ``RenderError`` with a one-line message: a character without a glyph (naming the case),
    a template error (with its line), or inputs that are not a ``casefile.packet/1`` packet.
    """
    if not isinstance(inputs, dict) or inputs.get("schema") != SCHEMA:
        raise RenderError(f"These packet inputs are not of the schema {SCHEMA}")
    texts: list[str] = []
    clean = sanitise(inputs, texts)
    _check_clean(clean, texts)
    del texts
    timestamp = int(_timestamp((clean.get("packet") or {}).get("built_at")).timestamp())
    thumbnails = thumbnails or {}

    # The thumbnail files, named by the order their evidence items appear in the packet.
    files: dict[str, str] = {}
    payload: dict[str, bytes] = {}
    for case in inputs.get("cases") or []:
        for item in case.get("evidence") or []:
            key = item.get("thumbnail")
            if key is None or key in files or key not in thumbnails:
                continue
            data = thumbnails[key]
            suffix = _image_suffix(data)
            if suffix is None:
                raise RenderError(f"Case {sanitise_text(str(case.get('reference')))}: the preview of evidence item "
                                  f"{item.get('item')} is not a JPEG or PNG image")
            name = f"/thumbs/t{len(files) + 1:05d}{suffix}"
            files[key] = name
            payload[name] = data
    # ``clean`` is ``inputs`` with its strings sanitised: point its thumbnails at the files.
    for case_raw, case_clean in zip(inputs.get("cases") or [], clean.get("cases") or []):
        for item_raw, item_clean in zip(case_raw.get("evidence") or [], case_clean.get("evidence") or []):
            item_clean["thumbnail"] = item_raw.get("thumbnail") if item_raw.get("thumbnail") in files else None
    view = build_view(clean, files)
    jobs = split_view(view, part_budget or PART_BUDGET)
    # What the merge needs of the view; the rest (and the sanitised copy) can go.
    summary = {key: view[key] for key in ("lang", "reference", "title", "author", "cases_heading")}
    summary["case_titles"] = {case["title"] for case in view["cases"]}
    del view, clean
    source = template if template is not None else template_source()
    if isinstance(source, str):
        source = source.encode("utf-8")

    root = tempfile.mkdtemp(prefix="casefile-packet-")  # mode 0700, ours alone
    try:
        (Path(root) / TEMPLATE).write_bytes(source)
        if payload:
            (Path(root) / "thumbs").mkdir(mode=0o700)
            for name, data in payload.items():
                (Path(root) / name.lstrip("/")).write_bytes(data)
        if len(jobs) == 1:
            return _compile(root, jobs[0], timestamp)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(_compile, root, job, timestamp, WORKERS > 1) for job in jobs]
            try:
                return _merge(futures, summary, root, timestamp)
            finally:
                for future in futures:  # after a failure, start no more parts
                    future.cancel()
    finally:
        shutil.rmtree(root, ignore_errors=True)
