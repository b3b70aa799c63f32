"""Where evidence bytes live: a content-addressed store behind a small interface.

The address of a blob is an HMAC of the SHA-256 of its plaintext under a key derived from
the master key: equal files share one blob, and someone who reads the store's directory
cannot test whether a known (for instance, published) file is in it. ``BlobStore`` is what
the rest of casefile uses; ``FilesystemStore`` keeps blobs in the instance folder, and an
object store (S3-compatible) can implement the same methods later.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from casefile.core.crypto import derive_key
from casefile.evidence.blobs import DEFAULT_CHUNK_SIZE, BlobError, BlobWriter, WrittenBlob, decrypt_chunks

_KEYCHECK_NAME = "KEYCHECK"
ROTATION_JOURNAL = "ROTATING"  # present while a master key rotation is unfinished (casefile.core.keys)
# Set only by ``casefile keys rotate``, which must open an instance whose rotation it finishes.
rotation_in_progress_allowed: ContextVar[bool] = ContextVar("casefile_rotation_allowed", default=False)
_KEYCHECK_PLAINTEXT = b"casefile evidence store key check v1"


class BlobMissing(Exception):
    """No blob is stored at an address."""


@dataclass(frozen=True)
class EvidenceKeys:
    """The two keys the store derives from the master key; neither is ever stored."""

    wrap: bytes
    address: bytes

    @classmethod
    def from_master(cls, master_key: bytes) -> EvidenceKeys:
        return cls(
            wrap=derive_key(master_key, "casefile evidence key wrap v1"),
            address=derive_key(master_key, "casefile evidence address v1"),
        )

    def address_of(self, sha256_hex: str) -> str:
        return hmac.new(self.address, bytes.fromhex(sha256_hex), hashlib.sha256).hexdigest()


class PendingBlob:
    """An upload being encrypted into a temporary object; promoted to an address or discarded.

    It is a writable file object, so the form parser streams an upload straight into it.
    """

    def __init__(self, path: Path, keys: EvidenceKeys, chunk_size: int) -> None:
        self.path = path
        self._wrap_key = keys.wrap
        self._file = open(path, "xb")  # noqa: SIM115 - closed by finish() or discard()
        self._writer = BlobWriter(self._file, keys.wrap, chunk_size)
        self.promoted = False

    # The file-object surface the multipart parser and FileStorage use.
    def write(self, data: bytes) -> int:
        return self._writer.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0  # the parser rewinds a finished part; there is nothing to rewind to

    def tell(self) -> int:
        return 0

    def read(self, size: int = -1) -> bytes:
        raise OSError("an encrypted upload cannot be read back as plaintext")

    def close(self) -> None:
        self.discard()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def finish(self) -> WrittenBlob:
        """Seal the last chunk, flush and fsync; the plaintext's SHA-256, size and head."""
        result = self._writer.finish()
        if not self._file.closed:
            self._file.close()
        return result

    def open_plaintext(self) -> Iterator[bytes]:
        """Decrypt the finished temporary blob (for a preview, before promotion)."""
        with open(self.path, "rb") as stream:
            yield from decrypt_chunks(stream, self._wrap_key)

    def discard(self) -> None:
        """Remove the temporary object unless it became a blob; safe to call twice."""
        if not self._file.closed:
            self._file.close()
        if not self.promoted:
            self.path.unlink(missing_ok=True)


class BlobStore(Protocol):
    """What casefile needs of a blob store."""

    keys: EvidenceKeys

    def pending(self) -> PendingBlob: ...
    def promote(self, pending: PendingBlob, address: str) -> bool: ...
    def open(self, address: str) -> BinaryIO: ...
    def exists(self, address: str) -> bool: ...
    def delete(self, address: str) -> bool: ...
    def addresses(self) -> Iterator[tuple[str, float]]: ...
    def stale_pending(self, older_than_seconds: float) -> Iterator[Path]: ...
    def size(self, address: str) -> int: ...
    def check_key(self) -> None: ...


