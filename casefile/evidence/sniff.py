"""What a file is, judged from its first bytes (puremagic's signature table), never its name.

puremagic names the format; this module decides what the evidence log accepts. It refuses
what could run or render in a browser (executables, scripts, HTML, SVG), archives (which
hide their content from this check), and anything it cannot name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import puremagic
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class FileType:
    mime: str
    label: str
    category: str  # image, pdf, audio, video, text, office

    @property
    def is_image(self) -> bool:
        return self.category == "image"


class Refused(ValueError):
    """The content is of a kind the evidence log does not take."""


_ACCEPTED: dict[str, FileType] = {
    ".jpg": FileType("image/jpeg", "JPEG image", "image"),
    ".png": FileType("image/png", "PNG image", "image"),
    ".webp": FileType("image/webp", "WebP image", "image"),
    ".tif": FileType("image/tiff", "TIFF image", "image"),
    ".heic": FileType("image/heic", "HEIC image", "image"),
    ".pdf": FileType("application/pdf", "PDF document", "pdf"),
    ".mp3": FileType("audio/mpeg", "MP3 audio", "audio"),
    ".wav": FileType("audio/wav", "WAV audio", "audio"),
    ".ogg": FileType("audio/ogg", "Ogg audio", "audio"),
    ".opus": FileType("audio/ogg", "Opus audio", "audio"),
    ".flac": FileType("audio/flac", "FLAC audio", "audio"),
    ".m4a": FileType("audio/mp4", "MPEG-4 audio", "audio"),
    ".amr": FileType("audio/amr", "AMR audio", "audio"),
    ".aac": FileType("audio/aac", "AAC audio", "audio"),
    ".mp4": FileType("video/mp4", "MP4 video", "video"),
    ".mov": FileType("video/quicktime", "QuickTime video", "video"),
    ".3gp": FileType("video/3gpp", "3GP video", "video"),
    ".webm": FileType("video/webm", "WebM video", "video"),
    ".mkv": FileType("video/x-matroska", "Matroska video", "video"),
    ".avi": FileType("video/x-msvideo", "AVI video", "video"),
    ".doc": FileType("application/msword", "Word document (legacy)", "office"),
    ".rtf": FileType("application/rtf", "Rich Text document", "office"),
    ".docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "Word document", "office"),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "Excel workbook", "office"),
    ".pptx": FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                      "PowerPoint presentation", "office"),
    ".odt": FileType("application/vnd.oasis.opendocument.text", "OpenDocument text", "office"),
    ".ods": FileType("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet", "office"),
    ".odp": FileType("application/vnd.oasis.opendocument.presentation", "OpenDocument presentation", "office"),
}
# puremagic's extensions that name one of the formats above.
_ALIASES = {
    ".jpeg": ".jpg", ".jfif": ".jpg", ".jpe": ".jpg", ".tiff": ".tif", ".heif": ".heic", ".heix": ".heic",
    ".oga": ".ogg", ".f4a": ".m4a", ".m4v": ".mp4", ".qt": ".mov", ".3g2": ".3gp", ".3ga": ".3gp", ".mpga": ".mp3",
}
_TEXT = FileType("text/plain", "Plain text", "text")
_AVIF = FileType("image/avif", "AVIF image", "image")

_DANGEROUS = re.compile(r"html|svg|xml|javascript|ecmascript|x-sh|executable|x-msdownload|x-elf|java-archive",
                        re.IGNORECASE)
_ARCHIVE_NAMES = re.compile(r"archive|compress|zip|tar|gzip|bzip|\bxz\b|7-zip|rar|cabinet|iso ?9660|disk image",
                            re.IGNORECASE)
_EXECUTABLE_PREFIXES = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                        b"\xca\xfe\xba\xbe", b"#!", b"\x00asm", b"dex\n")
# Markup that a browser would render or run, anywhere near the start of a "text" file.
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|\?xml)[\s>/]",
                     re.IGNORECASE)
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")

_WEB_OR_PROGRAM = _l("Programs, scripts, web pages and SVG drawings are not accepted as evidence.")
_ARCHIVE = _l("Archives are not accepted: add the files inside them one by one.")
ACCEPTED_SUMMARY = _l("images (JPEG, PNG, HEIC, AVIF, WebP, TIFF), PDF, audio, video, plain text and office documents")


def detect(head: bytes) -> FileType:
    """The type of a file from its first bytes; raises Refused with the reason."""
    if not head:
        raise Refused(str(_l("The file is empty.")))
    if head.startswith(_EXECUTABLE_PREFIXES) and not head.startswith(b"#!AMR"):  # AMR audio starts with "#!"
        raise Refused(str(_WEB_OR_PROGRAM))
    if head.startswith(b"PK\x03\x04"):
        return _zip_container(head)
    still_image = _iso_still_image(head)
    if still_image is not None:
        return still_image
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    best = max((match.confidence for match in matches), default=0.0)
    for match in matches:
        if match.confidence >= best and _DANGEROUS.search(f"{match.mime_type} {match.name}"):
            raise Refused(str(_WEB_OR_PROGRAM))
    for match in matches:
        extension = _ALIASES.get(match.extension.lower(), match.extension.lower())
        if extension in _ACCEPTED:
            return _ACCEPTED[extension]
    if any(_ARCHIVE_NAMES.search(f"{match.mime_type} {match.name}") for match in matches):
        raise Refused(str(_ARCHIVE))
    if _MARKUP.search(head):
        raise Refused(str(_WEB_OR_PROGRAM))
    if _looks_like_text(head):
        return _TEXT
    raise Refused(str(_l("This kind of file is not recognised. Accepted: %(kinds)s.", kinds=ACCEPTED_SUMMARY)))


def _iso_still_image(head: bytes) -> FileType | None:
    """HEIC and AVIF photos are ISO media files like MP4; their brands tell them apart."""
    if head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if brands & {b"avif", b"avis"}:
        return _AVIF
    if brands & {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}:
        return _ACCEPTED[".heic"]
    return None


def _zip_container(head: bytes) -> FileType:
    """Office files are ZIP containers; any other ZIP is an archive and refused."""
    if head[30:38] == b"mimetype":
        declared = head[38:120]
        for extension in (".odt", ".ods", ".odp"):
            if _ACCEPTED[extension].mime.encode() in declared:
                return _ACCEPTED[extension]
    if b"[Content_Types].xml" in head:
        for marker, extension in ((b"word/", ".docx"), (b"xl/", ".xlsx"), (b"ppt/", ".pptx")):
            if marker in head:
                return _ACCEPTED[extension]
    raise Refused(str(_ARCHIVE))


def _looks_like_text(head: bytes) -> bool:
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _TEXT_CONTROL.search(body):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        # The head may end inside a character; anything else is not UTF-8.
        if error.start < len(body) - 3:
            return _is_cp1251_text(body)
    return True


def _is_cp1251_text(body: bytes) -> bool:
    # Windows-1251 is how Russian and Kazakh text files from older Windows machines arrive.
    try:
        decoded = body.decode("cp1251")
    except UnicodeDecodeError:
        return False
    letters = sum(1 for char in decoded if char.isalpha() or char.isspace() or char in ".,;:!?-()\"'0123456789")
    return letters >= 0.9 * len(decoded)
