"""Recipients, the packets built for them, and the cases each packet froze."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.auth.models import User
from casefile.cases.models import Case
from casefile.db import utcnow
from casefile.evidence import owners
from casefile.extensions import db


class Recipient(db.Model):
    """A body a packet goes to: its address, languages, consent kind and field policy."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # the command-line name: kz-mfa, ...
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(Text, default="")
    # Which consent a reporter must have given for a case to go to this recipient.
    consent_kind: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    form: Mapped[str] = mapped_column(String(10), default="standard")  # standard or wgeid
    policy: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Packet(db.Model):
    """A frozen selection of cases for one recipient, with its PDF in the encrypted store."""

    __tablename__ = "packets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    form: Mapped[str] = mapped_column(String(10))
    built_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    case_count: Mapped[int] = mapped_column(Integer)
    # Why cases were left out, as counts per reason; the list itself is never stored or printed.
    left_out: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # The frozen inputs (names, identities of consenting reporters): sealed like every secret field.
    inputs_sealed: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    pdf_address: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(BigInteger)
    audit_head: Mapped[str] = mapped_column(String(64))

    recipient: Mapped[Recipient] = relationship()
    built_by: Mapped[User] = relationship()
    cases: Mapped[list[PacketCase]] = relationship(back_populates="packet", order_by="PacketCase.number",
                                                   cascade="all, delete-orphan")
    submissions: Mapped[list[Submission]] = relationship(back_populates="packet", order_by="Submission.id")


class PacketCase(db.Model):
    """One case in a packet, with its number in the list and who vouched for it by consent."""

    __tablename__ = "packet_cases"

    packet_id: Mapped[int] = mapped_column(ForeignKey("packets.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    number: Mapped[int] = mapped_column(Integer)
    # The consents in force at build time, so a later withdrawal can be pointed out.
    consent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    packet: Mapped[Packet] = relationship(back_populates="cases")
    case: Mapped[Case] = relationship()


class Submission(db.Model):
    """A packet handed over: when, how, by whom, the receipt; and when to chase an answer."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[int] = mapped_column(ForeignKey("packets.id"), index=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    handed_over_by: Mapped[str] = mapped_column(String(200))
    receipt_number: Mapped[str] = mapped_column(String(100), default="")
    # The scan of the stamped receipt, in the encrypted store like any evidence.
    receipt_filename: Mapped[str] = mapped_column(String(255), default="")
    receipt_type: Mapped[str] = mapped_column(String(100), default="")
    receipt_size: Mapped[int] = mapped_column(BigInteger, default=0)
    receipt_sha256: Mapped[str] = mapped_column(String(64), default="")
    receipt_address: Mapped[str | None] = mapped_column(String(64))
    follow_up_on: Mapped[date | None] = mapped_column(Date, index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    packet: Mapped[Packet] = relationship(back_populates="submissions")
    recorded_by: Mapped[User] = relationship()
    responses: Mapped[list[Response]] = relationship(back_populates="submission", order_by="Response.received_on")


class Response(db.Model):
    """What an authority answered to a submission, with an outcome per case."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="responses")
    recorded_by: Mapped[User] = relationship()
    outcomes: Mapped[list[ResponseOutcome]] = relationship(back_populates="response")


class ResponseOutcome(db.Model):
    __tablename__ = "response_outcomes"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    outcome: Mapped[str] = mapped_column(String(30))

    response: Mapped[Response] = relationship(back_populates="outcomes")
    case: Mapped[Case] = relationship()


owners.register(owners.BlobOwner("packet", Packet.pdf_address, Packet.pdf_sha256, Packet.pdf_size, Packet.reference))
owners.register(owners.BlobOwner("receipt", Submission.receipt_address, Submission.receipt_sha256,
                                 Submission.receipt_size, Submission.id))
