"""The rules of a case: open, update, status changes, timeline, reporters and consent.

Every function takes the acting user first, authorises through ``casefile.access``,
changes rows, flushes and records its audit event; the request commits once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casefile import access, audit
from casefile.auth.models import Role, Team, User
from casefile.cases import vocab
from casefile.cases.models import Case, CaseStatusEvent, Consent, ReferenceCounter, Reporter, TimelineEvent
from casefile.core.crypto import seal, unseal
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.core.partial_dates import PartialDate
from casefile.db import utcnow
from casefile.extensions import db
from casefile.people.services import PersonInput, apply_person, new_person, prefecture_code

CASE_FIELDS = (
    "team_id", "verification_level", "detained_on", "last_contact_on", "trial_on", "release_on",
    "detention_facility", "detention_city", "alleged_reasons", "alleged_reason_other", "sentence",
    "narrative", "responsible_authority", "family_steps", "restricted",
)


@dataclass
class CaseInput:
    """Everything a case form carries, already parsed."""

    person: PersonInput
    team_id: int
    status: str = "missing"
    status_on: PartialDate | None = None
    status_source: str = ""
    verification_level: int = 0
    detained_on: PartialDate | None = None
    last_contact_on: PartialDate | None = None
    trial_on: PartialDate | None = None
    release_on: PartialDate | None = None
    detention_facility: str = ""
    detention_city: str = ""
    alleged_reasons: list[str] = field(default_factory=list)
    alleged_reason_other: str = ""
    sentence: str = ""
    narrative: str = ""
    responsible_authority: str = ""
    family_steps: str = ""
    restricted: bool = False
    named_user_ids: list[int] = field(default_factory=list)


@dataclass
class ReporterInput:
    full_name: str
    relationship_kind: str
    relationship_detail: str = ""
    contact: dict[str, str] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)  # kind -> none|case|identity
    consent_on: date | None = None


def assignable_teams(actor: User) -> list[Team]:
    """Teams a case may be filed under by ``actor``: their own, or any for a coordinator."""
    if actor.role == Role.COORDINATOR:
        return list(db.session.scalars(select(Team).order_by(Team.name)))
    return list(actor.teams)


def nameable_users() -> list[User]:
    """Active users who work with cases and so may be named on a restricted case."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_([Role.ADVOCATE, Role.COORDINATOR]))
        .order_by(User.username)
    ))


