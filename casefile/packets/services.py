"""Building petition packets: which cases may go, what of them each recipient sees, the frozen PDF.

A packet is built in one transaction: select the cases (consent, restriction and verification
decide what is left out), freeze their content into inputs, render the PDF, store it in the
encrypted store, and record the packet, its cases, the custody of every evidence item listed,
and the audit event. Nothing of a refused build remains.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from casefile import access, audit
from casefile.audit.verify import chain_head
from casefile.auth.models import Role, User
from casefile.cases.models import Case, Reporter, TimelineEvent
from casefile.cases.search import period_after
from casefile.core.addresses import reference_shaped
from casefile.core.batches import collector_paused
from casefile.core.crypto import seal, unseal
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.core.partial_dates import PartialDate
from casefile.db import utcnow
from casefile.evidence import services as evidence_services
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from casefile.packets import labels
from casefile.packets.models import Packet, PacketCase, Recipient
from casefile.packets.recipients import POLICY_KEYS
from casefile.packets.render import RenderError, render_pdf
from casefile.people.models import PersonName
from casefile.places.gazetteer import get_place

SCHEMA = "casefile.packet/1"
LEFT_OUT_REASONS = {
    "restricted": _l("restricted case"),
    "unverified": _l("below the chosen verification level"),
    "consent_withdrawn": _l("consent for this recipient was withdrawn"),
    "no_consent": _l("no consent for this recipient"),
}
REQUESTS = ("fate", "consular_access", "family_contact", "release", "written_reply")
LEGAL_BASES = ("vienna_convention", "enforced_disappearance_convention", "humanitarian")
KAZAKH_STATUS = {"kazakhstan", "residence_permit", "kandas"}
URGENT_WITHIN_DAYS = 92  # the WGEID's urgent procedure: disappeared less than three months ago


# --- recipients ------------------------------------------------------------------------------

def active_recipients() -> list[Recipient]:
    return list(db.session.scalars(select(Recipient).where(Recipient.active.is_(True)).order_by(Recipient.id)))


def recipient_by_code(code: str) -> Recipient:
    recipient = db.session.scalar(select(Recipient).where(Recipient.code == code, Recipient.active.is_(True)))
    if recipient is None:
        raise InvalidInput(str(_l("Unknown recipient: %(code)s.", code=code)), field="recipient")
    return recipient


def policy_of(recipient: Recipient, key: str) -> str:
    value = (recipient.policy or {}).get(key)
    # An unknown or missing value falls back to the most cautious choice.
    return value if value in POLICY_KEYS[key] else POLICY_KEYS[key][-1]


# --- selection -------------------------------------------------------------------------------

@dataclass
class Criteria:
    """Which cases the coordinator asked for: by filter, or by hand (references)."""

    references: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    prefecture: str = ""
    team_id: int | None = None
    detained_from: PartialDate | None = None
    detained_to: PartialDate | None = None
    min_verification: int = 0


@dataclass
class Selection:
    included: list[tuple[Case, list[int]]] = field(default_factory=list)  # case, consent ids in force
    left_out: list[tuple[Case, str]] = field(default_factory=list)

    def left_out_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _case, reason in self.left_out:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def select_cases(actor: User, recipient: Recipient, criteria: Criteria) -> Selection:
    """The cases ``actor`` asked for, split into those that may go to ``recipient`` and why the rest may not."""
    if actor.role != Role.COORDINATOR:
        raise NotAllowed(str(_l("Only coordinators build packets.")))
    # What the choice and the preview read: the reporters' consents, the person (citizenship).
    # The names and timeline are read by ``freeze_inputs``, as plain rows.
    statement = access.visible_cases(actor).options(
        selectinload(Case.reporters).selectinload(Reporter.consents),
        selectinload(Case.person),
    )
    if criteria.references:
        statement = statement.where(Case.reference.in_(criteria.references))
    if criteria.statuses:
        statement = statement.where(Case.status.in_(criteria.statuses))
    if criteria.prefecture:
        statement = statement.where(Case.prefecture_code == criteria.prefecture)
    if criteria.team_id:
        statement = statement.where(Case.team_id == criteria.team_id)
    if criteria.detained_from:
        statement = statement.where(Case.detained_on >= criteria.detained_from)
    if criteria.detained_to:
        statement = statement.where(Case.detained_on < period_after(criteria.detained_to))
    selection = Selection()
    with collector_paused():
        for case in db.session.scalars(statement.order_by(Case.reference)):
            reason = _left_out_reason(case, recipient, criteria)
            if reason:
                selection.left_out.append((case, reason))
            else:
                consents = [consent.id for reporter in case.reporters
                            if (consent := reporter.current_consent(recipient.consent_kind)) is not None]
                selection.included.append((case, consents))
    return selection


def _left_out_reason(case: Case, recipient: Recipient, criteria: Criteria) -> str | None:
    if case.restricted:
        return "restricted"
    if case.verification_level < criteria.min_verification:
        return "unverified"
    kind = recipient.consent_kind
    if any(reporter.current_consent(kind) is not None for reporter in case.reporters):
        return None
    ever = any(consent.recipient_kind == kind for reporter in case.reporters for consent in reporter.consents)
    return "consent_withdrawn" if ever else "no_consent"


def identity_reporters(selection: Selection, recipient: Recipient) -> list[tuple[Case, Reporter]]:
    """The reporters who may be named to ``recipient`` (and sign): identity consent, policy allowing."""
    if policy_of(recipient, "reporter_identity") == "never":
        return []
    return [(case, reporter) for case, _ids in selection.included for reporter in case.reporters
            if (consent := reporter.current_consent(recipient.consent_kind)) is not None and consent.disclose_identity]


# --- the letter ------------------------------------------------------------------------------

@dataclass
class Letter:
    language: str
    organisation: str
    contact: str
    outgoing_reference: str
    subject: str
    text: str
    requests: list[str]
    legal_basis: list[str]
    signatory_ids: list[int] = field(default_factory=list)


def summary_of(selection: Selection, language: str) -> dict[str, Any]:
    detained = sorted(str(case.detained_on) for case, _ids in selection.included if case.detained_on)
    codes: list[str] = []
    for case, _ids in selection.included:
        if case.prefecture_code and case.prefecture_code not in codes:
            codes.append(case.prefecture_code)
    return {
        "people": len(selection.included),
        "period_from": detained[0] if detained else None,
        "period_to": detained[-1] if detained else None,
        "prefectures": [_place_name(code, language) for code in codes],
    }


def default_legal_basis(selection: Selection, recipient: Recipient) -> list[str]:
    citizens = {case.person.citizenship for case, _ids in selection.included}
    basis = []
    if citizens & {"kazakhstan"}:
        basis.append("vienna_convention")
    if recipient.form == "wgeid":
        basis.append("enforced_disappearance_convention")
    if citizens - {"kazakhstan"} or not basis:
        basis.append("humanitarian")
    return basis


DEFAULT_SUBJECT = {
    "kk": "Шыңжаңда ұсталған адамдар туралы өтініш",
    "ru": "Обращение о лицах, задержанных в Синьцзяне",
    "en": "Appeal concerning persons detained in Xinjiang",
    "zh": "关于在新疆被拘押人员的请求",
}


def default_letter(selection: Selection, recipient: Recipient, language: str) -> str:
    return labels.default_letter(language, recipient.code, summary_of(selection, language))


def _place_name(code: str | None, language: str) -> str:
    place = get_place(code) if code else None
    if place is None:
        return ""
    return place.name_zh if language == "zh" else place.label(language)


# --- the frozen inputs -----------------------------------------------------------------------

def _date(value: PartialDate | None) -> str | None:
    return str(value) if value else None


def _case_inputs(number: int, case: Case, recipient: Recipient, language: str, built_on: date,
                 thumbnails: dict[str, bytes], items: list[EvidenceItem], names: list[dict[str, Any]],
                 timeline: list[dict[str, Any]]) -> dict[str, Any]:
    person = case.person
    identifiers = policy_of(recipient, "identifiers") == "yes"
    kind = recipient.consent_kind
    identity_consent = any((consent := reporter.current_consent(kind)) is not None and consent.disclose_identity
                           for reporter in case.reporters)
    files = policy_of(recipient, "evidence_files")
    files_allowed = files == "always" or (files == "with_consent" and identity_consent)
    evidence = []
    if policy_of(recipient, "evidence_list") == "yes":
        for item in items:
            thumbnail = None
            if files_allowed and item.has_preview and item.preview is not None:
                thumbnail = f"thumb-{item.id}.jpg"
                thumbnails[thumbnail] = unseal(item.preview, f"evidence:{item.id}:preview")
            evidence.append({"item": item.id, "kind": item.kind, "date": _date(item.document_date),
                             "sha256": item.sha256, "type": item.type_label or "note", "thumbnail": thumbnail})
    reporters = []
    named = policy_of(recipient, "reporter_identity") == "with_consent"
    for reporter in case.reporters:
        consent = reporter.current_consent(kind)
        reporters.append({
            "name": reporter.full_name if named and consent is not None and consent.disclose_identity else None,
            "relationship": reporter.relationship_kind, "consents": consent is not None,
        })
    place = ", ".join(part for part in (case.detention_facility, case.detention_city) if part)
    hometown = ", ".join(part for part in (_place_name(person.hometown_code, language), person.hometown_village)
                         if part)
    return {
        "number": number, "reference": case.reference,
        "names": names,
        "sex": person.sex, "birth_date": _date(person.birth_date), "citizenship": person.citizenship,
        "ethnicity": person.ethnicity, "prc_id": person.prc_id if identifiers else None,
        "iin": person.iin if identifiers else None, "occupation": person.occupation,
        "kz_documents": person.kz_documents if identifiers else "", "hometown": hometown,
        "status": case.status, "verification_level": case.verification_level,
        "detained_on": _date(case.detained_on), "last_contact_on": _date(case.last_contact_on),
        "trial_on": _date(case.trial_on), "release_on": _date(case.release_on), "detention_place": place,
        "alleged_reasons": list(case.alleged_reasons or []), "alleged_reason_other": case.alleged_reason_other,
        "sentence": case.sentence, "narrative": case.narrative, "family_steps": case.family_steps,
        "responsible_authority": case.responsible_authority,
        "timeline": timeline,
        "evidence": evidence, "reporters": reporters, "files_allowed": files_allowed,
        "urgent": recipient.form == "wgeid" and _recent(case.detained_on or case.last_contact_on, built_on),
    }


def _recent(moment: PartialDate | None, today: date) -> bool:
    if moment is None:
        return False
    return (today - moment.latest()).days < URGENT_WITHIN_DAYS


# As many keys in one IN list as SQLAlchemy's selectinload puts in one.
_IN_BATCH = 500
# The rows of cases that ``select_cases`` read through ``access`` (what a relationship load of them reads).
_OF_SELECTED = access.unscoped("packet inputs: names and timeline of the selected cases")


def _names_by_person(person_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The names of these people, each as the inputs list it (in the order of ``Person.names``)."""
    found: dict[int, list[dict[str, Any]]] = {person_id: [] for person_id in person_ids}
    keys = list(found)
    for start in range(0, len(keys), _IN_BATCH):
        rows = db.session.execute(
            select(PersonName.person_id, PersonName.text, PersonName.script, PersonName.kind)
            .where(PersonName.person_id.in_(keys[start:start + _IN_BATCH])).order_by(PersonName.position)
            .execution_options(**_OF_SELECTED))
        for person_id, text, script, kind in rows:
            found[person_id].append({"text": text, "script": script, "kind": kind})
    return found


