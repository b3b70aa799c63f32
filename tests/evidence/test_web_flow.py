"""Adding, listing, previewing, downloading, correcting and removing evidence through the app."""

from __future__ import annotations

import hashlib
import io
import re

from PIL import Image
from sqlalchemy import select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.evidence.models import CustodyEvent, EvidenceItem
from casefile.extensions import db
from tests.evidence.helpers import PDF, jpeg_with_metadata, png, upload


def _items() -> list[EvidenceItem]:
    db.session.commit()  # end the test's read transaction: see what the requests committed
    return list(db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)
                                   .execution_options(**unscoped("test"))))


def _custody(item_id: int) -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(CustodyEvent.action).where(CustodyEvent.evidence_id == item_id)
                                   .order_by(CustodyEvent.id).execution_options(**unscoped("test"))))


def _actions() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_file_is_added_with_its_facts_and_shown_in_the_log(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    response = upload(web, case.reference, [(PDF, "../../etc/Хат\u202e.pdf")], kind="letter",
                      description="Letter from the village committee", source="Brother, in person",
                      document_date="2019-04")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/evidence/" in response.headers["Location"], response.headers["Location"]
    [item] = _items()
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (item.size, item.content_type, item.kind) == (len(PDF), "application/pdf", "letter")
    assert item.filename == "Хат.pdf"
    assert str(item.document_date) == "2019-04"
    assert _custody(item.id) == ["added"]
    assert "evidence.add" in _actions()
    page = web.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert item.sha256 in page and "Letter from the village committee" in page
    download = web.get(f"/cases/{case.reference}/evidence/{item.id}/download")
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%D0%A5%D0%B0%D1%82.pdf")


def test_download_streams_the_original_as_an_attachment(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    original = jpeg_with_metadata()
    upload(web, case.reference, [(original, "passport.jpg")], kind="identity_document")
    [item] = _items()
    response = web.get(f"/cases/{case.reference}/evidence/{item.id}/download")
    assert response.status_code == 200
    assert response.get_data() == original
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert _custody(item.id) == ["added", "downloaded"]
    assert _actions()[-1] == "evidence.download"


def test_the_preview_is_a_small_reencoded_image_without_metadata(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(jpeg_with_metadata(), "id-card.jpg")])
    [item] = _items()
    page = web.get(f"/cases/{case.reference}/evidence/{item.id}").get_data(as_text=True)
    assert f"/evidence/{item.id}/preview" in page
    response = web.get(f"/cases/{case.reference}/evidence/{item.id}/preview")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    body = response.get_data()
    assert b"SecretCam" not in body and b"43.2389" not in body and b"Shagantogay" not in body
    with Image.open(io.BytesIO(body)) as preview:
        assert max(preview.size) <= 640
        assert not preview.getexif()
        assert "icc_profile" not in preview.info and "comment" not in preview.info
    assert _custody(item.id) == ["added", "previewed"]
    # The stored original is untouched: it still carries its metadata.
    download = web.get(f"/cases/{case.reference}/evidence/{item.id}/download").get_data()
    assert b"SecretCam" in download


def test_a_file_already_in_the_case_is_not_stored_twice(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(png(), "first.png")])
    response = upload(web, case.reference, [(png(), "again.png"), (png("blue"), "other.png")],
                      follow_redirects=True)
    items = _items()
    assert [item.filename for item in items] == ["first.png", "other.png"]
    page = response.get_data(as_text=True)
    assert "again.png is already in this case" in page
    assert f'/cases/{case.reference}/evidence/{items[0].id}"' in page


def test_a_note_is_an_entry_with_its_hash(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    note = "Сестрасы 2019 жылы телефонмен хабарласты."
    response = upload(web, case.reference, note=note, kind="other")
    assert response.status_code == 302
    [item] = _items()
    assert item.is_note and item.sha256 == hashlib.sha256(note.encode()).hexdigest()
    assert item.blob_address is None


def test_a_correction_links_to_the_item_it_corrects(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(PDF, "verdict.pdf")], kind="verdict", document_date="2020")
    [original] = _items()
    form = web.get(f"/cases/{case.reference}/evidence/new?corrects={original.id}").get_data(as_text=True)
    assert f'value="{original.id}"' in form
    upload(web, case.reference, note="The verdict is dated 2020-06-11, not 2020.", kind="verdict",
           corrects_id=str(original.id))
    original, correction = _items()
    assert correction.corrects_id == original.id
    assert _custody(original.id) == ["added", "corrected"]
    assert original.is_live  # a correction does not remove the original