def next_reference(year: int) -> str:
    """A unique, readable reference such as ``KZ-2025-00042``; safe under concurrent writers."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(ReferenceCounter).values(year=year, last=0).on_conflict_do_nothing())
    number = db.session.execute(
        update(ReferenceCounter).where(ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1).returning(ReferenceCounter.last)
    ).scalar_one()
    return f"KZ-{year}-{number:05d}"


def next_references(year: int, count: int) -> list[str]:
    """``count`` consecutive references in one statement (an import of thousands of cases)."""
    if count <= 0:
        return []
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(ReferenceCounter).values(year=year, last=0).on_conflict_do_nothing())
    last = db.session.execute(
        update(ReferenceCounter).where(ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + count).returning(ReferenceCounter.last)
    ).scalar_one()
    return [f"KZ-{year}-{number:05d}" for number in range(last - count + 1, last + 1)]


def _check_case_input(actor: User, data: CaseInput) -> None:
    if data.team_id not in {team.id for team in assignable_teams(actor)}:
        raise InvalidInput(_l("Choose one of your teams."), field="team_id")
    if data.status not in vocab.STATUSES:
        raise InvalidInput(_l("Unknown status."), field="status")
    if data.verification_level not in vocab.VERIFICATION_LEVELS:
        raise InvalidInput(_l("Unknown verification level."), field="verification_level")
    unknown = set(data.alleged_reasons) - set(vocab.ALLEGED_REASONS)
    if unknown:
        raise InvalidInput(_l("Unknown alleged reason."), field="alleged_reasons")
    allowed = {user.id for user in nameable_users()}
    if set(data.named_user_ids) - allowed:
        raise InvalidInput(_l("Only active advocates and coordinators can be named."), field="named_users")


def _named_users(ids: list[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.username)))


def _snapshot(case: Case) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(case, name) for name in CASE_FIELDS}
    values["named_users"] = sorted(user.id for user in case.named_users)
    return values


def open_case(actor: User, data: CaseInput) -> Case:
    """Create a person and their case with its first status event; returns the case."""
    if not access.can_create_case(actor):
        raise NotAllowed(_l("Your role does not log cases."))
    _check_case_input(actor, data)
    person = new_person(data.person)
    case = Case(reference=next_reference(utcnow().year), person=person, status=data.status,
                created_by_id=actor.id, alleged_reasons=[])
    _apply_case_fields(case, data)
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseStatusEvent(case_id=case.id, status=data.status, occurred_on=data.status_on,
                                   source=data.status_source, recorded_by_id=actor.id))
    audit.record(actor, "case.create", object_type="case", object_id=case.id, case_ref=case.reference,
                 details={"restricted": case.restricted, "team_id": case.team_id})
    return case


def _apply_case_fields(case: Case, data: CaseInput) -> None:
    for name in CASE_FIELDS:
        setattr(case, name, getattr(data, name))
    case.prefecture_code = prefecture_code(case.person.hometown_code)
    case.alleged_reasons = sorted(set(data.alleged_reasons))
    case.named_users = _named_users(data.named_user_ids) if data.restricted else []


def update_case(actor: User, case: Case, data: CaseInput) -> list[str]:
    """Apply an edit to a case the actor may see; returns the names of the fields that changed.

    The audit event lists which fields changed, never their values.
    """
    if not access.can_edit_case(actor, case):
        raise NotAllowed(_l("Your role does not edit cases."))
    _check_case_input(actor, data)
    before = _snapshot(case)
    changed = apply_person(case.person, data.person)
    _apply_case_fields(case, data)
    after = _snapshot(case)
    changed += [name for name in after if before[name] != after[name]]
    if data.status != case.status:
        _add_status(actor, case, data.status, data.status_on, data.status_source)
        changed.append("status")
    if changed:
        case.updated_at = utcnow()
        audit.record(actor, "case.update", object_type="case", object_id=case.id, case_ref=case.reference,
                     details={"fields": sorted(changed)})
    return changed


def _add_status(actor: User, case: Case, status: str, occurred_on: PartialDate | None, source: str) -> None:
    case.status = status
    case.status_events.insert(0, CaseStatusEvent(status=status, occurred_on=occurred_on, source=source,
                                                 recorded_by_id=actor.id))


def record_status(actor: User, case: Case, status: str, occurred_on: PartialDate | None, source: str) -> None:
    """A dated status change with its source; the case takes the new status."""
    if not access.can_edit_case(actor, case):
        raise NotAllowed(_l("Your role does not edit cases."))
    if status not in vocab.STATUSES:
        raise InvalidInput(_l("Unknown status."), field="status")
    previous = case.status
    _add_status(actor, case, status, occurred_on, source)
    case.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "case.status", object_type="case", object_id=case.id, case_ref=case.reference,
                 details={"from": previous, "to": status})


def add_timeline_event(actor: User, case: Case, *, kind: str, occurred_on: PartialDate | None,
                       place: str, description: str, source: str) -> TimelineEvent:
    """Add an event (detention, transfer, trial, ...) to the case's timeline."""
    if not access.can_edit_case(actor, case):
        raise NotAllowed(_l("Your role does not edit cases."))
    if kind not in vocab.TIMELINE_KINDS:
        raise InvalidInput(_l("Unknown kind of event."), field="kind")
    event = TimelineEvent(case_id=case.id, kind=kind, occurred_on=occurred_on, place=place,
                          description=description, source=source, recorded_by_id=actor.id)
    db.session.add(event)
    case.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "case.timeline.add", object_type="timeline_event", object_id=event.id,
                 case_ref=case.reference, details={"kind": kind})
    return event


def view_case(actor: User, reference: str, page: str = "case") -> Case:
    """Fetch a case for reading and record that ``actor`` viewed it (404 when not visible).

    ``page`` says which page showed the content (the case page, its edit form, a reporter form).
    """
    case = access.get_case(actor, reference)
    audit.record(actor, "case.view", object_type="case", object_id=case.id, case_ref=case.reference,
                 details={"page": page, "contacts_shown": access.can_see_contacts(actor, case)})
    return case


def _contact_context(reporter: Reporter) -> str:
    return f"reporter:{reporter.id}:contact"  # the same as seal_contact_for's


def reporter_contact(actor: User, case: Case, reporter: Reporter) -> dict[str, str] | None:
    """The reporter's contact details for the case team, None for anyone else."""
    if not access.can_see_contacts(actor, case) or reporter.contact_sealed is None:
        return None
    return json.loads(unseal(reporter.contact_sealed, _contact_context(reporter)))


def reporter_contact_for_packet(reporter: Reporter) -> dict[str, str]:
    """Contact details for the signature sheet of a packet; only call for a reporter whose consent
    for that packet's recipient covers their identity."""
    if reporter.contact_sealed is None:
        return {}
    return json.loads(unseal(reporter.contact_sealed, _contact_context(reporter)))


