"""argon2id hashing with explicit parameters, rehashed on login when they change."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    """The hasher configured for this app (tests configure a cheap one)."""
    settings = current_app.config["CASEFILE_SETTINGS"]
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches. With no hash, spend the same time and say no."""
    ph = hasher()
    try:
        return ph.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def _dummy_hash() -> str:
    # Hash of a random string under the current parameters, so an unknown user costs the same.
    settings = current_app.config["CASEFILE_SETTINGS"]
    return _dummy_for(settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism)


@lru_cache(maxsize=8)
def _dummy_for(time_cost: int, memory_cost: int, parallelism: int) -> str:
    import secrets

    return _hasher(time_cost, memory_cost, parallelism).hash(secrets.token_hex(16))
