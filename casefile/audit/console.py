"""Queries behind the auditor's console: filtered events, activity, access history, flags, CSV.

Everything here reads the trail; the two functions that act (``export_csv`` and
``verify_now``) take the actor first and record what they did. No function here ever
returns case content: events carry references and ids, and ``shown_details`` decides which
of an event's details an auditor may read.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, or_, select

from casefile import access, audit
from casefile.audit.models import AuditEvent
from casefile.audit.verify import ChainReport, chain_head, verify_chain
from casefile.auth.models import User
from casefile.core.spreadsheets import csv_line
from casefile.db import utcnow
from casefile.extensions import db

PER_PAGE = 25
EXPORT_CHUNK = 1000
FAILED_LOGIN_SPAN = timedelta(minutes=15)
# The flags look this far back, and at most this many failed logins, so the page stays bounded.
FLAG_WINDOW = timedelta(days=30)
FLAG_MAX_FAILURES = 100_000

# What of an event's details an auditor may read, per action. Everything else stays in the
# chain (hashed, verifiable, available to a formal inquiry with database access) but is never
# rendered or exported here. Default deny: a detail key that a later feature adds shows only
# once someone has decided here that it holds no case content.
#
# ``case.search`` records its query (the issue asks for it), but a query is a person's name
# in some script, a PRC resident ID or an IIN: exactly the content an auditor must not read,
# and it may name someone in a restricted case. The console shows that a search happened, by
# whom, when, from where and how many cases it found, and says the query is withheld.
# Status changes (from/to), timeline kinds and consent choices are case content too.
SHOWN_DETAILS: dict[str, tuple[str, ...]] = {
    "login.failure": ("username", "reason"),
    "session.expired": ("reason",),
    "case.search": ("results",),
    "case.create": ("restricted", "team_id", "import"),
    "case.update": ("fields", "merge_id", "from_person_id", "to_person_id"),
    "case.status": (),
    "case.timeline.add": (),
    "case.view": ("page", "contacts_shown"),
    "reporter.create": ("fields",),
    "reporter.update": ("fields",),
    "consent.record": ("reporter_id",),
    "consent.withdraw": ("reporter_id",),
    "team.create": ("name",),
    "user.create": ("username", "role", "teams"),
    "user.update": ("changed",),
    "audit.export": ("filters",),
    "audit.verify": ("ok", "count", "first_broken_seq", "kind", "head_hash"),
    # Evidence: ids, hashes, sizes and detected types; never descriptions, sources, names or reasons.
    "evidence.add": ("evidence_id", "entry", "kind", "size", "content_type", "sha256", "corrects"),
    "evidence.duplicate": ("evidence_id", "sha256"),
    "evidence.view": ("evidence_id",),
    "evidence.preview": ("evidence_id",),
    "evidence.download": ("evidence_id", "size", "packet"),
    "evidence.correct": ("evidence_id", "correction_id"),
    "evidence.tombstone": ("evidence_id",),
    "evidence.purge": ("evidence_id", "sha256", "bytes_destroyed", "shared_with"),
    "evidence.packet": ("evidence_id", "packet"),
    "evidence.verify": ("blobs", "items", "problems", "problem_items"),
    "evidence.sweep": ("orphans", "stale_uploads", "render_folders"),
    "packet.build": ("reference", "recipient", "language", "cases", "left_out", "pdf_sha256"),
    "packet.download": ("reference", "what"),
    "submission.create": ("packet", "channel", "receipt_sha256"),
    "submission.receipt.download": ("packet",),
    "response.create": ("packet", "kind", "outcomes"),
    "person.duplicates": ("pairs",),
    "person.duplicates.view": ("page", "pairs", "person_ids"),
    "person.distinct": ("first_id", "second_id"),
    "person.merge": ("kept_id", "merged_id", "merge_id", "cases_moved", "names_added", "filled", "conflicts"),
    "person.keys.rebuild": ("people", "keys"),
    "person.update": ("fields", "source"),
    # Imports: ids, counts and the file's hash; never file names, names or values.
    "import.stage": ("rows", "sha256", "team_id"),
    "import.preview": (),
    "import.review": ("rows", "errors", "flagged"),
    "import.discard": (),
    "import.mapping.save": ("columns",),
    "import.commit": ("cases", "people", "reporters", "consents", "linked", "queued", "sha256",
                      "first_reference", "last_reference"),
    "recipient.create": ("code", "changed"),
    "recipient.update": ("code", "changed"),
    # Accounts: how a login went and why it failed; never a password or a code.
    "login.success": ("second_factor",),
    "login.rate_limited": ("limit", "endpoint"),
    "account.locked": ("username", "failures", "until"),
    "reauth.failure": ("username", "reason"),
    "password_change.failure": ("username", "reason"),
    "totp.enrol.failure": ("username", "reason"),
    "totp.enable": ("replaced",),
    "totp.recovery_code_used": ("left",),
    "user.locale": ("locale",),
    # Jobs: the kind only; a failed job's message may quote a refused value.
    "job.start": ("kind",),
    "job.done": ("kind",),
    "job.failed": ("kind",),
    "dashboard.view": ("cases",),
    # Backups and keys: hashes, counts and revisions; no rows.
    "backup.create": ("sha256", "size", "blobs", "missing_blobs", "audit_events", "audit_head", "schema_revision"),
    "backup.restore": ("created_at", "schema_revision", "blobs", "audit_events", "audit_head", "warnings"),
    "keys.rotate": ("operator", "old_key_check", "new_key_check", "rewrapped", "reencrypted", "moved", "sealed"),
}
# Actions the application records (those above, and those without details). The filter offers
# these and any other action found in the trail, so a bookmarked filter for an action that has
# not happened yet answers "no events" rather than "not a valid choice".
KNOWN_ACTIONS = frozenset(SHOWN_DETAILS) | {"logout", "user.activate", "user.deactivate", "user.password_reset",
                                            "user.password_change", "account.unlock", "reauth.success",
                                            "session.logout_all", "totp.recovery_codes", "totp.remove"}
CSV_COLUMNS = ("seq", "occurred_at_utc", "actor_username", "actor_role", "action", "object_type", "object_id",
               "case_ref", "client_addr", "outcome", "details", "withheld", "hash")


@dataclass(frozen=True)
class EventFilters:
    """The console's filters, already validated; empty values filter nothing."""

    user: str = ""
    action: str = ""
    case_ref: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = ""

    def as_details(self) -> dict[str, str]:
        """The filters as recorded in an ``audit.export`` event (only those set)."""
        values = {"user": self.user, "action": self.action, "case_ref": self.case_ref, "outcome": self.outcome,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {key: value for key, value in values.items() if value}


@dataclass
class Page:
    """One page of events with the total count (``page`` already clamped to the last page)."""

    items: list[AuditEvent]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class Details:
    """What an auditor sees of an event's details, and whether anything was withheld."""

    shown: dict[str, Any]
    withheld: bool

    @property
    def lines(self) -> list[tuple[str, str]]:
        """Each shown detail as (key, readable text)."""
        return [(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))
                for key, value in self.shown.items()]


