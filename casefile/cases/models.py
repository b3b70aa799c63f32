"""A case: one detention story of one person, with its status history, timeline and reporters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.auth.models import Team, User
from casefile.core.partial_dates import PartialDate
from casefile.db import PartialDateType, utcnow
from casefile.extensions import db
from casefile.people.models import Person

case_named_users = Table(
    "case_named_users",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("verification_level BETWEEN 0 AND 4", name="verification_level"),
        # Sort keys with the id tiebreak, then the columns the access rule reads: a deep page
        # and a count are walks over small index entries, never over the wide rows.
        Index("ix_cases_updated_id", "updated_at", "id", "restricted", "team_id", "created_by_id"),
        Index("ix_cases_detained_id", "detained_on", "id", "restricted", "team_id", "created_by_id"),
        Index("ix_cases_access", "restricted", "team_id", "created_by_id"),
        Index("ix_cases_prefecture", "prefecture_code", "status", "detained_on"),
        Index("ix_cases_status", "status", "detained_on"),
        # The dashboard's counts: every column they group by or the access rule reads (migration 0009).
        Index("ix_cases_dashboard", "status", "prefecture_code", "restricted", "team_id", "created_by_id",
              "created_at", "person_id", "detained_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    # The person's hometown prefecture, copied here so the list filters on one table.
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(30))
    verification_level: Mapped[int] = mapped_column(Integer, default=0, index=True)
    detained_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    last_contact_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    trial_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    release_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    detention_facility: Mapped[str] = mapped_column(String(200), default="")
    detention_city: Mapped[str] = mapped_column(String(200), default="")
    alleged_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    alleged_reason_other: Mapped[str] = mapped_column(String(1000), default="")
    sentence: Mapped[str] = mapped_column(String(500), default="")
    narrative: Mapped[str] = mapped_column(Text, default="")
    # What the WGEID form asks and the narrative may not say plainly.
    responsible_authority: Mapped[str] = mapped_column(String(500), default="")
    family_steps: Mapped[str] = mapped_column(Text, default="")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The row's number or id in the list the case was imported from.
    source_ref: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    team: Mapped[Team] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    named_users: Mapped[list[User]] = relationship(secondary=case_named_users, order_by=User.username)
    status_events: Mapped[list[CaseStatusEvent]] = relationship(
        back_populates="case", order_by="CaseStatusEvent.recorded_at.desc()", cascade="all, delete-orphan"
    )
    timeline: Mapped[list[TimelineEvent]] = relationship(
        back_populates="case", order_by="TimelineEvent.occurred_on", cascade="all, delete-orphan"
    )
    reporters: Mapped[list[Reporter]] = relationship(
        back_populates="case", order_by="Reporter.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Case {self.reference}>"


class CaseStatusEvent(db.Model):
    """A dated change of status with its source; the case's status is the latest one."""

    __tablename__ = "case_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    source: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="status_events")
    recorded_by: Mapped[User] = relationship()


class TimelineEvent(db.Model):
    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="timeline")
    recorded_by: Mapped[User] = relationship()


class Reporter(db.Model):
    """The relative or witness who reports. Contact details are sealed (AES-GCM)."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    relationship_kind: Mapped[str] = mapped_column(String(30))
    relationship_detail: Mapped[str] = mapped_column(String(200), default="")
    contact_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="reporters")
    consents: Mapped[list[Consent]] = relationship(
        back_populates="reporter", order_by="Consent.id", cascade="all, delete-orphan"
    )

    def current_consent(self, recipient_kind: str) -> Consent | None:
        """The consent in force for a kind of recipient: the latest one not withdrawn."""
        for consent in reversed(self.consents):
            if consent.recipient_kind == recipient_kind:
                return None if consent.withdrawn_on else consent
        return None


class Consent(db.Model):
    """Consent of one reporter for one kind of recipient. Withdrawal is recorded, not deleted."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    disclose_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    given_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    reporter: Mapped[Reporter] = relationship(back_populates="consents")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])


class ReferenceCounter(db.Model):
    """The last case number issued per year, so references are unique and readable."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
