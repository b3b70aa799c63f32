"""A thin browser-like wrapper over Flask's test client: logs in, carries the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def page_as_seen_by_anyone(response: TestResponse, username: str) -> str:
    """A login page with the typed username and the CSRF tokens (signed with the current second)
    masked: what must not differ between an unknown user, a wrong password and a locked account."""
    page = response.get_data(as_text=True).replace(username, "X")
    return re.sub(r'value="[\w-]+\.[\w-]+\.[\w-]+"', 'value="token"', page)


def csrf_token_in(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class WebSession:
    """One user's browser: cookies persist, forms carry the CSRF token of the session."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def token(self, page: str = "/login") -> str:
        if self._token is None:
            self._token = csrf_token_in(self.client.get(page, follow_redirects=True).get_data(as_text=True))
        return self._token

    def forget_token(self) -> None:
        """The session was renewed: the next form takes the token of the page it comes from."""
        self._token = None

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> TestResponse:
        payload = dict(data or {})
        if csrf:
            payload.setdefault("csrf_token", self.token())
        return self.client.post(url, data=payload, **kwargs)

    def login(self, username: str, password: str) -> TestResponse:
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, f"login of {username} failed"
        self._token = None  # the session was renewed at login
        self.token("/")
        return response


def route_url(rule: str, reference: str = "KZ-2025-00001", **ids: object) -> str:
    """A concrete URL for a URL-map rule: the case reference, and ``ids`` (or 1) for integer parts."""
    url = rule.replace("<reference>", reference)
    return re.sub(r"<int:(\w+)>", lambda match: str(ids.get(match.group(1), 1)), url)