def shown_details(event: AuditEvent) -> Details:
    """The details of ``event`` that hold no case content (see ``SHOWN_DETAILS``)."""
    try:
        raw = json.loads(event.details or "{}")
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        return Details({}, withheld=bool(event.details and event.details != "{}"))
    allowed = SHOWN_DETAILS.get(event.action, ())
    shown = {key: raw[key] for key in allowed if raw.get(key) is not None}
    return Details(shown, withheld=any(key not in allowed for key in raw))


def action_names() -> list[str]:
    """Every action the application records or that occurs in the trail, for the filter's select."""
    found = db.session.scalars(select(AuditEvent.action).distinct())
    return sorted(KNOWN_ACTIONS.union(found))


def filtered_events(filters: EventFilters) -> Select[tuple[AuditEvent]]:
    """The events matching ``filters`` (unordered, unpaginated)."""
    statement = select(AuditEvent)
    if filters.user:
        statement = statement.where(AuditEvent.actor_username == filters.user)
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.case_ref:
        statement = statement.where(AuditEvent.case_ref == filters.case_ref)
    if filters.date_from:
        statement = statement.where(AuditEvent.occurred_at >= datetime.combine(filters.date_from, datetime.min.time()))
    if filters.date_to:
        # The end date is inclusive: everything before the next midnight (UTC).
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())
        statement = statement.where(AuditEvent.occurred_at < end)
    if filters.outcome:
        statement = statement.where(AuditEvent.outcome == filters.outcome)
    return statement


