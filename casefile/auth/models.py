"""Accounts, roles and teams."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.db import utcnow
from casefile.extensions import db


class Role(enum.StrEnum):
    ADVOCATE = "advocate"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"


user_teams = Table(
    "user_teams",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=user_teams, back_populates="teams")

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    """An account. Never deleted: deactivation keeps the audit trail readable."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('advocate','coordinator','auditor','admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password reset, role change and deactivation: every older session dies.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    locale: Mapped[str] = mapped_column(String(8), default="", server_default="")  # "" until chosen
    # Second factor: the TOTP secret sealed with a key derived from the master key; the last
    # time step accepted, so a code is never accepted twice; a secret being enrolled.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_pending_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Times (UTC, ISO) of the latest failed logins, newest last; the lock follows from them.
    recent_failures: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    teams: Mapped[list[Team]] = relationship(secondary=user_teams, back_populates="members", order_by=Team.name)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def has_totp(self) -> bool:
        return self.totp_secret_sealed is not None

    @property
    def team_ids(self) -> list[int]:
        return [team.id for team in self.teams]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"



class RecoveryCode(db.Model):
    """A single-use code that stands in for the TOTP code; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginSession(db.Model):
    """One login: the session cookie carries its random id, only the id's SHA-256 is kept here.

    Logging out ends the row, so a copy of the cookie stops working too.
    """

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
