"""The interface language: the account's saved choice, else this browser's, else the browser's
Accept-Language, else English.

A choice made without an account (on the login page) is kept in a cookie of its own rather than
in the session: logging in renews the session, and the choice would be lost at that very step.
Packets are printed in their own language (``casefile.packets.labels``), whatever this one is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import current_app, has_request_context, request
from flask_login import current_user
from werkzeug.wrappers import Response

from casefile import audit
from casefile.app import LOCALES
from casefile.auth.models import User

COOKIE = "casefile_locale"
COOKIE_SECONDS = 365 * 24 * 3600


def select_locale() -> str:
    """The locale of this request, or of a command (``CASEFILE_LANGUAGE``, else ``LANG``, else English)."""
    if not has_request_context():
        return command_locale(os.environ)
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale  # type: ignore[no-any-return]
    chosen = request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen  # type: ignore[return-value]
    return request.accept_languages.best_match(LOCALES) or "en"


def command_locale(environ: Mapping[str, str]) -> str:
    explicit = environ.get("CASEFILE_LANGUAGE", "").strip().lower()
    if explicit in LOCALES:
        return explicit
    # LANG looks like "ru_RU.UTF-8"; "C", "POSIX" and anything unknown mean English.
    from_lang = environ.get("LANG", "").split(".")[0].split("_")[0].lower()
    return from_lang if from_lang in LOCALES else "en"


def choose_locale(actor: User | None, locale: str, response: Response) -> None:
    """Remember ``locale`` in this browser, and on ``actor``'s account when logged in."""
    if locale not in LOCALES:
        raise ValueError(locale)
    response.set_cookie(COOKIE, locale, max_age=COOKIE_SECONDS, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    if actor is not None and actor.locale != locale:
        actor.locale = locale
        audit.record(actor, "user.locale", object_type="user", object_id=actor.id, details={"locale": locale})
