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
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from casefile.packets import labels
from casefile.packets.labels import LANGUAGES, format_date, format_period

log = logging.getLogger(__name__)
# Working folders in the temporary folder; `evidence sweep` removes those a killed build left.
RENDER_FOLDER_PREFIX = "casefile-packet-"

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


# The faces of the CJK collection the packet is set in (by their full names): Typst reads and
# indexes every face of every font file it is given, in every worker, and the collection has ten
# (Japanese, Korean, Chinese ..., each also monospaced), all sharing one 15 MB outline table.
_CJK_FACES = ("Noto Sans CJK SC", "Noto Sans Mono CJK SC")


@lru_cache(maxsize=1)
def _cjk_collection_plan() -> tuple[bytes, list[tuple[int, int, int]]] | None:
    """How to write a collection of only ``_CJK_FACES``, taken byte for byte from the bundled one:
    its header and table directories, and (offset in the new file, offset in the old, length) of
    each table. None when the bundled file is not the collection this expects."""
    import mmap
    import struct

    path = font_files()[2]
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"ttcf":
            return None
        (count,) = struct.unpack_from(">I", data, 8)
        found = {}
        for offset in struct.unpack_from(f">{count}I", data, 12):
            version, tables = struct.unpack_from(">IH", data, offset)
            records = [struct.unpack_from(">4sIII", data, offset + 12 + 16 * i) for i in range(tables)]
            name = next((record for record in records if record[0] == b"name"), None)
            if name is not None:
                found.setdefault(_full_name(data, name[2]), (version, records))
        if any(face not in found for face in _CJK_FACES):
            return None
        faces = [found[face] for face in _CJK_FACES]
    position = 12 + 4 * len(faces) + sum(12 + 16 * len(records) for _, records in faces)
    placed: dict[tuple[int, int], int] = {}
    copies = []
    for _, records in faces:
        for _, _, offset, length in records:
            if (offset, length) not in placed:
                position = (position + 3) & ~3
                placed[offset, length] = position
                copies.append((position, offset, length))
                position += length
    header = bytearray(b"ttcf" + struct.pack(">HHI", 1, 0, len(faces)))
    directory = 12 + 4 * len(faces)
    tables = bytearray()
    for version, records in faces:
        header += struct.pack(">I", directory + len(tables))
        shift = len(records).bit_length() - 1
        tables += struct.pack(">IHHHH", version, len(records), 16 << shift, shift, 16 * len(records) - (16 << shift))
        for tag, checksum, offset, length in records:
            tables += struct.pack(">4sIII", tag, checksum, placed[offset, length], length)
    return bytes(header + tables), copies


def _full_name(data: Any, table: int) -> str | None:
    """The full name (name ID 4, Windows Unicode) in a font's name table."""
    import struct

    _, count, strings = struct.unpack_from(">HHH", data, table)
    for i in range(count):
        platform, encoding, _, name_id, length, offset = struct.unpack_from(">HHHHHH", data, table + 6 + 12 * i)
        if platform == 3 and encoding == 1 and name_id == 4:
            start = table + strings + offset
            return bytes(data[start:start + length]).decode("utf-16-be", "replace")
    return None


def _font_folders(root: str) -> list[str]:
    """The folders Typst is given for one packet: the font packages' own, but for CJK a collection
    of only the faces the packet uses, written into the packet's private root (``fonts``).
    Its tables are the bundled ones, unchanged, so Typst sets and embeds the very same glyphs."""
    folders = font_folders()
    try:
        plan = _cjk_collection_plan()
    except Exception:
        log.warning("packet: the CJK font collection could not be read", exc_info=True)
        plan = None
    if plan is None:
        return folders
    header, copies = plan
    folder = Path(root) / "fonts"
    folder.mkdir(mode=0o700)
    source = font_files()[2]
    with open(source, "rb") as old, open(folder / source.name, "wb") as new:
        new.write(header)
        for target, offset, length in copies:
            new.seek(target)
            old.seek(offset)
            while length > 0:
                chunk = old.read(min(length, 1 << 20))
                if not chunk:
                    raise RenderError(f"The font file {source} is shorter than its table directory says")
                new.write(chunk)
                length -= len(chunk)
    return [str(folder) if path == str(source.parent) else path for path in folders]


@lru_cache(maxsize=1)
def covered_characters() -> frozenset[int]:
    """Every code point that has a glyph in one of the packet fonts (read once from their cmaps)."""
    sans, arabic, cjk = font_files()
    covered: set[int] = set()
    for path, number in ((sans, 0), (arabic, 0), (cjk, _CJK_SC_INDEX)):
        codes = _cmap_codes(path, number)
        if codes is None:  # a cmap this reader does not know: let fontTools read it
            from fontTools.ttLib import TTFont

            font = TTFont(str(path), fontNumber=number, lazy=True) if path.suffix == ".ttc" else TTFont(str(path), lazy=True)
            try:
                codes = set(font.getBestCmap() or {})
            finally:
                font.close()
        covered.update(codes)
    return frozenset(covered)


