"""Reading an uploaded file into a table of strings, or refusing it with one clear message."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook

from casefile.imports.reading import ImportFileError, read_table

MB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def refusal(data: bytes, filename: str, **limits: int) -> str:
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename, **limits)
    return str(caught.value)


def xlsx(*rows: list[object], sheets: tuple[str, ...] = (), merge: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "People"
    for row in rows:
        sheet.append(row)
    if merge:
        for cells in merge.split(","):
            sheet.merge_cells(cells)
    for title in sheets:
        workbook.create_sheet(title).append(["other"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewritten(data: bytes, name: str, old: bytes, new: bytes) -> bytes:
    """The workbook with one replacement made in one of its parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == name:
                assert old in content
                content = content.replace(old, new)
            target.writestr(info.filename, content)
    return out.getvalue()


def with_zeros(data: bytes, size: int) -> bytes:
    """The workbook with a part of ``size`` zero bytes added, streamed in so the test stays light."""
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/media/zeros.bin", "w") as part:
        block = bytes(MB)
        for _ in range(size // MB):
            part.write(block)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"

# --- CSV ------------------------------------------------------------------------------------------


def test_utf8_comma_csv() -> None:
    table = read_table("Аты-жөні,Туған күні\nҚайрат Әлімұлы,1975\nGülnar,1980-03-02\n".encode(), "list.csv")
    assert (table.kind, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.headers == ["Аты-жөні", "Туған күні"]
    assert table.rows == [(2, ["Қайрат Әлімұлы", "1975"]), (3, ["Gülnar", "1980-03-02"])]
    assert table.notes == []


def test_utf8_with_bom_semicolon_csv() -> None:
    table = read_table("\ufeffName;Place\r\n Ərkin ; Ürümqi \r\n".encode(), "list.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    assert table.headers == ["Name", "Place"]
    assert table.rows == [(2, ["Ərkin", "Ürümqi"])]


def test_cp1251_holds_russian_cyrillic_and_is_detected() -> None:
    # Kazakh's own letters are not in Windows-1251, so such a file holds Russian spellings (і is there).
    with pytest.raises(UnicodeEncodeError):
        "әғқңөұүһ".encode("cp1251")
    text = "ФИО;Место\r\nКайрат Алимов;Іле, Кульджа\r\nЖанар Сейткали;Урумчи «центр»\r\n"
    table = read_table(text.encode("cp1251"), "список.csv")
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.rows == [(2, ["Кайрат Алимов", "Іле, Кульджа"]), (3, ["Жанар Сейткали", "Урумчи «центр»"])]
    assert "Windows-1251" in table.notes[0]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([["name", "born", "place"], ["A, B", "1970", "x"],
                                                    ["C", "1980", "y; z"]])
    table = read_table(out.getvalue().encode(), "list.csv")
    assert table.delimiter == delimiter
    assert table.rows == [(2, ["A, B", "1970", "x"]), (3, ["C", "1980", "y; z"])]


def test_single_column_csv() -> None:
    table = read_table(b"name\nAsel\nBerik\n", "names.txt")
    assert table.headers == ["name"] and [cells for _, cells in table.rows] == [["Asel"], ["Berik"]]


def test_quoted_newline_is_one_row() -> None:
    table = read_table(b'name,story\nAsel,"taken in 2018\nnot seen since"\nBerik,unknown\n', "list.csv")
    assert table.rows == [(2, ["Asel", "taken in 2018\nnot seen since"]), (3, ["Berik", "unknown"])]


def test_quote_left_open_names_the_row() -> None:
    message = refusal(b'name,story\nAsel,ok\nBerik,"never closed\nCamila,x\n', "list.csv")
    assert message.startswith("Row 3 cannot be read as CSV")


def test_blank_rows_skipped_numbers_kept_and_short_rows_padded() -> None:
    table = read_table(b"\n\nname,born,place,,\n\nAsel,1970\n,,\nBerik,1980,x,,\n", "list.csv")
    assert table.headers == ["name", "born", "place"]
    assert table.rows == [(5, ["Asel", "1970", ""]), (7, ["Berik", "1980", "x"])]


def test_extra_cells_name_the_row() -> None:
    message = refusal(b"name,born\nAsel,1970\nBerik,1980,extra\n", "list.csv")
    assert message.startswith("Row 3 has 3 cells but the header has 2 columns")


def test_duplicate_headers_are_named() -> None:
    message = refusal(b"name,born,name,,,born\nAsel,1970,x,,,y\n", "list.csv")
    assert "more than once: “name”, “born”" in message


@pytest.mark.parametrize("data", [b"", b" \r\n\n", b"\xef\xbb\xbf", b"name,born\n", b"name,born\n,\n\n"])
def test_no_rows(data: bytes) -> None:
    assert refusal(data, "list.csv") == "The file holds no rows."


def test_too_many_rows() -> None:
    data = b"name\n" + b"x\n" * 4
    assert len(read_table(data, "list.csv", max_rows=4).rows) == 4
    assert refusal(data, "list.csv", max_rows=3) == "The file has more than 3 rows; split it."
    assert "more than 50,000 rows" in refusal(b"name\n" + b"x\n" * 50_001, "list.csv")


def test_text_in_neither_encoding_is_refused() -> None:
    # 0x98 is undefined in Windows-1251, and the bytes are not UTF-8 either.
    message = refusal("имя\nАсель".encode("cp1251") + b"\x98\n", "list.csv")
    assert message.startswith("The file is not text in UTF-8 or Windows-1251")
    assert "not text in UTF-8" in refusal(b"name\n" + bytes(range(0xA4, 0xBF)) * 20 + b"\n", "list.csv")


# --- Files that are not what they are named -------------------------------------------------------


def test_png_named_csv() -> None:
    assert refusal(PNG, "list.csv").startswith("The file is named .csv but is not a text CSV: it holds an image.")


def test_workbook_named_csv() -> None:
    assert "not a text CSV: it holds an Excel workbook (XLSX)" in refusal(xlsx(["a"], ["b"]), "list.csv")


@pytest.mark.parametrize(("filename", "start"), [
    ("list.csv", "The file is named .csv but is not a text CSV"),
    ("list.xlsx", "The file is named .xlsx but is not an Excel workbook (XLSX)"),
    ("list", "The file is neither a CSV text file nor an Excel workbook (XLSX)"),
])
def test_random_bytes_are_refused(filename: str, start: str) -> None:
    message = refusal(os.urandom(200 * 1024), filename)
    assert message.startswith(start) and "it holds binary data" in message


def test_csv_named_xlsx() -> None:
    message = refusal(b"name,born\nAsel,1970\n", "list.xlsx")
    assert message.startswith("The file is named .xlsx but is not an Excel workbook (XLSX): it holds CSV")


def test_pdf_named_xlsx() -> None:
    assert "it holds a PDF document" in refusal(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "list.xlsx")


def test_old_xls_and_ods_are_refused() -> None:
    assert refusal(OLE2, "list.xls").startswith("Old Excel workbooks (.xls) cannot be read")
    assert refusal(OLE2, "list.xlsx").startswith("Old Excel workbooks (.xls)")
    assert "password" in refusal(OLE2 + "EncryptedPackage".encode("utf-16-le"), "list.xlsx")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    assert refusal(ods.getvalue(), "list.ods").startswith("OpenDocument spreadsheets (.ods) cannot be read")
    assert refusal(b"name\nAsel\n", "list.ods").startswith("OpenDocument spreadsheets")


def test_zip_that_is_not_a_workbook_and_damaged_zip() -> None:
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "it holds a ZIP archive" in refusal(other.getvalue(), "list.xlsx")
    assert refusal(xlsx(["a"], ["b"])[:300], "list.xlsx").startswith("The workbook is damaged")


def test_unknown_extension_goes_by_content() -> None:
    assert read_table(xlsx(["name"], ["Asel"]), "export.bin").kind == "xlsx"
    assert read_table(b"name\nAsel\n", "").kind == "csv"
    assert refusal(PNG, "photo").startswith("The file is neither a CSV text file nor an Excel workbook")


# --- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_values_become_text() -> None:
    data = xlsx(
        ["Name ", "Born", "Count", "Share", "Seen", "At", "Time", "Held", "Blank", "ID"],
        ["  Асель Қайратқызы ", date(1975, 3, 2), 42, 3.0, datetime(2019, 5, 1), datetime(2019, 5, 1, 14, 30),
         time(8, 5), True, None, 123456789012345],
        ["Berik", datetime(1980, 1, 1), -7, 0.1 + 0.2, None, datetime(2020, 1, 2, 3, 4, 5), None, False],
    )
    table = read_table(data, "list.xlsx")
    assert table.kind == "xlsx" and table.encoding is None and table.delimiter is None
    assert table.headers == ["Name", "Born", "Count", "Share", "Seen", "At", "Time", "Held", "Blank", "ID"]
    assert table.rows == [
        (2, ["Асель Қайратқызы", "1975-03-02", "42", "3", "2019-05-01", "2019-05-01 14:30", "08:05", "yes", "",
             "123456789012345"]),
        (3, ["Berik", "1980-01-01", "-7", "0.3", "", "2020-01-02 03:04:05", "", "no", "", ""]),
    ]
    assert table.notes == []


def test_xlsx_blank_rows_and_trailing_columns() -> None:
    data = xlsx([], [None, None], ["name", "born", None], [], ["Asel", 1970, None, None], [None], ["Berik"])
    table = read_table(data, "list.xlsx")
    assert table.headers == ["name", "born"]
    assert table.rows == [(5, ["Asel", "1970"]), (7, ["Berik", ""])]


def test_xlsx_row_checks() -> None:
    assert refusal(xlsx(["name"]), "list.xlsx") == "The file holds no rows."
    assert refusal(xlsx(["name", None], ["a", None, "x"]), "list.xlsx").startswith("Row 2 has 3 cells")
    assert "“name”" in refusal(xlsx(["name", "name"], ["a", "b"]), "list.xlsx")
    assert "more than 2 rows" in refusal(xlsx(["n"], ["a"], ["b"], ["c"]), "list.xlsx", max_rows=2)


def test_long_number_names_the_cell() -> None:
    for prc_id in (650102197503021234, 6.501021975030212e17, 1234567890123456):
        message = refusal(xlsx(["name", "id"], ["a", 1], [None], ["b", prc_id]), "list.xlsx")
        assert message.startswith("Cell B4 holds a number too long to be exact")


def test_only_first_sheet_is_read_and_named() -> None:
    table = read_table(xlsx(["name"], ["Asel"], sheets=("Lists", "Notes")), "list.xlsx")
    assert table.rows == [(2, ["Asel"])]
    assert table.notes == ["The workbook has 3 sheets; only “People” was read."]


def test_hidden_first_sheet_is_passed_over() -> None:
    workbook = Workbook()
    workbook.active.title = "Lists"
    workbook.active.append(["choice"])
    workbook.active.sheet_state = "hidden"
    workbook.create_sheet("People").append(["name"])
    workbook["People"].append(["Asel"])
    out = io.BytesIO()
    workbook.save(out)
    table = read_table(out.getvalue(), "list.xlsx")
    assert table.headers == ["name"] and "only “People” was read" in table.notes[0]


def test_formula_with_saved_value_is_used_with_a_note() -> None:
    data = xlsx(["n", "double"], [21, "=A2*2"], [1, "=A3*2"])
    data = rewritten(data, SHEET, b"<f>A2*2</f><v></v>", b"<f>A2*2</f><v>42</v>")
    data = rewritten(data, SHEET, b"<f>A3*2</f><v></v>", b"<f>A3*2</f><v>2</v>")
    table = read_table(data, "list.xlsx")
    assert table.rows == [(2, ["21", "42"]), (3, ["1", "2"])]
    assert table.notes == ["2 cells hold formulas: their saved values are used, nothing is calculated."]


def test_formula_without_saved_value_names_the_cell() -> None:
    # openpyxl saves formulas without a value, as a program that never calculates would.
    message = refusal(xlsx(["n", "double"], [21, 5], [1, "=A3*2"]), "list.xlsx")
    assert message == ("Cell B3 holds a formula with no saved value; casefile never calculates formulas: "
                       "paste the values instead.")


def test_merged_cells_are_named() -> None:
    data = xlsx(["name", "born", "place"], ["a", 1, "x"], merge="A1:C1,B5:B7")
    assert refusal(data, "list.xlsx") == ("The sheet has merged cells (A1:C1, B5:B7); unmerge them and fill in "
                                          "every cell.")


def test_dtd_in_the_sheet_is_refused() -> None:
    data = rewritten(xlsx(["name"], ["a"]), SHEET, b"<worksheet ",
                     b'<!DOCTYPE worksheet [<!ENTITY x "xxxxxxxx">]><worksheet ')
    assert "document type declaration" in refusal(data, "list.xlsx")
    data = rewritten(xlsx(["name"], ["a"]), "xl/workbook.xml", b"<workbook ", b"<!DOCTYPE workbook><workbook ")
    assert "document type declaration" in refusal(data, "list.xlsx")


def test_zip_bomb_by_total_size() -> None:
    data = with_zeros(xlsx(["name"], ["a"]), 30 * MB)
    assert len(data) < MB
    message = refusal(data, "list.xlsx", max_unpacked_bytes=10 * MB)
    assert message == "The workbook would unpack to 31 MB (limit 10 MB); it is refused as a possible zip bomb."


def test_zip_bomb_by_compression_ratio() -> None:
    message = refusal(with_zeros(xlsx(["name"], ["a"]), 11 * MB), "list.xlsx")
    assert message.startswith("A part of the workbook would unpack to 11 MB from ")
    assert message.endswith("it is refused as a possible zip bomb.")


def test_too_many_zip_members() -> None:
    out = io.BytesIO(xlsx(["name"], ["a"]))
    with zipfile.ZipFile(out, "a") as archive:
        for index in range(10_000):
            archive.writestr(f"x/{index}", b"")
        parts = len(archive.namelist())
    message = refusal(out.getvalue(), "list.xlsx")
    assert message == f"The workbook holds {parts:,} parts (limit 10,000); it is refused as a possible zip bomb."
