"""The encrypted blob format on real files: round trips, and every kind of damage named, with nothing
unauthenticated let out before the error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from casefile.evidence.blobs import TAG_BYTES, BlobError, BlobWriter, decrypt_chunks

CHUNK = 1024
SEALED = CHUNK + TAG_BYTES
WRAP_KEY = bytes(range(32))


def write_blob(path: Path, plaintext: bytes, wrap_key: bytes = WRAP_KEY, pieces: int = 7) -> int:
    """Write ``plaintext`` in uneven pieces, as a form parser would; the header's length comes back."""
    with open(path, "wb") as out:
        writer = BlobWriter(out, wrap_key, chunk_size=CHUNK)
        step = max(1, len(plaintext) // pieces + 3)
        for start in range(0, len(plaintext), step):
            writer.write(plaintext[start : start + step])
        result = writer.finish()
    assert result.size == len(plaintext)
    return len(writer.header)


def read_until_error(path: Path, wrap_key: bytes = WRAP_KEY) -> tuple[list[bytes], BlobError | None]:
    """Every chunk the reader let out, and the error it stopped at (None when it read to the end)."""
    released: list[bytes] = []
    with open(path, "rb") as stream:
        try:
            for chunk in decrypt_chunks(stream, wrap_key):
                released.append(chunk)
        except BlobError as error:
            return released, error
    return released, None


def chunks_of(path: Path, header: int) -> tuple[bytes, list[bytes]]:
    raw = path.read_bytes()
    body = raw[header:]
    return raw[:header], [body[start : start + SEALED] for start in range(0, len(body), SEALED)]


def damaged(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_a_blob_reads_back_exactly_in_chunk_sized_pieces(tmp_path: Path, size: int) -> None:
    plaintext = os.urandom(size)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    released, error = read_until_error(path)
    assert error is None
    assert b"".join(released) == plaintext
    assert all(len(chunk) == CHUNK for chunk in released[:-1])
    expected_chunks = max(1, -(-size // CHUNK))
    assert len(released) == expected_chunks
    assert path.stat().st_size == header + size + expected_chunks * TAG_BYTES


def test_the_stored_file_never_holds_the_plaintext(tmp_path: Path) -> None:
    marker = "Қайрат Сапарұлы, Құлжа, 2018".encode()
    plaintext = (b"%PDF-1.4\n" + marker + b"\n") * 300  # several chunks, the marker in each
    path = tmp_path / "blob"
    write_blob(path, plaintext)
    raw = path.read_bytes()
    assert marker not in raw and b"%PDF" not in raw and "Құлжа".encode() not in raw
    # Two blobs of the same plaintext share nothing but the fixed part of the header.
    write_blob(tmp_path / "again", plaintext)
    assert raw[:10] == (tmp_path / "again").read_bytes()[:10]
    assert raw[10:] != (tmp_path / "again").read_bytes()[10:]


def test_a_flipped_byte_is_altered_and_only_earlier_chunks_came_out(tmp_path: Path) -> None:
    plaintext = os.urandom(4 * CHUNK + 100)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    raw = bytearray(path.read_bytes())
    raw[header + 2 * SEALED + 333] ^= 0x01
    released, error = read_until_error(damaged(path, bytes(raw)))
    assert error is not None and error.kind == "altered", error
    assert "chunk 2" in str(error)
    assert released == [plaintext[:CHUNK], plaintext[CHUNK : 2 * CHUNK]]


@pytest.mark.parametrize("where", ["first chunk", "tag of the final chunk"])
def test_altered_bytes_anywhere_in_a_chunk_are_caught(tmp_path: Path, where: str) -> None:
    path = tmp_path / "blob"
    header = write_blob(path, os.urandom(2 * CHUNK + 5))
    raw = bytearray(path.read_bytes())
    raw[header if where == "first chunk" else len(raw) - 1] ^= 0x80
    released, error = read_until_error(damaged(path, bytes(raw)))
    assert error is not None and error.kind == "altered"
    assert len(released) == (0 if where == "first chunk" else 2)


@pytest.mark.parametrize("kept_chunks", [1, 2, 3])
def test_a_blob_cut_at_a_chunk_boundary_is_truncated(tmp_path: Path, kept_chunks: int) -> None:
    plaintext = os.urandom(4 * CHUNK)  # four full chunks: the cut leaves only full, non-final ones
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    raw = path.read_bytes()
    released, error = read_until_error(damaged(path, raw[: header + kept_chunks * SEALED]))
    assert error is not None and error.kind == "truncated", error
    # The chunks before the cut are authentic, but the reader cannot know one is the last before
    # it looks further, so the one at the cut is withheld.
    assert b"".join(released) == plaintext[: (kept_chunks - 1) * CHUNK]


@pytest.mark.parametrize(("cut", "authentic_chunks"), [
    ("inside the header", 0), ("right after the header", 0), ("inside the second chunk's first bytes", 1)])
def test_a_blob_cut_short_is_truncated(tmp_path: Path, cut: str, authentic_chunks: int) -> None:
    plaintext = os.urandom(3 * CHUNK)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    raw = path.read_bytes()
    end = {"inside the header": header - 7, "right after the header": header,
           "inside the second chunk's first bytes": header + SEALED + TAG_BYTES - 1}[cut]
    released, error = read_until_error(damaged(path, raw[:end]))
    assert error is not None and error.kind == "truncated", error
    assert b"".join(released) == plaintext[: authentic_chunks * CHUNK]


def test_a_blob_cut_inside_a_chunk_fails_and_releases_nothing_after_the_cut(tmp_path: Path) -> None:
    # From the bytes alone a chunk cut in its middle cannot be told from an altered short final chunk
    # (GCM's tag is at the end); `evidence verify`, which knows the size, must say "truncated".
    plaintext = os.urandom(3 * CHUNK)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    raw = path.read_bytes()
    released, error = read_until_error(damaged(path, raw[: header + SEALED + 500]))
    assert error is not None and error.kind in ("truncated", "altered"), error
    assert released == [plaintext[:CHUNK]]


@pytest.mark.parametrize(("order", "first_bad"), [((1, 0, 2, 3), 0), ((0, 2, 1, 3), 1), ((0, 1, 3, 2), 2)])
def test_swapped_chunks_are_reordered(tmp_path: Path, order: tuple[int, ...], first_bad: int) -> None:
    plaintext = os.urandom(4 * CHUNK)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    head, chunks = chunks_of(path, header)
    released, error = read_until_error(damaged(path, head + b"".join(chunks[i] for i in order)))
    assert error is not None and error.kind == "reordered", error
    assert b"".join(released) == plaintext[: first_bad * CHUNK]


def test_a_dropped_middle_chunk_is_caught(tmp_path: Path) -> None:
    plaintext = os.urandom(4 * CHUNK)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    head, chunks = chunks_of(path, header)
    released, error = read_until_error(damaged(path, head + chunks[0] + chunks[2] + chunks[3]))
    assert error is not None and error.kind == "reordered"
    assert released == [plaintext[:CHUNK]]


@pytest.mark.parametrize("copied", [0, 1, 3])
def test_an_appended_copy_of_a_chunk_is_caught(tmp_path: Path, copied: int) -> None:
    plaintext = os.urandom(3 * CHUNK + 10)
    path = tmp_path / "blob"
    header = write_blob(path, plaintext)
    head, chunks = chunks_of(path, header)
    released, error = read_until_error(damaged(path, path.read_bytes() + chunks[copied]))
    assert error is not None and error.kind in ("reordered", "altered"), error
    assert b"".join(released) == plaintext[: 3 * CHUNK]  # the old final chunk is not final any more


def test_a_chunk_from_another_blob_under_the_same_key_is_caught(tmp_path: Path) -> None:
    plaintext = os.urandom(2 * CHUNK + 1)
    first, second = tmp_path / "first", tmp_path / "second"
    header = write_blob(first, plaintext)
    write_blob(second, plaintext)  # same plaintext, same wrap key, another data key
    head, chunks = chunks_of(first, header)
    _other_head, other_chunks = chunks_of(second, header)
    released, error = read_until_error(damaged(first, head + chunks[0] + other_chunks[1] + chunks[2]))
    assert error is not None and error.kind == "altered"
    assert released == [plaintext[:CHUNK]]


def test_another_wrap_key_is_a_key_error_before_any_byte(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    write_blob(path, os.urandom(2 * CHUNK))
    released, error = read_until_error(path, wrap_key=bytes(32))
    assert error is not None and error.kind == "key", error
    assert released == []


def test_an_altered_wrapped_key_or_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    header = write_blob(path, os.urandom(100))
    raw = path.read_bytes()
    in_wrapped_key = bytearray(raw)
    in_wrapped_key[header - 3] ^= 0x01
    released, error = read_until_error(damaged(tmp_path / "a", bytes(in_wrapped_key)))
    assert error is not None and error.kind == "key" and released == []
    released, error = read_until_error(damaged(tmp_path / "b", b"XXXX" + raw[4:]))
    assert error is not None and error.kind == "header" and released == []


def test_a_writer_refuses_more_bytes_after_finish(tmp_path: Path) -> None:
    with open(tmp_path / "blob", "wb") as out:
        writer = BlobWriter(out, WRAP_KEY, chunk_size=CHUNK)
        writer.write(b"x")
        first = writer.finish()
        assert writer.finish() is first  # finishing twice seals nothing more
        with pytest.raises(ValueError):
            writer.write(b"y")
    released, error = read_until_error(tmp_path / "blob")
    assert error is None and released == [b"x"]
