"""An app with the production default: coordinators, auditors and admins must use a second factor."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
import pytest
from flask import Flask

from tests.conftest import make_app
from tests.helpers import WebSession

SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')
RECOVERY_CODE = re.compile(r"<li><code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code></li>")


@pytest.fixture
def strict_app(app: Flask, database_url: str, tmp_path: Path) -> Flask:
    """Second factor required by role, on the test database (emptied after the test by ``app``)."""
    return make_app(tmp_path, database_url, env={"CASEFILE_TOTP_REQUIRED_ROLES": "coordinator,auditor,admin"})


def enrol(web: WebSession) -> tuple[str, list[str]]:
    """Set up an authenticator app through the enrolment page; returns the secret and the recovery codes."""
    page = web.get("/account/two-factor")
    assert page.status_code == 200, page.status_code
    secret = SECRET.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    done = web.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)
    return secret, RECOVERY_CODE.findall(done.get_data(as_text=True))


def next_code(secret: str) -> str:
    """The code of the next time step: one step ahead is accepted, and it was not used yet."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def password_step(web: WebSession, username: str, password: str) -> str:
    response = web.post("/login", {"username": username, "password": password})
    assert response.status_code == 302
    web.forget_token()  # the session was renewed after the password
    return response.headers["Location"]
