"""The bad-input suite: one corpus of hostile strings through every form field and every import column.

Each string is stored exactly as typed (and shown escaped) or refused with a visible message that
leaves the database as it was; never a 500, never unescaped output. The character policy is
``casefile.core.text``; the corpus is ``tests.security.hostile``. ``ROUTES`` holds one entry per
form class, and ``test_every_form_class_is_attacked`` fails when a form has none.
"""

from __future__ import annotations

import importlib
import inspect
import io
import itertools
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

import pyotp
import pytest
from flask_wtf import FlaskForm
from markupsafe import escape
from sqlalchemy import func, select

import casefile
from casefile.access import unscoped
from casefile.auth import throttle
from casefile.auth.models import User
from casefile.cases import services as case_services
from casefile.cases import vocab
from casefile.cases.models import Case, CaseStatusEvent, Reporter, TimelineEvent
from casefile.core.text import text_problem
from casefile.evidence import services as evidence_services
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from casefile.imports import columns, rows
from casefile.imports.models import ImportBatch, ImportMapping
from casefile.matching.models import DuplicateCandidate, PersonMerge
from casefile.packets import followup
from casefile.packets import services as packet_services
from casefile.packets.models import Packet, Recipient, Response, Submission
from casefile.people.models import Person
from casefile.people.names import normalize_display
from tests.auth.conftest import SECRET as ENROLMENT_SECRET
from tests.cases.test_case_forms import case_form
from tests.evidence.helpers import png
from tests.helpers import WebSession
from tests.security.hostile import (
    ALL,
    CHOICES,
    INVALID_UTF8,
    ONE_MEGABYTE,
    REFUSED,
    REFUSED_ON_ONE_LINE,
    SAMPLE,
    STORED,
    Hostile,
)

NEW_PASSWORD = "ferry lantern quietly obsidian 47"
FREE, LINES, CHECKED, CHOICE, SECRET = "free", "free, multi-line", "checked", "choice", "secret"
# Free text takes anything the policy allows; a checked field (a date, an ID, a code) may refuse more.
MESSAGE = re.compile(r'role="alert"|class="error"|class="flash error"|Nothing was saved|larger than this server accepts')
HTML_SPECIALS = set("<>&\"'")
NOT_UTF8_MESSAGE = "not valid UTF-8"


def fresh() -> None:
    db.session.commit()  # a new snapshot: see what the requests committed


def newest(model: Any, *where: Any) -> Any:
    fresh()
    return db.session.scalar(select(model).where(*where).order_by(model.id.desc()).limit(1)
                             .execution_options(**unscoped("test")))


def count(model: Any) -> int:
    return db.session.scalar(select(func.count(model.id)).execution_options(**unscoped("test"))) or 0


# --- the world the forms act on ------------------------------------------------------------------

class World:
    """Users, a case with a reporter and evidence, a packet handed over, an import, a pair of duplicates."""

    def __init__(self, app, factory, login) -> None:  # type: ignore[no-untyped-def]
        self.app, self.factory, self._login = app, factory, login
        self._sessions: dict[str, WebSession] = {}
        self.serial = itertools.count(1)

    @cached_property
    def advocate(self) -> User:
        return self.factory.user("advocate", teams=("Almaty",))

    @cached_property
    def coordinator(self) -> User:
        return self.factory.user("coordinator", teams=("Almaty",))

    @cached_property
    def admin(self) -> User:
        return self.factory.user("admin")

    @cached_property
    def auditor(self) -> User:
        return self.factory.user("auditor")

    def web(self, role: str) -> WebSession:
        if role not in self._sessions:
            self._sessions[role] = (WebSession(self.app.test_client()) if role == "anonymous"
                                    else self._login(getattr(self, role)))
        return self._sessions[role]

    @cached_property
    def team_id(self) -> int:
        return self.advocate.teams[0].id

    @cached_property
    def reference(self) -> str:
        case = self.factory.case(self.advocate, verification_level=2)
        case_services.add_reporter(self.advocate, self.factory.reload_case(case.reference), case_services.ReporterInput(
            full_name="Гүлнар Сейтқызы", relationship_kind="sister", consents={"kz_mfa": "identity"},
            consent_on=date(2025, 5, 1)))
        db.session.commit()
        return case.reference

    @cached_property
    def case_id(self) -> int:
        return self.factory.reload_case(self.reference).id

    def add_notes(self, number: int) -> None:
        case = self.factory.reload_case(self.reference)
        for i in range(number):
            evidence_services.add_evidence(self.advocate, case, evidence_services.EvidenceInput(
                kind="other", note=f"Note {next(self.serial)}-{i}"), [])
        db.session.commit()

    def live_item(self) -> int:
        item = db.session.scalar(select(EvidenceItem.id).where(
            EvidenceItem.case_id == self.case_id, EvidenceItem.tombstoned_at.is_(None))
            .order_by(EvidenceItem.id).limit(1).execution_options(**unscoped("test")))
        fresh()
        if item is None:
            self.add_notes(1)
            return self.live_item()
        return item

    @cached_property
    def packet(self) -> str:
        recipient = packet_services.recipient_by_code("kz-mfa")
        packet = packet_services.build_packet(
            self.coordinator, recipient, packet_services.Criteria(references=[self.reference]),
            packet_services.Letter(language="ru", organisation="Volunteers", contact="Almaty", outgoing_reference="",
                                   subject="Обращение", text="Просим.", requests=["fate"], legal_basis=[]))
        db.session.commit()
        return packet.reference

    @cached_property
    def submission(self) -> int:
        packet = packet_services.get_packet(self.coordinator, self.packet)
        row = followup.record_submission(self.coordinator, packet, followup.SubmissionInput(
            handed_over_on=date.today(), channel="post", handed_over_by="Aigerim"))
        db.session.commit()
        return row.id

    @cached_property
    def batch(self) -> int:
        response = self.web("advocate").post("/imports", {
            "file": (io.BytesIO("source_ref,name_cyrillic\n1,Нұрлан Тоқтарұлы\n".encode()), "list.csv"),
            "team_id": str(self.team_id)}, content_type="multipart/form-data")
        assert response.status_code == 302, messages(response.get_data(as_text=True))
        return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

    @cached_property
    def pair(self) -> tuple[int, int]:
        for _ in range(2):
            self.factory.case(self.advocate, names=[("cyrillic", "primary", "Ерлан Қанатұлы")])
        fresh()
        candidate = db.session.scalars(select(DuplicateCandidate).execution_options(**unscoped("test"))).first()
        assert candidate is not None
        return candidate.first_id, candidate.second_id


