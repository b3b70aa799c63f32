"""A coordinator's packet in a real browser: preview what goes in, build it, download the PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packets.test_build import organisation  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_coordinator_previews_builds_and_downloads_a_packet(page, live_server, factory, organisation) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.goto(f"{live_server}/login")
    page.fill("#username", organisation["coordinator"].username)
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.click("text=Packets")
    page.click("text=New packet")
    page.select_option("#recipient", "kz-mfa")
    page.select_option("#language", "kk")
    page.click("#preview")
    assert page.locator("text=2 cases go in.").count() == 1
    assert page.locator("#preview-counts, .preview-counts").locator("text=restricted case").count() == 1
    assert "Шыңжаң" in page.input_value("#text") or page.input_value("#text")  # the Kazakh template is filled in
    page.fill("#organisation", "Atajurt Volunteers")
    page.check("input[name=signatories]")
    page.click("#build")
    heading = page.text_content("h1") or ""
    assert "PK-" in heading, page.locator(".error, .flash").all_text_contents()
    with page.expect_download() as download_info:
        page.click("text=Download the PDF", no_wait_after=True)
    saved = download_info.value.path()
    assert saved is not None and Path(saved).read_bytes()[:4] == b"%PDF"