# The cmap subtables fontTools' ``getBestCmap`` prefers, in its order.
_CMAP_PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def _cmap_codes(path: Path, number: int) -> set[int] | None:
    """The code points of a font's best cmap subtable, as ``fontTools``' ``getBestCmap`` reads them.

    Read with ``struct`` from the font file: fontTools builds a dict of every mapping (tens of
    MB for the CJK font, in a process that lives on). Formats 4 and 12 only (what the packet fonts
    have); None for anything else.
    """
    import mmap
    import struct

    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        base = 0
        if data[:4] == b"ttcf":
            (count,) = struct.unpack_from(">I", data, 8)
            if number >= count:
                return None
            (base,) = struct.unpack_from(">I", data, 12 + 4 * number)
        (tables,) = struct.unpack_from(">H", data, base + 4)
        cmap = None
        for index in range(tables):
            tag, _, offset, _ = struct.unpack_from(">4sIII", data, base + 12 + 16 * index)
            if tag == b"cmap":
                cmap = offset
        if cmap is None:
            return None
        (records,) = struct.unpack_from(">H", data, cmap + 2)
        subtables = {}
        for index in range(records):
            platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * index)
            subtables.setdefault((platform, encoding), cmap + offset)
        start = next((subtables[key] for key in _CMAP_PREFERENCES if key in subtables), None)
        if start is None:
            return None
        (form,) = struct.unpack_from(">H", data, start)
        codes: set[int] = set()
        if form == 12:
            (groups,) = struct.unpack_from(">I", data, start + 12)
            for first, last, _ in struct.iter_unpack(">III", data[start + 16:start + 16 + 12 * groups]):
                codes.update(range(first, last + 1))
            return codes
        if form == 4:
            (doubled,) = struct.unpack_from(">H", data, start + 6)
            segments = doubled // 2
            ends = struct.unpack_from(f">{segments}H", data, start + 14)
            starts = struct.unpack_from(f">{segments}H", data, start + 16 + doubled)
            # The last segment (0xFFFF) is left out, as fontTools does; every other code of a
            # segment counts, even one that maps to glyph 0, as it does there too.
            for first, last in zip(starts[:-1], ends[:-1]):
                codes.update(range(first, last + 1))
            return codes
        return None


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
    if text.isprintable():  # no Cc, Cf, Zl or Zp character (nor any other that is not printable)
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
    return _sanitise(value, (seen if seen is not None else []).append)


def _sanitise(value: Any, collect: Any) -> Any:
    # The packet inputs are some 200,000 values: the common cases (str, None, numbers, in a dict
    # or list) are handled inline rather than by a call each.
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if not (item.isascii() and item.isprintable()):
                    item = sanitise_text(item)
                    collect(item)
            elif not (item is None or kind is int or kind is bool or kind is float):
                item = _sanitise(item, collect)
            out[key] = item
        return out
    if kind is list or kind is tuple:
        items = []
        for item in value:
            kind = type(item)
            if kind is str:
                if not (item.isascii() and item.isprintable()):
                    item = sanitise_text(item)
                    collect(item)
            elif not (item is None or kind is int or kind is bool or kind is float):
                item = _sanitise(item, collect)
            items.append(item)
        return items
    if isinstance(value, str):
        if value.isascii() and value.isprintable():
            return value
        clean = sanitise_text(str(value))
        collect(clean)
        return clean
    if isinstance(value, dict):
        return {key: _sanitise(item, collect) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitise(item, collect) for item in value]
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
    return not covered.issuperset(map(ord, set().union(*texts) - _NOT_PRINTED))


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
        self._labels: dict[tuple[str, object, type], str] = {}  # label() is looked up some 100,000 times
        self.not_known = self.t("text", "not_known")

    # labels
    def t(self, group: str, code: object) -> str:
        key = (group, code, type(code))  # (1 and True, say, are different codes)
        try:
            return self._labels[key]
        except KeyError:
            text = self._labels[key] = labels.label(self.lang, group, code)
            return text
        except TypeError:  # an unhashable code (not from a vocabulary): printed as it is
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
                # ASCII (a hash) can be set in the CJK face with half-width forms: the same glyphs as
                # in the monospaced face, without loading that face too (see ``mono-ascii`` in the template).
                "ascii": self.known(sha).isascii(),
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
#
# It is a pipeline, so that neither core waits: the parts are cut from the view as it is built
# (case by case), each is handed to a worker as soon as one is free, and each compiled part is
# merged as soon as the parts before it are in, while the workers compile the next ones.

# The size of a part, in characters of its view (about what it prints): ~190 cases, ~900 rows of
# the list (a table row costs Typst about twice what the same text costs elsewhere: LIST_WEIGHT).
# A worker then peaks at about 160 MB. Each part costs a worker process and the loading of the
# CJK font (~0.07 s together), so parts are as large as memory allows: two workers at their
# peak and the merging process stay under 500 MB. Changing these changes where parts break, and
# so the bytes of a rebuilt packet (as would another template, Typst or font version).
PART_BUDGET = 500_000
LIST_WEIGHT = 2
WORKERS = max(1, min(2, os.cpu_count() or 1))
WORKER_TIMEOUT = 600
# The interpreter that runs the workers (needs only the typst package): this one, unless the app
# runs embedded (uWSGI, mod_wsgi), where sys.executable is not a Python and this must be set.
PYTHON = sys.executable
# The least time between the starts of two parts (s), until a part has been timed (then half
# the time it took): about half the time a worker takes for a part of PART_BUDGET, so that the
# two workers are out of step and never both at their peak memory (which is at a part's end).
PART_STAGGER = 0.3
# The footers of a long packet are compiled in this many slices at once (one per worker).
FOOTER_SLICE_MIN = 400


MANIFEST_BLOCK = 40  # lines of the manifest per block


