"""Ten failures in fifteen minutes lock an account; an address that keeps failing is slowed down."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casefile.audit.models import AuditEvent
from casefile.auth.models import User
from casefile.db import utcnow
from casefile.extensions import db
from tests.auth.conftest import enrol, password_step
from tests.conftest import make_app
from tests.helpers import WebSession, page_as_seen_by_anyone

WRONG = "not the password at all"


def _events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _fail(web: WebSession, username: str, times: int) -> None:
    for _ in range(times):
        assert "Login failed." in web.post("/login", {"username": username, "password": WRONG}).get_data(as_text=True)


def test_ten_failures_lock_the_account_with_the_same_message(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    _fail(web, user.username, 9)
    assert WebSession(web.client.application.test_client()).login(user.username, factory.password)  # 9: still open
    _fail(web, user.username, 10)
    locked = web.post("/login", {"username": user.username, "password": factory.password})
    unknown = web.post("/login", {"username": "nobody-here", "password": factory.password})
    assert locked.status_code == unknown.status_code == 200
    # A lock is not announced to whoever is guessing.
    assert page_as_seen_by_anyone(locked, user.username) == page_as_seen_by_anyone(unknown, "nobody-here")
    lock = _events("account.locked")
    assert len(lock) == 1 and json.loads(lock[0].details)["failures"] == 10
    assert json.loads(_events("login.failure")[-2].details)["reason"] == "locked"


def test_the_lock_runs_out_and_an_admin_can_lift_it(web, factory, login) -> None:  # type: ignore[no-untyped-def]
    user, admin = factory.user("advocate"), factory.user("admin")
    _fail(web, user.username, 10)
    db.session.rollback()
    db.session.execute(update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert login(user).get("/cases").status_code == 200  # fifteen minutes later

    _fail(web, user.username, 10)
    page = login(admin)
    assert "locked until" in page.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert page.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert login(user).get("/cases").status_code == 200
    assert [e.actor_username for e in _events("account.unlock")] == [admin.username]


def test_failures_older_than_the_window_do_not_count(web, factory, login) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    _fail(web, user.username, 9)
    db.session.rollback()
    old = (utcnow() - timedelta(minutes=16)).isoformat()
    db.session.execute(update(User).where(User.id == user.id).values(recent_failures=[old] * 9))
    db.session.commit()
    _fail(web, user.username, 1)
    assert login(user).get("/cases").status_code == 200
    assert _events("account.locked") == []


def test_wrong_second_factor_codes_count_toward_the_lock(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    web = WebSession(strict_app.test_client())
    web.login(coordinator.username, factory.password)
    enrol(web)
    guesser = WebSession(strict_app.test_client())
    for _ in range(10):
        password_step(guesser, coordinator.username, factory.password)
        guesser.post("/login/code", {"code": "000000"})
    assert len(_events("account.locked")) == 1
    refused = guesser.post("/login", {"username": coordinator.username, "password": factory.password})
    assert refused.status_code == 200 and "Login failed." in refused.get_data(as_text=True)


@pytest.fixture
def limited_app(app, database_url, tmp_path):  # type: ignore[no-untyped-def]
    return make_app(tmp_path, database_url, env={"CASEFILE_LOGIN_RATE_LIMIT": "3 per 15 minutes"})


def test_an_address_that_keeps_failing_is_refused_for_a_while(limited_app, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    web = WebSession(limited_app.test_client())
    for _ in range(5):  # logins that work do not count
        web.login(user.username, factory.password)
        web.post("/logout")
        web.forget_token()
    for name in ("someone", "someone-else", user.username):
        assert web.post("/login", {"username": name, "password": WRONG}).status_code == 200
    refused = web.post("/login", {"username": user.username, "password": factory.password})
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "900"
    assert len(_events("login.rate_limited")) == 1
    assert [json.loads(e.details)["reason"] for e in _events("login.failure")] == ["unknown user"] * 2 + [
        "wrong password"]


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server on 127.0.0.1:6379")
def test_with_redis_the_workers_share_the_count(app, database_url, tmp_path, factory) -> None:  # type: ignore[no-untyped-def]
    import redis

    env = {"CASEFILE_LOGIN_RATE_LIMIT": "2 per 15 minutes", "CASEFILE_REDIS_URL": "redis://127.0.0.1:6379/15"}
    redis.Redis.from_url(env["CASEFILE_REDIS_URL"]).flushdb()
    first = make_app(tmp_path / "one", database_url, env=env)
    assert first.config["RATELIMIT_STORAGE_URI"] == env["CASEFILE_REDIS_URL"]
    web = WebSession(first.test_client())
    for _ in range(2):
        web.post("/login", {"username": "someone", "password": WRONG})
    second = make_app(tmp_path / "two", database_url, env=env)  # another worker process, same Redis
    other = WebSession(second.test_client())
    try:
        assert other.post("/login", {"username": "someone", "password": WRONG}).status_code == 429
    finally:
        redis.Redis.from_url(env["CASEFILE_REDIS_URL"]).flushdb()


def test_logins_still_work_when_redis_is_down(app, database_url, tmp_path, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    env = {"CASEFILE_LOGIN_RATE_LIMIT": "2 per 15 minutes", "CASEFILE_REDIS_URL": "redis://127.0.0.1:9/0"}
    down = make_app(tmp_path, database_url, env=env)  # nothing listens on port 9
    web = WebSession(down.test_client())
    web.login(user.username, factory.password)
    assert web.get("/cases").status_code == 200
    other = WebSession(down.test_client())
    statuses = [other.post("/login", {"username": "someone", "password": WRONG}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # counted in memory meanwhile
