"""Logging in and out, idle timeout, deactivation and password reset ending sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.extensions import db
from tests.helpers import WebSession, page_as_seen_by_anyone


def _events(action: str) -> list[AuditEvent]:
    db.session.rollback()  # a new snapshot: see what requests committed
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_login_page_is_public_and_everything_else_redirects(web: WebSession) -> None:
    assert web.get("/login").status_code == 200
    response = web.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_and_logout(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    web.login(user.username, factory.password)
    assert web.get("/cases").status_code == 200
    response = web.post("/logout")
    assert response.status_code == 302
    assert web.get("/cases").status_code == 302
    assert [e.actor_username for e in _events("login.success")] == [user.username]
    assert len(_events("logout")) == 1


def test_unknown_user_and_wrong_password_get_the_same_answer(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    wrong = web.post("/login", {"username": user.username, "password": "not the password at all"})
    unknown = web.post("/login", {"username": "nobody-here", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 200
    assert "Login failed." in wrong.get_data(as_text=True)
    assert page_as_seen_by_anyone(wrong, user.username) == page_as_seen_by_anyone(unknown, "nobody-here")
    failures = _events("login.failure")
    assert {e.details for e in failures} == {
        f'{{"reason":"wrong password","username":"{user.username}"}}',
        '{"reason":"unknown user","username":"nobody-here"}',
    }


def test_logout_needs_post_and_csrf(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    web.login(user.username, factory.password)
    assert web.get("/logout").status_code == 405
    assert web.post("/logout", csrf=False).status_code == 400
    assert web.get("/cases").status_code == 200


def test_session_cookie_flags(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    response = web.post("/login", {"username": user.username, "password": factory.password})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize(("setting", "reason"), [("CASEFILE_IDLE_TIMEOUT", "idle"),
                                                ("CASEFILE_SESSION_MAX_AGE", "absolute")])
def test_timeouts_end_the_session_and_are_recorded(app, web, factory, setting, reason) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    web.login(user.username, factory.password)
    assert web.get("/cases").status_code == 200
    original = app.config[setting]
    try:
        app.config[setting] = timedelta(seconds=-1)  # every session is already too old
        response = web.get("/cases")
    finally:
        app.config[setting] = original
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert web.get("/cases").status_code == 302  # and it stays ended
    expired = _events("session.expired")
    assert [(e.actor_username, e.details) for e in expired] == [(user.username, f'{{"reason":"{reason}"}}')]


def test_deactivation_ends_the_session_at_once(login, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user("admin")
    advocate = factory.user("advocate")
    advocate_web = login(advocate)
    assert advocate_web.get("/cases").status_code == 200
    admin_web = login(admin)
    assert admin_web.post(f"/admin/users/{advocate.id}/active").status_code == 302
    assert advocate_web.get("/cases").status_code == 302
    relogin = advocate_web.post("/login", {"username": advocate.username, "password": factory.password})
    assert "Login failed." in relogin.get_data(as_text=True)


def test_password_reset_ends_sessions_and_sets_the_new_password(login, factory, web) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user("admin")
    advocate = factory.user("advocate")
    advocate_web = login(advocate)
    admin_web = login(admin)
    new = "a brand new long passphrase"
    response = admin_web.post(f"/admin/users/{advocate.id}/password", {"password": new, "confirm": new})
    assert response.status_code == 302
    assert advocate_web.get("/cases").status_code == 302
    web.login(advocate.username, new)
    assert web.get("/cases").status_code == 200


def test_open_redirect_is_refused(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    response = web.post("/login?next=//evil.example/x", {"username": user.username, "password": factory.password})
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    response = web.post("/login?next=/cases/new", {"username": user.username, "password": factory.password})
    assert response.headers["Location"] == "/cases/new"


def test_argon2_parameters_are_upgraded_at_the_next_login(app, database_url, tmp_path, factory) -> None:  # type: ignore[no-untyped-def]
    from argon2 import extract_parameters

    from casefile.app import create_app
    from casefile.auth.models import User
    from casefile.config import load_settings

    user = factory.user("advocate")
    before = extract_parameters(user.password_hash)
    stronger = load_settings({"CASEFILE_INSTANCE": str(tmp_path), "CASEFILE_DATABASE_URL": database_url,
                              "CASEFILE_TOTP_REQUIRED_ROLES": ""},
                             argon2_time_cost=before.time_cost + 1, argon2_memory_cost=before.memory_cost * 2,
                             argon2_parallelism=1)
    upgraded = create_app(stronger, TESTING=True)
    WebSession(upgraded.test_client()).login(user.username, factory.password)
    db.session.rollback()
    after = extract_parameters(db.session.get(User, user.id).password_hash)
    assert (after.time_cost, after.memory_cost) == (before.time_cost + 1, before.memory_cost * 2)
    WebSession(upgraded.test_client()).login(user.username, factory.password)  # the new hash verifies