def _timeline_by_case(case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The timeline of these cases, each event as the inputs list it (in the order of ``Case.timeline``)."""
    found: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in case_ids}
    keys = list(found)
    for start in range(0, len(keys), _IN_BATCH):
        rows = db.session.execute(
            select(TimelineEvent.case_id, TimelineEvent.occurred_on, TimelineEvent.kind, TimelineEvent.place,
                   TimelineEvent.description)
            .where(TimelineEvent.case_id.in_(keys[start:start + _IN_BATCH])).order_by(TimelineEvent.occurred_on)
            .execution_options(**_OF_SELECTED))
        for case_id, occurred_on, kind, place, description in rows:
            found[case_id].append({"date": _date(occurred_on), "kind": kind, "place": place,
                                   "description": description})
    return found


def _live_evidence(actor: User, case_ids: list[int]) -> dict[int, list[EvidenceItem]]:
    found: dict[int, list[EvidenceItem]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    statement = (access.visible_evidence(actor)
                 .where(EvidenceItem.case_id.in_(case_ids), EvidenceItem.tombstoned_at.is_(None))
                 .order_by(EvidenceItem.case_id, EvidenceItem.id))
    for item in db.session.scalars(statement):
        found[item.case_id].append(item)
    return found


def _signatures(selection: Selection, recipient: Recipient) -> list[dict[str, Any]]:
    from casefile.cases.services import reporter_contact_for_packet

    numbers = {case.id: number for number, (case, _ids) in enumerate(selection.included, start=1)}
    rows: dict[int, dict[str, Any]] = {}
    for case, reporter in identity_reporters(selection, recipient):
        contact = reporter_contact_for_packet(reporter)
        row = rows.setdefault(reporter.id, {
            "full_name": reporter.full_name, "iin": contact.get("iin", ""),
            "postal_address": contact.get("postal_address", ""), "phone": contact.get("phone", ""),
            "relationship": reporter.relationship_kind, "case_numbers": [],
            "recipients": [kind for kind in ("kz_mfa", "prc_embassy", "kz_parliament", "un", "public")
                           if (consent := reporter.current_consent(kind)) is not None and consent.disclose_identity],
        })
        row["case_numbers"].append(numbers[case.id])
    return list(rows.values())


def freeze_inputs(actor: User, recipient: Recipient, selection: Selection, letter: Letter, reference: str,
                  built_at: datetime) -> tuple[dict[str, Any], dict[str, bytes], list[EvidenceItem]]:
    """The packet's inputs as JSON-able data, the thumbnails they name, and the evidence items listed."""
    if letter.language not in labels.LANGUAGES:
        raise InvalidInput(str(_l("Choose the packet's language.")), field="language")
    thumbnails: dict[str, bytes] = {}
    case_ids = [case.id for case, _ids in selection.included]
    evidence = _live_evidence(actor, case_ids)
    names = _names_by_person([case.person_id for case, _ids in selection.included])
    timeline = _timeline_by_case(case_ids)
    listed: list[EvidenceItem] = []
    cases = []
    for number, (case, _ids) in enumerate(selection.included, start=1):
        entry = _case_inputs(number, case, recipient, letter.language, built_at.date(), thumbnails,
                             evidence[case.id], names[case.person_id], timeline[case.id])
        if entry["evidence"]:
            listed.extend(evidence[case.id])
        cases.append(entry)
    identity = {reporter.id: reporter for _case, reporter in identity_reporters(selection, recipient)}
    signatories = [{"name": identity[rid].full_name, "relationship": identity[rid].relationship_kind}
                   for rid in letter.signatory_ids if rid in identity]
    count, _seq, head = chain_head(db.session)
    inputs = {
        "schema": SCHEMA,
        "packet": {"reference": reference, "built_at": built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "language": letter.language, "form": recipient.form, "audit_head": head, "audit_count": count},
        "organisation": {"name": letter.organisation, "contact": letter.contact},
        "recipient": {"code": recipient.code, "name": recipient.name, "address": recipient.address},
        "letter": {"date": built_at.date().isoformat(), "outgoing_reference": letter.outgoing_reference or reference,
                   "subject": letter.subject, "text": letter.text, "requests": letter.requests,
                   "legal_basis": letter.legal_basis, "signatories": signatories},
        "summary": summary_of(selection, letter.language),
        "cases": cases,
        "signatures": _signatures(selection, recipient),
        "manifest": {"evidence": [{"case_number": entry["number"], "reference": entry["reference"],
                                   "item": item["item"], "sha256": item["sha256"]}
                                  for entry in cases for item in entry["evidence"]]},
    }
    return inputs, thumbnails, listed


def canonical_json(inputs: dict[str, Any]) -> bytes:
    return json.dumps(inputs, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# --- building --------------------------------------------------------------------------------

def _check_letter(letter: Letter) -> None:
    for name, value, limit in (("organisation", letter.organisation, 300), ("subject", letter.subject, 500)):
        if not value.strip():
            raise InvalidInput(str(_l("This is required.")), field=name)
        if len(value) > limit:
            raise InvalidInput(str(_l("At most %(n)s characters.", n=limit)), field=name)
    if len(letter.outgoing_reference) > 100:
        raise InvalidInput(str(_l("At most %(n)s characters.", n=100)), field="outgoing_reference")
    if not letter.text.strip():
        raise InvalidInput(str(_l("Write the letter.")), field="text")
    if any(code not in REQUESTS for code in letter.requests):
        raise InvalidInput(str(_l("Unknown request.")), field="requests")
    if any(code not in LEGAL_BASES for code in letter.legal_basis):
        raise InvalidInput(str(_l("Unknown legal basis.")), field="legal_basis")


def build_packet(actor: User, recipient: Recipient, criteria: Criteria, letter: Letter,
                 selection: Selection | None = None) -> Packet:
    """Select (unless the caller just did, in this transaction), freeze, render, store and record a
    packet; raises InvalidInput and leaves nothing."""
    with collector_paused():
        return _build_packet(actor, recipient, criteria, letter, selection)


def _build_packet(actor: User, recipient: Recipient, criteria: Criteria, letter: Letter,
                  selection: Selection | None) -> Packet:
    _check_letter(letter)
    if letter.language not in recipient.languages:
        raise InvalidInput(str(_l("This recipient takes packets in: %(langs)s.",
                                  langs=", ".join(recipient.languages))), field="language")
    selection = selection or select_cases(actor, recipient, criteria)
    if not selection.included:
        raise InvalidInput(str(_l("No case can go into this packet: none was selected, or every selected case "
                                  "was left out.")), field="references")
    built_at = utcnow().replace(microsecond=0)
    packet = Packet(reference="", recipient=recipient, language=letter.language, form=recipient.form,
                    built_by=actor, built_at=built_at, case_count=len(selection.included),
                    left_out=selection.left_out_counts(), inputs_sealed=b"", inputs_sha256="", pdf_address="",
                    pdf_sha256="", pdf_size=0, audit_head="")
    db.session.add(packet)
    db.session.flush()
    packet.reference = f"PK-{built_at.year}-{packet.id:05d}"
    inputs, thumbnails, listed = freeze_inputs(actor, recipient, selection, letter, packet.reference, built_at)
    rows = [{"packet_id": packet.id, "case_id": case.id, "number": number, "consent_ids": consent_ids}
            for number, (case, consent_ids) in enumerate(selection.included, start=1)]
    del selection  # the cases as loaded: not needed any more (unless the caller keeps them)

    done: list[bool] = []

    def meanwhile() -> None:
        # While the workers compile the first parts: seal the inputs, write the packet's cases.
        if done:
            return
        done.append(True)
        frozen = canonical_json(inputs)
        packet.inputs_sealed = seal(frozen, f"packet:{packet.reference}:inputs")
        packet.inputs_sha256 = hashlib.sha256(frozen).hexdigest()
        del frozen
        packet.audit_head = inputs["packet"]["audit_head"]
        db.session.execute(insert(PacketCase), rows)  # one executemany, not 2,000 ORM objects

    try:
        pdf = render_pdf(inputs, thumbnails, meanwhile=meanwhile)
    except RenderError as error:
        raise InvalidInput(str(error), field="text") from error
    meanwhile()  # (done already, unless the renderer had no occasion to)
    # Release the frozen inputs before storing the PDF; `meanwhile` has run by now.
    inputs = thumbnails = rows = None  # type: ignore[assignment]
    packet.pdf_sha256, packet.pdf_size, packet.pdf_address = evidence_services.store_bytes(pdf)
    del pdf
    for item in listed:
        evidence_services.record_packet_inclusion(actor, item, packet.reference)
    audit.record(actor, "packet.build", object_type="packet", object_id=packet.id,
                 details={"reference": packet.reference, "recipient": recipient.code, "language": letter.language,
                          "cases": packet.case_count, "left_out": packet.left_out, "pdf_sha256": packet.pdf_sha256})
    return packet


def rebuild_pdf(packet: Packet) -> bytes:
    """The PDF rendered again from the packet's stored inputs (byte-identical to the stored one)."""
    inputs = json.loads(unseal(packet.inputs_sealed, f"packet:{packet.reference}:inputs"))
    thumbnails = {}
    for entry in inputs["cases"]:
        for item in entry["evidence"]:
            if item["thumbnail"]:
                row = db.session.scalar(select(EvidenceItem).where(EvidenceItem.id == item["item"])
                                        .execution_options(**access.unscoped("packet rebuild: its own items")))
                if row is not None and row.preview is not None:
                    thumbnails[item["thumbnail"]] = unseal(row.preview, f"evidence:{row.id}:preview")
    return render_pdf(inputs, thumbnails)


# --- reading ---------------------------------------------------------------------------------

def get_packet(actor: User, reference: str) -> Packet:
    from werkzeug.exceptions import NotFound

    packet = db.session.scalar(access.visible_packets(actor).where(Packet.reference == reference)) \
        if reference_shaped(reference) else None
    if packet is None:
        raise NotFound()
    return packet


def withdrawn_since(packet: Packet) -> list[tuple[int, str]]:
    """The packet's cases whose consent (in force at build time) was withdrawn since: (number, reference)."""
    from casefile.cases.models import Consent

    consent_ids = [cid for row in packet.cases for cid in row.consent_ids]
    if not consent_ids:
        return []
    withdrawn = set(db.session.scalars(
        select(Consent.id).where(Consent.id.in_(consent_ids), Consent.withdrawn_on.is_not(None))
        .execution_options(**access.unscoped("packet page: which of its consents were withdrawn"))))
    return [(row.number, row.case.reference) for row in packet.cases if withdrawn & set(row.consent_ids)]


def open_pdf(actor: User, packet: Packet, what: str = "pdf") -> Any:
    """The stored PDF, decrypted chunk by chunk; recorded for the packet and each evidence item it lists."""
    chunks = evidence_services.stream_bytes(packet.pdf_address)
    _record_download(actor, packet, what)
    return chunks


def _record_download(actor: User, packet: Packet, what: str) -> None:
    audit.record(actor, "packet.download", object_type="packet", object_id=packet.id,
                 details={"reference": packet.reference, "what": what})
    inputs = json.loads(unseal(packet.inputs_sealed, f"packet:{packet.reference}:inputs"))
    item_ids = [item["item"] for entry in inputs["cases"] for item in entry["evidence"]]
    if item_ids:
        items = db.session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(item_ids))
                                   .execution_options(**access.unscoped("packet download: custody of its items")))
        for item in items:
            evidence_services.record_packet_download(actor, item, packet.reference)


