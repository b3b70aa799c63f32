"""Accounts: authenticate, create, change role and teams, deactivate, reset passwords."""

from __future__ import annotations

import re
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from casefile import audit
from casefile.auth.models import Role, Team, User
from casefile.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.db import utcnow
from casefile.extensions import db

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TEAM_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None. Both outcomes are audited.

    An unknown user costs one argon2 verification like a known one, and every failure
    looks the same to the caller.
    """
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        reason = "unknown user" if user is None else ("inactive" if ok else "wrong password")
        audit.record(user, "login.failure", object_type="user", object_id=user.id if user else "",
                     outcome="failure", details={"username": username, "reason": reason},
                     actor_username=username)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(user, "login.success", object_type="user", object_id=user.id)
    return user


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short or too long, with a message for the field."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), field="password")


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
    check_password_rules(password)
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
    check_password_rules(password)
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
    return user


def _require_admin(actor: User | None) -> None:
    # None is the operator at the command line, who already holds the server.
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed(_l("Only an admin manages accounts."))


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