def test_removal_is_a_tombstone_that_keeps_the_bytes(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(PDF, "wrong-case.pdf")])
    [item] = _items()
    refused = web.post(f"/cases/{case.reference}/evidence/{item.id}/remove", {"reason": "  "})
    assert refused.status_code == 400 and _items()[0].is_live
    response = web.post(f"/cases/{case.reference}/evidence/{item.id}/remove",
                        {"reason": "Belongs to another case"})
    assert response.status_code == 302
    [item] = _items()
    assert not item.is_live and item.tombstone_reason == "Belongs to another case"
    assert _custody(item.id) == ["added", "tombstoned"]
    case_page = web.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "wrong-case.pdf" not in case_page
    full_log = web.get(f"/cases/{case.reference}/evidence?show=all").get_data(as_text=True)
    assert "wrong-case.pdf" in full_log and "Belongs to another case" in full_log
    assert web.get(f"/cases/{case.reference}/evidence/{item.id}/download").get_data() == PDF


def test_refused_types_store_nothing(factory, login, app) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = login(advocate)
    for content, name, message in [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "page.pdf", "web pages"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "photo.jpg", "SVG"),
        (b"MZ\x90\x00" + bytes(200), "letter.docx", "Programs"),
        (b"PK\x03\x04" + bytes(26) + b"a.txt" + bytes(60), "scan.zip", "Archives"),
        (b"", "empty.pdf", "empty"),
        (bytes(range(256)) * 8, "blob.bin", "not recognised"),
    ]:
        response = upload(web, case.reference, [(PDF, "fine.pdf"), (content, name)])
        assert response.status_code == 400, name
        assert message in response.get_data(as_text=True), name
    assert _items() == []
    store = app.config["CASEFILE_SETTINGS"].evidence_dir
    assert not any(path.is_file() for path in (store / "blobs").rglob("*"))
    assert not any((store / "tmp").iterdir())


def test_someone_who_cannot_see_the_case_gets_404_everywhere(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    outsider = factory.user("advocate", teams=("Astana",))
    case = factory.case(advocate)
    upload(login(advocate), case.reference, [(png(), "a.png")])
    [item] = _items()
    web = login(outsider)
    for suffix in ("", "/new", f"/{item.id}", f"/{item.id}/preview", f"/{item.id}/download"):
        assert web.get(f"/cases/{case.reference}/evidence{suffix}").status_code == 404, suffix
    assert upload(web, case.reference, [(PDF, "x.pdf")]).status_code == 404
    assert web.post(f"/cases/{case.reference}/evidence/{item.id}/remove", {"reason": "x"}).status_code == 404
    assert _custody(item.id) == ["added"]


def test_an_item_of_another_case_is_not_found_under_this_one(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    first, second = factory.case(advocate), factory.case(advocate)
    web = login(advocate)
    upload(web, first.reference, [(PDF, "a.pdf")])
    [item] = _items()
    assert web.get(f"/cases/{second.reference}/evidence/{item.id}/download").status_code == 404
    assert re.search(r"\d", second.reference)


def test_auditors_see_custody_and_hashes_but_no_content(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    auditor = factory.user("auditor")
    case = factory.case(advocate)
    web = login(advocate)
    upload(web, case.reference, [(PDF, "Нұрлан-хат.pdf")], kind="letter",
           description="Secret description of the letter", source="Sister Gulnar, by WhatsApp")
    [item] = _items()
    web.get(f"/cases/{case.reference}/evidence/{item.id}/download")
    web.post(f"/cases/{case.reference}/evidence/{item.id}/remove", {"reason": "Reason with a name: Gulnar"})
    auditor_web = login(auditor)
    page = auditor_web.get(f"/audit/cases/{case.reference}").get_data(as_text=True)
    assert item.sha256 in page
    for action in ("added", "downloaded", "removed"):
        assert f"{advocate.username} · {action}" in page
    for secret in ("Secret description", "Gulnar", "Нұрлан-хат"):
        assert secret not in page
    events = auditor_web.get("/audit?action=evidence.add").get_data(as_text=True)
    assert item.sha256 in events and "Secret description" not in events
    for suffix in ("", f"/{item.id}", f"/{item.id}/download"):
        assert auditor_web.get(f"/cases/{case.reference}/evidence{suffix}").status_code == 404
