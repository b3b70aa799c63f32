"""Evidence in a real browser: upload two files through the form, see the log, the preview and the download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.evidence.helpers import PDF, jpeg_with_metadata

pytestmark = pytest.mark.browser


def test_advocate_uploads_evidence_and_downloads_the_original(page, live_server, factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    case = factory.case(advocate)
    photo = tmp_path / "удостоверение.jpg"
    photo.write_bytes(jpeg_with_metadata())
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(PDF)

    page.goto(f"{live_server}/login")
    page.fill("#username", advocate.username)
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/cases/{case.reference}")
    page.click("#evidence >> text=Add evidence")
    page.set_input_files("#files", [str(photo), str(letter)])
    page.select_option("#kind", "identity_document")
    page.fill("#source", "Brother, in person in Almaty")
    page.fill("#document_date", "2016-05")
    page.click("form.record button[type=submit]")

    assert page.url.endswith("#evidence")
    log = page.locator("#evidence table")
    assert log.locator("text=удостоверение.jpg").count() == 1
    assert log.locator(f"text={hashlib.sha256(PDF).hexdigest()}").count() == 1

    page.click("#evidence >> text=удостоверение.jpg >> xpath=ancestor::tr >> a")
    preview = page.locator("figure.preview img")
    assert preview.count() == 1
    assert preview.evaluate("image => image.naturalWidth") > 0  # the browser decoded the thumbnail
    with page.expect_download() as download_info:
        page.click("text=Download the original", no_wait_after=True)
    saved = download_info.value.path()
    assert saved is not None and Path(saved).read_bytes() == photo.read_bytes()
    assert download_info.value.suggested_filename == "удостоверение.jpg"
