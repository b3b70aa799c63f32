"""The second factor: required roles enrol first, codes are single-use, recovery codes work once."""

from __future__ import annotations

import hashlib
import re

import pyotp
from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.auth.models import RecoveryCode, User
from casefile.extensions import db
from tests.auth.conftest import enrol, next_code, password_step
from tests.helpers import WebSession


def _events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _user(username: str) -> User:
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_a_required_role_enrols_before_anything_else(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    web = WebSession(strict_app.test_client())
    web.login(coordinator.username, factory.password)
    blocked = web.get("/cases")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/account/two-factor")
    page = web.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code is drawn here, not by a third party
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)  # type: ignore[union-attr]

    wrong = web.post("/account/two-factor", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    assert _user(coordinator.username).totp_secret_sealed is None

    done = web.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([A-Z2-7-]{19})</code></li>", done.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    assert web.get("/cases").status_code == 200

    stored = _user(coordinator.username)
    assert secret.encode() not in stored.totp_secret_sealed  # sealed, not stored as typed
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == stored.id)))
    assert hashes == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert [e.actor_username for e in _events("totp.enable")] == [coordinator.username]


def test_login_asks_for_the_code_and_refuses_a_wrong_one(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    web = WebSession(strict_app.test_client())
    web.login(coordinator.username, factory.password)
    secret, _codes = enrol(web)
    web.post("/logout")

    fresh = WebSession(strict_app.test_client())
    assert password_step(fresh, coordinator.username, factory.password) == "/login/code"
    assert fresh.get("/cases").status_code == 302  # a password alone is not a login
    wrong = fresh.post("/login/code", {"code": "12345"})
    assert "Login failed." in wrong.get_data(as_text=True)
    right = fresh.post("/login/code", {"code": next_code(secret)})
    assert right.status_code == 302 and fresh.get("/cases").status_code == 200
    failures = [e for e in _events("login.failure") if e.actor_username == coordinator.username]
    assert [e.details for e in failures] == [f'{{"reason":"wrong code","username":"{coordinator.username}"}}']
    assert _events("login.success")[-1].details == '{"second_factor":"totp"}'


def test_a_code_is_never_accepted_twice(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    auditor = factory.user("auditor")
    web = WebSession(strict_app.test_client())
    web.login(auditor.username, factory.password)
    secret, _codes = enrol(web)
    code = next_code(secret)
    first = WebSession(strict_app.test_client())
    password_step(first, auditor.username, factory.password)
    assert first.post("/login/code", {"code": code}).status_code == 302
    replay = WebSession(strict_app.test_client())
    password_step(replay, auditor.username, factory.password)
    refused = replay.post("/login/code", {"code": code})
    assert refused.status_code == 200 and "Login failed." in refused.get_data(as_text=True)
    assert replay.get("/audit").status_code == 302


def test_a_recovery_code_works_once(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user("admin")
    web = WebSession(strict_app.test_client())
    web.login(admin.username, factory.password)
    _secret, codes = enrol(web)
    used = codes[3].lower()  # typed as it comes: case and dashes do not matter
    first = WebSession(strict_app.test_client())
    password_step(first, admin.username, factory.password)
    assert first.post("/login/code", {"code": used}).status_code == 302
    assert "9 are left" in first.get("/admin/users").get_data(as_text=True)
    again = WebSession(strict_app.test_client())
    password_step(again, admin.username, factory.password)
    assert "Login failed." in again.post("/login/code", {"code": used}).get_data(as_text=True)
    assert [e.details for e in _events("totp.recovery_code_used")] == ['{"left":9}']


def test_advocates_may_choose_a_second_factor_and_drop_it(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    web = WebSession(strict_app.test_client())
    web.login(advocate.username, factory.password)
    assert web.get("/cases").status_code == 200  # not required for this role
    secret, _codes = enrol(web)
    assert "Switch the second factor off" in web.get("/account").get_data(as_text=True)
    assert web.post("/account/two-factor/remove").status_code == 302
    assert _user(advocate.username).totp_secret_sealed is None
    again = WebSession(strict_app.test_client())
    again.login(advocate.username, factory.password)  # straight in: no code asked
    assert secret  # the old secret is gone with the factor
    assert db.session.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == advocate.id)) is None


def test_a_required_role_cannot_drop_its_second_factor(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    web = WebSession(strict_app.test_client())
    web.login(coordinator.username, factory.password)
    enrol(web)
    assert "Switch the second factor off" not in web.get("/account").get_data(as_text=True)
    web.post("/account/two-factor/remove")
    assert _user(coordinator.username).totp_secret_sealed is not None


def test_an_admin_removes_a_lost_second_factor_and_ends_the_sessions(strict_app, factory) -> None:  # type: ignore[no-untyped-def]
    admin, coordinator = factory.user("admin"), factory.user("coordinator")
    owner = WebSession(strict_app.test_client())
    owner.login(coordinator.username, factory.password)
    enrol(owner)
    assert owner.get("/cases").status_code == 200
    boss = WebSession(strict_app.test_client())
    boss.login(admin.username, factory.password)
    enrol(boss)
    assert "Remove the second factor" in boss.get(f"/admin/users/{coordinator.id}").get_data(as_text=True)
    assert boss.post(f"/admin/users/{coordinator.id}/two-factor/remove").status_code == 302
    assert owner.get("/cases").status_code == 302  # their session ended
    assert _user(coordinator.username).totp_secret_sealed is None
    assert [e.actor_username for e in _events("totp.remove")] == [admin.username]


def test_the_code_page_needs_a_correct_password_first(strict_app) -> None:  # type: ignore[no-untyped-def]
    web = WebSession(strict_app.test_client())
    response = web.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
