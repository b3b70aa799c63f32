"""Building packets through the app: consent gating, what each recipient sees, the stored PDF, downloads."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.cases import services as case_services
from casefile.core.crypto import unseal
from casefile.core.partial_dates import PartialDate
from casefile.evidence.models import CustodyEvent
from casefile.extensions import db
from casefile.packets.models import Packet
from tests.evidence.helpers import PDF, png, upload


def reporter(factory, actor, case, name: str, consents: dict[str, str], **contact: str):  # type: ignore[no-untyped-def]
    db.session.commit()
    case = factory.reload_case(case.reference)
    row = case_services.add_reporter(actor, case, case_services.ReporterInput(
        full_name=name, relationship_kind="sister", contact=contact, consents=consents,
        consent_on=date(2025, 5, 1)))
    db.session.commit()
    return row


@pytest.fixture
def organisation(factory):  # type: ignore[no-untyped-def]
    """A coordinator and an advocate, and six cases that cover every reason to leave one out."""
    coordinator = factory.user("coordinator", teams=("Almaty",))
    advocate = factory.user("advocate", teams=("Almaty",))
    level = {"verification_level": 2}
    cases = {
        "case_only": factory.case(advocate, **level),
        "identity": factory.case(advocate, detention_facility="=HYPERLINK(\"x\") Kuytun", **level),
        "none": factory.case(advocate, **level),
        "withdrawn": factory.case(advocate, **level),
        "restricted": factory.case(advocate, restricted=True, named_user_ids=[coordinator.id], **level),
        "unverified": factory.case(advocate, verification_level=0),
    }
    reporter(factory, advocate, cases["case_only"], "Гүлнар Сейтқызы", {"kz_mfa": "case", "prc_embassy": "case"})
    reporter(factory, advocate, cases["identity"], "Айгүл Серікқызы", {"kz_mfa": "identity", "prc_embassy": "identity"},
             phone="+7 701 000 00 00", iin="880101400011", postal_address="Алматы, Абай 1")
    withdrawn = reporter(factory, advocate, cases["withdrawn"], "Бақыт Ахметұлы", {"kz_mfa": "case"})
    case_services.update_reporter(advocate, factory.reload_case(cases["withdrawn"].reference), withdrawn,
                                  case_services.ReporterInput(full_name="Бақыт Ахметұлы", relationship_kind="sister",
                                                              consents={"kz_mfa": "none"}))
    db.session.commit()
    for key in ("restricted", "unverified"):
        reporter(factory, advocate, cases[key], "Ерлан", {"kz_mfa": "identity"})
    return {"coordinator": coordinator, "advocate": advocate, "cases": cases}


def packet_form(**fields: object) -> dict[str, object]:
    return {"recipient": "kz-mfa", "language": "ru", "min_verification": "1", "organisation": "Atajurt Volunteers",
            "contact": "Almaty", "subject": "Обращение", "text": "Просим установить местонахождение.",
            "requests": ["fate", "written_reply"], "legal_basis": ["humanitarian"], **fields}


def packets() -> list[Packet]:
    db.session.commit()
    return list(db.session.scalars(select(Packet).order_by(Packet.id).execution_options(**unscoped("test"))))


def inputs_of(packet: Packet) -> dict:  # type: ignore[type-arg]
    return json.loads(unseal(packet.inputs_sealed, f"packet:{packet.reference}:inputs"))


def test_the_preview_counts_what_goes_in_and_why_the_rest_is_left_out(organisation, login) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    response = web.post("/packets/new", packet_form(preview="Preview", text=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "2 cases go in." in page and "4 are left out." in page
    cases = organisation["cases"]
    for key, reason in (("none", "no consent for this recipient"),
                        ("withdrawn", "consent for this recipient was withdrawn"),
                        ("restricted", "restricted case"), ("unverified", "below the chosen verification level")):
        assert f"{cases[key].reference}</a></td><td>{reason}" in page, key
    assert "Айгүл Серікқызы" in page  # a possible signatory: her consent covers her identity
    assert "Гүлнар Сейтқызы" not in page
    assert packets() == []


def test_building_stores_the_pdf_and_records_custody_and_audit(organisation, login, app) -> None:  # type: ignore[no-untyped-def]
    cases = organisation["cases"]
    upload(login(organisation["advocate"]), cases["identity"].reference, [(png(), "id.png"), (PDF, "letter.pdf")])
    web = login(organisation["coordinator"])
    response = web.post("/packets/new", packet_form(build="Build"))
    assert response.status_code == 302, response.get_data(as_text=True)
    [packet] = packets()
    assert packet.case_count == 2 and packet.left_out == {
        "no_consent": 1, "consent_withdrawn": 1, "restricted": 1, "unverified": 1}
    pdf = web.get(f"/packets/{packet.reference}/pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    import hashlib
    assert hashlib.sha256(pdf.get_data()).hexdigest() == packet.pdf_sha256
    inputs = inputs_of(packet)
    assert [entry["reference"] for entry in inputs["cases"]] == sorted(
        [cases["case_only"].reference, cases["identity"].reference])
    assert len(inputs["manifest"]["evidence"]) == 2
    db.session.commit()  # a fresh snapshot, after the download
    actions = list(db.session.scalars(select(CustodyEvent.action).execution_options(**unscoped("test"))))
    assert actions.count("included_in_packet") == 2 and actions.count("downloaded") == 2
    audit_actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "packet.build" in audit_actions and "packet.download" in audit_actions


def test_the_embassy_sees_only_the_identities_consent_covers(organisation, login) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    signatory = organisation["cases"]["identity"]
    response = web.post("/packets/new", packet_form(recipient="prc-embassy", language="zh", build="Build"))
    assert response.status_code == 302, response.get_data(as_text=True)
    [packet] = packets()
    inputs = inputs_of(packet)
    named = {entry["reference"]: [r["name"] for r in entry["reporters"]] for entry in inputs["cases"]}
    assert named[signatory.reference] == ["Айгүл Серікқызы"]
    assert [name for ref, names in named.items() if ref != signatory.reference for name in names] == [None]
    [sheet] = inputs["signatures"]
    assert sheet["full_name"] == "Айгүл Серікқызы" and sheet["iin"] == "880101400011"


def test_zero_cases_or_an_unknown_recipient_leave_no_packet(organisation, login) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    none_left = web.post("/packets/new", packet_form(build="Build",
                                                     references=organisation["cases"]["none"].reference))
    assert none_left.status_code == 400 and "No case can go into this packet" in none_left.get_data(as_text=True)
    unknown = web.post("/packets/new", packet_form(build="Build", recipient="nobody"))
    assert unknown.status_code == 400
    bad_reference = web.post("/packets/new", packet_form(preview="Preview", references="KZ-2025-1; DROP"))
    assert bad_reference.status_code == 400 and "Not a case reference" in bad_reference.get_data(as_text=True)
    assert packets() == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "packet.build")) == 0


def test_a_withdrawal_after_the_build_is_pointed_out(organisation, login, factory) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    case = factory.reload_case(organisation["cases"]["case_only"].reference)
    [row] = case.reporters
    case_services.update_reporter(organisation["advocate"], case, row, case_services.ReporterInput(
        full_name=row.full_name, relationship_kind=row.relationship_kind, consents={"kz_mfa": "none"}))
    db.session.commit()
    page = web.get(f"/packets/{packet.reference}").get_data(as_text=True)
    assert f"<title>{packet.reference} · casefile</title>" in page
    assert "Consent was withdrawn after this packet was built" in page and case.reference in page


def test_the_bundle_holds_the_pdf_manifest_safe_list_and_allowed_files(organisation, login) -> None:  # type: ignore[no-untyped-def]
    cases = organisation["cases"]
    upload(login(organisation["advocate"]), cases["identity"].reference, [(PDF, "letter.pdf")])
    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    response = web.get(f"/packets/{packet.reference}/bundle.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert f"{packet.reference}.pdf" in names and "manifest.json" in names and "list.csv" in names
    assert archive.read(f"{packet.reference}.pdf").startswith(b"%PDF")
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["pdf_sha256"] == packet.pdf_sha256 and manifest["cases"] == 2
    listing = archive.read("list.csv").decode("utf-8-sig")
    assert "\"'=HYPERLINK" in listing  # a formula typed as a name stays text
    [evidence_name] = [name for name in names if name.startswith("evidence/")]
    assert archive.read(evidence_name) == PDF


def test_the_same_inputs_render_the_same_bytes(organisation, login, app) -> None:  # type: ignore[no-untyped-def]
    from casefile.packets import services

    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    stored = web.get(f"/packets/{packet.reference}/pdf").get_data()
    with app.app_context():
        again = db.session.scalar(select(Packet).where(Packet.id == packet.id).execution_options(**unscoped("test")))
        assert services.rebuild_pdf(again) == stored


def test_only_coordinators_reach_packets(organisation, login, factory) -> None:  # type: ignore[no-untyped-def]
    for role in ("advocate", "auditor", "admin"):
        web = login(factory.user(role))
        assert web.get("/packets").status_code == 404, role
        assert web.get("/packets/new").status_code == 404, role


def test_admins_edit_recipients_and_the_change_is_audited(login, factory) -> None:  # type: ignore[no-untyped-def]
    web = login(factory.user("admin"))
    page = web.get("/admin/recipients").get_data(as_text=True)
    for code in ("kz-mfa", "prc-embassy", "kz-parliament", "un-wgeid", "un-wgad", "ohchr"):
        assert f"<code>{code}</code>" in page
    response = web.post("/admin/recipients/new", {
        "code": "kz-ombudsman", "name": "Commissioner for Human Rights", "address": "Astana",
        "consent_kind": "kz_mfa", "languages": ["kk", "ru"], "form": "standard",
        "reporter_identity": "with_consent", "evidence_files": "never", "evidence_list": "yes",
        "identifiers": "yes", "active": "yes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "kz-ombudsman" in web.get("/admin/recipients").get_data(as_text=True)
    refused = web.post("/admin/recipients/new", {"code": "Bad Code!", "name": "x", "languages": ["en"],
                                                 "consent_kind": "un", "form": "standard", "active": "yes",
                                                 "reporter_identity": "never", "evidence_files": "never",
                                                 "evidence_list": "yes", "identifiers": "yes"})
    assert refused.status_code == 400
    db.session.commit()
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "recipient.create")) == 1


def test_urgent_when_disappeared_less_than_three_months_ago() -> None:
    from casefile.packets.services import _recent

    assert _recent(PartialDate(2026, 10, 1), date(2026, 11, 24))
    assert _recent(PartialDate(2026, 8), date(2026, 11, 24))  # it may have been 31 August: in doubt, urgent
    assert not _recent(PartialDate(2026, 7), date(2026, 11, 24))
    assert not _recent(None, date(2026, 11, 24))


def test_the_command_line_builds_the_same_packet(organisation, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.evidence.test_cli import invoke

    out = tmp_path / "mfa.pdf"
    result = invoke(app, ["packets", "build", "--recipient", "kz-mfa", "--as", organisation["coordinator"].username,
                          "--lang", "kk", "--organisation", "Atajurt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [packet] = packets()
    assert f"Packet {packet.reference}: 2 cases to kz-mfa in kk" in result.output
    assert "1 no consent" in result.output and "1 restricted" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    import hashlib
    assert hashlib.sha256(out.read_bytes()).hexdigest() == packet.pdf_sha256
    unknown = invoke(app, ["packets", "build", "--recipient", "nobody", "--as", organisation["coordinator"].username,
                           "--organisation", "x", "--out", str(tmp_path / "x.pdf")])
    assert unknown.exit_code != 0 and "Unknown recipient: nobody" in unknown.output
    nobody = invoke(app, ["packets", "build", "--recipient", "kz-mfa", "--as", "ghost", "--out", str(out)])
    assert nobody.exit_code != 0 and "No active account ghost" in nobody.output
    assert len(packets()) == 1


def test_a_hand_over_with_its_receipt_and_an_answer_update_the_cases(organisation, login, factory) -> None:  # type: ignore[no-untyped-def]
    cases = organisation["cases"]
    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    response = web.post(f"/packets/{packet.reference}/submissions", {
        "handed_over_on": "2026-11-02", "channel": "in_person", "handed_over_by": "Serikzhan",
        "receipt_number": "ВХ-1234", "follow_up_on": "2026-11-20", "receipt": (io.BytesIO(png()), "stamp.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = web.get(f"/packets/{packet.reference}").get_data(as_text=True)
    assert "ВХ-1234" in page and "Receipt scan" in page
    [submission] = packets()[0].submissions
    assert submission.receipt_sha256 and submission.receipt_address
    receipt = web.get(f"/packets/{packet.reference}/submissions/{submission.id}/receipt")
    assert receipt.get_data() == png() and receipt.headers["Content-Disposition"].startswith("attachment")
    overdue = web.get("/packets/awaiting").get_data(as_text=True)
    assert packet.reference in overdue

    released = cases["identity"]
    detained = cases["case_only"]
    answer = web.post(f"/packets/{packet.reference}/submissions/{submission.id}/responses/new", {
        "received_on": "2026-11-21", "kind": "provided_assistance", "text": "Ответ МИД",
        f"outcome-{released.id}": "released", f"outcome-{detained.id}": "confirmed_detained"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert factory.reload_case(released.reference).status == "released_restricted"
    assert factory.reload_case(detained.reference).status == "detained_unknown_place"
    timeline = [event.kind for event in factory.reload_case(released.reference).timeline]
    assert "official_reply" in timeline
    assert packet.reference not in web.get("/packets/awaiting").get_data(as_text=True)


def test_a_refused_hand_over_keeps_nothing(organisation, login, app) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    before = {path for path in app.config["CASEFILE_SETTINGS"].evidence_dir.rglob("*") if path.is_file()}
    response = web.post(f"/packets/{packet.reference}/submissions", {
        "handed_over_on": "2026-11-02", "channel": "in_person", "handed_over_by": "Serikzhan",
        "receipt": (io.BytesIO(b"MZ" + bytes(100)), "receipt.exe")}, content_type="multipart/form-data")
    assert response.status_code == 400 and "not accepted" in response.get_data(as_text=True)
    assert packets()[0].submissions == []
    after = {path for path in app.config["CASEFILE_SETTINGS"].evidence_dir.rglob("*") if path.is_file()}
    assert after == before


def test_evidence_verify_and_sweep_know_packet_pdfs(organisation, login, app) -> None:  # type: ignore[no-untyped-def]
    from tests.evidence.test_cli import blob_path, invoke, make_old

    web = login(organisation["coordinator"])
    web.post("/packets/new", packet_form(build="Build"))
    [packet] = packets()
    path = blob_path(app, packet.pdf_address)
    make_old(path)
    swept = invoke(app, ["evidence", "sweep"])
    assert "Removed 0 unreferenced blob(s)" in swept.output and path.exists()
    intact = invoke(app, ["evidence", "verify"])
    assert intact.exit_code == 0 and "1 packet or receipt file(s)" in intact.output
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01
    path.write_bytes(bytes(raw))
    broken = invoke(app, ["evidence", "verify"])
    assert broken.exit_code == 1 and f"packet {packet.reference}: altered" in broken.output
