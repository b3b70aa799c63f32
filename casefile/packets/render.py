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
   with fonts only from the PyPI font packages, in a private temporary root that holds the
   thumbnails and is removed afterwards.

The same inputs give byte-identical output: the document time is ``packet.built_at``, the fonts are
the bundled ones, and nothing else varies.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import unicodedata
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


@lru_cache(maxsize=1)
def _typst_fonts() -> typst.Fonts:
    """The bundled fonts, loaded once (Typst takes folders; system and Typst's own fonts stay out)."""
    folders = sorted({str(path.parent) for path in font_files()})
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=folders)


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

_KEEP = {"\n"}
_JOINERS = {"\u200c", "\u200d"}  # ZWNJ, ZWJ


def _is_arabic_letter(char: str) -> bool:
    code = ord(char)
    in_block = (0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF
                or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFC)
    return in_block and unicodedata.category(char)[0] in "LM"


def visible(char: str) -> str:
    """The visible stand-in for an invisible character: ``[U+202E]``."""
    return f"[U+{ord(char):04X}]"


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
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    out: list[str] = []
    last = len(text) - 1
    for i, char in enumerate(text):
        if char in _KEEP:
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cf", "Cc"):
            if (char in _JOINERS and 0 < i < last and _is_arabic_letter(text[i - 1])
                    and _is_arabic_letter(text[i + 1])):
                out.append(char)
            else:
                out.append(visible(char))
        else:
            out.append(char)
    return "".join(out)


def sanitise(value: Any) -> Any:
    """A copy of a JSON-able value with every string passed through ``sanitise_text`` (keys unchanged)."""
    if isinstance(value, str):
        return sanitise_text(value)
    if isinstance(value, dict):
        return {key: sanitise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitise(item) for item in value]
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


def _fast_missing(value: Any, covered: frozenset[int]) -> bool:
    chars: set[str] = set()
    for _, text in _strings(value, ""):
        if not text.isascii():
            chars.update(text)
    return any(ord(char) not in covered and char not in _NOT_PRINTED for char in chars)


def _glyph_error(where: str, path: str, char: str) -> RenderError:
    name = unicodedata.name(char, "")
    shown = f"'{char}'" if unicodedata.category(char)[0] not in "CZM" else "''"
    return RenderError(f"{where}: the character {shown} (U+{ord(char):04X}{' ' + name if name else ''}) "
                       f"has no glyph in the packet fonts (in {path})")


def _check_clean(clean: dict[str, Any]) -> None:
    covered = covered_characters()
    if not _fast_missing(clean, covered):
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
    _check_clean(sanitise(inputs))


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
        data = self.data
        packet = data.get("packet") or {}
        cases = data.get("cases") or []
        signatures = data.get("signatures") or []
        return {
            "lang": self.lang,
            "reference": str(packet.get("reference") or ""),
            "title": f"{packet.get('reference') or ''} — {(data.get('letter') or {}).get('subject') or ''}".strip(" —"),
            "author": str((data.get("organisation") or {}).get("name") or ""),
            "cover": self.cover(cases, signatures),
            "list": self.case_list(cases),
            "cases": {"items": [self.case(case) for case in cases]},
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

    def names(self, case: dict) -> list[str]:
        """Every name on record, as recorded, each followed by its script and kind."""
        out = []
        for name in case.get("names") or []:
            script = self.t("script", name.get("script"))
            kind = self.t("name_kind", name.get("kind"))
            out.append(f"{name.get('text') or ''}  ({script} · {kind})")
        return out or [self.not_known]

    def plain_names(self, case: dict) -> list[str]:
        return [str(name.get("text") or "") for name in case.get("names") or []] or [self.not_known]

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
        section["table"] = {
            "widths": ["24mm", "30mm", "1fr", "2fr"],
            "header": [self.f("date"), self.f("kind"), self.f("place"), self.f("description")],
            "rows": [[self.date(e.get("date")), self.t("timeline_kind", e.get("kind")), self.lines(e.get("place")),
                      self.lines(e.get("description"))] for e in events],
        }
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
                "sha256": [sha[:32], sha[32:]] if len(sha) > 32 else self.known(sha),
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
            items.append({"fields": [
                [self.f("full_name"), str(s.get("full_name") or "")],
                [self.f("iin"), str(s.get("iin") or "")],
                [self.f("postal_address"), str(s.get("postal_address") or "").split("\n")],
                [self.f("phone"), str(s.get("phone") or "")],
                [self.f("relationship"), self.t("relationship", s.get("relationship")) if s.get("relationship") else ""],
                [self.f("cases_signed"), ", ".join(str(n) for n in s.get("case_numbers") or [])],
                [self.f("recipients_consented"),
                 separator.join(self.t("recipient", code) for code in s.get("recipients") or [])],
            ]})
        return {"heading": self.h("signatures"), "intro": intro, "items": items,
                "date_label": self.f("date"), "signature_label": self.f("signature")}

    def manifest(self, cases: list[dict]) -> dict[str, Any]:
        data = self.data
        packet = data.get("packet") or {}
        recipient = data.get("recipient") or {}
        evidence = (data.get("manifest") or {}).get("evidence") or []
        built_at = str(packet.get("built_at") or "")
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
            "header": [self.f("number"), self.f("case_reference"), self.f("item"), self.f("sha256")],
            "rows": [[str(e.get("case_number") or ""), str(e.get("reference") or ""), str(e.get("item") or ""),
                      str(e.get("sha256") or "")] for e in evidence],
            "empty": self.t("text", "no_evidence"),
            "note": self.t("text", "manifest_note"),
        }


