"""Accounts: authenticate (password, second factor, lock), create, change role and teams,
deactivate, reset passwords."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from casefile import audit
from casefile.auth import sessions, totp
from casefile.auth.models import Role, Team, User
from casefile.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
    weakness,
)
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.db import utcnow
from casefile.extensions import db

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TEAM_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")


def authenticate(username: str, password: str) -> User | None:
    """The active, unlocked user with this username and password, or None. Failures are audited.

    An unknown user costs one argon2 verification like a known one, a locked account is
    checked just the same, and every failure looks the same to the caller. Success is
    recorded by ``complete_login``, once any second factor has been given too.
    """
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is not None and _locked(user):
        _failure(user, username, "locked", count=False)
        return None
    if not ok or user is None or not user.active:
        reason = "unknown user" if user is None else ("inactive" if ok else "wrong password")
        _failure(user, username, reason, count=user is not None and user.active)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_second_factor(user: User, code: str, action: str = "login") -> str | None:
    """The method (``totp`` or ``recovery_code``) when the code is right, else None (a failed attempt)."""
    if _locked(user) or not user.active:
        _failure(user, user.username, "locked" if user.active else "inactive", count=False, action=action)
        return None
    method = totp.verify(user, code)
    if method is None:
        _failure(user, user.username, "wrong code", action=action)
        return None
    if method == "recovery_code":
        audit.record(user, "totp.recovery_code_used", object_type="user", object_id=user.id,
                     details={"left": totp.unused_recovery_codes(user)})
    return method


def complete_login(user: User, second_factor: str | None) -> None:
    """Record a login that passed every factor, and forget the failures before it."""
    user.recent_failures = []
    user.last_login_at = utcnow()
    audit.record(user, "login.success", object_type="user", object_id=user.id,
                 details={"second_factor": second_factor or "none"})


def confirm_identity(user: User, password: str, code: str) -> bool:
    """Re-authentication: the password, and the second factor where enrolled. Failures count toward the lock."""
    if not verify_password(user.password_hash, password or ""):
        _failure(user, user.username, "wrong password", action="reauth")
        return False
    if _locked(user):
        _failure(user, user.username, "locked", count=False, action="reauth")
        return False
    if user.has_totp and check_second_factor(user, code, action="reauth") is None:
        return False
    audit.record(user, "reauth.success", object_type="user", object_id=user.id)
    return True


def second_factor_required(user: User) -> bool:
    return user.role in current_app.config["CASEFILE_SETTINGS"].totp_required_roles


def _locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _failure(user: User | None, username: str, reason: str, *, count: bool = True, action: str = "login") -> None:
    """Audit a failed attempt; the tenth within the window locks the account."""
    audit.record(user, f"{action}.failure", object_type="user", object_id=user.id if user else "",
                 outcome="failure", details={"username": username, "reason": reason}, actor_username=username)
    if user is None or not count:
        return
    settings = current_app.config["CASEFILE_SETTINGS"]
    now = utcnow()
    since = now - settings.lockout_window
    recent = [stamp for stamp in (user.recent_failures or []) if datetime.fromisoformat(stamp) > since]
    recent.append(now.isoformat())
    user.recent_failures = recent[-settings.lockout_failures:]
    if len(recent) >= settings.lockout_failures:
        user.locked_until = now + settings.lockout_duration
        user.recent_failures = []
        audit.record(None, "account.locked", object_type="user", object_id=user.id, outcome="failure",
                     details={"username": user.username, "failures": len(recent),
                              "until": user.locked_until.isoformat(timespec="seconds")},
                     actor_username=username)


def unlock(actor: User, user: User) -> None:
    """An admin lifts a lock before it runs out."""
    _require_admin(actor)
    if not _locked(user):
        return
    user.locked_until = None
    user.recent_failures = []
    audit.record(actor, "account.unlock", object_type="user", object_id=user.id)


def is_locked(user: User) -> bool:
    return _locked(user)


def check_password_rules(password: str, *, user_inputs: Iterable[str] = ()) -> None:
    """Refuse passwords that are too short, too long or too easy to guess, with a message for the field."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), field="password")
    organisation = current_app.config["CASEFILE_SETTINGS"].organisation_name
    problem = weakness(password, [organisation, *user_inputs])
    if problem is not None:
        raise InvalidInput(_l("This password is too easy to guess (%(why)s). Use several uncommon words.",
                              why=problem), field="password")


def change_own_password(user: User, current: str, new: str) -> None:
    """A user sets a new password, proving the current one; every other session ends."""
    if not verify_password(user.password_hash, current or ""):
        _failure(user, user.username, "wrong password", action="password_change")
        raise InvalidInput(_l("The current password is not right."), field="current")
    check_password_rules(new, user_inputs=[user.username, user.display_name])
    user.password_hash = hash_password(new)
    user.session_version += 1
    audit.record(user, "user.password_change", object_type="user", object_id=user.id)