# --- the registry: one entry per form class --------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """How to reach a form: who, where, a valid payload, the fields to attack and how to read them back."""

    form: str  # "module.Class" of the form
    actor: str
    url: Callable[[World], str]
    payload: Callable[[World], dict[str, Any]]
    fields: dict[str, str]  # field -> FREE, LINES, CHECKED, CHOICE or SECRET
    read: Callable[[World], dict[str, str]] | None = None  # the stored values of the row just written
    state: Callable[[World], Any] = lambda world: None  # what a refusal must leave unchanged
    show: Callable[[World], str] | None = None  # the page that shows what was stored
    page: Callable[[World], str] | None = None  # the page that renders the form, when not ``url``
    method: str = "POST"
    multipart: bool = False
    ok: int = 302  # the answer to an accepted submission (200: a page, with no message)
    before_each: Callable[[World], None] = lambda world: None  # run before every attempt


def _case_read(world: World) -> dict[str, str]:
    case = newest(Case)
    person = case.person
    values = {name: getattr(person, name) or "" for name in (
        "ethnicity", "hometown_village", "occupation", "kz_documents", "kazakhstan_ties", "prc_id", "iin")}
    values |= {name: getattr(case, name) for name in (
        "detention_facility", "detention_city", "alleged_reason_other", "sentence", "narrative",
        "responsible_authority", "family_steps")}
    values["status_source"] = newest(CaseStatusEvent, CaseStatusEvent.case_id == case.id).source
    values["names-0-text"] = person.names[0].text
    return values


def _reporter_read(world: World) -> dict[str, str]:
    reporter = newest(Reporter)
    contact = case_services.reporter_contact_for_packet(reporter)
    return {"full_name": reporter.full_name, "relationship_detail": reporter.relationship_detail,
            "phone": contact.get("phone", ""), "email": contact.get("email", ""),
            "postal_address": contact.get("postal_address", ""), "reporter_iin": contact.get("iin", "")}


def _attributes(model: Any, **names: str) -> Callable[[World], dict[str, str]]:
    def read(world: World) -> dict[str, str]:
        row = newest(model)
        return {form_name: getattr(row, attribute) or "" for form_name, attribute in names.items()}
    return read


def _counts(*models: Any) -> Callable[[World], tuple[int, ...]]:
    return lambda world: tuple(count(model) for model in models)


def _tombstoned(world: World) -> dict[str, str]:
    item = newest(EvidenceItem, EvidenceItem.tombstoned_at.is_not(None))
    return {"reason": item.tombstone_reason}


def _user(world: World, username: str) -> User:
    fresh()
    return db.session.scalar(select(User).where(User.username == username))


def _recipient_payload(world: World) -> dict[str, Any]:
    return {"code": f"hostile-{next(world.serial)}", "name": "Ombudsman", "address": "Astana", "consent_kind": "un",
            "languages": ["en"], "form": "standard", "reporter_identity": "never", "evidence_files": "never",
            "evidence_list": "yes", "identifiers": "no", "active": "yes"}


def _packet_payload(world: World) -> dict[str, Any]:
    world.reference  # noqa: B018 - the case the preview selects
    return {"recipient": "kz-mfa", "language": "ru", "min_verification": "1", "organisation": "Volunteers",
            "contact": "Almaty", "outgoing_reference": "", "subject": "Обращение", "text": "Просим.",
            "requests": ["fate"], "legal_basis": ["humanitarian"], "references": world.reference,
            "preview": "Preview"}


def _enrolment_payload(world: World) -> dict[str, Any]:
    page = world.web("advocate").get("/account/two-factor").get_data(as_text=True)
    return {"code": pyotp.TOTP(ENROLMENT_SECRET.search(page).group(1)).now()}  # type: ignore[union-attr]


def _case_page(world: World) -> str:
    return f"/cases/{world.reference}"


CASE_FREE = {name: FREE for name in ("ethnicity", "hometown_village", "occupation", "kz_documents", "status_source",
                                     "detention_facility", "detention_city", "alleged_reason_other", "sentence",
                                     "responsible_authority")}
CASE_CHECKED = {name: CHECKED for name in ("names-0-text", "prc_id", "iin", "birth_date", "status_on", "detained_on",
                                           "last_contact_on", "trial_on", "release_on")}
CASE_CHOICES = {name: CHOICE for name in ("names-0-script", "names-0-kind", "sex", "hometown_code", "citizenship",
                                          "team_id", "status", "verification_level", "alleged_reasons")}