def paginate(statement: Select[tuple[AuditEvent]], page: int | None, per_page: int = PER_PAGE) -> Page:
    """One page of ``statement``'s events, newest first, with the total."""
    total = db.session.scalar(statement.with_only_columns(func.count(AuditEvent.id)).order_by(None)) or 0
    number = min(max(page or 1, 1), max(1, math.ceil(total / per_page)))
    items = list(db.session.scalars(
        statement.order_by(AuditEvent.seq.desc()).limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, total=total, page=number, per_page=per_page)


def find_events(filters: EventFilters, page: int | None) -> Page:
    """The console's main list: filtered events, newest first."""
    return paginate(filtered_events(filters), page)


# --- the chain ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainStatus:
    """The head of the chain (cheap) and the last recorded verification (if any)."""

    count: int
    head_seq: int | None
    head_hash: str | None
    last_verification: AuditEvent | None

    @property
    def gapless(self) -> bool:
        """Sequence numbers count from 1 without gaps, so the count must equal the head's."""
        return self.count == (self.head_seq or 0)


def chain_status() -> ChainStatus:
    """The chain's head and count, and the latest ``audit.verify`` event."""
    count, head_seq, head_hash = chain_head(db.session)
    last = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "audit.verify").order_by(AuditEvent.seq.desc()).limit(1))
    return ChainStatus(count=count, head_seq=head_seq, head_hash=head_hash, last_verification=last)


def verify_now(actor: User) -> ChainReport:
    """Walk the whole chain, record the result as ``audit.verify`` and return it.

    The event's outcome is ``failure`` when the chain is broken, so a filter finds it.
    """
    report = verify_chain(db.session)
    audit.record(actor, "audit.verify", object_type="audit_chain", outcome="success" if report.ok else "failure",
                 details={"ok": report.ok, "count": report.count, "head_hash": report.head_hash,
                          "first_broken_seq": report.first_broken_seq, "kind": report.kind})
    return report


# --- per user and per case ------------------------------------------------------------------

def user_activity(username: str, page: int | None) -> tuple[Page, list[tuple[str, int]], User | None]:
    """A user's events (as actor, including logins tried under that name) and counts per action."""
    statement = select(AuditEvent).where(AuditEvent.actor_username == username)
    counts = db.session.execute(
        select(AuditEvent.action, func.count(AuditEvent.id)).where(AuditEvent.actor_username == username)
        .group_by(AuditEvent.action).order_by(func.count(AuditEvent.id).desc(), AuditEvent.action)).all()
    account = db.session.scalar(select(User).where(User.username == username))
    return paginate(statement, page), [(action, count) for action, count in counts], account


def _kind_of_access(action: str) -> str:
    if action.endswith((".view", ".preview")):
        return "viewed"
    if action.endswith(".download"):
        return "downloaded"
    if action.endswith(".export"):
        return "exported"
    return "changed"


@dataclass
class CaseAccess:
    """One actor's dealings with one case: how often they viewed, changed, downloaded, exported."""

    username: str
    role: str
    viewed: int = 0
    changed: int = 0
    downloaded: int = 0
    exported: int = 0
    last: datetime | None = None