def _check_reporter_input(data: ReporterInput) -> None:
    if data.relationship_kind not in vocab.RELATIONSHIPS:
        raise InvalidInput(_l("Unknown relationship."), field="relationship_kind")
    for kind, choice in data.consents.items():
        if kind not in vocab.RECIPIENT_KINDS or choice not in vocab.CONSENT_CHOICES:
            raise InvalidInput(_l("Unknown consent choice."), field=f"consent_{kind}")


def add_reporter(actor: User, case: Case, data: ReporterInput) -> Reporter:
    """Link a relative or witness to the case, seal their contact details, record consent."""
    if not access.can_edit_case(actor, case):
        raise NotAllowed(_l("Your role does not edit cases."))
    _check_reporter_input(data)
    reporter = Reporter(case_id=case.id, full_name=data.full_name, relationship_kind=data.relationship_kind,
                        relationship_detail=data.relationship_detail, created_by_id=actor.id)
    db.session.add(reporter)
    db.session.flush()
    _seal_contact(reporter, data.contact)
    case.updated_at = utcnow()
    audit.record(actor, "reporter.create", object_type="reporter", object_id=reporter.id,
                 case_ref=case.reference, details={"fields": sorted(k for k, v in data.contact.items() if v)})
    _apply_consents(actor, case, reporter, data)
    return reporter


def update_reporter(actor: User, case: Case, reporter: Reporter, data: ReporterInput) -> list[str]:
    """Edit a reporter of a case the actor may see; contact changes only by the case team."""
    if not access.can_edit_case(actor, case) or reporter.case_id != case.id:
        raise NotAllowed(_l("Your role does not edit cases."))
    _check_reporter_input(data)
    changed = [name for name in ("full_name", "relationship_kind", "relationship_detail")
               if getattr(reporter, name) != getattr(data, name)]
    for name in changed:
        setattr(reporter, name, getattr(data, name))
    if access.can_see_contacts(actor, case):
        old = reporter_contact(actor, case, reporter) or {}
        contact_changed = sorted(key for key in set(old) | set(data.contact)
                                 if (old.get(key) or "") != (data.contact.get(key) or ""))
        if contact_changed:
            _seal_contact(reporter, data.contact)
            changed += [f"contact.{key}" for key in contact_changed]  # names only, never values
    if changed:
        case.updated_at = utcnow()
        audit.record(actor, "reporter.update", object_type="reporter", object_id=reporter.id,
                     case_ref=case.reference, details={"fields": changed})
    _apply_consents(actor, case, reporter, data)
    return changed


def _seal_contact(reporter: Reporter, contact: dict[str, str]) -> None:
    reporter.contact_sealed = seal_contact_for(reporter.id, contact)


def seal_contact_for(reporter_id: int, contact: dict[str, str]) -> bytes | None:
    """A reporter's contact details sealed for storage (None when there are none)."""
    cleaned = {key: value for key, value in contact.items() if value}
    if not cleaned:
        return None
    return seal(json.dumps(cleaned, ensure_ascii=False).encode(), f"reporter:{reporter_id}:contact")


def _apply_consents(actor: User, case: Case, reporter: Reporter, data: ReporterInput) -> None:
    today = data.consent_on or utcnow().date()
    for kind, choice in data.consents.items():
        current = reporter.current_consent(kind)
        current_choice = "none" if current is None else ("identity" if current.disclose_identity else "case")
        if choice == current_choice:
            continue
        if current is not None:
            current.withdrawn_on, current.withdrawn_by_id, current.withdrawn_at = today, actor.id, utcnow()
            audit.record(actor, "consent.withdraw", object_type="consent", object_id=current.id,
                         case_ref=case.reference, details={"reporter_id": reporter.id, "recipient_kind": kind})
        if choice != "none":
            consent = Consent(recipient_kind=kind, disclose_identity=choice == "identity", given_on=today,
                              recorded_by_id=actor.id)
            reporter.consents.append(consent)
            db.session.flush()
            audit.record(actor, "consent.record", object_type="consent", object_id=consent.id,
                         case_ref=case.reference,
                         details={"reporter_id": reporter.id, "recipient_kind": kind,
                                  "disclose_identity": consent.disclose_identity})


def get_reporter(case: Case, reporter_id: int) -> Reporter:
    """A reporter of this (already authorised) case, or NotAllowed."""
    for reporter in case.reporters:
        if reporter.id == reporter_id:
            return reporter
    raise NotAllowed(_l("No such reporter on this case."))
