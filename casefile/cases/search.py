"""The case list: filters, name search in any script, sorting and pagination — all in SQL."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Integer, Select, and_, any_, bindparam, exists, false, func, intersect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, SelectField
from wtforms.validators import Length, NumberRange, Optional

from casefile import access, audit
from casefile.access import unscoped
from casefile.auth.models import Role, User
from casefile.cases import vocab
from casefile.cases.models import Case
from casefile.core.forms import PartialDateField, TextField
from casefile.core.partial_dates import PartialDate
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from casefile.packets.models import Packet, PacketCase, Response, ResponseOutcome, Submission
from casefile.people.identifiers import InvalidIdentifier, parse_prc_id
from casefile.people.models import NameToken, Person
from casefile.people.names import query_tokens

REFERENCE = re.compile(r"^KZ-\d{4}-\d{5,}$", re.IGNORECASE)
SORTS = {
    "updated": (_l("Recently changed"), (Case.updated_at.desc(), Case.id.desc())),
    "reference": (_l("Reference"), (Case.reference.asc(),)),
    "reference_desc": (_l("Reference, newest first"), (Case.reference.desc(),)),
    "detained": (_l("Detained, earliest first"), (Case.detained_on.asc(), Case.id.asc())),
    "detained_desc": (_l("Detained, latest first"), (Case.detained_on.desc(), Case.id.desc())),
}
MAX_QUERY_TOKENS = 6
MAX_QUERY = 200
MAX_LISTED_PEOPLE = 5000


class CaseFilterForm(FlaskForm):
    """The list's query parameters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = TextField(_l("Name, reference or ID"), validators=[Length(max=MAX_QUERY)])
    status = SelectField(_l("Status"), choices=[("", _l("Any status"))] + [(k, v) for k, v in vocab.STATUSES.items()],
                         default="")
    prefecture = SelectField(_l("Prefecture"), choices=[], default="")
    team = SelectField(_l("Team"), choices=[], default="")
    verification = SelectField(
        _l("Verification"),
        choices=[("", _l("Any level"))] + [(str(k), v) for k, v in vocab.VERIFICATION_LEVELS.items()], default="")
    detained_from = PartialDateField(_l("Detained from"))
    detained_to = PartialDateField(_l("Detained until"))
    # Filters the dashboard's figures link to; the view fills the choices that come from the database.
    county = SelectField(_l("Hometown"), choices=[], default="")
    detained_known = SelectField(_l("Detention date"), choices=[
        ("", _l("Any")), ("none", _l("Not recorded")), ("year", _l("Known to the year only"))], default="")
    created_from = PartialDateField(_l("Logged from"))
    created_to = PartialDateField(_l("Logged until"))
    evidence = SelectField(_l("Documents"), choices=[
        ("", _l("Any")), ("with", _l("With documents")), ("without", _l("Without documents"))], default="")
    # Submissions and their answers are the coordinators' work; for others these are ignored.
    recipient = SelectField(_l("Submitted to"), choices=[], default="")
    answer = SelectField(_l("Answer"), choices=[
        ("", _l("Any")), ("received", _l("Answer received")), ("awaiting", _l("Awaiting an answer"))], default="")
    outcome = SelectField(_l("Outcome"), choices=[], default="")
    sort = SelectField(_l("Sort"), choices=[(k, v[0]) for k, v in SORTS.items()], default="updated")
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=1_000_000)], default=1)