def case_history(reference: str, page: int | None) -> tuple[Page, list[CaseAccess]]:
    """Every event about the case ``reference`` and a per-actor summary. No case row is read."""
    statement = select(AuditEvent).where(AuditEvent.case_ref == reference)
    grouped = db.session.execute(
        select(AuditEvent.actor_username, AuditEvent.actor_role, AuditEvent.action,
               func.count(AuditEvent.id), func.max(AuditEvent.occurred_at))
        .where(AuditEvent.case_ref == reference)
        .group_by(AuditEvent.actor_username, AuditEvent.actor_role, AuditEvent.action)).all()
    summary: dict[tuple[str, str], CaseAccess] = {}
    for username, role, action, count, last in grouped:
        row = summary.setdefault((username, role), CaseAccess(username, role))
        kind = _kind_of_access(action)
        setattr(row, kind, getattr(row, kind) + count)
        row.last = max(filter(None, (row.last, last)), default=None)
    ordered = sorted(summary.values(), key=lambda row: row.last or datetime.min, reverse=True)
    return paginate(statement, page), ordered


@dataclass(frozen=True)
class EvidenceCustody:
    """One evidence item as an auditor sees it: facts and custody, no description, name or source."""

    item_id: int
    kind: str
    entry: str
    content_type: str
    size: int
    sha256: str
    state: str
    custody: list[tuple[datetime, str, str, str]]


def case_evidence(auditor: User, reference: str) -> list[EvidenceCustody]:
    """The custody trail of every evidence item of the case ``reference``."""
    from casefile.cases.models import Case
    from casefile.evidence.models import EvidenceItem

    items = db.session.scalars(access.auditable_evidence(auditor).join(Case, Case.id == EvidenceItem.case_id)
                               .where(Case.reference == reference).order_by(EvidenceItem.id.desc()))
    result = []
    for item in items:
        state = "purged" if item.purged_at else ("removed" if item.tombstoned_at else "live")
        custody = [(event.occurred_at, event.actor_label, event.action, event.reference) for event in item.custody]
        result.append(EvidenceCustody(item.id, item.kind, item.entry, item.content_type, item.size, item.sha256,
                                      state, custody))
    return result


# --- flags ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Burst:
    """At least the threshold of failed logins for one key within ``FAILED_LOGIN_SPAN``."""

    key: str
    first: datetime
    last: datetime
    failures: int


def _bursts(times_by_key: dict[str, list[datetime]], threshold: int) -> list[Burst]:
    """Merge every span of ``threshold`` failures within 15 minutes into bursts, per key."""
    bursts = []
    for key, times in times_by_key.items():
        times.sort()
        start = 0
        current: list[int] | None = None  # [first index, last index] of the burst being merged
        for end, moment in enumerate(times):
            while moment - times[start] > FAILED_LOGIN_SPAN:
                start += 1
            if end - start + 1 < threshold:
                continue
            if current is not None and start <= current[1]:
                current[1] = end
            else:
                if current is not None:
                    bursts.append(Burst(key, times[current[0]], times[current[1]], current[1] - current[0] + 1))
                current = [start, end]
        if current is not None:
            bursts.append(Burst(key, times[current[0]], times[current[1]], current[1] - current[0] + 1))
    return sorted(bursts, key=lambda burst: burst.last, reverse=True)


def failed_login_bursts(threshold: int, now: datetime | None = None) -> tuple[list[Burst], list[Burst]]:
    """Bursts of failed logins in the recent window: (per account tried, per client address)."""
    since = (now or utcnow()) - FLAG_WINDOW
    rows = db.session.execute(
        select(AuditEvent.occurred_at, AuditEvent.actor_username, AuditEvent.client_addr)
        .where(AuditEvent.action == "login.failure", AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.seq.desc()).limit(FLAG_MAX_FAILURES)).all()
    by_account: dict[str, list[datetime]] = defaultdict(list)
    by_address: dict[str, list[datetime]] = defaultdict(list)
    for moment, username, address in rows:
        by_account[username].append(moment)
        by_address[address].append(moment)
    threshold = max(threshold, 1)
    return _bursts(by_account, threshold), _bursts(by_address, threshold)