def packet_reference(data: dict[str, Any]) -> str:
    return str((data.get("packet") or {}).get("reference") or "")


def build_view(inputs: dict, thumbnail_files: dict[str, str] | None = None) -> dict[str, Any]:
    """The template's view of sanitised inputs (exposed for tests and for a preview)."""
    return _View(inputs, thumbnail_files or {}).build()


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


_LOCATION = re.compile(r"__typst_py_bytes__\.typ:(\d+):(\d+)")


def _template_error(error: Exception) -> RenderError:
    message = str(getattr(error, "message", "") or error).strip().splitlines()[0] if str(error).strip() else "error"
    diagnostic = str(getattr(error, "diagnostic", "") or "")
    found = _LOCATION.search(diagnostic) or re.search(r":(\d+):(\d+)", diagnostic)
    where = f" at line {found.group(1)}, column {found.group(2)}" if found else ""
    hints = [str(h) for h in getattr(error, "hints", None) or []]
    hint = f" (hint: {hints[0]})" if hints else ""
    return RenderError(f"Packet template error{where}: {message}{hint}")


def render_pdf(inputs: dict, thumbnails: dict[str, bytes] | None = None, *,
               template: bytes | str | None = None) -> bytes:
    """The packet PDF (A4, PDF/A-2b) from the frozen inputs.

    Deterministic: the same inputs give byte-identical output (``inputs['packet']['built_at']`` is
    the document time). ``thumbnails`` maps the ``thumbnail`` keys of evidence items to JPEG or PNG
    bytes; an item whose key is not in the mapping is listed without a preview. ``template`` (Typst
    source) replaces the shipped template, for tests and template development.

    Raises ``RenderError`` with a one-line message: a character without a glyph (naming the case),
    a template error (with its line), or inputs that are not a ``casefile.packet/1`` packet.
    """
    if not isinstance(inputs, dict) or inputs.get("schema") != SCHEMA:
        raise RenderError(f"These packet inputs are not of the schema {SCHEMA}")
    clean = sanitise(inputs)
    _check_clean(clean)
    timestamp = _timestamp((clean.get("packet") or {}).get("built_at"))
    thumbnails = thumbnails or {}

    # The thumbnail files, named by the order the evidence items appear in the packet.
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
    # ``clean`` has the same keys; only strings changed, so map the sanitised keys too.
    for case_raw, case_clean in zip(inputs.get("cases") or [], clean.get("cases") or []):
        for item_raw, item_clean in zip(case_raw.get("evidence") or [], case_clean.get("evidence") or []):
            key = item_raw.get("thumbnail")
            item_clean["thumbnail"] = key if key in files else None
    view = build_view(clean, files)
    source = template if template is not None else template_source()
    if isinstance(source, str):
        source = source.encode("utf-8")

    root = tempfile.mkdtemp(prefix="casefile-packet-")  # mode 0700
    try:
        if payload:
            folder = Path(root) / "thumbs"
            folder.mkdir(mode=0o700)
            for name, data in payload.items():
                (Path(root) / name.lstrip("/")).write_bytes(data)
        try:
            pdf, warnings = typst.compile_with_warnings(
                source, root=root, font_paths=_typst_fonts(), ignore_system_fonts=True,
                sys_inputs={"data": json.dumps(view, ensure_ascii=False, separators=(",", ":"))},
                pdf_standards=[PDF_STANDARD], timestamp=timestamp)
        except typst.TypstError as error:
            raise _template_error(error) from None
        except RuntimeError as error:  # export errors (e.g. a PDF/A violation) that are not TypstError
            raise _template_error(error) from None
        for warning in warnings:
            log.warning("packet %s: typst: %s", packet_reference(clean), getattr(warning, "message", warning))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not isinstance(pdf, bytes):
        raise RenderError("Typst returned no PDF")
    return pdf
