"""Idle and absolute session timeouts, enforced on the server and audited when they strike."""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from casefile import audit

SEEN = "seen"
STARTED = "started"


def start(now: float | None = None) -> None:
    """Mark a fresh login: both clocks start now."""
    now = time.time() if now is None else now
    session[STARTED] = now
    session[SEEN] = now


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
    logout_user()
    session.clear()
    flash(_("Your session has expired. Log in again."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
