"""Sealing secret fields with AES-256-GCM under a key derived from the master key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealError(RuntimeError):
    """A sealed value could not be opened: wrong key, or altered bytes."""


def read_master_key(path: Path) -> bytes:
    """The 32-byte master key from its file (64 hex characters)."""
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise SealError(f"master key file {path} is not hex") from exc
    if len(key) != 32:
        raise SealError(f"master key file {path} must hold 32 bytes (64 hex characters)")
    return key


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """A separate 256-bit key per purpose, so one leaked use does not open the others."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master_key)


def field_cipher(master_key: bytes) -> AESGCM:
    """The cipher of sealed fields under ``master_key`` (key rotation holds two at once)."""
    return AESGCM(derive_key(master_key, "casefile field seal v1"))


def _field_cipher() -> AESGCM:
    cipher = current_app.extensions.get("casefile_field_cipher")
    if cipher is None:
        settings = current_app.config["CASEFILE_SETTINGS"]
        cipher = field_cipher(read_master_key(settings.master_key_file))
        current_app.extensions["casefile_field_cipher"] = cipher
    return cipher


def seal(plaintext: bytes, context: str) -> bytes:
    """Encrypt and authenticate; ``context`` binds the value to where it is stored."""
    return seal_with(_field_cipher(), plaintext, context)


def unseal(blob: bytes, context: str) -> bytes:
    """Decrypt a sealed value; raises SealError when it was altered or the key is wrong."""
    return unseal_with(_field_cipher(), blob, context)


def seal_with(cipher: AESGCM, plaintext: bytes, context: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + cipher.encrypt(nonce, plaintext, context.encode())


def unseal_with(cipher: AESGCM, blob: bytes, context: str) -> bytes:
    if not blob or blob[:1] != _VERSION:
        raise SealError("unknown seal format")
    nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return cipher.decrypt(nonce, ciphertext, context.encode())
    except Exception as exc:  # cryptography raises InvalidTag; callers only need "could not open"
        raise SealError("sealed value could not be opened") from exc