class FilesystemStore:
    """Blobs as files under ``root/blobs/ab/<address>``; uploads are written in ``root/tmp``.

    Promotion is a rename inside one file system, after an fsync of the file, followed by an
    fsync of the directory, so a blob is either whole at its address or not there at all.
    """

    def __init__(self, root: Path, keys: EvidenceKeys, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.root = root
        self.keys = keys
        self.chunk_size = chunk_size
        self._blobs = root / "blobs"
        self._tmp = root / "tmp"

    def ensure(self) -> None:
        for folder in (self.root, self._blobs, self._tmp):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, address: str) -> Path:
        if not _is_address(address):
            raise ValueError("not a blob address")
        return self._blobs / address[:2] / address

    def pending(self) -> PendingBlob:
        self.ensure()
        return PendingBlob(self._tmp / f"{secrets.token_hex(16)}.part", self.keys, self.chunk_size)

    def promote(self, pending: PendingBlob, address: str) -> bool:
        """Move a finished upload to its address. False when that blob was already stored."""
        pending.finish()
        target = self._path(address)
        if target.exists():
            pending.discard()
            os.utime(target)  # fresh again: a sweep's grace period now covers this upload too
            return False
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.replace(pending.path, target)
        pending.promoted = True
        _fsync_directory(target.parent)
        return True

    def path(self, address: str) -> Path:
        """Where the blob at ``address`` lives (backups and key rotation work on the files)."""
        return self._path(address)

    def install(self, source: Path, address: str) -> bool:
        """Move a finished, fsynced encrypted file to ``address``; False when one is already there."""
        target = self._path(address)
        if target.exists():
            source.unlink()
            return False
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.replace(source, target)
        _fsync_directory(target.parent)
        return True

    def temporary(self, suffix: str) -> Path:
        """A fresh path in the store's temporary folder (same file system as the blobs)."""
        self.ensure()
        return self._tmp / f"{secrets.token_hex(16)}{suffix}"

    def open(self, address: str) -> BinaryIO:
        try:
            return open(self._path(address), "rb")
        except FileNotFoundError as exc:
            raise BlobMissing(address) from exc

    def exists(self, address: str) -> bool:
        return self._path(address).exists()

    def size(self, address: str) -> int:
        try:
            return self._path(address).stat().st_size
        except FileNotFoundError as exc:
            raise BlobMissing(address) from exc

    def delete(self, address: str) -> bool:
        path = self._path(address)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_directory(path.parent)
        return True

    def addresses(self) -> Iterator[tuple[str, float]]:
        """Every stored blob with its modification time."""
        if not self._blobs.exists():
            return
        for folder in sorted(self._blobs.iterdir()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.is_file() and _is_address(path.name):
                    yield path.name, path.stat().st_mtime

    def stale_pending(self, older_than_seconds: float) -> Iterator[Path]:
        """Temporary uploads left by a crash, older than the given age."""
        if not self._tmp.exists():
            return
        limit = time.time() - older_than_seconds
        for path in sorted(self._tmp.iterdir()):
            if path.stat().st_mtime < limit:
                yield path

    # The key check: proves at start-up that the master key is the one the store was written with.
    def check_key(self) -> None:
        """Raise BlobError when the store was written under another master key.

        A store without a key check (a new instance) gets one.
        """
        self.ensure()
        if (self.root / ROTATION_JOURNAL).exists():
            if rotation_in_progress_allowed.get():
                return
            raise BlobError("rotating", "a master key rotation was interrupted; finish it with "
                                        "`casefile keys rotate` before starting casefile")
        path = self.root / _KEYCHECK_NAME
        if not path.exists():
            self.write_key_check(self.keys)
            return
        with open(path, "rb") as stream:
            plaintext = b"".join(decrypt_chunks(stream, self.keys.wrap))
        if plaintext != _KEYCHECK_PLAINTEXT:
            raise BlobError("key", "the key check holds unexpected content")

    def write_key_check(self, keys: EvidenceKeys) -> None:
        """(Re)write the key check under ``keys``, atomically."""
        path = self.root / _KEYCHECK_NAME
        temporary = path.with_suffix(".part")
        with open(temporary, "wb") as out:
            writer = BlobWriter(out, keys.wrap, self.chunk_size)
            writer.write(_KEYCHECK_PLAINTEXT)
            writer.finish()
        os.replace(temporary, path)
        _fsync_directory(self.root)


def has_key_check(root: Path) -> bool:
    """Whether an evidence store was ever written at ``root`` (so a new master key would be wrong)."""
    blobs = root / "blobs"
    return (root / _KEYCHECK_NAME).exists() or (blobs.is_dir() and any(blobs.iterdir()))


def _is_address(name: str) -> bool:
    return len(name) == 64 and all(char in "0123456789abcdef" for char in name)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