def count_packets() -> int:
    return db.session.scalar(select(func.count(Packet.id))) or 0


def today() -> date:
    return datetime.now(UTC).date()


# --- recipients, as admins keep them ---------------------------------------------------------

@dataclass
class RecipientInput:
    code: str
    name: str
    address: str
    consent_kind: str
    languages: list[str]
    form: str
    policy: dict[str, str]
    active: bool = True


def save_recipient(actor: User, recipient: Recipient | None, data: RecipientInput) -> Recipient:
    """Create or change a recipient; the code stays unique."""
    from casefile.cases.vocab import RECIPIENT_KINDS

    if actor.role != Role.ADMIN:
        raise NotAllowed(str(_l("Only admins manage recipients.")))
    if data.consent_kind not in RECIPIENT_KINDS:
        raise InvalidInput(str(_l("Unknown consent kind.")), field="consent_kind")
    if any(language not in labels.LANGUAGES for language in data.languages) or not data.languages:
        raise InvalidInput(str(_l("Choose at least one language.")), field="languages")
    if data.form not in ("standard", "wgeid"):
        raise InvalidInput(str(_l("Unknown form.")), field="form")
    for key, value in data.policy.items():
        if value not in POLICY_KEYS.get(key, ()):
            raise InvalidInput(str(_l("Unknown policy value.")), field=key)
    clash = db.session.scalar(select(Recipient).where(Recipient.code == data.code))
    if clash is not None and clash is not recipient:
        raise InvalidInput(str(_l("Another recipient has this name.")), field="code")
    action = "recipient.update" if recipient else "recipient.create"
    recipient = recipient or Recipient()
    values = {"code": data.code, "name": data.name, "address": data.address, "consent_kind": data.consent_kind,
              "languages": data.languages, "form": data.form, "policy": data.policy, "active": data.active}
    changed = sorted(key for key, value in values.items() if getattr(recipient, key, None) != value)
    for key, value in values.items():
        setattr(recipient, key, value)
    recipient.updated_at = utcnow()
    db.session.add(recipient)
    db.session.flush()
    audit.record(actor, action, object_type="recipient", object_id=recipient.id,
                 details={"code": recipient.code, "changed": changed})
    return recipient


def all_recipients() -> list[Recipient]:
    return list(db.session.scalars(select(Recipient).order_by(Recipient.id)))
