"""The encrypted blob format: AES-256-GCM in chunks, one fresh data key per blob.

Layout (version 2)::

    header  = fixed | wrapped key
    fixed   = b"CFEV" | version (1) | chunk size (4, big-endian) | wrapped key length (1)
    chunk i = AES-GCM(data key, nonce = i as 11 bytes big-endian | final flag (1), chunk, aad = fixed)

Version 1 (blobs written before key rotation existed) used the whole header, wrapped key
included, as the chunks' associated data; it is still read. Version 2 leaves the wrapped key
out of it, so a new master key re-wraps the data key in the header without re-encrypting the
content (``casefile.core.keys``); a wrapped key from another blob unwraps to a key under which no
chunk authenticates, so nothing is lost by not binding it.

Every chunk holds ``chunk size`` plaintext bytes except the last (which may hold fewer, and
is the only one sealed with the final flag). The data key is wrapped with RFC 3394 AES key
wrap under a key derived from the master key. The nonce binds each chunk to its position
and the final flag to the end, so an altered, reordered, dropped or appended chunk fails
authentication, and a blob cut at a chunk boundary fails on its last chunk. This is the
STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár (2015).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

MAGIC = b"CFEV"
VERSION = 2
READABLE_VERSIONS = (1, 2)
TAG_BYTES = 16
DEFAULT_CHUNK_SIZE = 1024 * 1024
HEAD_BYTES = 64 * 1024  # what the type sniffer sees of the plaintext
_FIXED = struct.Struct(">4sBIB")


class BlobError(Exception):
    """A stored blob cannot be read back as it was written; ``kind`` says how."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def encrypted_size(plain_size: int, chunk_size: int, header_size: int) -> int:
    """The size on disk of a blob holding ``plain_size`` bytes."""
    chunks = max(1, -(-plain_size // chunk_size))
    return header_size + plain_size + chunks * TAG_BYTES


@dataclass(frozen=True)
class WrittenBlob:
    """What a finished writer knows about the plaintext it encrypted."""

    sha256: str
    size: int
    head: bytes


class BlobWriter:
    """A writable file object that hashes and encrypts what is written, chunk by chunk.

    Memory stays at about one chunk whatever the size of the file.
    """

    def __init__(self, out: BinaryIO, wrap_key: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = aes_key_wrap(wrap_key, data_key)
        fixed = _FIXED.pack(MAGIC, VERSION, chunk_size, len(wrapped))
        self.header = fixed + wrapped
        self._aad = fixed
        self._aead = AESGCM(data_key)
        self._out = out
        self._chunk_size = chunk_size
        # One preallocated chunk, filled in place: no reallocation or copy per write.
        self._buffer = bytearray(chunk_size)
        self._fill = 0
        self._index = 0
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = bytearray()
        self.result: WrittenBlob | None = None
        out.write(self.header)

    def write(self, data: bytes) -> int:
        if self.result is not None:
            raise ValueError("blob already finished")
        self._hash.update(data)
        self._size += len(data)
        if len(self._head) < HEAD_BYTES:
            self._head += data[: HEAD_BYTES - len(self._head)]
        pending = memoryview(data)
        while pending:
            # A full chunk is sealed only when more bytes arrive: finish() seals the final one.
            if self._fill == self._chunk_size:
                self._seal(memoryview(self._buffer), final=False)
                self._fill = 0
            taken = min(len(pending), self._chunk_size - self._fill)
            self._buffer[self._fill : self._fill + taken] = pending[:taken]
            self._fill += taken
            pending = pending[taken:]
        return len(data)

    def _seal(self, plaintext: memoryview, final: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._index, final), plaintext, self._aad))
        self._index += 1

    def finish(self) -> WrittenBlob:
        """Seal the final chunk and flush to disk; the plaintext facts come back."""
        if self.result is None:
            self._seal(memoryview(self._buffer)[: self._fill], final=True)
            self._buffer = bytearray()
            self._fill = 0
            self._out.flush()
            os.fsync(self._out.fileno())
            self.result = WrittenBlob(self._hash.hexdigest(), self._size, bytes(self._head))
        return self.result


def read_header(stream: BinaryIO, wrap_key: bytes) -> tuple[bytes, AESGCM, int]:
    """Parse the header and unwrap the data key: (header bytes, cipher, chunk size)."""
    header, _aad, aead, chunk_size = _read_header(stream, wrap_key)
    return header, aead, chunk_size


def split_header(stream: BinaryIO) -> tuple[int, bytes, bytes]:
    """The header's (version, fixed part, wrapped key), read from the start of ``stream``."""
    fixed = stream.read(_FIXED.size)
    if len(fixed) < _FIXED.size:
        raise BlobError("truncated", "the blob is shorter than its header")
    magic, version, chunk_size, wrapped_len = _FIXED.unpack(fixed)
    if magic != MAGIC or version not in READABLE_VERSIONS or not 0 < chunk_size <= 64 * 1024 * 1024:
        raise BlobError("header", "the blob header is not a casefile evidence header")
    wrapped = stream.read(wrapped_len)
    if len(wrapped) < wrapped_len:
        raise BlobError("truncated", "the blob is shorter than its header")
    return version, fixed, wrapped


def unwrap(wrap_key: bytes, wrapped: bytes) -> bytes:
    try:
        return aes_key_unwrap(wrap_key, wrapped)
    except InvalidUnwrap as exc:
        raise BlobError("key", "the data key does not unwrap: wrong master key or an altered header") from exc


def _read_header(stream: BinaryIO, wrap_key: bytes) -> tuple[bytes, bytes, AESGCM, int]:
    version, fixed, wrapped = split_header(stream)
    chunk_size = _FIXED.unpack(fixed)[2]
    aad = fixed + wrapped if version == 1 else fixed
    return fixed + wrapped, aad, AESGCM(unwrap(wrap_key, wrapped)), chunk_size


def decrypt_chunks(stream: BinaryIO, wrap_key: bytes) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise BlobError at the first chunk that fails.

    Nothing unauthenticated is ever yielded: each chunk is checked before it leaves.
    """
    _header, header, aead, chunk_size = _read_header(stream, wrap_key)  # ``header``: the chunks' aad
    sealed_size = chunk_size + TAG_BYTES
    index = 0
    current = stream.read(sealed_size)
    while True:
        following = stream.read(sealed_size)
        final = not following
        try:
            yield aead.decrypt(_nonce(index, final), current, header)
        except InvalidTag as exc:
            raise _diagnose(aead, header, current, index, final, len(current) < TAG_BYTES) from exc
        if final:
            return
        current = following
        index += 1


def _diagnose(aead: AESGCM, header: bytes, sealed: bytes, index: int, final: bool, short: bool) -> BlobError:
    """Name what went wrong with a chunk that failed authentication."""
    if short:
        return BlobError("truncated", f"the blob ends inside chunk {index}")
    if final and _opens(aead, header, sealed, index, final=False):
        return BlobError("truncated", f"the blob ends after chunk {index}; its final chunk is missing")
    # A chunk sealed for another position means the chunks were reordered (or one spliced in).
    if not final and _opens(aead, header, sealed, index, final=True):
        return BlobError("appended", f"bytes follow the final chunk {index}")
    for other in range(max(0, index - 64), index + 65):
        for flag in (False, True):
            if other != index and _opens(aead, header, sealed, other, flag):
                return BlobError("reordered", f"chunk {other} is stored at position {index} "
                                              "(chunks were reordered or dropped)")
    return BlobError("altered", f"chunk {index} fails authentication: its bytes were altered")


def _opens(aead: AESGCM, header: bytes, sealed: bytes, index: int, final: bool) -> bool:
    try:
        aead.decrypt(_nonce(index, final), sealed, header)
    except InvalidTag:
        return False
    return True