def _hour_bucket(column: Any) -> Any:
    # Both backends store naive UTC; each truncates to the hour in its own dialect.
    # Rendered inline, not as bound parameters: PostgreSQL must see the same expression in the
    # SELECT and the GROUP BY.
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(literal("hour", literal_execute=True), column)
    return func.strftime(literal("%Y-%m-%d %H:00:00", literal_execute=True), column)


@dataclass(frozen=True)
class HeavyViewer:
    """An account that viewed at least the threshold of distinct cases in one clock hour (UTC)."""

    username: str
    role: str
    hour: datetime
    cases: int
    views: int


def heavy_viewers(threshold: int, now: datetime | None = None) -> list[HeavyViewer]:
    """Accounts with many distinct ``case.view`` events in one hour, grouped in SQL."""
    since = (now or utcnow()) - FLAG_WINDOW
    bucket = _hour_bucket(AuditEvent.occurred_at).label("hour")
    distinct_cases = func.count(AuditEvent.case_ref.distinct())
    rows = db.session.execute(
        select(AuditEvent.actor_username, AuditEvent.actor_role, bucket, distinct_cases, func.count(AuditEvent.id))
        .where(AuditEvent.action == "case.view", AuditEvent.occurred_at >= since)
        .group_by(AuditEvent.actor_username, AuditEvent.actor_role, bucket)
        .having(distinct_cases >= max(threshold, 1))
        .order_by(bucket.desc(), distinct_cases.desc())).all()
    return [HeavyViewer(username, role, hour if isinstance(hour, datetime) else datetime.fromisoformat(hour),
                        cases, views) for username, role, hour, cases, views in rows]


def exports_and_downloads(page: int | None) -> Page:
    """Every export and download (actions ending in ``.export`` or ``.download``), newest first."""
    statement = select(AuditEvent).where(or_(
        AuditEvent.action.like("%.export"), AuditEvent.action.like("%.download"), AuditEvent.action == "audit.export"))
    return paginate(statement, page)


# --- CSV ------------------------------------------------------------------------------------



def _csv_row(event: AuditEvent) -> str:
    details = shown_details(event)
    return csv_line((
        event.seq, event.occurred_at.isoformat(timespec="seconds"), event.actor_username, event.actor_role,
        event.action, event.object_type, event.object_id, event.case_ref or "", event.client_addr, event.outcome,
        json.dumps(details.shown, ensure_ascii=False, sort_keys=True) if details.shown else "",
        "yes" if details.withheld else "", event.hash,
    ))


def export_csv(actor: User, filters: EventFilters) -> Iterator[str]:
    """Record ``audit.export`` with the filters and return the CSV of the matching events.

    The export covers the events before its own event (a snapshot by sequence number); the
    rows come in chunks by keyset, each read in its own short transaction so a long download
    never holds a lock. Starts with a BOM so spreadsheets read UTF-8.
    """
    below = audit.record(actor, "audit.export", object_type="audit_events",
                         details={"filters": filters.as_details()}).seq
    statement = filtered_events(filters)

    def rows() -> Iterator[str]:
        nonlocal below
        yield "\ufeff" + csv_line(list(CSV_COLUMNS))
        while True:
            chunk = list(db.session.scalars(
                statement.where(AuditEvent.seq < below).order_by(AuditEvent.seq.desc()).limit(EXPORT_CHUNK)))
            if not chunk:
                db.session.rollback()
                return
            text = "".join(_csv_row(event) for event in chunk)
            below = chunk[-1].seq
            db.session.rollback()  # end the read transaction before handing the chunk out
            yield text

    return rows()
