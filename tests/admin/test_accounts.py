"""Admins manage accounts through the web UI; every change is an audit event without passwords."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from casefile.audit.models import AuditEvent
from casefile.auth.models import Team, User
from casefile.extensions import db

NEW_PASSWORD = "the initial password of a new account"
RESET_PASSWORD = "a reset password that is long enough"
ACCOUNT_ACTIONS = ("user.create", "user.update", "user.password_reset", "user.deactivate", "user.activate")


def events(action: str) -> list[AuditEvent]:
    """The events of ``action`` done through the web (the factory's own rows are made by no one)."""
    db.session.rollback()  # a new snapshot: see what the requests committed
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.actor_id.is_not(None)).order_by(AuditEvent.seq)))


def reload(username: str) -> User:
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def counts() -> tuple[int, int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(User.id))) or 0, db.session.scalar(select(func.count(Team.id))) or 0,
            db.session.scalar(select(func.count(AuditEvent.id))) or 0)


def assert_no_secret_in_trail(*secrets: str) -> None:
    db.session.rollback()
    for event in db.session.scalars(select(AuditEvent)):
        details = json.loads(event.details)
        assert "password" not in details, (event.action, details)
        for secret in secrets:
            assert secret not in event.details, (event.action, event.details)


@pytest.fixture
def admin(factory):  # type: ignore[no-untyped-def]
    factory.user("advocate", teams=("Almaty",), username="somebody")  # so that the team Almaty exists
    return factory.user("admin", username="boss")


def test_create_an_account_with_an_existing_and_a_new_team(admin, login, factory, web) -> None:  # type: ignore[no-untyped-def]
    browser = login(admin)
    form = browser.get("/admin/users/new").get_data(as_text=True)
    assert 'value="Almaty"' in form  # the existing team is offered as a checkbox
    response = browser.post("/admin/users/new", {
        "username": "Dana", "display_name": "Dana K.", "role": "advocate", "password": NEW_PASSWORD,
        "teams": ["Almaty"], "new_teams": "Taraz field office"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"

    user = reload("dana")
    assert user.role == "advocate" and user.display_name == "Dana K." and user.active
    assert [team.name for team in user.teams] == ["Almaty", "Taraz field office"]
    [created] = events("user.create")
    assert (created.actor_username, created.object_id) == ("boss", str(user.id))
    assert json.loads(created.details) == {"role": "advocate", "teams": ["Almaty", "Taraz field office"],
                                           "username": "dana"}
    assert [json.loads(e.details)["name"] for e in events("team.create")] == ["Taraz field office"]
    assert "dana" in browser.get("/admin/users").get_data(as_text=True)
    web.login("dana", NEW_PASSWORD)
    assert web.get("/cases").status_code == 200
    assert_no_secret_in_trail(NEW_PASSWORD, user.password_hash)


@pytest.mark.parametrize(("username", "password", "message"), [
    ("newcomer", "too short", "Use at least 12 characters."),
    ("somebody", NEW_PASSWORD, "This username is taken."),
])
def test_a_refused_account_creates_nothing(admin, login, username, password, message) -> None:  # type: ignore[no-untyped-def]
    browser = login(admin)
    before = counts()
    response = browser.post("/admin/users/new", {
        "username": username, "role": "advocate", "password": password, "teams": ["Almaty"],
        "new_teams": "A team that must not appear"})
    assert response.status_code == 400
    assert f'<p class="error" role="alert">{message}</p>' in response.get_data(as_text=True)
    assert counts() == before
    assert db.session.scalar(select(Team).where(Team.name == "A team that must not appear")) is None
    assert events("user.create") == []


def test_a_role_change_ends_the_users_open_session(admin, login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",), username="aliya")
    their_browser = login(advocate)
    assert their_browser.get("/cases").status_code == 200

    response = login(admin).post(f"/admin/users/{advocate.id}", {
        "display_name": "Aliya", "role": "coordinator", "teams": ["Almaty"], "new_teams": ""})
    assert response.status_code == 302

    after = their_browser.get("/cases")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    assert reload("aliya").role == "coordinator"
    [update] = events("user.update")
    assert update.actor_username == "boss" and update.object_id == str(advocate.id)
    assert json.loads(update.details)["changed"]["role"] == {"from": "advocate", "to": "coordinator"}
    their_browser.login("aliya", factory.password)  # a new login works, with the new role
    assert their_browser.get("/cases").status_code == 200


def test_an_admin_cannot_demote_themselves(admin, login) -> None:  # type: ignore[no-untyped-def]
    browser = login(admin)
    response = browser.post(f"/admin/users/{admin.id}", {"display_name": "", "role": "advocate", "new_teams": ""})
    assert response.status_code == 400
    assert "You cannot take away your own admin role." in response.get_data(as_text=True)
    assert reload("boss").role == "admin"
    assert events("user.update") == []
    assert browser.get("/admin/users").status_code == 200  # still an admin, still logged in


def test_an_admin_cannot_deactivate_themselves(admin, login) -> None:  # type: ignore[no-untyped-def]
    browser = login(admin)
    response = browser.post(f"/admin/users/{admin.id}/active")
    assert response.status_code == 302
    assert "You cannot deactivate your own account." in browser.get("/admin/users").get_data(as_text=True)
    assert reload("boss").active
    assert events("user.deactivate") == []


def test_deactivate_and_reactivate_an_account(admin, login, factory, web) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",), username="yerlan")
    browser = login(admin)
    assert browser.post(f"/admin/users/{advocate.id}/active").status_code == 302
    assert not reload("yerlan").active
    assert "Login failed." in web.post("/login", {"username": "yerlan", "password": factory.password}).get_data(
        as_text=True)

    assert browser.post(f"/admin/users/{advocate.id}/active").status_code == 302
    assert reload("yerlan").active
    assert [e.object_id for e in events("user.deactivate")] == [str(advocate.id)]
    assert [e.object_id for e in events("user.activate")] == [str(advocate.id)]
    web.login("yerlan", factory.password)
    assert web.get("/cases").status_code == 200


def test_every_account_change_is_audited_without_passwords(admin, login, factory) -> None:  # type: ignore[no-untyped-def]
    browser = login(admin)
    assert browser.post("/admin/users/new", {"username": "marat", "role": "advocate", "password": NEW_PASSWORD,
                                             "teams": ["Almaty"], "new_teams": ""}).status_code == 302
    marat = reload("marat")
    assert browser.post(f"/admin/users/{marat.id}", {"display_name": "Marat", "role": "advocate",
                                                     "teams": ["Almaty"], "new_teams": ""}).status_code == 302
    assert browser.post(f"/admin/users/{marat.id}/password",
                        {"password": RESET_PASSWORD, "confirm": RESET_PASSWORD}).status_code == 302
    assert browser.post(f"/admin/users/{marat.id}/active").status_code == 302
    assert browser.post(f"/admin/users/{marat.id}/active").status_code == 302

    db.session.rollback()
    trail = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(ACCOUNT_ACTIONS), AuditEvent.object_id == str(marat.id)).order_by(AuditEvent.seq)))
    assert [e.action for e in trail] == list(ACCOUNT_ACTIONS)
    assert all(e.actor_username == "boss" and e.object_id == str(marat.id) for e in trail)
    assert json.loads(trail[1].details) == {"changed": {"display_name": {"from": "", "to": "Marat"}}}
    final = reload("marat")
    assert_no_secret_in_trail(NEW_PASSWORD, RESET_PASSWORD, marat.password_hash, final.password_hash)

