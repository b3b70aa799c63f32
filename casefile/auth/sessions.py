"""Session clocks: idle and absolute timeouts (enforced on the server and audited when they
strike), the time of the last password confirmation, and a login waiting for its second factor."""

from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import update
from werkzeug.wrappers import Response

from casefile import audit
from casefile.auth.models import LoginSession
from casefile.db import utcnow
from casefile.extensions import db

SEEN = "seen"
STARTED = "started"
AUTHENTICATED_AT = "auth_at"
SESSION_ID = "sid"
PENDING = "pending_login"
# How long the second-factor page waits after a correct password.
PENDING_SECONDS = 300


def start(user_id: int, client_addr: str, now: float | None = None) -> None:
    """Mark a fresh login: a new session id (recorded, so logging out ends it), every clock starts now."""
    now = time.time() if now is None else now
    session_id = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id_hash=_digest(session_id), user_id=user_id, client_addr=client_addr[:64]))
    session[SESSION_ID] = session_id
    session[STARTED] = now
    session[SEEN] = now
    session[AUTHENTICATED_AT] = now


def end(user_id: int | None = None) -> None:
    """End this session's row, or with ``user_id`` every open session of that user."""
    query = update(LoginSession).where(LoginSession.ended_at.is_(None))
    if user_id is not None:
        query = query.where(LoginSession.user_id == user_id)
    else:
        session_id = session.get(SESSION_ID)
        if not isinstance(session_id, str):
            return
        query = query.where(LoginSession.id_hash == _digest(session_id))
    db.session.execute(query.values(ended_at=utcnow()))


def is_open(user_id: int) -> bool:
    """Whether the cookie's session id names an open session of this user."""
    session_id = session.get(SESSION_ID)
    if not isinstance(session_id, str):
        return False
    row = db.session.get(LoginSession, _digest(session_id))
    return row is not None and row.user_id == user_id and row.ended_at is None


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def confirm_recent(now: float | None = None) -> None:
    """The password (and second factor) were just given again."""
    session[AUTHENTICATED_AT] = time.time() if now is None else now


def is_recent() -> bool:
    window = current_app.config["CASEFILE_SETTINGS"].reauth_window.total_seconds()
    return time.time() - float(session.get(AUTHENTICATED_AT, 0.0)) <= window


def hold_for_second_factor(user_id: int, session_version: int, next_url: str | None) -> None:
    """A correct password for an account with TOTP: remember who, until the code arrives."""
    session.clear()
    session[PENDING] = {"user": user_id, "version": session_version, "at": time.time(), "next": next_url}


def pending_login() -> dict[str, object] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


def enforce_timeouts() -> Response | None:
    """Before each request: end a session idle or alive for too long, record why, go to login."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    idle = current_app.config["CASEFILE_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["CASEFILE_SESSION_MAX_AGE"].total_seconds()
    seen, started = session.get(SEEN, 0.0), session.get(STARTED, 0.0)
    reason = "idle" if now - seen > idle else "absolute" if now - started > absolute else None
    if reason is None:
        session[SEEN] = now
        return None
    user = current_user._get_current_object()
    audit.record(user, "session.expired", object_type="user", object_id=user.id, details={"reason": reason})
    end()
    logout_user()
    session.clear()
    flash(_("Your session has expired. Log in again."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