ROUTES: dict[str, Route] = {route.form: route for route in [
    Route("casefile.cases.forms.CaseForm", "advocate", lambda w: "/cases/new",
          lambda w: case_form(w.team_id, responsible_authority="", family_steps=""),
          {**CASE_FREE, "kazakhstan_ties": LINES, "narrative": LINES, "family_steps": LINES, **CASE_CHECKED,
           **CASE_CHOICES},
          read=_case_read, state=_counts(Case, Person), show=lambda w: f"/cases/{newest(Case).reference}"),
    Route("casefile.cases.forms.StatusForm", "advocate", lambda w: f"/cases/{w.reference}/status",
          lambda w: {"status": "detained_unknown_place", "occurred_on": "2019", "source": "Letter"},
          {"source": FREE, "occurred_on": CHECKED, "status": CHOICE},
          read=_attributes(CaseStatusEvent, source="source"), state=_counts(CaseStatusEvent), show=_case_page,
          page=_case_page),
    Route("casefile.cases.forms.TimelineForm", "advocate", lambda w: f"/cases/{w.reference}/timeline",
          lambda w: {"kind": "transfer", "occurred_on": "2019-04", "place": "Kuytun", "description": "Moved",
                     "source": "A cellmate"},
          {"place": FREE, "source": FREE, "description": LINES, "occurred_on": CHECKED, "kind": CHOICE},
          read=_attributes(TimelineEvent, place="place", source="source", description="description"),
          state=_counts(TimelineEvent), show=_case_page, page=_case_page),
    Route("casefile.cases.forms.ReporterForm", "advocate", lambda w: f"/cases/{w.reference}/reporters/new",
          lambda w: {"full_name": "Айгүл Серікқызы", "relationship_kind": "daughter", "relationship_detail": "",
                     "phone": "+7 701 000 00 00", "email": "", "postal_address": "", "reporter_iin": "",
                     "consent_on": "", **{f"consent_{kind}": "none" for kind in vocab.RECIPIENT_KINDS},
                     "consent_kz_mfa": "case"},
          {"full_name": FREE, "relationship_detail": FREE, "phone": FREE, "email": FREE, "postal_address": LINES,
           "reporter_iin": CHECKED, "consent_on": CHECKED, "relationship_kind": CHOICE, "consent_kz_mfa": CHOICE},
          read=_reporter_read, state=_counts(Reporter), show=_case_page),
    Route("casefile.cases.search.CaseFilterForm", "advocate", lambda w: "/cases",
          lambda w: {"q": "Нұрлан", "status": "", "detained_from": "2017", "detained_to": "", "sort": "updated"},
          {"q": FREE, "detained_from": CHECKED, "detained_to": CHECKED, "status": CHOICE, "prefecture": CHOICE,
           "team": CHOICE, "verification": CHOICE, "sort": CHOICE, "page": CHOICE, "county": CHOICE,
           "detained_known": CHOICE, "created_from": CHECKED, "created_to": CHECKED, "evidence": CHOICE,
           "recipient": CHOICE, "answer": CHOICE, "outcome": CHOICE},
          method="GET", ok=200),
    Route("casefile.evidence.forms.EvidenceForm", "advocate", lambda w: f"/cases/{w.reference}/evidence/new",
          lambda w: {"kind": "letter", "note": "What the neighbour saw", "description": "", "source": "",
                     "document_date": "", "original_url": "", "corrects_id": ""},
          {"note": LINES, "description": LINES, "source": FREE, "original_url": CHECKED, "document_date": CHECKED,
           "corrects_id": CHECKED, "kind": CHOICE},
          read=_attributes(EvidenceItem, note="note", description="description", source="source",
                           original_url="original_url"),
          state=_counts(EvidenceItem), multipart=True,
          show=lambda w: f"/cases/{w.reference}/evidence/{newest(EvidenceItem).id}"),
    Route("casefile.evidence.forms.TombstoneForm", "advocate",
          lambda w: f"/cases/{w.reference}/evidence/{w.live_item()}/remove",
          lambda w: {"reason": "Uploaded to the wrong case"}, {"reason": LINES}, read=_tombstoned,
          state=lambda w: count(EvidenceItem) - len(db.session.scalars(select(EvidenceItem.id).where(
              EvidenceItem.tombstoned_at.is_not(None)).execution_options(**unscoped("test"))).all()),
          show=lambda w: f"/cases/{w.reference}/evidence/{newest(EvidenceItem, EvidenceItem.tombstoned_at.is_not(None)).id}",
          page=lambda w: f"/cases/{w.reference}/evidence/{w.live_item()}"),
    Route("casefile.imports.forms.UploadForm", "advocate", lambda w: "/imports",
          lambda w: {"file": (io.BytesIO("name_cyrillic\nНұрлан\n".encode()), "list.csv"), "team_id": str(w.team_id)},
          {"team_id": CHOICE}, state=_counts(ImportBatch), multipart=True),
    Route("casefile.imports.forms.MappingForm", "advocate", lambda w: f"/imports/{w.batch}",
          lambda w: {"column_0": "source_ref", "column_1": "name_cyrillic", "saved_mapping": "0", "mapping_name": "",
                     "action": "check"},
          {"mapping_name": FREE, "column_0": CHOICE, "saved_mapping": CHOICE},
          read=_attributes(ImportMapping, mapping_name="name"), state=_counts(ImportMapping),
          show=lambda w: f"/imports/{w.batch}"),
    Route("casefile.matching.forms.MergeForm", "coordinator", lambda w: "/people/duplicates/{}/{}/merge".format(*w.pair),
          lambda w: {"keep": str(w.pair[0]), "confirm": "y"}, {"keep": CHOICE},  # a ticked box is any value
          state=_counts(PersonMerge), page=lambda w: "/people/duplicates/{}/{}".format(*w.pair)),
    Route("casefile.packets.forms.PacketForm", "coordinator", lambda w: "/packets/new", _packet_payload,
          {"organisation": FREE, "outgoing_reference": FREE, "subject": FREE, "contact": LINES, "text": LINES,
           "references": CHECKED, "detained_from": CHECKED, "detained_to": CHECKED, "recipient": CHOICE,
           "language": CHOICE, "statuses": CHOICE, "prefecture": CHOICE, "team": CHOICE, "min_verification": CHOICE,
           "requests": CHOICE, "legal_basis": CHOICE, "signatories": CHOICE},
          state=_counts(Packet), ok=200),  # the preview: the build itself is test_typst_and_html_print_literally
    Route("casefile.packets.forms.RecipientForm", "admin", lambda w: "/admin/recipients/new", _recipient_payload,
          {"name": FREE, "address": LINES, "code": CHECKED, "consent_kind": CHOICE, "languages": CHOICE,
           "form": CHOICE, "reporter_identity": CHOICE, "evidence_files": CHOICE, "active": CHOICE},
          read=_attributes(Recipient, name="name", address="address"), state=_counts(Recipient),
          show=lambda w: "/admin/recipients"),
    Route("casefile.packets.forms.SubmissionForm", "coordinator", lambda w: f"/packets/{w.packet}/submissions",
          lambda w: {"handed_over_on": date.today().isoformat(), "channel": "post", "handed_over_by": "Aigerim",
                     "receipt_number": "", "follow_up_on": ""},
          {"handed_over_by": FREE, "receipt_number": FREE, "handed_over_on": CHECKED, "follow_up_on": CHECKED,
           "channel": CHOICE},
          read=_attributes(Submission, handed_over_by="handed_over_by", receipt_number="receipt_number"),
          state=_counts(Submission), multipart=True, show=lambda w: f"/packets/{w.packet}",
          page=lambda w: f"/packets/{w.packet}"),
    Route("casefile.packets.forms.ResponseForm", "coordinator",
          lambda w: f"/packets/{w.packet}/submissions/{w.submission}/responses/new",
          lambda w: {"received_on": date.today().isoformat(), "kind": "token_response", "text": "Received.",
                     f"outcome-{w.case_id}": ""},
          {"text": LINES, "received_on": CHECKED, "kind": CHOICE, "outcome-{case_id}": CHOICE},
          read=_attributes(Response, text="text"), state=_counts(Response), show=lambda w: f"/packets/{w.packet}"),
    Route("casefile.audit.forms.EventFilterForm", "auditor", lambda w: "/audit",
          lambda w: {"user": "alice", "case_ref": "", "date_from": "2025-01-01", "date_to": "", "action": "",
                     "outcome": "", "page": "1"},
          {"user": FREE, "case_ref": CHECKED, "date_from": CHECKED, "date_to": CHECKED, "action": CHOICE,
           "outcome": CHOICE, "page": CHOICE},
          method="GET", ok=200),
    Route("casefile.audit.forms.PageForm", "auditor", lambda w: "/audit/flags", lambda w: {"page": "1"},
          {"page": CHOICE}, method="GET", ok=200),
    Route("casefile.admin.forms.CreateUserForm", "admin", lambda w: "/admin/users/new",
          lambda w: {"username": f"hostile{next(w.serial)}", "display_name": "Dana K.", "role": "advocate",
                     "password": "the initial password of a new account", "teams": [], "new_teams": "Taraz"},
          {"display_name": FREE, "username": CHECKED, "new_teams": CHECKED, "role": CHOICE, "teams": CHOICE,
           "password": SECRET},
          read=_attributes(User, display_name="display_name"), state=_counts(User),
          show=lambda w: "/admin/users"),
    Route("casefile.admin.forms.EditUserForm", "admin", lambda w: f"/admin/users/{w.advocate.id}",
          lambda w: {"display_name": "Dana K.", "role": "advocate", "teams": ["Almaty"], "new_teams": ""},
          {"display_name": FREE, "new_teams": CHECKED, "role": CHOICE, "teams": CHOICE},
          read=lambda w: {"display_name": _user(w, w.advocate.username).display_name},
          state=lambda w: (lambda user: (user.display_name, user.role, sorted(t.name for t in user.teams)))(
              _user(w, w.advocate.username)),
          show=lambda w: "/admin/users"),
    Route("casefile.admin.forms.PasswordForm", "admin", lambda w: f"/admin/users/{w.advocate.id}/password",
          lambda w: {"password": "a reset password that is long enough", "confirm": "a reset password that is long enough"},
          {"password": SECRET, "confirm": SECRET},
          state=lambda w: _user(w, w.advocate.username).password_hash),
    Route("casefile.auth.forms.LoginForm", "anonymous", lambda w: "/login",
          lambda w: {"username": w.advocate.username, "password": w.factory.password},
          {"username": CHECKED, "password": SECRET}, state=_counts(User),
          before_each=lambda w: throttle.reset(w.app)),  # the address limit is tested in tests/auth
    Route("casefile.auth.forms.CodeForm", "advocate", lambda w: "/account/two-factor", _enrolment_payload,
          {"code": CHECKED}, state=lambda w: _user(w, w.advocate.username).has_totp, ok=200),
    Route("casefile.auth.forms.ReauthForm", "advocate", lambda w: "/reauth",
          lambda w: {"reauth_password": w.factory.password, "reauth_code": ""},
          {"reauth_password": SECRET, "reauth_code": CHECKED}),
    Route("casefile.web.forms.LanguageForm", "advocate", lambda w: "/language?next=/cases", lambda w: {"locale": "ru"},
          {"locale": CHOICE}, state=lambda w: _user(w, w.advocate.username).locale, page=lambda w: "/cases"),
    Route("casefile.auth.forms.PasswordChangeForm", "advocate", lambda w: "/account/password",
          lambda w: {"current": w.factory.password, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
          {"current": SECRET, "password": SECRET, "confirm": SECRET},
          state=lambda w: _user(w, w.advocate.username).password_hash),
]}

# Forms that hold no free text: only the CSRF token, a button, or fields the view never reads.
EXEMPT = {
    "casefile.admin.forms._AccountFields": "the base of CreateUserForm and EditUserForm, attacked through them",
    "casefile.audit.forms.VerifyForm": "only its CSRF token",
    "casefile.auth.forms.ActionForm": "only its CSRF token",
    "casefile.imports.forms.CommitForm": "only its CSRF token; row decisions are checked against the offered "
                                         "choices (tests/imports)",
    "casefile.imports.forms.DiscardForm": "only its CSRF token",
    "casefile.matching.forms.DistinctForm": "only its CSRF token",
}


def form_classes() -> set[str]:
    """Every FlaskForm subclass defined in a module of the casefile package."""
    found = set()
    for module_info in pkgutil.walk_packages(casefile.__path__, "casefile."):
        module = importlib.import_module(module_info.name)
        for _name, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, FlaskForm) and member.__module__ == module.__name__:
                found.add(f"{member.__module__}.{member.__qualname__}")
    return found


