"""Reporters: sealed contact details for the case team only, consent with history."""

from __future__ import annotations

from sqlalchemy import select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.cases.models import Reporter
from casefile.extensions import db

REPORTER = {
    "full_name": "Гүлнар Серікқызы", "relationship_kind": "daughter", "relationship_detail": "",
    "phone": "+7 701 555 0142", "email": "", "postal_address": "Almaty, Abai st. 1", "reporter_iin": "061211600012",
    "consent_on": "2025-02-01", "consent_kz_mfa": "identity", "consent_prc_embassy": "none",
    "consent_kz_parliament": "case", "consent_un": "case", "consent_public": "none",
}


def _reporter() -> Reporter:
    db.session.rollback()  # a new snapshot: see what requests committed
    return db.session.scalars(select(Reporter).execution_options(**unscoped("test"))).one()


def test_contact_is_sealed_at_rest_and_shown_to_the_team_only(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    coordinator = factory.user("coordinator", teams=("Astana",))
    case = factory.case(advocate)
    web = login(advocate)
    assert web.post(f"/cases/{case.reference}/reporters/new", REPORTER).status_code == 302
    sealed = _reporter().contact_sealed
    assert sealed and b"701 555" not in sealed and b"Abai" not in sealed
    assert "+7 701 555 0142" in web.get(f"/cases/{case.reference}").get_data(as_text=True)
    outsider_page = login(coordinator).get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Гүлнар Серікқызы" in outsider_page
    assert "+7 701 555 0142" not in outsider_page and "Abai" not in outsider_page
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reporter.create")).one()
    assert "555" not in created.details and "phone" in created.details


def test_consent_is_recorded_and_withdrawn_with_history(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    case = factory.case(advocate)
    web = login(advocate)
    web.post(f"/cases/{case.reference}/reporters/new", REPORTER)
    reporter = _reporter()
    assert reporter.current_consent("kz_mfa").disclose_identity is True
    assert reporter.current_consent("prc_embassy") is None
    changed = dict(REPORTER, consent_kz_mfa="none", consent_un="identity", consent_on="2025-03-01")
    assert web.post(f"/cases/{case.reference}/reporters/{reporter.id}/edit", changed).status_code == 302
    reporter = _reporter()
    assert reporter.current_consent("kz_mfa") is None
    assert reporter.current_consent("un").disclose_identity is True
    history = [(c.recipient_kind, str(c.withdrawn_on)) for c in reporter.consents if c.withdrawn_on]
    assert sorted(history) == [("kz_mfa", "2025-03-01"), ("un", "2025-03-01")]
    assert all(c.recorded_by_id == advocate.id for c in reporter.consents)


def test_reporter_of_another_case_is_404(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    first, second = factory.case(advocate), factory.case(advocate)
    web = login(advocate)
    web.post(f"/cases/{first.reference}/reporters/new", REPORTER)
    reporter = _reporter()
    assert web.get(f"/cases/{second.reference}/reporters/{reporter.id}/edit").status_code == 404
    assert web.get(f"/cases/{first.reference}/reporters/{reporter.id}/edit").status_code == 200


def test_bad_reporter_iin_is_refused(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    case = factory.case(advocate)
    response = login(advocate).post(f"/cases/{case.reference}/reporters/new", dict(REPORTER, reporter_iin="061211600013"))
    assert response.status_code == 400
    assert db.session.scalars(select(Reporter).execution_options(**unscoped("test"))).first() is None
