"""The second factor: TOTP codes (RFC 6238, via pyotp) and single-use recovery codes.

The secret is sealed under a key derived from the master key, so a copy of the database alone
does not yield it. A time step once accepted is never accepted again, so a code seen over a
shoulder or in a proxy log cannot be replayed. Recovery codes carry 80 random bits each; only
their SHA-256 is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from casefile.auth.models import RecoveryCode, User
from casefile.core.crypto import seal, unseal
from casefile.db import utcnow
from casefile.extensions import db

ISSUER = "casefile"
STEP_SECONDS = 30
# One step either side absorbs a phone clock that is half a minute off.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as text and as a QR code."""

    secret: str
    uri: str
    qr_data_uri: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _context(user: User, kind: str) -> str:
    return f"user:{user.id}:totp:{kind}"


def _secret(user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return unseal(user.totp_secret_sealed, _context(user, "secret")).decode()


def pending_enrolment(user: User) -> Enrolment:
    """The secret being enrolled (made on first call and kept, so reloading shows the same code)."""
    if user.totp_pending_sealed is None:
        user.totp_pending_sealed = seal(pyotp.random_base32(32).encode(), _context(user, "pending"))
        db.session.flush()
    secret = unseal(user.totp_pending_sealed, _context(user, "pending")).decode()
    organisation = current_app.config["CASEFILE_SETTINGS"].organisation_name or ISSUER
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=organisation)
    # Rendered here as SVG: the secret never leaves the server for a QR service.
    return Enrolment(secret=secret, uri=uri, qr_data_uri=segno.make(uri, error="m").svg_data_uri(scale=5))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code this is, within the window, or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def confirm_enrolment(user: User, code: str, now: float | None = None) -> list[str] | None:
    """Turn the pending secret on when ``code`` matches it; returns new recovery codes, or None."""
    if user.totp_pending_sealed is None:
        return None
    secret = unseal(user.totp_pending_sealed, _context(user, "pending")).decode()
    step = _matching_step(secret, normalise_code(code), time.time() if now is None else now)
    if step is None:
        return None
    user.totp_secret_sealed = seal(secret.encode(), _context(user, "secret"))
    user.totp_pending_sealed = None
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    return new_recovery_codes(user)


def verify(user: User, code: str, now: float | None = None) -> str | None:
    """Check a second-factor code: ``"totp"`` or ``"recovery_code"`` when accepted, else None.

    A TOTP step at or before the last one accepted is refused (no replay); a recovery code is
    spent when used.
    """
    secret = _secret(user)
    if secret is None:
        return None
    entered = normalise_code(code)
    step = _matching_step(secret, entered, time.time() if now is None else now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None
        user.totp_last_step = step
        return "totp"
    if len(entered) == 16:
        row = db.session.scalar(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(entered),
            RecoveryCode.used_at.is_(None)))
        if row is not None:
            row.used_at = utcnow()
            return "recovery_code"
    return None


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten fresh ones, returned once for display."""
    for row in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(row)
    db.session.flush()
    codes = [base64.b32encode(secrets.token_bytes(10)).decode() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    db.session.flush()
    return [format_code(code) for code in codes]


def unused_recovery_codes(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def remove(user: User) -> None:
    """Forget the second factor and its recovery codes."""
    user.totp_secret_sealed = None
    user.totp_pending_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    for row in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(row)


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
