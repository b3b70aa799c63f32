"""One transaction per request, security headers, error pages, the audit client address."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from casefile import access, audit
from casefile.auth import guards, sessions
from casefile.extensions import db

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

# No page of casefile needs any of these browser features.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "bluetooth", "camera", "display-capture", "fullscreen", "geolocation",
    "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
    "screen-wake-lock", "serial", "usb", "xr-spatial-tracking"))


def _remember_client() -> None:
    audit.set_client(request.remote_addr or "")


def _finish_transaction(response: Response) -> Response:
    # Commit only what a successful request did; a refused one changes nothing.
    if response.status_code < 400:
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    else:
        db.session.rollback()
    return response


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["CASEFILE_SETTINGS"].https:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint != "static":
        # Pages may show case content: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
    return response


def _error_page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register(app: Flask) -> None:
    """Install the request lifecycle on the app."""
    app.before_request(_remember_client)
    app.before_request(sessions.enforce_timeouts)
    app.before_request(access.enforce_route_policy)
    app.before_request(guards.require_second_factor)
    app.before_request(guards.require_recent_auth)
    app.after_request(_finish_transaction)
    app.after_request(_security_headers)

    @app.teardown_request
    def _rollback_on_error(error: BaseException | None) -> None:
        if error is not None:
            db.session.rollback()

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        return _error_page(400, _("Form expired"),
                           _("The form was missing its security token or it expired. Nothing was saved. "
                             "Go back, reload the page and try again."))

    @app.errorhandler(OperationalError)
    def _database_down(_error: OperationalError) -> tuple[str, int]:
        db.session.rollback()
        app.logger.error("database unavailable")
        return _error_page(503, _("Unavailable"), _("The database does not answer. Try again in a minute."))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        if error.response is not None:  # a page made for this refusal (the login rate limit's)
            return error.response  # type: ignore[return-value]
        titles = {400: _("Bad request"), 404: _("Not found"), 405: _("Not allowed"), 413: _("Too large"),
                  429: _("Too many attempts")}
        messages = {
            400: _("The request could not be understood. Nothing was saved."),
            404: _("There is nothing here, or you may not see it."),
            405: _("This address does not take that kind of request."),
            413: _("The upload is larger than this server accepts."),
            429: _("Too many attempts. Wait a few minutes before trying again."),
        }
        return _error_page(error.code, titles.get(error.code, _("Error")),
                           messages.get(error.code, _("The request could not be completed.")))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.endpoint)
        return _error_page(500, _("Something went wrong"),
                           _("The request failed and nothing was saved. The error was logged."))
