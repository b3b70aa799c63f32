"""Which cases a user may see and change, expressed once, in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.exceptions import NotFound

from casefile.access.tripwire import SCOPED
from casefile.auth.models import Role, User
from casefile.cases.models import Case, Reporter, case_named_users
from casefile.extensions import db
from casefile.people.models import Person

CASE_ROLES = frozenset({Role.ADVOCATE, Role.COORDINATOR})


def case_visibility(user: User) -> ColumnElement[bool]:
    """The SQL condition for the cases ``user`` may see.

    Advocates see their teams' cases; coordinators see every case; a restricted case
    is seen only by its creator and its named users; auditors and admins see none.
    """
    if not user.is_authenticated or not user.is_active or user.role not in CASE_ROLES:
        return false()
    named = select(case_named_users.c.case_id).where(case_named_users.c.user_id == user.id)
    own_or_named = or_(Case.created_by_id == user.id, Case.id.in_(named))
    if user.role == Role.COORDINATOR:
        return or_(Case.restricted == false(), own_or_named)
    team_ids = user.team_ids
    in_team = and_(Case.team_id.in_(team_ids), Case.restricted == false()) if team_ids else false()
    return or_(in_team, own_or_named)


def visible_cases(user: User) -> Select[tuple[Case]]:
    """``select(Case)`` already filtered to what ``user`` may see; add filters, order, limit."""
    return select(Case).where(case_visibility(user)).execution_options(**SCOPED)


def visible_persons(user: User) -> Select[tuple[Person]]:
    """The persons that have at least one case ``user`` may see."""
    case_person_ids = select(Case.person_id).where(case_visibility(user))
    return select(Person).where(Person.id.in_(case_person_ids)).execution_options(**SCOPED)


def visible_reporters(user: User) -> Select[tuple[Reporter]]:
    """The reporters of the cases ``user`` may see."""
    case_ids = select(Case.id).where(case_visibility(user))
    return select(Reporter).where(Reporter.case_id.in_(case_ids)).execution_options(**SCOPED)


def visible_evidence(user: User) -> Select[tuple[Any]]:
    """The evidence items of the cases ``user`` may see (tombstoned ones included)."""
    from casefile.evidence.models import EvidenceItem

    case_ids = select(Case.id).where(case_visibility(user))
    return select(EvidenceItem).where(EvidenceItem.case_id.in_(case_ids)).execution_options(**SCOPED)


def auditable_evidence(user: User) -> Select[tuple[Any]]:
    """For auditors: evidence rows of every case, to show hashes and custody, never content."""
    from casefile.evidence.models import EvidenceItem

    allowed = user.is_authenticated and user.is_active and user.role == Role.AUDITOR
    statement = select(EvidenceItem) if allowed else select(EvidenceItem).where(false())
    return statement.execution_options(casefile_scope="audit")


def visible_packets(user: User) -> Select[tuple[Any]]:
    """Packets are the coordinators' work: every coordinator sees every packet, nobody else any."""
    from casefile.packets.models import Packet

    allowed = user.is_authenticated and user.is_active and user.role == Role.COORDINATOR
    statement = select(Packet) if allowed else select(Packet).where(false())
    return statement.execution_options(**SCOPED)


def get_case(user: User, reference: str, **options: Any) -> Case:
    """Fetch a case and authorise in one step; a case ``user`` may not see is a 404."""
    if not isinstance(reference, str) or len(reference) > 20:
        raise NotFound()
    statement = visible_cases(user).where(Case.reference == reference)
    if options.get("for_update"):
        statement = statement.with_for_update()
    case = db.session.scalar(statement)
    if case is None:
        raise NotFound()
    return case


def can_create_case(user: User) -> bool:
    """Advocates and coordinators log cases; advocates only for a team of their own."""
    return user.is_authenticated and user.role in CASE_ROLES


def can_edit_case(user: User, case: Case) -> bool:
    """Whoever may see a case and works with cases may edit it (the audit trail says who did)."""
    return user.role in CASE_ROLES


def can_see_contacts(user: User, case: Case) -> bool:
    """Reporter contact details are for the case's own team only."""
    return user.role in CASE_ROLES and case.team_id in user.team_ids

