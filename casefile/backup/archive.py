"""The archive container: a tar stream inside the chunked AES-256-GCM format of evidence blobs.

Layout on disk::

    b"CFBK" | format version (1) | key source (1: b"M" master key, b"F" backup key file)
    the tar stream, encrypted exactly as an evidence blob (``casefile.evidence.blobs``)

The tar holds ``header.json`` first, then the database parts, then the blobs as stored, then
``manifest.json`` with the SHA-256 of every part before it. The chunk format authenticates
every chunk, its position and the end, so an altered or cut archive fails at the first bad
chunk; the manifest's hashes then tie each part to what the backup read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from casefile.core.crypto import derive_key
from casefile.evidence.blobs import DEFAULT_CHUNK_SIZE, TAG_BYTES, BlobError, decrypt_chunks

MAGIC = b"CFBK"
FORMAT_VERSION = 1
KEY_FROM_MASTER = b"M"
KEY_FROM_FILE = b"F"
PREAMBLE_BYTES = 6
_PURPOSE = "casefile backup archive v1"
_HEADER_BYTES = 10 + 40  # the blob format's fixed header and a wrapped 256-bit key


class ArchiveError(Exception):
    """An archive that cannot be read as written; the message says which part and how."""


def key_from_master(master_key: bytes) -> bytes:
    return derive_key(master_key, _PURPOSE)


def key_from_file(path: Path) -> bytes:
    """The archive key from a backup key file (64 hex characters, like the master key file)."""
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"backup key file {path} cannot be read as 64 hexadecimal characters") from exc
    if len(key) != 32:
        raise ArchiveError(f"backup key file {path} must hold 32 bytes (64 hexadecimal characters)")
    return derive_key(key, _PURPOSE)


def preamble(source: bytes) -> bytes:
    return MAGIC + bytes([FORMAT_VERSION]) + source


def read_preamble(stream: BinaryIO) -> bytes:
    """Check the archive's first bytes; the key source it names comes back."""
    head = stream.read(PREAMBLE_BYTES)
    if len(head) < PREAMBLE_BYTES or head[:4] != MAGIC:
        raise ArchiveError("not a casefile backup archive (the file does not start with its marker)")
    if head[4] != FORMAT_VERSION:
        raise ArchiveError(f"backup archive format {head[4]} is not one this casefile reads")
    if head[5:6] not in (KEY_FROM_MASTER, KEY_FROM_FILE):
        raise ArchiveError("the archive's header is damaged (unknown key source)")
    return head[5:6]


class PlaintextReader:
    """A read-only file object over the decrypted archive, chunk by chunk.

    ``part`` is set by the reader of the tar to the part being read, so that a chunk that
    fails is reported with the part it belongs to.
    """

    def __init__(self, stream: BinaryIO, key: bytes) -> None:
        self._stream = stream
        self._chunks: Iterator[bytes] = decrypt_chunks(stream, key)
        self._count = 0  # chunks that authenticated
        self._buffer = b""
        self._offset = 0
        self._ended = False
        self.part = "the archive header"

    def _fill(self) -> bool:
        if self._ended:
            return False
        try:
            self._buffer = self._buffer[self._offset:] + next(self._chunks)
        except StopIteration:
            self._ended = True
            return False
        except BlobError as error:
            if error.kind == "altered" and self._cut_inside_last_chunk():
                raise ArchiveError(f"truncated archive: it ends inside chunk {self._count}, in {self.part} "
                                   "(or that last chunk was altered)") from error
            raise ArchiveError(describe_blob_error(error, self.part)) from error
        self._count += 1
        self._offset = 0
        return True

    def _cut_inside_last_chunk(self) -> bool:
        """Whether the chunk that failed is the file's last and shorter than a whole one."""
        body = os.fstat(self._stream.fileno()).st_size - PREAMBLE_BYTES - _HEADER_BYTES
        sealed = DEFAULT_CHUNK_SIZE + TAG_BYTES
        return body - self._count * sealed < sealed and body % sealed != 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            pieces = [self._buffer[self._offset:]]
            self._buffer, self._offset = b"", 0
            while self._fill():
                pieces.append(self._buffer)
                self._buffer = b""
            return b"".join(pieces)
        while len(self._buffer) - self._offset < size and self._fill():
            pass
        piece = self._buffer[self._offset : self._offset + size]
        self._offset += len(piece)
        return piece

    def drain(self) -> int:
        """Read to the end (authenticating the final chunk); the bytes left over come back."""
        left = len(self._buffer) - self._offset
        self._buffer, self._offset = b"", 0
        while self._fill():
            left += len(self._buffer)
            self._buffer = b""
        return left


def describe_blob_error(error: BlobError, part: str) -> str:
    if error.kind == "key":
        return ("wrong key: the archive does not open with this key (use the master key of the instance "
                "that wrote it, or the backup key file it was written with)")
    if error.kind == "truncated":
        return f"truncated archive: it ends in {part} ({error})"
    if error.kind == "header":
        return "the archive's encryption header is damaged"
    return f"tampered archive: {part} fails authentication ({error.kind}: {error})"


class HashingReader:
    """Passes reads through and hashes them: the SHA-256 of a part as it leaves the tar."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data