@dataclass
class CasePage:
    items: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def period_after(end: PartialDate) -> PartialDate:
    """The first period of the same precision after ``end`` (exclusive upper bound)."""
    if end.precision == "year":
        return PartialDate(end.year + 1)
    if end.precision == "month":
        assert end.month is not None
        return PartialDate(end.year + end.month // 12, end.month % 12 + 1)
    return PartialDate.from_date(end.latest() + timedelta(days=1))


def _name_condition(q: str):  # type: ignore[no-untyped-def]
    """Cases whose person has, for every query token, a name token starting with it.

    The matching person ids are fetched first (index range scans on ``name_tokens``); a
    modest set goes into the case query as a list, so neither database has to guess how
    selective a name is. A query that matches very many people stays a subquery.
    """
    tokens = query_tokens(q)[:MAX_QUERY_TOKENS]
    if not tokens:
        return None
    per_token = []
    for token in tokens:
        # A prefix match as a range, so a plain B-tree index serves it on both backends.
        upper = token[:-1] + chr(ord(token[-1]) + 1)
        per_token.append(select(NameToken.person_id).where(NameToken.token >= token, NameToken.token < upper))
    matching = intersect(*per_token) if len(per_token) > 1 else per_token[0].distinct()
    person_ids = db.session.scalars(
        select(matching.subquery().c.person_id).limit(MAX_LISTED_PEOPLE + 1)
        .execution_options(**unscoped("name token probe; the case query applies access"))
    ).all()
    if not person_ids:
        return false()
    if len(person_ids) > MAX_LISTED_PEOPLE:
        return Case.person_id.in_(matching)
    if db.session.get_bind().dialect.name == "postgresql":
        # One array parameter instead of thousands: far cheaper to send, parse and plan.
        return Case.person_id == any_(bindparam("person_ids", list(person_ids), type_=ARRAY(Integer)))
    # SQLite: one JSON parameter unpacked by json_each, instead of thousands of bound values.
    ids = func.json_each(bindparam("person_ids", json.dumps(list(person_ids)))).table_valued("value")
    return Case.person_id.in_(select(ids.c.value))


def _query_condition(q: str):  # type: ignore[no-untyped-def]
    compact = q.strip()
    if REFERENCE.match(compact):
        return Case.reference == compact.upper()
    digits = re.sub(r"[\s-]", "", compact)
    if re.fullmatch(r"\d{17}[\dXx]|\d{15}", digits):
        try:
            number = parse_prc_id(digits).number
        except InvalidIdentifier:
            number = digits.upper()
        return Case.person_id.in_(select(Person.id).where(Person.prc_id == number))
    if re.fullmatch(r"\d{12}", digits):
        return Case.person_id.in_(select(Person.id).where(Person.iin == digits))
    return _name_condition(compact)


NO_VALUE = "none"  # the filter value for "not recorded" (prefecture, county) or "no outcome"
ANY_RECIPIENT = "any"


# An evidence item that is a document: a file (a note is not one) that was not removed.
DOCUMENT_CONDITIONS = (EvidenceItem.entry == "file", EvidenceItem.tombstoned_at.is_(None))


def has_documents():  # type: ignore[no-untyped-def]
    """A case with at least one evidence file that was not removed."""
    return exists().where(EvidenceItem.case_id == Case.id, *DOCUMENT_CONDITIONS)


def _submitted(recipient_id: int | None, answered: bool = False):  # type: ignore[no-untyped-def]
    """A case in a packet that was handed over (to ``recipient_id``, or to anyone); with ``answered``,
    one whose submission got at least one answer."""
    conditions = [PacketCase.case_id == Case.id, Packet.id == PacketCase.packet_id,
                  Submission.packet_id == Packet.id]
    if recipient_id is not None:
        conditions.append(Packet.recipient_id == recipient_id)
    if answered:
        conditions.append(Response.submission_id == Submission.id)
    return exists().where(and_(*conditions))


def submitted_to(recipient_id: int | None):  # type: ignore[no-untyped-def]
    return _submitted(recipient_id)


def answered_by(recipient_id: int | None):  # type: ignore[no-untyped-def]
    return _submitted(recipient_id, answered=True)


def with_outcome(outcome: str):  # type: ignore[no-untyped-def]
    return exists().where(ResponseOutcome.case_id == Case.id, ResponseOutcome.outcome == outcome)


def without_outcome():  # type: ignore[no-untyped-def]
    """Handed over to someone, and no answer gave this case an outcome."""
    return and_(submitted_to(None), ~exists().where(ResponseOutcome.case_id == Case.id))


def _start(value: PartialDate) -> datetime:
    return datetime.combine(value.earliest(), datetime.min.time())


def _followup_filters(statement: Select[tuple[Case]], form: CaseFilterForm) -> Select[tuple[Case]]:
    recipient_id = None if form.recipient.data in ("", ANY_RECIPIENT) else int(form.recipient.data)
    if form.recipient.data:
        statement = statement.where(submitted_to(recipient_id))
    if form.answer.data == "received":
        statement = statement.where(answered_by(recipient_id))
    elif form.answer.data == "awaiting":
        statement = statement.where(submitted_to(recipient_id), ~answered_by(recipient_id))
    if form.outcome.data == NO_VALUE:
        statement = statement.where(without_outcome())
    elif form.outcome.data:
        statement = statement.where(with_outcome(form.outcome.data))
    return statement


def filtered_cases(actor: User, form: CaseFilterForm) -> Select[tuple[Case]]:
    """The visible cases that match the form's filters (unsorted, unpaginated)."""
    statement = access.visible_cases(actor)
    if form.q.data:
        condition = _query_condition(form.q.data)
        if condition is not None:
            statement = statement.where(condition)
    if form.status.data:
        statement = statement.where(Case.status == form.status.data)
    if form.prefecture.data == NO_VALUE:
        statement = statement.where(Case.prefecture_code.is_(None))
    elif form.prefecture.data:
        statement = statement.where(Case.prefecture_code == form.prefecture.data)
    if form.county.data == NO_VALUE:
        statement = statement.where(Case.person_id.in_(select(Person.id).where(Person.hometown_code.is_(None))))
    elif form.county.data:
        statement = statement.where(Case.person_id.in_(select(Person.id).where(Person.hometown_code == form.county.data)))
    if form.team.data:
        statement = statement.where(Case.team_id == int(form.team.data))
    if form.verification.data:
        statement = statement.where(Case.verification_level == int(form.verification.data))
    if form.detained_from.parsed:
        statement = statement.where(Case.detained_on >= form.detained_from.parsed)
    if form.detained_to.parsed:
        # Every date inside the upper bound's period counts: "until 2018" includes 2018-12-31.
        statement = statement.where(Case.detained_on < period_after(form.detained_to.parsed))
    if form.detained_known.data == NO_VALUE:
        statement = statement.where(Case.detained_on.is_(None))
    elif form.detained_known.data == "year":
        statement = statement.where(func.length(Case.detained_on) == 4)
    if form.created_from.parsed:
        statement = statement.where(Case.created_at >= _start(form.created_from.parsed))
    if form.created_to.parsed:
        statement = statement.where(Case.created_at < _start(period_after(form.created_to.parsed)))
    if form.evidence.data == "with":
        statement = statement.where(has_documents())
    elif form.evidence.data == "without":
        statement = statement.where(~has_documents())
    if actor.role == Role.COORDINATOR:
        statement = _followup_filters(statement, form)
    return statement


def find_cases(actor: User, form: CaseFilterForm, per_page: int = 25) -> CasePage:
    """One page of the visible, filtered, sorted cases with the total count.

    A name search is an audit event (with the query), as the auditors ask.
    """
    statement = filtered_cases(actor, form)
    # Count on the same WHERE clause, without selecting every column into a subquery.
    total = db.session.scalar(statement.with_only_columns(func.count(Case.id)).order_by(None)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(form.page.data or 1, pages)
    order = SORTS.get(form.sort.data or "updated", SORTS["updated"])[1]
    items = list(db.session.scalars(
        statement.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(Case.person).selectinload(Person.names), selectinload(Case.team))
    ))
    if form.q.data:
        audit.record(actor, "case.search", object_type="case", details={"q": form.q.data, "results": total})
    return CasePage(items=items, total=total, page=page, per_page=per_page)
