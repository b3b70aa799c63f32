"""Sessions: a new id at each login, logout ends even a copied cookie, log out everywhere,
and the password asked again before sensitive steps when the last time is too long ago."""

from __future__ import annotations

import time

from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.auth import sessions
from casefile.auth.models import User
from casefile.extensions import db
from tests.auth.conftest import enrol, next_code
from tests.cases.test_case_forms import case_form
from tests.helpers import WebSession, csrf_token_in


def _events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _age_authentication(web: WebSession, seconds: float = 301) -> None:
    """Move the last password confirmation back in time (the browser's session, as the server signed it)."""
    with web.client.session_transaction() as state:
        state[sessions.AUTHENTICATED_AT] = time.time() - seconds


def test_each_login_gets_a_new_session_id_and_nothing_from_before(web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    with web.client.session_transaction() as state:
        state["planted"] = "by someone who had the browser before"
        state[sessions.SESSION_ID] = "chosen-by-an-attacker"
    web.login(user.username, factory.password)
    with web.client.session_transaction() as state:
        first = state[sessions.SESSION_ID]
        assert "planted" not in state and first != "chosen-by-an-attacker"
    web.post("/logout")
    web.forget_token()
    web.login(user.username, factory.password)
    with web.client.session_transaction() as state:
        assert state[sessions.SESSION_ID] != first


def test_logout_ends_a_copied_cookie_too(app, web, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    web.login(user.username, factory.password)
    copy = app.test_client()
    cookie = web.client.get_cookie("casefile_session")
    copy.set_cookie("casefile_session", cookie.value)
    assert copy.get("/cases").status_code == 200  # the copy works while the session is open
    web.post("/logout")
    assert copy.get("/cases").status_code == 302


def test_log_out_everywhere(login, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate")
    laptop, phone = login(user), login(user)
    assert phone.get("/cases").status_code == 200
    response = laptop.post("/account/logout-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert laptop.get("/cases").status_code == 302
    assert phone.get("/cases").status_code == 302
    assert [e.actor_username for e in _events("session.logout_all")] == [user.username]


def test_a_download_after_five_minutes_asks_for_the_password(login, factory) -> None:  # type: ignore[no-untyped-def]
    auditor = factory.user("auditor")
    web = login(auditor)
    assert web.get("/audit/export.csv").status_code == 200  # just logged in
    _age_authentication(web)
    asked = web.get("/audit/export.csv")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/reauth?next=/audit/export.csv")
    page = web.get(asked.headers["Location"])
    assert "Confirm it is you" in page.get_data(as_text=True)
    wrong = web.post(asked.headers["Location"], {"reauth_password": "not the password at all"})
    assert "did not match" in wrong.get_data(as_text=True)
    right = web.post(asked.headers["Location"], {"reauth_password": factory.password})
    assert right.status_code == 302 and right.headers["Location"] == "/audit/export.csv"
    assert web.get("/audit/export.csv").status_code == 200
    assert [e.outcome for e in _events("reauth.failure")] == ["failure"]
    assert len(_events("reauth.success")) == 1


def test_a_role_change_after_five_minutes_asks_first_and_keeps_the_form(login, factory) -> None:  # type: ignore[no-untyped-def]
    admin, user = factory.user("admin"), factory.user("advocate")
    web = login(admin)
    _age_authentication(web)
    change = {"role": "coordinator", "display_name": "Ainur <b>K.</b>", "teams": ["Almaty"], "new_teams": ""}
    asked = web.post(f"/admin/users/{user.id}", change)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Confirm it is you" in body
    assert 'name="role" value="coordinator"' in body and "Ainur &lt;b&gt;K.&lt;/b&gt;" in body  # carried, escaped
    db.session.rollback()
    assert db.session.get(User, user.id).role == "advocate"  # nothing changed yet
    replay = {key: value for key, value in change.items()}
    replay["reauth_password"] = factory.password
    done = web.post(f"/admin/users/{user.id}", replay)
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.get(User, user.id).role == "coordinator"


def test_building_a_packet_asks_only_at_the_build_not_the_preview(login, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    web = login(coordinator)
    _age_authentication(web)
    preview = web.post("/packets/new", {"recipient": "kz-mfa", "preview": "1"})
    assert "Confirm it is you" not in preview.get_data(as_text=True)
    build = web.post("/packets/new", {"recipient": "kz-mfa", "build": "1"})
    assert "Confirm it is you" in build.get_data(as_text=True)
    assert 'name="build" value="1"' in build.get_data(as_text=True)


def test_reauthentication_needs_the_second_factor_where_enrolled(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    auditor = factory.user("auditor")
    web = WebSession(strict_app.test_client())
    web.login(auditor.username, factory.password)
    secret, _codes = enrol(web)
    _age_authentication(web)
    url = web.get("/audit/export.csv").headers["Location"]
    page = web.get(url).get_data(as_text=True)
    assert 'name="reauth_code"' in page
    token = csrf_token_in(page)
    refused = web.post(url, {"reauth_password": factory.password, "csrf_token": token})
    assert "did not match" in refused.get_data(as_text=True)
    accepted = web.post(url, {"reauth_password": factory.password, "reauth_code": next_code(secret),
                              "csrf_token": token})
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/audit/export.csv"


def test_changing_the_own_password(login, factory, app) -> None:  # type: ignore[no-untyped-def]
    user = factory.user("advocate", display_name="Aigerim Bekova")
    web, other = login(user), login(user)
    weak = web.post("/account/password", {"current": factory.password, "password": "aigerimbekova2024",
                                          "confirm": "aigerimbekova2024"})
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    wrong = web.post("/account/password", {"current": "not it at all", "password": "quiet ladder orbit velvet",
                                           "confirm": "quiet ladder orbit velvet"})
    assert "current password is not right" in wrong.get_data(as_text=True)
    done = web.post("/account/password", {"current": factory.password, "password": "quiet ladder orbit velvet",
                                          "confirm": "quiet ladder orbit velvet"})
    assert done.status_code == 302
    assert web.get("/cases").status_code == 200  # this session goes on
    assert other.get("/cases").status_code == 302  # the others end
    fresh = WebSession(app.test_client())
    fresh.login(user.username, "quiet ladder orbit velvet")


def test_new_accounts_need_a_strong_password(login, factory) -> None:  # type: ignore[no-untyped-def]
    web = login(factory.user("admin"))
    for weak in ("password1234", "qwertyuiop123", "almaty-almaty"):
        response = web.post("/admin/users/new", {"username": "newcomer", "role": "advocate", "password": weak})
        assert response.status_code == 400 and "too easy to guess" in response.get_data(as_text=True), weak
    short = web.post("/admin/users/new", {"username": "newcomer", "role": "advocate", "password": "x7#Qz!"})
    assert "at least 12 characters" in short.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(User.id).where(User.username == "newcomer")) is None


def test_an_advocate_creates_a_case_without_reauthentication(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    web = login(advocate)
    _age_authentication(web, 3600)
    assert web.post("/cases/new", case_form(advocate.teams[0].id)).status_code == 302
