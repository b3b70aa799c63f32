"""What duplicate detection keeps: blocking keys per person, the review queue and its decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.auth.models import User
from casefile.db import utcnow
from casefile.extensions import db
from casefile.people.models import Person


class PersonMatchKey(db.Model):
    """One blocking key of a person (``casefile.matching.score.blocking_keys``): people who share
    a key are compared, nobody else, so a new row meets a handful of people, not all of them."""

    __tablename__ = "person_match_keys"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True)


class DuplicateCandidate(db.Model):
    """A pair of recorded people that may be one person, waiting for a coordinator.
    ``first_id`` is always the smaller id."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (CheckConstraint("first_id < second_id", name="ordered_pair"),
                      Index("ix_duplicate_candidates_second", "second_id"))

    first_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    found_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    first: Mapped[Person] = relationship(foreign_keys=[first_id])
    second: Mapped[Person] = relationship(foreign_keys=[second_id])


class PersonDistinction(db.Model):
    """A coordinator's decision that two records are different people: never proposed again."""

    __tablename__ = "person_distinctions"
    __table_args__ = (CheckConstraint("first_id < second_id", name="ordered_pair"),)

    first_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    decided_by: Mapped[User] = relationship()


class PersonMerge(db.Model):
    """A merge of one person record into another. The merged record stays (``merged_into_id``);
    this row keeps what it held at the time and which cases were moved."""

    __tablename__ = "person_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    score: Mapped[float | None] = mapped_column(Float)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)  # both records before, cases moved

    merged_by: Mapped[User] = relationship()