def test_every_form_class_is_attacked() -> None:
    classes = form_classes()
    missing = classes - set(ROUTES) - set(EXEMPT)
    assert not missing, f"forms with no entry in ROUTES (or EXEMPT, with a reason): {sorted(missing)}"
    assert not (set(ROUTES) | set(EXEMPT)) - classes, "entries for forms that no longer exist"


# --- sending and judging ---------------------------------------------------------------------------

@dataclass
class Attempt:
    field: str
    label: str
    value: str | bytes  # bytes: invalid UTF-8, raw in the body
    expect: str  # "stored", "refused" or "either"
    fields: tuple[str, ...] = ()  # every field the value goes into (default: ``field``)
    encoding: str = "form"  # "form", "raw-urlencoded", "raw-multipart"


@dataclass
class Attack:
    world: World
    route: Route
    problems: list[str] = field(default_factory=list)
    state: Any = None

    def url(self) -> str:
        return self.route.url(self.world)

    def field_name(self, name: str) -> str:
        return name.replace("{case_id}", str(self.world.case_id))

    def send(self, attempt: Attempt) -> Any:
        web = self.world.web(self.route.actor)
        payload = self.route.payload(self.world)
        targets = [self.field_name(name) for name in attempt.fields or ((attempt.field,) if attempt.field else ())]
        if self.route.method == "GET":
            value = attempt.value if isinstance(attempt.value, str) else quote(attempt.value)
            return web.get(f"{self.url()}?{urlencode({**payload, **dict.fromkeys(targets, value)}, doseq=True)}")
        payload["csrf_token"] = web.token()
        if attempt.encoding == "form":
            payload.update(dict.fromkeys(targets, attempt.value))
            return web.client.post(self.url(), data=payload,
                                   content_type="multipart/form-data" if self.route.multipart else None)
        assert isinstance(attempt.value, bytes)
        if attempt.encoding == "raw-urlencoded":
            body = urlencoded_body(payload, targets, attempt.value)
            return web.client.post(self.url(), data=body, content_type="application/x-www-form-urlencoded")
        body, content_type = multipart_body(payload, targets, attempt.value)
        return web.client.post(self.url(), data=body, content_type=content_type)

    def judge(self, attempt: Attempt, response: Any) -> None:
        where = f"{self.route.form} {attempt.fields or attempt.field} <- {attempt.label}"
        body = response.get_data(as_text=True)
        problems = self.problems
        if response.status_code >= 500:
            problems.append(f"{where}: status {response.status_code}")
            return
        text = attempt.value if isinstance(attempt.value, str) else ""
        if HTML_SPECIALS & set(text) and text in body:
            problems.append(f"{where}: unescaped in the response")
        if re.search(r"""href=["']?\s*javascript:""", body, re.IGNORECASE):
            problems.append(f"{where}: a javascript: link")
        accepted = response.status_code == self.route.ok and not (self.route.ok == 200 and MESSAGE.search(body))
        refused = not accepted and response.status_code in (200, 400, 413, 422) and MESSAGE.search(body) is not None
        if not (accepted or refused):
            problems.append(f"{where}: neither accepted nor refused with a message (status {response.status_code})")
            return
        if attempt.expect == "refused" and accepted:
            problems.append(f"{where}: accepted, must be refused")
        if attempt.expect == "stored" and refused:
            problems.append(f"{where}: refused ({response.status_code} {messages(body)}), must be stored as typed")
        if attempt.encoding == "raw-multipart" and self.route.fields[attempt.field] in (FREE, LINES) \
                and refused and NOT_UTF8_MESSAGE not in body:
            problems.append(f"{where}: refused without saying the bytes are not UTF-8")
        fresh()
        state = self.route.state(self.world)
        if refused:
            if state != self.state:
                problems.append(f"{where}: refused, but the database changed: {self.state} -> {state}")
            return
        self.state = state
        if self.route.method == "GET" or self.route.ok == 200:  # nothing stored: the value is shown back
            if attempt.expect == "stored" and text and str(escape(text)) not in body:
                problems.append(f"{where}: accepted but not shown back escaped")
            return
        self.check_stored(attempt, where)

    def check_stored(self, attempt: Attempt, where: str) -> None:
        if self.route.read is None or not isinstance(attempt.value, str):
            return
        stored = self.route.read(self.world)
        for name in attempt.fields or (attempt.field,):
            if name in stored and stored[name] != attempt.value:
                self.problems.append(f"{where}: stored {stored[name][:80]!r} in {name}, typed {attempt.value[:80]!r}")
            elif name not in stored and self.route.fields[name] in (FREE, LINES):
                self.problems.append(f"{where}: {name} cannot be read back")
        if self.route.show and HTML_SPECIALS & set(attempt.value):
            page = self.world.web(self.route.actor).get(self.route.show(self.world)).get_data(as_text=True)
            if str(escape(attempt.value)) not in page or attempt.value in page:
                self.problems.append(f"{where}: not shown escaped on {self.route.show(self.world)}")

    def run(self, attempt: Attempt) -> None:
        self.route.before_each(self.world)
        self.judge(attempt, self.send(attempt))


