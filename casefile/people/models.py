"""The detained person, their names in every script, and the search tokens of those names."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.core.partial_dates import PartialDate
from casefile.db import PartialDateType, code_point_string, utcnow
from casefile.extensions import db


class Script(enum.StrEnum):
    CYRILLIC = "cyrillic"
    LATIN = "latin"
    CHINESE = "chinese"
    ARABIC = "arabic"


class NameKind(enum.StrEnum):
    PRIMARY = "primary"
    ALIAS = "alias"
    PATRONYMIC = "patronymic"
    DOCUMENT = "document"


class Citizenship(enum.StrEnum):
    KAZAKHSTAN = "kazakhstan"
    RESIDENCE_PERMIT = "residence_permit"
    KANDAS = "kandas"
    PRC_ONLY = "prc_only"
    DUAL_CLAIM = "dual_claim"
    UNKNOWN = "unknown"


class Person(db.Model):
    """A detained person. Reached only through a visible case (see casefile.access)."""

    __tablename__ = "persons"
    # The dashboard's county counts and the case list's hometown filter read this, not the wide rows (0009).
    __table_args__ = (Index("ix_persons_hometown", "id", "hometown_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[PartialDate | None] = mapped_column(PartialDateType)
    ethnicity: Mapped[str] = mapped_column(String(60), default="")
    prc_id: Mapped[str | None] = mapped_column(String(18), index=True)
    iin: Mapped[str | None] = mapped_column(String(12), index=True)
    hometown_code: Mapped[str | None] = mapped_column(String(6))
    hometown_village: Mapped[str] = mapped_column(String(200), default="")
    occupation: Mapped[str] = mapped_column(String(200), default="")
    citizenship: Mapped[str] = mapped_column(String(20), default=Citizenship.UNKNOWN.value)
    kz_documents: Mapped[str] = mapped_column(String(200), default="")
    kazakhstan_ties: Mapped[str] = mapped_column(Text, default="")
    # Set when a coordinator merged this record into another: its cases moved there, the row stays.
    # (A plain column: person_merges holds the merge with its keys.)
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    names: Mapped[list[PersonName]] = relationship(
        back_populates="person", order_by="PersonName.position", cascade="all, delete-orphan"
    )

    @property
    def primary_name(self) -> str:
        for name in self.names:
            if name.kind == NameKind.PRIMARY:
                return name.text
        return self.names[0].text if self.names else ""

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class PersonName(db.Model):
    """One written form of a person's name: its script and what kind of form it is."""

    __tablename__ = "person_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    script: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    person: Mapped[Person] = relationship(back_populates="names")
    tokens: Mapped[list[NameToken]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class NameToken(db.Model):
    """A folded search token of one name; prefix range scans on (token) find people fast."""

    __tablename__ = "name_tokens"
    __table_args__ = (Index("ix_name_tokens_token_person", "token", "person_id"),)

    name_id: Mapped[int] = mapped_column(ForeignKey("person_names.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(code_point_string(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
