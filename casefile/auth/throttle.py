"""The per-address limit on failed logins (Flask-Limiter): in memory, or in Redis when configured
so that every server process counts together. One limiter per app, so two apps never share counts."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from casefile import audit
from casefile.extensions import db

# The login steps whose failures count against the address.
LIMITED_ENDPOINTS = ("auth.login", "auth.second_factor")
_EXTENSION = "casefile_limiter"


def init_app(app: Flask) -> None:
    """Limit the login steps of ``app`` (call after the blueprints are registered)."""
    limiter = Limiter(key_func=get_remote_address, app=app, default_limits=[])
    app.extensions[_EXTENSION] = limiter
    limit = limiter.shared_limit(_login_limit, scope="login", methods=["POST"], deduct_when=_attempt_failed,
                                 on_breach=_too_many_attempts)
    for endpoint in LIMITED_ENDPOINTS:
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])


def reset(app: Flask) -> None:
    """Forget every count (tests start each case afresh)."""
    app.extensions[_EXTENSION].reset()


def _login_limit() -> str:
    return current_app.config["CASEFILE_SETTINGS"].login_rate_limit


def _attempt_failed(response: Response) -> bool:
    # Only failed attempts count against an address: a login or code that works redirects.
    return response.status_code != 302


def _too_many_attempts(limit: RequestLimit) -> Response:
    audit.record(None, "login.rate_limited", outcome="failure", actor_username="",
                 details={"limit": str(limit.limit), "endpoint": request.endpoint or ""})
    db.session.commit()  # the 429 answer rolls the request back; the event must stay
    page = render_template("errors/error.html", code=429, title=_("Too many attempts"), message=_(
        "Too many failed attempts came from your address. Wait a few minutes before trying again."))
    return Response(page, status=429, headers={"Retry-After": "900"})