def messages(body: str) -> list[str]:
    return re.findall(r'(?:role="alert"|class="flash error"[^>]*)>([^<]*)<', body)[:3]


def urlencoded_body(payload: dict[str, Any], targets: list[str], raw: bytes) -> bytes:
    pairs = [(name, value) for name, value in payload.items() if name not in targets]
    body = urlencode(pairs, doseq=True).encode()
    return b"&".join([body, *(quote(name).encode() + b"=" + raw for name in targets)])


def multipart_body(payload: dict[str, Any], targets: list[str], raw: bytes) -> tuple[bytes, str]:
    boundary = "hostile-boundary-7c1e"
    parts = []
    for name, value in [*((n, v) for n, v in payload.items() if n not in targets), *((n, raw) for n in targets)]:
        for item in value if isinstance(value, list) else [value]:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
            if isinstance(item, tuple):  # (stream, file name)
                parts.append(f'{head}; filename="{item[1]}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                             + item[0].getvalue() + b"\r\n")
            else:
                parts.append(f"{head}\r\n\r\n".encode() + (item if isinstance(item, bytes) else str(item).encode())
                             + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def attempts(route: Route) -> list[Attempt]:
    """Every field against the corpus: what must be kept, together in the free fields; what must be
    refused, one field at a time (one refused field would hide another)."""
    free = tuple(name for name, kind in route.fields.items() if kind in (FREE, LINES))
    lines = tuple(name for name, kind in route.fields.items() if kind == LINES)
    out = [Attempt("", h.label, h.text, "stored", free) for h in STORED if free]
    out += [Attempt("", h.label, h.text, "stored", lines) for h in REFUSED_ON_ONE_LINE if lines]
    refused = [(h.label, h.text) for h in REFUSED] + [("1 MB", ONE_MEGABYTE)]
    for name, kind in route.fields.items():
        if kind == CHOICE:
            out += [Attempt(name, h.label, h.text, "either") for h in CHOICES]
            continue
        if kind == SECRET:
            out += [Attempt(name, h.label, h.text, "either") for h in CHOICES]
            out.append(Attempt(name, "1 MB", ONE_MEGABYTE, "either"))
            continue
        if kind == CHECKED:
            out += [Attempt(name, h.label, h.text, "either") for h in SAMPLE]
        out += [Attempt(name, label, text, "refused") for label, text in refused]
        if kind != LINES:
            out += [Attempt(name, h.label, h.text, "refused") for h in REFUSED_ON_ONE_LINE]
        if route.method == "POST":
            out.append(Attempt(name, "invalid UTF-8 (multipart)", INVALID_UTF8, "refused", encoding="raw-multipart"))
        else:
            out.append(Attempt(name, "invalid UTF-8 (percent-encoded)", INVALID_UTF8, "either"))
    if route.method == "POST":
        first = next(iter(route.fields))
        out.append(Attempt(first, "invalid UTF-8 (urlencoded)", INVALID_UTF8, "refused", encoding="raw-urlencoded"))
    return out


# Bugs this suite found in files outside this change, reported to their owners. An entry turns its
# test into an expected failure, and fails it once the bug is gone: then delete the entry.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


@pytest.fixture
def world(app, factory, login) -> World:  # type: ignore[no-untyped-def]
    return World(app, factory, login)


@pytest.mark.parametrize("form", sorted(ROUTES), ids=lambda name: name.rsplit(".", 1)[-1])
def test_every_field_stores_as_typed_or_refuses_with_a_message(world, backend, form) -> None:  # type: ignore[no-untyped-def]
    route = ROUTES[form]
    if form == "casefile.evidence.forms.TombstoneForm":
        world.add_notes(len(STORED) + len(REFUSED_ON_ONE_LINE) + 2)
    web = world.web(route.actor)
    page = (route.page or route.url)(world)
    assert web.get(page).status_code == 200, page
    attack = Attack(world, route)
    route.payload(world)  # the rows the payload names exist before the first count
    fresh()
    attack.state = route.state(world)
    for attempt in attempts(route):
        attack.run(attempt)
    # The valid payload still goes through: the refusals above were the hostile values' doing.
    baseline = attack.send(Attempt("", "baseline", "", "stored"))
    assert baseline.status_code == route.ok, messages(baseline.get_data(as_text=True))
    report = "\n".join(attack.problems[:60]) + f"\n({len(attack.problems)} problems)"
    known = KNOWN_BUGS.get((form, backend))
    if known:
        assert attack.problems, f"fixed: remove the entry of KNOWN_BUGS ({known})"
        pytest.xfail(f"{known}\n{report}")
    assert not attack.problems, report


def test_the_text_policy_names_the_invisible_character(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in str(text_problem("invoice\u202efdp.exe"))
        assert "U+200B ZERO WIDTH SPACE" in str(text_problem("Nur\u200blan"))
        assert text_problem("Nur\u200blan\n\tnext", multiline=True) is None
        assert "U+0000" in str(text_problem("abc\x00", multiline=True))
        assert "UTF-8" in str(text_problem("caf\ufffd"))
        assert text_problem("\u0628\u200c\u0628\u200d\u0628 \u200e\u200f\u061c") is None  # joiners and marks kept


def test_hostile_references_in_addresses_are_not_found(world) -> None:  # type: ignore[no-untyped-def]
    advocate, coordinator = world.web("advocate"), world.web("coordinator")
    for segment in ("KZ%00", "%E2%80%AEKZ-2025-00001", "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3E", "KZ-" + "9" * 5000):
        for web, url in ((advocate, f"/cases/{segment}"), (advocate, f"/cases/{segment}/evidence"),
                         (advocate, f"/cases/{segment}/edit"), (coordinator, f"/packets/{segment}"),
                         (coordinator, f"/packets/{segment}/pdf")):
            response = web.get(url)
            assert response.status_code == 404, (url[:80], response.status_code)
            assert "<script>" not in response.get_data(as_text=True)
    big = "9" * 25  # beyond any integer a database binds
    for web, url in ((advocate, f"/cases/{world.reference}/evidence/{big}"), (advocate, f"/imports/{big}"),
                     (advocate, f"/cases/{world.reference}/reporters/{big}/edit"),
                     (coordinator, f"/people/duplicates/1/{big}"),
                     (coordinator, f"/packets/{world.packet}/submissions/{big}/receipt"),
                     (world.web("admin"), f"/admin/recipients/{big}/edit")):
        assert web.get(url).status_code == 404, url


# --- uploaded file names ---------------------------------------------------------------------------

HOSTILE_FILE_NAMES = ["invoice\u202egnp.exe.png", "../../../etc/passwd.png", "..\\..\\boot.png",
                      "<img src=x onerror=alert(1)>.png", "=cmd|' /C calc'!A0.png", "a\x00b\x1b[2J.png",
                      "\ufeffzero\u200bwidth.png", "x" * 300 + ".png"]


def clean_name(name: str) -> bool:
    return bool(name) and len(name) <= 255 and "/" not in name and "\\" not in name and not name.startswith(".") \
        and text_problem(name) is None


def test_uploaded_file_names_are_kept_as_clean_metadata(world) -> None:  # type: ignore[no-untyped-def]
    """A client's file name is metadata: folders, controls and bidi characters go, the rest is shown escaped."""
    web, coordinator = world.web("advocate"), world.web("coordinator")
    for number, name in enumerate(HOSTILE_FILE_NAMES):
        image = png(size=(8 + number, 8))
        response = web.post(f"/cases/{world.reference}/evidence/new", {
            "kind": "photo", "files": [(io.BytesIO(image), name)]}, content_type="multipart/form-data")
        assert response.status_code == 302, (name, messages(response.get_data(as_text=True)))
        item = newest(EvidenceItem)
        assert clean_name(item.filename), (name, item.filename)
        page = web.get(f"/cases/{world.reference}/evidence/{item.id}").get_data(as_text=True)
        assert str(escape(item.filename)) in page and (not HTML_SPECIALS & set(name) or name not in page)

        csv_name = name.removesuffix(".png") + ".csv"
        response = web.post("/imports", {"file": (io.BytesIO(f"name_cyrillic\nНұрлан {number}\n".encode()), csv_name),
                                         "team_id": str(world.team_id)}, content_type="multipart/form-data")
        assert response.status_code in (302, 400), (csv_name, response.status_code)
        if response.status_code == 302:
            assert clean_name(newest(ImportBatch).filename), newest(ImportBatch).filename
        assert csv_name not in web.get("/imports").get_data(as_text=True) or not HTML_SPECIALS & set(csv_name)

    response = coordinator.post(f"/packets/{world.packet}/submissions", {
        "handed_over_on": date.today().isoformat(), "channel": "post", "handed_over_by": "Aigerim",
        "receipt": (io.BytesIO(png()), HOSTILE_FILE_NAMES[0])}, content_type="multipart/form-data")
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    assert clean_name(newest(Submission).receipt_filename), newest(Submission).receipt_filename


# --- the packet PDF ---------------------------------------------------------------------------------

def test_typst_and_html_print_literally_in_a_built_packet(world) -> None:  # type: ignore[no-untyped-def]
    """Names, narrative and letter holding Typst markup and HTML come out of the PDF as typed.

    A detained person's name holds letters and separators only (``script_error``), so the markup
    rides in the reporter's name, which the signature sheet prints. The renderer itself is tested
    with more markup in tests/packets/test_render.py (test_hostile_strings_print_as_typed).
    """
    from pypdf import PdfReader

    markup = ['#panic("boom")', "] #set page(width: 1cm) [", "$x^2$ @ref <label>", "<script>alert(1)</script>",
              '"><b onmouseover="x">', "=cmd|' /C calc'!A0"]
    case = world.factory.case(world.advocate, verification_level=2, narrative="\n".join(markup),
                              detention_facility='#panic("facility") <b>', names=[
                                  ("cyrillic", "primary", "Нұрлан Тоқтарұлы"), ("latin", "alias", "Nur-lan O'Toktar")])
    reporter = case_services.add_reporter(world.advocate, world.factory.reload_case(case.reference), case_services.ReporterInput(
        full_name='<i>Айгүл</i> #panic("name") ]', relationship_kind="daughter", consents={"kz_mfa": "identity"},
        contact={"postal_address": "#set text(red)\n<u>Almaty</u>"}, consent_on=date(2025, 5, 1)))
    db.session.commit()
    response = world.web("coordinator").post("/packets/new", {
        "recipient": "kz-mfa", "language": "ru", "min_verification": "1", "references": case.reference,
        "organisation": '<org> #panic("org")', "contact": "Almaty", "subject": "#set page(height: 1cm) ] $y$",
        "text": "Просим.", "requests": ["fate"], "signatories": [str(reporter.id)], "build": "Build"})
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    packet = newest(Packet)
    pdf = world.web("coordinator").get(f"/packets/{packet.reference}/pdf").get_data()
    text = re.sub(r"\s+", "", " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages))
    for string in [*markup, '#panic("facility")<b>', "Nur-lanO'Toktar", '<i>Айгүл</i>#panic("name")]',
                   '<org>#panic("org")', "#setpage(height:1cm)]$y$"]:
        assert re.sub(r"\s+", "", string) in text, string


# --- import columns -----------------------------------------------------------------------------------

FIRST_NAMES = ["Нұрлан", "Ерлан", "Серік", "Бақыт", "Айдар", "Болат", "Дәулет", "Ербол", "Жанат", "Қайрат", "Мұрат",
               "Нұржан", "Оралхан", "Талғат", "Руслан", "Самат", "Арман", "Бекзат", "Ғалым", "Дархан", "Есен",
               "Жақсылық", "Зейнолла", "Ілияс", "Қанат", "Ләззат", "Мейірхан", "Нұрбол", "Олжас", "Пернебек",
               "Рахат", "Сұңқар", "Тимур", "Ұлан", "Файзолла", "Хамит", "Шәкен", "Ыдырыс", "Әділ", "Біржан"]
BASE_ROW = {"sex": "M", "birth_date": "1975", "status": "camp", "detained_on": "2018-03", "detention_place": "Kuytun",
            "reporter_name": "Гүлнар Сейтқызы", "reporter_relationship": "sister",
            "reporter_phone": "+7 701 000 00 00", "narrative": "Taken at night."}
# Where a column's text is stored when the row is imported (the other columns are parsed values).
STORED_AS = {
    "source_ref": lambda case: case.source_ref,
    "hometown": lambda case: case.person.hometown_village,
    "detention_place": lambda case: case.detention_facility,
    "narrative": lambda case: case.narrative,
    "reporter_name": lambda case: case.reporters[0].full_name,
    "reporter_relationship": lambda case: case.reporters[0].relationship_detail,
    "reporter_phone": lambda case: case_services.reporter_contact_for_packet(case.reporters[0]).get("phone"),
}


def import_rows(column: str, values: list[str]) -> bytes:
    import csv

    headers = list(columns.CANONICAL)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for i, value in enumerate(values):
        row = {**BASE_ROW, "source_ref": f"{column}-{i}", "name_cyrillic": f"{FIRST_NAMES[i % 40]} Тоқтарұлы", column: value}
        writer.writerow([row.get(header, "") for header in headers])
    return out.getvalue().encode()


def test_every_import_column_stores_as_typed_or_names_row_and_column(app, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.cli.test_cli import invoke

    # Longer than any column, short enough for a CSV cell; a null byte and 1 MB refuse the whole file (below).
    corpus = [*(h for h in ALL if "\x00" not in h.text), Hostile("too long", "A" * 120_000)]
    username = world.advocate.username
    for column in columns.CANONICAL:
        path = tmp_path / f"{column}.csv"
        path.write_bytes(import_rows(column, [hostile.text for hostile in corpus]))
        result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", username, "--dry-run"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (column, result.output[-2000:])
        problems = {(int(row), header) for row, header in re.findall(r"^row (\d+), ([^:]+):", result.stderr, re.M)}
        assert {header for _row, header in problems} <= {column}, (column, result.output[-2000:])
        refused = {row for row, _header in problems}
        accepted = []
        for number, hostile in enumerate(corpus, start=2):  # the header is row 1
            must_refuse = hostile in REFUSED or hostile.label == "too long" \
                or (hostile in REFUSED_ON_ONE_LINE and column not in rows.MULTILINE_COLUMNS)
            if must_refuse or (number in refused and column not in STORED_AS):
                assert number in refused, (column, hostile.label, "must be refused, naming row and column")
            else:
                assert number not in refused or column not in STORED_AS, (column, hostile.label, result.output[-800:])
                accepted.append(hostile)
        if column not in STORED_AS:
            continue
        path.write_bytes(import_rows(column, [hostile.text for hostile in accepted]))
        fresh()
        before = db.session.scalar(select(func.max(Case.id)).execution_options(**unscoped("test"))) or 0
        result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", username])
        assert result.exit_code == 0, (column, result.output[-2000:])
        fresh()
        imported = {case.source_ref: case for case in db.session.scalars(
            select(Case).where(Case.id > before).execution_options(**unscoped("test")))}
        for i, hostile in enumerate(accepted):
            case = imported[hostile.text if column == "source_ref" else f"{column}-{i}"]
            typed = normalize_display(hostile.text) if column == "reporter_name" else hostile.text
            assert STORED_AS[column](case) == typed, (column, hostile.label)

    fresh()
    cases = count(Case)
    for name, value, message in (("null byte", "abc\x00def", "binary data"),
                                 ("1 MB", ONE_MEGABYTE, "Row 3 has a cell of more than")):
        path = tmp_path / "whole.csv"
        path.write_bytes(import_rows("narrative", ["Fine.", value]))
        result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", username])
        assert result.exit_code == 1 and message in result.output and "Nothing was imported" in result.output, name
    fresh()
    assert count(Case) == cases


def test_the_import_review_page_names_row_and_column_and_escapes_every_cell(world) -> None:  # type: ignore[no-untyped-def]
    web = world.web("advocate")
    corpus = [*STORED, *(h for h in REFUSED if "\x00" not in h.text)]  # a null byte makes it binary
    response = web.post("/imports", {"file": (io.BytesIO(import_rows("detention_place", [h.text for h in corpus])),
                                              "list.csv"), "team_id": str(world.team_id)},
                        content_type="multipart/form-data")
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    batch = response.headers["Location"].rsplit("/", 1)[-1]
    mapping = {f"column_{i}": column for i, column in enumerate(columns.CANONICAL)}
    assert web.post(f"/imports/{batch}", {**mapping, "action": "check"}).status_code == 302
    pages = [web.get(f"/imports/{batch}").get_data(as_text=True), web.get(f"/imports/{batch}/review").get_data(as_text=True)]
    for hostile in corpus:
        for page in pages:
            assert not (HTML_SPECIALS & set(hostile.text) and hostile.text in page), hostile.label
    review = pages[1]
    for number, hostile in enumerate(corpus, start=2):
        assert (f"<td>{number}</td><td>detention_place</td>" in review) == (hostile in REFUSED), hostile.label
    assert web.post(f"/imports/{batch}/commit", {}).status_code == 302
    fresh()
    assert count(Case) == 0  # a file with a bad row imports nothing