def logout_everywhere(user: User) -> None:
    """End every session of the user, this one included."""
    user.session_version += 1
    sessions.end(user.id)
    audit.record(user, "session.logout_all", object_type="user", object_id=user.id)


def enable_second_factor(user: User, code: str) -> list[str] | None:
    """Turn on the pending TOTP secret when ``code`` matches; returns the recovery codes to show once."""
    replacing = user.has_totp
    codes = totp.confirm_enrolment(user, code)
    if codes is None:
        _failure(user, user.username, "wrong code", action="totp.enrol")
        return None
    audit.record(user, "totp.enable", object_type="user", object_id=user.id, details={"replaced": replacing})
    return codes


def new_recovery_codes(user: User) -> list[str]:
    codes = totp.new_recovery_codes(user)
    audit.record(user, "totp.recovery_codes", object_type="user", object_id=user.id)
    return codes


def remove_second_factor(actor: User, user: User) -> None:
    """Switch the second factor off: the user where their role allows it, or an admin (a lost phone)."""
    if actor.id == user.id:
        if second_factor_required(user):
            raise NotAllowed(_l("Your role must use a second factor."))
    else:
        _require_admin(actor)
    if not user.has_totp and user.totp_pending_sealed is None:
        return
    totp.remove(user)
    if actor.id != user.id:
        user.session_version += 1
    audit.record(actor, "totp.remove", object_type="user", object_id=user.id)


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def team_by_name(name: str) -> Team | None:
    return db.session.scalar(select(Team).where(Team.name == name))


def ensure_teams(actor: User | None, names: Iterable[str]) -> list[Team]:
    """The teams with these names, creating (and auditing) the ones that do not exist yet."""
    teams = []
    for raw in names:
        name = raw.strip()
        if not TEAM_PATTERN.match(name):
            raise InvalidInput(_l("A team name has 1 to 80 printable characters."), field="teams")
        team = team_by_name(name)
        if team is None:
            team = Team(name=name)
            db.session.add(team)
            db.session.flush()
            audit.record(actor, "team.create", object_type="team", object_id=team.id, details={"name": name})
        teams.append(team)
    return teams


def create_user(
    actor: User | None,
    *,
    username: str,
    role: str,
    password: str,
    teams: Iterable[str] = (),
    display_name: str = "",
) -> User:
    """Create an account; ``actor`` is the admin (None for the command line)."""
    _require_admin(actor)
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            _l("A username has 2 to 64 characters: lower-case letters, digits, dot, dash, underscore."),
            field="username",
        )
    if role not in {r.value for r in Role}:
        raise InvalidInput(_l("Unknown role."), field="role")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(_l("This username is taken."), field="username")
    check_password_rules(password, user_inputs=[username, display_name])
    if len(display_name) > 200 or _has_control(display_name):
        raise InvalidInput(_l("A display name has at most 200 printable characters."), field="display_name")
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=display_name.strip(), teams=ensure_teams(actor, teams))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", object_type="user", object_id=user.id,
                 details={"username": username, "role": role, "teams": [t.name for t in user.teams]})
    return user


def update_user(actor: User, user: User, *, role: str, teams: Iterable[str], display_name: str) -> None:
    """Change role, teams and display name; a changed role ends the user's sessions."""
    _require_admin(actor)
    if role not in {r.value for r in Role}:
        raise InvalidInput(_l("Unknown role."), field="role")
    if user.id == actor.id and role != Role.ADMIN:
        raise NotAllowed(_l("You cannot take away your own admin role."), field="role")
    before = {"role": user.role, "teams": [t.name for t in user.teams], "display_name": user.display_name}
    user.teams = ensure_teams(actor, teams)
    user.display_name = display_name.strip()
    if role != user.role:
        user.role = role
        user.session_version += 1
    after = {"role": user.role, "teams": [t.name for t in user.teams], "display_name": user.display_name}
    changed = {key: {"from": before[key], "to": after[key]} for key in before if before[key] != after[key]}
    if changed:
        audit.record(actor, "user.update", object_type="user", object_id=user.id, details={"changed": changed})


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate an account. No hard delete."""
    _require_admin(actor)
    if user.id == actor.id and not active:
        raise NotAllowed(_l("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    audit.record(actor, "user.activate" if active else "user.deactivate", object_type="user", object_id=user.id)


def reset_password(actor: User | None, user: User, password: str) -> None:
    """Set a new password and end the user's sessions."""
    _require_admin(actor)
    check_password_rules(password, user_inputs=[user.username, user.display_name])
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record(actor, "user.password_reset", object_type="user", object_id=user.id)


def count_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))) or 0


def load_session_user(token: str) -> User | None:
    """Flask-Login's loader: the user only while active and on the same session version."""
    user_id, _, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    if not sessions.is_open(user.id):  # logged out (or ended everywhere): a copied cookie is dead too
        return None
    return user


def _require_admin(actor: User | None) -> None:
    # None is the operator at the command line, who already holds the server.
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed(_l("Only an admin manages accounts."))


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
