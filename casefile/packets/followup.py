"""After the hand-over: submissions, the answers that come back, and what they change in each case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from casefile import access, audit
from casefile.auth.models import Role, User
from casefile.cases import services as case_services
from casefile.cases.models import Case
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.core.partial_dates import PartialDate
from casefile.evidence import services as evidence_services
from casefile.evidence import sniff
from casefile.evidence.storage import PendingBlob
from casefile.extensions import db
from casefile.packets.models import Packet, Response, ResponseOutcome, Submission

CHANNELS = {
    "in_person": _l("In person"),
    "post": _l("By post"),
    "email": _l("By e-mail"),
    "online_form": _l("Through an online form"),
}
# What an authority answered (HURIDOCS Events Standard Formats).
RESPONSE_KINDS = {
    "provided_assistance": _l("Provided assistance"),
    "pledged_commitment": _l("Pledged commitment"),
    "request_more_information": _l("Asked for more information"),
    "token_response": _l("Token response"),
    "denied_facts": _l("Denied the facts"),
    "took_steps_against": _l("Took steps against the intervention"),
    "no_response": _l("No response"),
    "other": _l("Other"),
}
OUTCOMES = {
    "acknowledged": _l("Acknowledged"),
    "confirmed_detained": _l("Confirmed detained"),
    "released": _l("Released"),
    "allowed_to_leave": _l("Allowed to leave China"),
    "no_answer": _l("No answer"),
}
# The status an outcome gives a case; None leaves the status and only adds to the timeline.
_STATUS_AFTER = {"confirmed_detained": "detained_unknown_place", "released": "released_restricted"}
# A case already known to be held somewhere keeps its more precise status on "confirmed detained".
_HELD = {"camp", "detention_centre", "detained_unknown_place", "sentenced", "forced_labour"}


def _require_coordinator(actor: User) -> None:
    if actor.role != Role.COORDINATOR:
        raise NotAllowed(str(_l("Only coordinators record submissions and answers.")))


@dataclass
class SubmissionInput:
    handed_over_on: date
    channel: str
    handed_over_by: str
    receipt_number: str = ""
    follow_up_on: date | None = None
    receipt: tuple[str, PendingBlob] | None = None  # file name, the streamed upload


def record_submission(actor: User, packet: Packet, data: SubmissionInput) -> Submission:
    _require_coordinator(actor)
    if data.channel not in CHANNELS:
        raise InvalidInput(str(_l("Choose how it was handed over.")), field="channel")
    if not data.handed_over_by.strip():
        raise InvalidInput(str(_l("Say who handed it over.")), field="handed_over_by")
    if data.follow_up_on and data.follow_up_on < data.handed_over_on:
        raise InvalidInput(str(_l("The follow-up date comes after the hand-over.")), field="follow_up_on")
    submission = Submission(packet=packet, handed_over_on=data.handed_over_on, channel=data.channel,
                            handed_over_by=data.handed_over_by.strip(), receipt_number=data.receipt_number.strip(),
                            follow_up_on=data.follow_up_on, recorded_by=actor)
    if data.receipt is not None:
        filename, sink = data.receipt
        written = sink.finish()
        if filename or written.size:
            try:
                file_type = sniff.detect(written.head)
            except sniff.Refused as refusal:
                raise InvalidInput(f"{evidence_services.clean_filename(filename)}: {refusal}",
                                   field="receipt") from refusal
            submission.receipt_address = evidence_services.promote_upload(sink, written.sha256)
            submission.receipt_filename = evidence_services.clean_filename(filename)
            submission.receipt_type, submission.receipt_size = file_type.label, written.size
            submission.receipt_sha256 = written.sha256
    db.session.add(submission)
    db.session.flush()
    audit.record(actor, "submission.create", object_type="submission", object_id=submission.id,
                 details={"packet": packet.reference, "channel": data.channel,
                          "receipt_sha256": submission.receipt_sha256 or None})
    return submission


@dataclass
class ResponseInput:
    received_on: date
    kind: str
    text: str
    outcomes: dict[int, str] = field(default_factory=dict)  # case id -> outcome ("" = none)


def record_response(actor: User, submission: Submission, data: ResponseInput) -> Response:
    """Record an answer; each case's outcome goes to its timeline and, where it says so, its status."""
    _require_coordinator(actor)
    if data.kind not in RESPONSE_KINDS:
        raise InvalidInput(str(_l("Choose what kind of answer it is.")), field="kind")
    if data.received_on < submission.handed_over_on:
        raise InvalidInput(str(_l("An answer cannot come before the hand-over.")), field="received_on")
    packet_cases = {row.case_id: row.case for row in submission.packet.cases}
    response = Response(submission=submission, received_on=data.received_on, kind=data.kind, text=data.text.strip(),
                        recorded_by=actor)
    db.session.add(response)
    db.session.flush()
    recipient = submission.packet.recipient.name
    for case_id, outcome in data.outcomes.items():
        if not outcome:
            continue
        if outcome not in OUTCOMES or case_id not in packet_cases:
            raise InvalidInput(str(_l("Unknown outcome.")), field="outcomes")
        case = access.get_case(actor, packet_cases[case_id].reference)
        db.session.add(ResponseOutcome(response=response, case=case, outcome=outcome))
        _apply_outcome(actor, case, outcome, data.received_on, recipient, submission.packet.reference)
    audit.record(actor, "response.create", object_type="response", object_id=response.id,
                 details={"packet": submission.packet.reference, "kind": data.kind,
                          "outcomes": len([o for o in data.outcomes.values() if o])})
    return response


def _apply_outcome(actor: User, case: Case, outcome: str, on: date, recipient: str, packet_reference: str) -> None:
    source = f"{recipient}, {packet_reference}"
    when = PartialDate.from_date(on)
    case_services.add_timeline_event(actor, case, kind="official_reply", occurred_on=when, place="",
                                     description=str(OUTCOMES[outcome]), source=source)
    status = _STATUS_AFTER.get(outcome)
    if status and not (outcome == "confirmed_detained" and case.status in _HELD) and case.status != status:
        case_services.record_status(actor, case, status, when, source)


def open_receipt(actor: User, submission: Submission):  # type: ignore[no-untyped-def]
    chunks = evidence_services.stream_bytes(submission.receipt_address or "")
    audit.record(actor, "submission.receipt.download", object_type="submission", object_id=submission.id,
                 details={"packet": submission.packet.reference})
    return chunks


def awaiting_answer(actor: User, today: date) -> list[Submission]:
    """Submissions whose follow-up date has passed with no answer recorded since."""
    if actor.role != Role.COORDINATOR:
        return []
    answered = exists().where(Response.submission_id == Submission.id)
    statement = (select(Submission).join(Packet, Packet.id == Submission.packet_id)
                 .where(Submission.follow_up_on.is_not(None), Submission.follow_up_on <= today, ~answered)
                 .order_by(Submission.follow_up_on)
                 .execution_options(**access.unscoped("coordinators' follow-up list; packets are theirs")))
    return list(db.session.scalars(statement))
