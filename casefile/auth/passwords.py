"""argon2id hashing with explicit parameters, rehashed on login when they change."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# zxcvbn's scale: 4 is "very unguessable: strong protection from offline slow-hash scenario" (10^10 guesses);
# a seized database is in this threat model.
MIN_STRENGTH = 4
# zxcvbn's run time grows with length; beyond this a password is judged by its beginning.
_STRENGTH_PREFIX = 100


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


# Words anyone guessing an account of this organisation tries first.
_FIELD_WORDS = ("casefile", "kazakhstan", "kazakh", "qazaq", "xinjiang", "uyghur", "urumqi", "almaty", "astana",
                "ili", "altay", "tacheng", "camp", "detained", "petition", "justice", "freedom", "atajurt")


def weakness(password: str, user_inputs: list[str]) -> str | None:
    """zxcvbn's warning when the password is too guessable (names, dictionary words, patterns), else None."""
    from zxcvbn import zxcvbn

    words = [word for value in user_inputs for word in value.lower().replace("-", " ").split()]
    result = zxcvbn(password[:_STRENGTH_PREFIX], user_inputs=[*_FIELD_WORDS, *words])
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result.get("feedback") or {}
    return feedback.get("warning") or " ".join(feedback.get("suggestions") or []) or "too easy to guess"