def _blocks(lines: list[str]) -> list[list[str]]:
    return [lines[i:i + MANIFEST_BLOCK] for i in range(0, len(lines), MANIFEST_BLOCK)]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Stand-ins for pre-serialised units in a part's JSON: no sanitised string contains U+0000.
_MARK = {section: "\u0000" + section for section in ("cover", "list", "cases", "signatures")}


class _Parts:
    """The parts of one packet, as the JSON text of each, cut while the view is being built.

    Units: the cover letter, each list row, each case, each signature block, each manifest line;
    a part is a run of consecutive units of about ``budget`` characters (a list row counting
    ``LIST_WEIGHT`` times). Headings go with the first unit of their section, the manifest's note
    with its last. One part, with its footers, when everything fits (``single`` is then True once
    it has been given out). Cases are turned into their view and serialised one by one, when the
    part that holds them is cut, so the whole view never exists at once.
    """

    def __init__(self, view: _View, budget: int):
        self.view = view
        self.budget = budget
        self.single = False
        data = view.data
        self.cases = data.get("cases") or []
        signatures = data.get("signatures") or []
        packet = data.get("packet") or {}
        self.common = {
            "lang": view.lang,
            "reference": str(packet.get("reference") or ""),
            "title": f"{packet.get('reference') or ''} — {(data.get('letter') or {}).get('subject') or ''}".strip(" —"),
            "author": str((data.get("organisation") or {}).get("name") or ""),
        }
        self.cases_heading = view.h("cases") if self.cases else None
        self.case_titles: set[str] = set()
        self.cover = _dumps(view.cover(self.cases, signatures))
        self.list = view.case_list(self.cases)
        self.list_rows = [_dumps(row) for row in self.list.pop("rows")]
        self.signatures = view.signature_sheet(signatures) if signatures else None
        self.signature_items = [_dumps(item) for item in self.signatures.pop("items")] if self.signatures else []
        self.manifest = view.manifest(self.cases)
        self.lines = self.manifest.pop("lines")

    def _units(self):
        """(section, index, weight, serialised unit) in reading order; index -1 for an empty section."""
        yield "cover", 0, len(self.cover), self.cover
        if self.list_rows:
            for index, row in enumerate(self.list_rows):
                yield "list", index, LIST_WEIGHT * len(row), row
        else:
            yield "list", -1, 0, None
        self.list_rows = []  # given out: let them go with their part
        for index, case in enumerate(self.cases):
            case_view = self.view.case(case)
            self.case_titles.add(case_view["title"])
            text = _dumps(case_view)
            yield "cases", index, len(text), text
        for index, item in enumerate(self.signature_items):
            yield "signatures", index, len(item), item
        if self.lines:
            for index, line in enumerate(self.lines):
                yield "manifest", index, len(line) + 4, None
        else:
            yield "manifest", -1, 0, None

    def __iter__(self):
        group: list[tuple[str, int, int, str | None]] = []
        load = 0
        cut = False
        for unit in self._units():
            if group and load + unit[2] > self.budget:
                cut = True
                yield self._part(group, footer=False)
                group, load = [], 0
            group.append(unit)
            load += unit[2]
        self.single = not cut
        yield self._part(group, footer=not cut)

    def _part(self, group: list[tuple[str, int, int, str | None]], footer: bool) -> str:
        part: dict[str, Any] = {**self.common, "footer": footer, "cover": None, "list": None, "cases_heading": None,
                                "cases": _MARK["cases"], "signatures": None, "manifest": None}
        taken: dict[str, list[tuple[int, str | None]]] = {"list": [], "cases": [], "signatures": [], "manifest": []}
        for section, index, _, text in group:
            if section == "cover":
                part["cover"] = _MARK["cover"]
            else:
                taken[section].append((index, text))
        if taken["list"]:
            part["list"] = {**self.list, "rows": _MARK["list"],
                            "heading": self.list["heading"] if taken["list"][0][0] <= 0 else None}
        if taken["cases"] and taken["cases"][0][0] == 0:
            part["cases_heading"] = self.cases_heading
        if taken["signatures"]:
            part["signatures"] = {**self.signatures, "items": _MARK["signatures"],
                                  "heading": self.signatures["heading"] if taken["signatures"][0][0] == 0 else None}
        if taken["manifest"]:
            indexes = [index for index, _ in taken["manifest"]]
            manifest = self.manifest
            part["manifest"] = {**manifest, "blocks": _blocks([self.lines[i] for i in indexes if i >= 0]),
                                "heading": manifest["heading"] if indexes[0] <= 0 else None,
                                "note": manifest["note"] if indexes[-1] in (-1, len(self.lines) - 1) else None}
        text = _dumps(part)
        # Put the pre-serialised units in place of their markers.
        text = text.replace(_dumps(_MARK["cover"]), self.cover, 1)
        for section in ("list", "cases", "signatures"):
            items = ",".join(unit for index, unit in taken[section] if index >= 0)
            text = text.replace(_dumps(_MARK[section]), f"[{items}]", 1)
        return text


# --- compiling -----------------------------------------------------------------------------------

