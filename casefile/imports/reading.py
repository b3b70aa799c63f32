"""Turn an uploaded spreadsheet's bytes into a table of strings, or refuse it with one clear message.

The format is judged from the content, then compared with the file's name. Only CSV (UTF-8, UTF-8
with a BOM or Windows-1251; comma, semicolon or tab) and XLSX are read. An XLSX is checked as a ZIP
(zip bombs) and its first worksheet's XML is scanned for merged cells and formulas before openpyxl
reads the saved values; nothing is ever calculated.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl
from defusedxml import DTDForbidden
from defusedxml import ElementTree as SafeElementTree
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from openpyxl.utils import get_column_letter

from casefile.core.text import text_problem

MB = 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
BOMB_RATIO = 200  # a member this many times larger unpacked than packed...
BOMB_MEMBER_BYTES = 10 * MB  # ...and at least this large is refused
SMALL_PART_BYTES = 10 * MB  # workbook.xml and its relationships are far smaller in any real workbook
SNIFF_CHARS = 64 * 1024
SNIFF_LINES = 500
CHUNK_BYTES = 64 * 1024
DELIMITERS = ",;\t"
MAX_HEADER = 500


class ImportFileError(Exception):
    """The file cannot be read as a table; str(exc) is a message for the user."""


@dataclass
class Table:
    """A sheet as strings: the header row, then each non-blank row with its number in the file."""

    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # every row padded to len(headers)
    encoding: str | None = None  # CSV: "utf-8", "utf-8-sig" or "cp1251"
    delimiter: str | None = None  # CSV: ",", ";" or "\t"
    notes: list[str] = field(default_factory=list)


def read_table(
    data: bytes, filename: str, *, max_rows: int = 50_000, max_unpacked_bytes: int = 200 * MB
) -> Table:
    """Read ``data`` as a CSV or XLSX table, or raise ImportFileError saying what is wrong with it."""
    kind = _classify(data)
    extension = posixpath.splitext(filename.lower())[1]
    if kind == "empty":
        raise ImportFileError(_NO_ROWS)
    if kind == "encrypted":
        raise ImportFileError(_l("The workbook is protected with a password, so it cannot be read. "
                                 "Remove the password in Excel, save it and upload it again."))
    if kind == "xls" or (extension == ".xls" and kind != "xlsx"):
        raise ImportFileError(_l("Old Excel workbooks (.xls) cannot be read. Open the file in Excel and "
                                 "save it as “Excel Workbook (.xlsx)” or “CSV UTF-8”."))
    if kind == "ods" or (extension == ".ods" and kind != "xlsx"):
        raise ImportFileError(_l("OpenDocument spreadsheets (.ods) cannot be read. Save the file as "
                                 "“Excel Workbook (.xlsx)” or “CSV UTF-8”."))
    if kind == "damaged zip" and extension != ".csv":
        raise ImportFileError(_DAMAGED)
    if extension == ".xlsx" and kind != "xlsx":
        raise ImportFileError(_l("The file is named .xlsx but is not an Excel workbook (XLSX): it holds "
                                 "%(what)s. Save it from Excel as “Excel Workbook (.xlsx)”.", what=_WHAT[kind]))
    if extension == ".csv" and kind not in ("text", "utf16"):
        raise ImportFileError(_l("The file is named .csv but is not a text CSV: it holds %(what)s. Save it "
                                 "as “CSV UTF-8” and upload it again.", what=_WHAT[kind]))
    if kind == "utf16":
        raise ImportFileError(_l("The file is saved as UTF-16 (“Unicode Text”). Save it as “CSV UTF-8” "
                                 "and upload it again."))
    if kind == "xlsx":
        return _read_xlsx(data, max_rows, max_unpacked_bytes)
    if kind == "text":
        return _read_csv(data, max_rows)
    raise ImportFileError(_l("The file is neither a CSV text file nor an Excel workbook (XLSX): it holds "
                             "%(what)s.", what=_WHAT[kind]))


_NO_ROWS = _l("The file holds no rows.")
_DAMAGED = _l("The workbook is damaged and cannot be read. Open it in Excel, save it again and upload "
              "the new file.")
_DTD = _l("The workbook holds an XML document type declaration (DTD), which casefile refuses.")
_WHAT = {
    "text": _l("CSV or other text"),
    "utf16": _l("UTF-16 text"),
    "xlsx": _l("an Excel workbook (XLSX)"),
    "zip": _l("a ZIP archive"),
    "damaged zip": _l("a damaged ZIP archive"),
    "pdf": _l("a PDF document"),
    "image": _l("an image"),
    "binary": _l("binary data"),
}

# --- What the bytes are ---------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and also Excel's password-protected XLSX
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_SIGNATURES = (
    (b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "image"), (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"), (b"GIF89a", "image"), (codecs.BOM_UTF16_LE, "utf16"), (codecs.BOM_UTF16_BE, "utf16"),
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f") + b"\x7f"
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError,
               NotImplementedError, RuntimeError)  # RuntimeError: an encrypted member


def _classify(data: bytes) -> str:
    """The content's kind: empty, xls, encrypted, ods, xlsx, zip, damaged zip, pdf, image, utf16,
    binary or text."""
    if not data or data.isspace():
        return "empty"
    if data.startswith(_OLE2):
        return "encrypted" if _ENCRYPTED_STREAM in data else "xls"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if b"\x00" in data or len(data.translate(None, _NOT_CONTROL)) * 100 > len(data):
        return "binary"
    return "text"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as stream:
                    if stream.read(100).startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                        return "ods"
    except _ZIP_ERRORS:
        return "damaged zip"
    return "xlsx" if {"[Content_Types].xml", "xl/workbook.xml"} <= names else "zip"


# --- CSV ------------------------------------------------------------------------------------------


def _is_text_char(char: str) -> bool:
    return char in "\t\n\r№" or unicodedata.category(char)[0] in "LNPZ"


# The bytes that Windows-1251 turns into letters, digits, punctuation or spaces (0x98 is undefined).
_CP1251_TEXT = bytes(b for b in range(256) if b != 0x98 and _is_text_char(bytes([b]).decode("cp1251")))


def _read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = _decode(data)
    delimiter = _sniff_delimiter(text)
    headers, rows = _tabulate(_csv_rows(text, delimiter), max_rows)
    notes = []
    if encoding == "cp1251":
        notes.append(str(_l("The file was read as Windows-1251 (Cyrillic) text; check that names look right.")))
    return Table("csv", headers, rows, encoding=encoding, delimiter=delimiter, notes=notes)


def _decode(data: bytes) -> tuple[str, str]:
    not_text = ImportFileError(_l("The file is not text in UTF-8 or Windows-1251. Save it as “CSV UTF-8” "
                                  "and upload it again."))
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            raise not_text from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Nearly any bytes decode as Windows-1251, so take it only when 95% of the characters read as text.
    implausible = len(data.translate(None, _CP1251_TEXT))
    if b"\x00" not in data and b"\x98" not in data and implausible * 20 <= len(data):
        return data.decode("cp1251"), "cp1251"
    raise not_text


def _sniff_delimiter(text: str) -> str:
    sample = _sniff_sample(text)
    header = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed is None or (counts[sniffed] == 0 and max(counts.values()) > 0):
        return max(DELIMITERS, key=counts.__getitem__)  # a tie, or none at all, gives the comma
    return sniffed


def _sniff_sample(text: str) -> str:
    """The first 64 KB or 500 lines, whichever ends first, cut at a line's end: a cut line would mislead
    the sniffer, and its time grows with the number of lines when it finds no delimiter."""
    cut = 0
    for _ in range(SNIFF_LINES):
        newline = text.find("\n", cut, SNIFF_CHARS)
        if newline < 0:
            return text[:cut] if cut and len(text) > SNIFF_CHARS else text[:SNIFF_CHARS]
        cut = newline + 1
    return text[:cut]


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # strict: a quotation mark left open raises here instead of swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ImportFileError(_l("Row %(row)s has a cell of more than %(limit)s characters, longer than any "
                                     "column takes.", row=number + 1, limit=f"{csv.field_size_limit():,}")) from None
        raise ImportFileError(_l("Row %(row)s cannot be read as CSV: a quotation mark is left open or "
                                 "misplaced.", row=number + 1)) from None


# --- The table, from either format ----------------------------------------------------------------


Rows = list[tuple[int, list[str]]]


def _tabulate(rows: Iterable[tuple[int, list[str]]], max_rows: int) -> tuple[list[str], Rows]:
    """The first non-blank row as the header, then the other non-blank rows, trailing blanks trimmed."""
    headers: list[str] | None = None
    table: Rows = []
    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if headers is None:
            headers = cells
            _check_headers(headers)
            _check_unique(headers)
            continue
        if len(cells) > len(headers):
            raise ImportFileError(_l("Row %(row)s has %(cells)s cells but the header has %(columns)s columns; "
                                     "give the extra cells a header or remove them.",
                                     row=number, cells=len(cells), columns=len(headers)))
        if len(table) == max_rows:
            raise ImportFileError(_l("The file has more than %(limit)s rows; split it.", limit=f"{max_rows:,}"))
        cells.extend([""] * (len(headers) - len(cells)))
        table.append((number, cells))
    if headers is None or not table:
        raise ImportFileError(_NO_ROWS)
    return headers, table


def _check_headers(headers: list[str]) -> None:
    """Headers are shown on the mapping page and echoed by the command line: text rules apply to them too."""
    for position, header in enumerate(headers, start=1):
        if len(header) > MAX_HEADER:
            raise ImportFileError(_l("The header of column %(column)s is longer than %(limit)s characters.",
                                     column=get_column_letter(position), limit=MAX_HEADER))
        problem = text_problem(header, multiline=True)  # Excel headers are often on two lines
        if problem:
            raise ImportFileError(_l("The header of column %(column)s: %(problem)s",
                                     column=get_column_letter(position), problem=problem))


def _check_unique(headers: list[str]) -> None:
    seen: set[str] = set()
    repeated: dict[str, None] = {}  # ordered, each name once
    for header in headers:
        if header in seen:
            repeated[header] = None
        elif header:
            seen.add(header)
    if repeated:
        names = ", ".join(f"“{name}”" for name in repeated)
        raise ImportFileError(_l("The header names these columns more than once: %(names)s. Give every "
                                 "column its own name.", names=names))


# --- XLSX -----------------------------------------------------------------------------------------


@dataclass
class _SheetScan:
    merged: list[str] = field(default_factory=list)
    formulas: int = 0
    formula_without_value: str | None = None


def _read_xlsx(data: bytes, max_rows: int, max_unpacked_bytes: int) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_unpacked_size(archive, max_unpacked_bytes)
            sheet_name, part, sheet_count = _first_worksheet(archive)
            scan = _scan_sheet(archive, part, max_unpacked_bytes)
    except (*_ZIP_ERRORS, ElementTree.ParseError) as error:
        if isinstance(error, DTDForbidden):
            raise ImportFileError(_DTD) from error
        raise ImportFileError(_DAMAGED) from error
    if scan.merged:
        ranges = ", ".join(scan.merged[:5]) + (", …" if len(scan.merged) > 5 else "")
        raise ImportFileError(_l("The sheet has merged cells (%(ranges)s); unmerge them and fill in every "
                                 "cell.", ranges=ranges))
    if scan.formula_without_value:
        raise ImportFileError(_l("Cell %(cell)s holds a formula with no saved value; casefile never "
                                 "calculates formulas: paste the values instead.",
                                 cell=scan.formula_without_value))
    with closing(_xlsx_rows(data, sheet_name)) as cells:  # closes the workbook even when a row is refused
        headers, rows = _tabulate(cells, max_rows)
    notes = []
    if scan.formulas:
        notes.append(str(_nl("%(num)s cell holds a formula: its saved value is used, nothing is calculated.",
                             "%(num)s cells hold formulas: their saved values are used, nothing is calculated.",
                             scan.formulas)))
    if sheet_count > 1:
        notes.append(str(_l("The workbook has %(count)s sheets; only “%(name)s” was read.",
                            count=sheet_count, name=sheet_name)))
    return Table("xlsx", headers, rows, notes=notes)


def _check_unpacked_size(archive: zipfile.ZipFile, limit: int) -> None:
    # zipfile never yields more than a member's declared size, so checking declared sizes bounds the reads.
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFileError(_l("The workbook holds %(count)s parts (limit %(limit)s); it is refused as a "
                                 "possible zip bomb.", count=f"{len(members):,}", limit=f"{MAX_ZIP_MEMBERS:,}"))
    total = sum(member.file_size for member in members)
    if total > limit:
        raise ImportFileError(_l("The workbook would unpack to %(size)s MB (limit %(limit)s MB); it is "
                                 "refused as a possible zip bomb.", size=math.ceil(total / MB), limit=limit // MB))
    for member in members:
        if member.file_size > BOMB_MEMBER_BYTES and member.file_size > BOMB_RATIO * member.compress_size:
            raise ImportFileError(_l("A part of the workbook would unpack to %(size)s MB from %(packed)s KB; "
                                     "it is refused as a possible zip bomb.",
                                     size=math.ceil(member.file_size / MB),
                                     packed=math.ceil(member.compress_size / 1024)))


def _first_worksheet(archive: zipfile.ZipFile) -> tuple[str, str, int]:
    """The name and part of the first visible worksheet (openpyxl's reading order), and the sheet count."""
    names = set(archive.namelist())
    sheets = [el for el in _parse_small(archive, "xl/workbook.xml").iter() if _local(el.tag) == "sheet"]
    targets = {}
    if "xl/_rels/workbook.xml.rels" in names:
        for rel in _parse_small(archive, "xl/_rels/workbook.xml.rels").iter():
            if _local(rel.tag) == "Relationship" and rel.get("Type", "").endswith("/worksheet"):
                target = rel.get("Target", "")
                part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                targets[rel.get("Id")] = part
    found = []
    for sheet in sheets:
        rel_id = next((value for key, value in sheet.attrib.items() if _local(key) == "id"), None)
        if targets.get(rel_id) in names:
            found.append((sheet.get("state", "visible") != "visible", sheet.get("name", ""), targets[rel_id]))
    if not found:
        raise ImportFileError(_l("The workbook has no worksheet to read."))
    _, name, part = min(found, key=lambda sheet: sheet[0])  # the first visible one, else the first
    return name, part, len(sheets)


def _parse_small(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    with archive.open(name) as stream:
        raw = stream.read(SMALL_PART_BYTES + 1)
    if len(raw) > SMALL_PART_BYTES:
        raise ImportFileError(_DAMAGED)
    return SafeElementTree.fromstring(raw, forbid_dtd=True)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# A formula (<f>) or merged-cell element, with or without a namespace prefix.
_MARKER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:f|mergeCell)[\s/>]")
_OVERLAP = 256  # bytes kept from the previous chunk, so no marker is missed across chunk edges


def _scan_sheet(archive: zipfile.ZipFile, part: str, limit: int) -> _SheetScan:
    """Merged cells and formulas in the sheet's XML, streamed; DTDs refused.

    A byte scan comes first: most sheets hold neither, and it takes a tenth of the time parsing the
    XML would.
    """
    marked, tail, unpacked = False, b"", 0
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            unpacked += len(chunk)
            if unpacked > limit:
                raise ImportFileError(_l("The worksheet unpacks to more than %(limit)s MB; it is refused as a "
                                         "possible zip bomb.", limit=limit // MB))
            window = tail + chunk
            if b"<!DOCTYPE" in window:
                raise ImportFileError(_DTD)
            marked = marked or _MARKER.search(window) is not None
            tail = window[-_OVERLAP:]
    return _parse_sheet(archive, part) if marked else _SheetScan()


def _parse_sheet(archive: zipfile.ZipFile, part: str) -> _SheetScan:
    scan = _SheetScan()
    # The C parser, with the encoding forced to UTF-8 so it reads the very bytes that were just checked
    # for a DTD; without a DTD no entity can be declared, let alone expanded (hence bandit's B314 is waived).
    parser = ElementTree.XMLParser(encoding="utf-8")  # nosec B314
    with archive.open(part) as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",), parser=parser):  # nosec B314
            name = _local(element.tag)
            if name == "c":
                children = {_local(child.tag): child for child in element}
                if "f" in children:
                    scan.formulas += 1
                    value = children.get("v")
                    saved = value is not None and (bool(value.text) or element.get("t") == "str")
                    if not saved and scan.formula_without_value is None:
                        scan.formula_without_value = element.get("r", "?")
            elif name == "row":
                element.clear()  # keeps memory flat: the cells of a finished row are not needed again
            elif name == "mergeCell":
                scan.merged.append(element.get("ref", "?"))
    return scan


def _xlsx_rows(data: bytes, sheet_name: str) -> Iterator[tuple[int, list[str]]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds of error on a damaged workbook
        raise _openpyxl_error(error) from error
    try:
        sheet = workbook[sheet_name]
        sheet.reset_dimensions()  # a wrong <dimension> would pad every row or add empty ones
        for number, values in enumerate(_guarded(sheet.iter_rows(min_row=1, values_only=True)), start=1):
            yield number, [_cell_text(value, number, column) for column, value in enumerate(values, start=1)]
    finally:
        workbook.close()


def _guarded(values: Iterator[tuple]) -> Iterator[tuple]:
    try:
        yield from values
    except Exception as error:  # as above: openpyxl, while it streams the sheet
        raise _openpyxl_error(error) from error


def _openpyxl_error(error: Exception) -> ImportFileError:
    return ImportFileError(_DTD if isinstance(error, DTDForbidden) else _DAMAGED)


def _cell_text(value: object, row: int, column: int) -> str:
    """A cell's value as the text the user sees; a number too long to be exact is refused."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if abs(value) >= 10**15:  # 16 digits or more: Excel has kept only the first 15
            raise ImportFileError(_l("Cell %(cell)s holds a number too long to be exact (an ID typed as a "
                                     "number?); format the column as text and type it again.",
                                     cell=f"{get_column_letter(column)}{row}"))
        if isinstance(value, int) or value.is_integer():
            return str(int(value))
        return f"{value:.15g}"  # Excel's own precision: 0.1 + 0.2 shows as 0.3
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value).strip()