def _timestamp(built_at: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(built_at).replace("Z", "+00:00"))
    except ValueError:
        raise RenderError(f"The packet's build time {built_at!r} is not an ISO date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


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
# one part and exits, taking Typst's caches with it. Job on stdin (one line of JSON, then the
# part's data as UTF-8), PDF on stdout; a Typst error as JSON on stdout with exit status 3.
_WORKER = r"""
import json, sys
head, _, data = sys.stdin.buffer.read().partition(b"\n")
job = json.loads(head)
sys.path[:0] = job["path"]
import typst
fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=job["fonts"])
try:
    pdf, warnings = typst.compile_with_warnings(
        job["main"], root=job["root"], font_paths=fonts, ignore_system_fonts=True,
        sys_inputs={"data": data.decode("utf-8")}, pdf_standards=[job["standard"]], pdf_tags=False,
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


@lru_cache(maxsize=1)
def _typst_path() -> str:
    """The folder the typst package is imported from (found without importing it here)."""
    import importlib.util

    spec = importlib.util.find_spec("typst")
    if spec is None or not spec.origin:
        raise RenderError("The PDF renderer is not installed (the typst package)")
    return str(Path(spec.origin).resolve().parent.parent)


class _Compiler:
    """Runs the workers of one packet; ``abort`` stops every one still running."""

    def __init__(self, root: str, timestamp: int, single_thread: bool):
        self.root = root
        self.timestamp = timestamp
        self.env = _worker_env(single_thread)
        self.head = json.dumps({
            "path": [_typst_path()], "fonts": _font_folders(root), "main": str(Path(root) / TEMPLATE), "root": root,
            "standard": PDF_STANDARD, "timestamp": timestamp,
        }).encode("utf-8") + b"\n"
        self.lock = threading.Lock()
        self.running: set[subprocess.Popen] = set()
        self.aborted = False
        self.started = threading.Condition(self.lock)
        self.last_start = float("-inf")  # when the last part began compiling (time.monotonic)
        self.stagger = PART_STAGGER  # half the time the last part took, once one has been compiled

    def compile(self, data: str, part: bool = False) -> bytes:
        """One part (``part``) or the footers or their sheet compiled in a worker process.

        A part starts no sooner than half the time a part takes (``PART_STAGGER`` s until one
        has been timed) after the one before it: a worker's memory grows as it lays its part out
        and peaks at the end, so two parts begun together would peak together (see "parts").
        """
        started = 0.0
        with self.lock:
            if part and WORKERS > 1:
                while not self.aborted:
                    delay = self.last_start + self.stagger - time.monotonic()
                    if delay <= 0:
                        break
                    self.started.wait(delay)
                started = self.last_start = time.monotonic()
            if self.aborted:
                raise RenderError("The PDF renderer was stopped")
            try:
                process = subprocess.Popen([PYTHON, "-I", "-S", "-c", _WORKER], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.root, env=self.env)
            except OSError as error:
                raise RenderError(f"The PDF renderer could not be started ({PYTHON}): {error.strerror or error}") from None
            self.running.add(process)
        try:
            try:
                stdout, stderr = process.communicate(self.head + data.encode("utf-8"), timeout=WORKER_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise RenderError(f"The PDF renderer took longer than {WORKER_TIMEOUT} s and was stopped") from None
        finally:
            with self.lock:
                self.running.discard(process)
                if started:
                    self.stagger = max(PART_STAGGER, min(2.0, (time.monotonic() - started) / 2))
        for line in stderr.decode("utf-8", "replace").splitlines():
            if line.startswith("typst warning: "):
                log.warning("packet: %s", line)
        if process.returncode == 3:
            try:
                error = json.loads(stdout.decode("utf-8"))
            except ValueError:
                error = {"message": stdout.decode("utf-8", "replace")}
            raise _template_error(error.get("message", ""), error.get("diagnostic", ""), error.get("hints"))
        if process.returncode != 0 or not stdout.startswith(b"%PDF"):
            if self.aborted:
                raise RenderError("The PDF renderer was stopped")
            last = (stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit status {process.returncode}"])[-1]
            raise RenderError(f"The PDF renderer failed: {last}")
        return stdout

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            self.started.notify_all()
            for process in self.running:
                process.kill()


def _compile(root: str, data: str, timestamp: int, single_thread: bool = False) -> bytes:
    """One part (or the footers) compiled in a worker process."""
    return _Compiler(root, timestamp, single_thread).compile(data)


# --- merging -------------------------------------------------------------------------------------

_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _page_objects(pdf: Any) -> list[Any]:
    """The page dictionaries of a PDF in order, read from its page tree.

    Read by hand, and attributes a page inherits from the tree put on the page itself, rather
    than through ``Pdf.pages``: qpdf keeps a cache of the page list that would not see the pages
    the merge adds to the tree later, and finding where to append a page through it costs time
    in proportion to the pages already there (quadratic over a 2,000-page packet).
    """
    out: list[Any] = []
    stack: list[tuple[Any, dict[str, Any]]] = [(pdf.Root.Pages, {})]
    while stack:
        node, inherited = stack.pop()
        kids = node.get("/Kids")
        if kids is None:  # a page
            for key, value in inherited.items():
                if key not in node:
                    node[key] = value
            out.append(node)
            continue
        inherited = {**inherited, **{key: node[key] for key in _INHERITED if key in node}}
        stack.extend((kid, inherited) for kid in reversed(list(kids)))
    return out


def _landscape(page: Any) -> bool:
    box = [float(v) for v in page.MediaBox]
    return abs(box[2] - box[0]) > abs(box[3] - box[1])


def _outline_items(pdf: Any, pages: list[Any]) -> list[tuple[str, int, Any, Any]]:
    """(title, page index, left, top) of every outline item of a part, in order."""
    import pikepdf

    outlines = pdf.Root.get("/Outlines")
    if outlines is None or "/First" not in outlines:
        return []
    index_of = {page.objgen: i for i, page in enumerate(pages)}
    out = []
    stack = [outlines.get("/First")]
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
        following = item.get("/Next")
        if following is not None:
            stack.append(following)
        first = item.get("/First")
        if first is not None:
            stack.append(first)
    return out


def _write_outline(pdf: Any, pages: list[Any], entries: list[tuple[str, int, Any, Any]], case_titles: set[str],
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
    xyz = pikepdf.Name.XYZ

    def build(nodes: list, parent: Any) -> tuple[Any, Any, int]:
        objects = []
        for (title, page_index, left, top), children in nodes:
            item = pdf.make_indirect(pikepdf.Dictionary(
                Title=pikepdf.String(title), Parent=parent, Dest=pikepdf.Array([pages[page_index], xyz, left, top, 0])))
            if children:
                first, last, _ = build(children, item)
                item.First, item.Last = first, last
                item.Count = -len(children)  # closed: a 2,000-entry list is opened on demand
            objects.append(item)
        for previous, following in zip(objects, objects[1:]):
            previous.Next = following
            following.Prev = previous
        return (objects[0] if objects else None), (objects[-1] if objects else None), len(objects)

    root = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    first, last, count = build(tree, root)
    if first is not None:
        root.First, root.Last, root.Count = first, last, count
    pdf.Root.Outlines = root


class _Merger:
    """The compiled parts as one PDF/A document, put together as they come in.

    The first part becomes the document; the pages of each later one are copied into it (and
    appended to its page tree) as soon as that part, and every part before it, is in. The
    outline, the page count in the XMP and the footers are done once all are.
    """

    def __init__(self) -> None:
        self.sources: list[Any] = []  # every PDF pages or footers were copied from: open until saved
        self.merged: Any = None
        self.pages: list[Any] = []  # the document's page dictionaries, in order
        self.entries: list[tuple[str, int, Any, Any]] = []
        self.orientations: list[bool] = []

    def add(self, part: bytes) -> None:
        import pikepdf

        source = pikepdf.open(io.BytesIO(part))
        self.sources.append(source)
        pages = _page_objects(source)
        offset = len(self.pages)
        self.entries += [(title, offset + page, left, top) for title, page, left, top in _outline_items(source, pages)]
        self.orientations += [_landscape(page) for page in pages]
        if self.merged is None:
            self.merged = source
            tree = source.Root.Pages
            tree.Kids = pikepdf.Array(pages)  # flat, whatever the part's tree was
            for page in pages:
                page.Parent = tree
        else:
            tree = self.merged.Root.Pages
            pages = [self.merged.copy_foreign(page) for page in pages]  # (qpdf leaves out /Parent)
            for page in pages:
                page.Parent = tree
            tree.Kids.extend(pages)
        self.pages += pages
        tree.Count = len(self.pages)

    def footer_jobs(self, summary: dict[str, Any]) -> list[str]:
        """The footers to compile, in slices of consecutive pages (one per worker for a long packet)."""
        total = len(self.orientations)
        slices = WORKERS if total >= FOOTER_SLICE_MIN * WORKERS else 1
        size = -(-total // slices)
        common = {"mode": "footers", "lang": summary["lang"], "reference": summary["reference"],
                  "title": summary["title"], "author": summary["author"], "total": total}
        return [_dumps({**common, "first": start + 1, "pages": self.orientations[start:start + size]})
                for start in range(0, total, size)]

    def finish(self, summary: dict[str, Any], sheet: Future[bytes] | None, compile_footers: Any) -> bytes:
        """Outline, XMP, footers stamped; the document's bytes.

        The footers are set from ``sheet`` (see ``_SheetFooters``) when it is as expected;
        otherwise ``compile_footers(jobs)`` compiles them (futures of the footer PDFs).
        """
        import pikepdf

        merged = self.merged
        pages = self.pages
        stamper = _Stamper(merged)
        footers = None
        if sheet is not None:
            try:
                source = pikepdf.open(io.BytesIO(sheet.result()))
            except RenderError:
                source = None
            if source is not None:
                self.sources.append(source)
                try:
                    footers = _SheetFooters(stamper, source)
                except _NoSheet as reason:
                    log.info("packet: footers compiled, not set from the sheet (%s)", reason)
        compiled = compile_footers(self.footer_jobs(summary)) if footers is None else []
        _write_outline(merged, pages, self.entries, summary["case_titles"], summary["cases_heading"])
        # The XMP says how many pages there are: the first part's count is not the document's.
        metadata = merged.Root.Metadata.read_bytes()
        metadata = re.sub(rb"<xmpTPg:NPages>\d+</xmpTPg:NPages>",
                          b"<xmpTPg:NPages>%d</xmpTPg:NPages>" % len(pages), metadata)
        merged.Root.Metadata.write(metadata)
        if footers is not None:
            total = len(pages)
            for number, (page, landscape) in enumerate(zip(pages, self.orientations), start=1):
                stamper.stamp(page, footers.forms(number, total, landscape))
        else:
            start = 0
            for future in compiled:
                stamps = pikepdf.open(io.BytesIO(future.result()))
                self.sources.append(stamps)
                for stamp in _page_objects(stamps):
                    if start >= len(pages):
                        raise RenderError("The PDF renderer failed: the footers do not match the pages")
                    stamper.stamp(pages[start], {"/CfFooter": stamper.form(stamp)})
                    start += 1
            if start != len(pages):
                raise RenderError("The PDF renderer failed: the footers do not match the pages")
        out = io.BytesIO()
        merged.save(out, deterministic_id=True, preserve_pdfa=True, fix_metadata_version=False,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none, recompress_flate=False,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.sources = []


class _Stamper:
    """Draws footers over the pages of the document, as form XObjects (/CfRef, /CfFooter).

    Done by hand rather than with ``Page.add_overlay`` (whose resource names are random): the
    page's own content is wrapped in q/Q, and the forms are drawn after it.
    """

    def __init__(self, merged: Any):
        import pikepdf

        self.pikepdf = pikepdf
        self.merged = merged
        self.save = merged.make_stream(b"q\n")
        self.draws: dict[tuple[str, ...], Any] = {}
        self.resources: dict[bytes, Any] = {}
        self.seen: set[tuple[int, int]] = set()

    def form(self, page: Any) -> Any:
        """A page of another PDF as a form XObject of the document: its content stream copied as it
        is (compressed); pages with the same resources share one copy of them."""
        pikepdf = self.pikepdf
        merged = self.merged
        source = page.Resources
        key = source.unparse(resolved=True)  # the same fonts and colour spaces: the same resources
        resources = self.resources.get(key)
        if resources is None:
            resources = self.resources[key] = merged.copy_foreign(
                source if source.is_indirect else page.owner.make_indirect(source))
        contents = page.Contents
        if isinstance(contents, pikepdf.Array):
            form = merged.make_stream(b"\n".join(c.read_bytes() for c in contents))
        else:
            form = merged.copy_foreign(contents)
        form.Type = pikepdf.Name.XObject
        form.Subtype = pikepdf.Name.Form
        form.BBox = pikepdf.Array([float(v) for v in page.MediaBox])
        form.Resources = resources
        return form

    def stamp(self, page: Any, forms: dict[str, Any]) -> None:
        pikepdf = self.pikepdf
        names = tuple(forms)
        draw = self.draws.get(names)
        if draw is None:
            draw = self.draws[names] = self.merged.make_stream(
                b"\nQ\n" + b"".join(b"q %s Do Q\n" % name.encode() for name in names))
        own = page.Resources
        if not own.is_indirect or own.objgen in self.seen:  # shared with another page: this page gets its own
            own = self.merged.make_indirect(pikepdf.Dictionary({k: v for k, v in own.items()}))
            page.Resources = own
        self.seen.add(own.objgen)
        xobjects = own.get("/XObject")
        xobjects = pikepdf.Dictionary({k: v for k, v in xobjects.items()}) if xobjects is not None else pikepdf.Dictionary()
        for name, form in forms.items():
            xobjects[name] = form
        own["/XObject"] = xobjects
        old = page.get("/Contents")
        parts = list(old) if isinstance(old, pikepdf.Array) else ([old] if old is not None else [])
        page.Contents = pikepdf.Array([self.save, *parts, draw])


# --- footers from a sheet ------------------------------------------------------------------------
#
# The footer of page n of N is the packet reference on the left and "n / N" on the right. N is
# known only once every part is compiled, and compiling a page of footer for each page then
# (what ``footer_jobs`` does, and what is done when the sheet below is not as expected) would
# keep a worker and the merge waiting at the very end. So a small "sheet" is compiled with the
# first parts: per orientation, the footer with the reference alone, and footers with samples of
# the page number's characters alone (every pair of them that can meet, each sample on one line).
# From it each page gets the reference footer as it is, and its "n / N" in the sheet's font, size,
# colour and baseline, right-aligned where the samples end: the very glyphs and advances Typst
# set for the samples, which holds because Typst kerned none of those pairs (checked: a kerned
# pair, another glyph for a character in another place, or anything else unexpected, and the
# footers are compiled instead).

_SHEET_CHARS = "0123456789 /"


def _sheet_samples() -> list[str]:
    """Lines holding every pair of characters that can meet in "n / N", each short enough for one line."""
    digits = "0123456789"
    run = "".join(a + b for a in digits for b in digits)  # every digit pair, at even positions
    run += "".join(b + a for a in digits for b in digits[1:])  # and at odd ones, in the other order
    lines = [run[i:i + 31] for i in range(0, len(run), 30)]  # overlapping by one character
    lines.append(" / ".join(digits) + " / 0")
    return [line for line in lines if line]


class _NoSheet(Exception):
    """The sheet is not what the footers can be set from (the reason)."""


class _SheetFooters:
    """The forms that draw each page's footer, from the compiled sheet (see above)."""

    def __init__(self, stamper: _Stamper, sheet: Any):
        import pikepdf

        self.pikepdf = pikepdf
        self.stamper = stamper
        self.merged = stamper.merged
        samples = _sheet_samples()
        pages = _page_objects(sheet)
        if len(pages) != 2 * (1 + len(samples)):
            raise _NoSheet("pages")
        self.layouts = {}
        for orientation, landscape in enumerate((False, True)):
            first = orientation * (1 + len(samples))
            self.layouts[landscape] = self._layout(pages[first], pages[first + 1:first + 1 + len(samples)], samples)

    def _layout(self, reference_page: Any, sample_pages: list[Any], samples: list[str]) -> dict[str, Any]:
        pikepdf = self.pikepdf
        merged = self.merged
        codes: dict[str, bytes] = {}
        rights = []
        head = tail = b""
        for page, sample in zip(sample_pages, samples):
            instructions = pikepdf.parse_content_stream(page)
            operators = [str(instruction.operator) for instruction in instructions]
            if operators.count("TJ") != 1 or operators.count("cm") != 1 or operators.count("Tf") != 1:
                raise _NoSheet("not one line of text")
            if set(operators) & {"Tj", "'", '"', "Tc", "Tw", "Tz", "Ts", "TL", "Td", "TD", "T*"}:
                raise _NoSheet("text operators")
            at_cm, at_tj = operators.index("cm"), operators.index("TJ")
            tm = [instruction for instruction in instructions if str(instruction.operator) == "Tm"]
            matrix = [float(v) for v in instructions[at_cm].operands]
            if (at_cm > at_tj or len(tm) != 1 or matrix[:4] != [1, 0, 0, -1]
                    or [float(v) for v in tm[0].operands] != [1, 0, 0, -1, 0, 0]):
                raise _NoSheet("matrices")
            shown = instructions[at_tj].operands[0]
            if len(shown) != 1 or not isinstance(shown[0], pikepdf.String):
                raise _NoSheet("kerned")  # a number between strings: a kerned pair
            data = bytes(shown[0])
            if len(data) != 2 * len(sample):
                raise _NoSheet("glyphs")
            for i, char in enumerate(sample):
                if codes.setdefault(char, data[2 * i:2 * i + 2]) != data[2 * i:2 * i + 2]:
                    raise _NoSheet("contextual glyphs")
            font_name, size = instructions[operators.index("Tf")].operands
            widths = self._widths(page.Resources.Font[font_name])
            width = sum(widths[int.from_bytes(data[i:i + 2], "big")] for i in range(0, len(data), 2))
            rights.append(matrix[4] + width * float(size) / 1000)
            if not head:
                head = pikepdf.unparse_content_stream(instructions[:at_cm])
                baseline = str(instructions[at_cm].operands[5]).encode()
                middle = pikepdf.unparse_content_stream(instructions[at_cm + 1:at_tj])
                tail = pikepdf.unparse_content_stream(instructions[at_tj + 1:])
                font, scale, resources, box = widths, float(size) / 1000, page.Resources, page.MediaBox
        if set(codes) != set(_SHEET_CHARS) or max(rights) - min(rights) > 0.01:
            raise _NoSheet("samples")
        return {"reference": self.stamper.form(reference_page), "codes": codes, "widths": font, "scale": scale,
                "right": sum(rights) / len(rights), "head": head + b"\n", "baseline": baseline,
                "middle": b"\n" + middle + b"\n", "tail": b"\n" + tail,
                "resources": merged.copy_foreign(resources if resources.is_indirect
                                                 else page.owner.make_indirect(resources)),
                "box": pikepdf.Array([float(v) for v in box])}

    def _widths(self, font: Any) -> dict[int, float]:
        """Glyph widths (per 1000) of a composite (Identity-H) font, from its /W array."""
        pikepdf = self.pikepdf
        if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
            raise _NoSheet("font")
        descendant = font.DescendantFonts[0]
        default = float(descendant.get("/DW", 1000))
        out: dict[int, float] = {}
        entries = list(descendant.get("/W", []))
        i = 0
        while i < len(entries):
            first = int(entries[i])
            if isinstance(entries[i + 1], pikepdf.Array):  # c [w1 w2 ...]
                for k, w in enumerate(entries[i + 1]):
                    out[first + k] = float(w)
                i += 2
            else:  # c_first c_last w
                for code in range(first, int(entries[i + 1]) + 1):
                    out[code] = float(entries[i + 2])
                i += 3
        return _Widths(out, default)

    def forms(self, number: int, total: int, landscape: bool) -> dict[str, Any]:
        layout = self.layouts[landscape]
        text = f"{number} / {total}"
        codes = b"".join(layout["codes"][char] for char in text)
        width = sum(layout["widths"][int.from_bytes(codes[i:i + 2], "big")] for i in range(0, len(codes), 2))
        left = layout["right"] - width * layout["scale"]
        data = (layout["head"] + b"1 0 0 -1 %s %s cm" % (_number(left), layout["baseline"])
                + layout["middle"] + b"[<" + codes.hex().encode() + b">] TJ" + layout["tail"])
        pikepdf = self.pikepdf
        form = self.merged.make_stream(data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                       BBox=layout["box"], Resources=layout["resources"])
        return {"/CfRef": layout["reference"], "/CfFooter": form}


class _Widths(dict):
    """Widths by glyph code, with the font's default width for any other."""

    def __init__(self, widths: dict[int, float], default: float):
        super().__init__(widths)
        self.default = default

    def __missing__(self, code: int) -> float:
        return self.default


def _number(value: float) -> bytes:
    """A number for a content stream: at most six decimals, no exponent."""
    return (b"%.6f" % value).rstrip(b"0").rstrip(b".") or b"0"


# --- rendering -----------------------------------------------------------------------------------

def render_pdf(inputs: dict, thumbnails: dict[str, bytes] | None = None, *,
               template: bytes | str | None = None, part_budget: int | None = None,
               meanwhile: Callable[[], None] | None = None) -> bytes:
    """The packet PDF (A4, PDF/A-2b) from the frozen inputs.

    Deterministic: the same inputs give byte-identical output (``inputs['packet']['built_at']`` is
    the document time). ``thumbnails`` maps the ``thumbnail`` keys of evidence items to JPEG or PNG
    bytes; an item whose key is not in the mapping is listed without a preview. ``template`` (Typst
    source) replaces the shipped template and ``part_budget`` the size of a part (in characters),
    both for tests. ``meanwhile``, when given, is called once on the calling thread while the
    first parts compile (after the glyph check), for the caller's own work; ``inputs`` must not
    be changed by it. What it raises stops the rendering and is raised.

    Raises ``RenderError`` with a one-line message: a character without a glyph (naming the case),
    a template error (with its line), or inputs that are not a ``casefile.packet/1`` packet.
    """
    if not isinstance(inputs, dict) or inputs.get("schema") != SCHEMA:
        raise RenderError(f"These packet inputs are not of the schema {SCHEMA}")
    texts: list[str] = []
    clean = sanitise(inputs, texts)
    # The glyph check runs once the first parts are compiling (it takes a while); whatever else is
    # wrong with the inputs is reported after it, as it always was.
    try:
        return _render(inputs, clean, texts, thumbnails or {}, template, part_budget, meanwhile)
    except _InputError as error:
        _check_clean(clean, texts)
        raise error.error from None


class _InputError(Exception):
    """A ``RenderError`` about the inputs, found before the glyph check has run."""

    def __init__(self, error: RenderError):
        super().__init__(str(error))
        self.error = error


def _render(inputs: dict, clean: dict, texts: list[str], thumbnails: dict[str, bytes],
            template: bytes | str | None, part_budget: int | None,
            meanwhile: Callable[[], None] | None = None) -> bytes:
    try:
        timestamp = int(_timestamp((clean.get("packet") or {}).get("built_at")).timestamp())
    except RenderError as error:
        raise _InputError(error) from None

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
                raise _InputError(RenderError(f"Case {sanitise_text(str(case.get('reference')))}: the preview of "
                                              f"evidence item {item.get('item')} is not a JPEG or PNG image"))
            name = f"/thumbs/t{len(files) + 1:05d}{suffix}"
            files[key] = name
            payload[name] = data
    # ``clean`` is ``inputs`` with its strings sanitised: point its thumbnails at the files.
    for case_raw, case_clean in zip(inputs.get("cases") or [], clean.get("cases") or []):
        for item_raw, item_clean in zip(case_raw.get("evidence") or [], case_clean.get("evidence") or []):
            item_clean["thumbnail"] = item_raw.get("thumbnail") if item_raw.get("thumbnail") in files else None
    try:
        view = _View(clean, files)
    except RenderError as error:
        raise _InputError(error) from None
    parts = _Parts(view, part_budget or PART_BUDGET)
    source = template if template is not None else template_source()
    if isinstance(source, str):
        source = source.encode("utf-8")

    root = tempfile.mkdtemp(prefix=RENDER_FOLDER_PREFIX)  # mode 0700, ours alone; sweep removes a killed build's
    try:
        (Path(root) / TEMPLATE).write_bytes(source)
        if payload:
            (Path(root) / "thumbs").mkdir(mode=0o700)
            for name, data in payload.items():
                (Path(root) / name.lstrip("/")).write_bytes(data)
        return _run(parts, root, timestamp, lambda: _check_clean(clean, texts), meanwhile)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(parts: _Parts, root: str, timestamp: int, check: Any, meanwhile: Callable[[], None] | None = None) -> bytes:
    """Compile the parts (at most ``WORKERS`` at a time) and merge them, as described under "parts".

    ``check`` (the glyph check) runs once the first parts are compiling; what it raises is raised
    before any worker's error, and stops the workers. ``meanwhile`` (the caller's) runs right after it.
    """
    compiler = _Compiler(root, timestamp, single_thread=WORKERS > 1)
    merger = _Merger()
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures: dict[int, Future[bytes]] = {}
    try:
        iterator = iter(parts)
        submitted = merged = 0
        exhausted = False
        checked = False
        sheet: Future[bytes] | None = None
        while True:
            # Keep every worker busy and one more part ready, but do not run far ahead of the merge.
            # At first only one part: the glyph check and ``meanwhile`` keep this thread busy while
            # it compiles, and the other worker starts after them, out of step with the first, so
            # that the two do not reach their peak memory (at the end of a part) at the same time.
            while not exhausted and submitted - merged < (WORKERS + 1 if checked else 1):
                try:
                    text = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                futures[submitted] = pool.submit(compiler.compile, text, True)
                submitted += 1
                del text
            if not checked:
                if not parts.single:  # what the footers are set from, while the first parts compile
                    sheet = pool.submit(compiler.compile, _dumps({**parts.common, "mode": "sheet",
                                                                  "samples": _sheet_samples()}))
                    futures[-1] = sheet  # (never merged: only to be cancelled on a failure)
                check()
                checked = True
                if meanwhile is not None:
                    meanwhile()
            if parts.single:
                return futures[0].result()
            if exhausted and merged == submitted:
                break
            waiting = futures[merged]
            if not waiting.done():  # until a part is in: the next one to merge, or one to start the next after
                wait([future for future in futures.values() if not future.done()], return_when=FIRST_COMPLETED)
            while merged in futures and futures[merged].done():
                merger.add(futures.pop(merged).result())
                merged += 1
        summary = {**parts.common, "cases_heading": parts.cases_heading, "case_titles": parts.case_titles}

        def compile_footers(jobs: list[str]) -> list[Future[bytes]]:
            compiled = [pool.submit(compiler.compile, job) for job in jobs]
            futures.update(enumerate(compiled, start=submitted + 1))
            return compiled

        return merger.finish(summary, sheet, compile_footers)
    except BaseException:
        for future in futures.values():  # after a failure, start no more parts, stop the running ones
            future.cancel()
        compiler.abort()
        raise
    finally:
        pool.shutdown(wait=True)
        merger.close()
