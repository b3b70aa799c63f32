"""The security path end to end in a real browser, on an app where coordinators and auditors must use a
second factor: a coordinator enrols an authenticator app, logs in again with a code, records a case
named in four scripts, adds and downloads evidence, builds and downloads a packet; an auditor, after
enrolling too, finds every one of those steps in the audit trail."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.evidence.helpers import jpeg_with_metadata

pytestmark = pytest.mark.browser

# How long a download may take to start before the test says what the page shows instead.
DOWNLOAD_WAIT_MS = 10_000
NAMES = [  # (text, script, kind), in the order of the form's rows
    ("Серік Болатұлы", "cyrillic", "primary"),
    ("Serik Bolatuly", "latin", "alias"),
    ("سەرىك بولاتۇلى", "arabic", "alias"),
    ("赛力克·波拉提", "chinese", "document"),
]


def password_step(page, live_server: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('Log in')")


def problems(page) -> str:  # type: ignore[no-untyped-def]
    """What the page says went wrong, for assertion messages."""
    return f"{page.url}: {page.locator('.error, .flash, h1').all_text_contents()}"


def enrol(page, shot) -> str:  # type: ignore[no-untyped-def]
    """On the enrolment page: read the key, turn the second factor on; returns the secret."""
    page.wait_for_url("**/account/two-factor")
    qr = page.locator("img.qr")
    assert qr.count() == 1 and (qr.get_attribute("src") or "").startswith("data:image/svg+xml"), problems(page)
    secret = page.locator("code#totp-secret").get_attribute("data-secret") or ""
    assert secret, problems(page)
    shot("enrolment")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]:has-text('Turn on')")
    codes = page.locator("ol.recovery-codes li code")
    assert codes.count() == 10, problems(page)
    assert len(set(codes.all_text_contents())) == 10
    shot("recovery-codes")
    return secret


def download(page, link: str) -> bytes:  # type: ignore[no-untyped-def]
    """Click a download link in a fresh session: the file must come, not a password prompt."""
    try:
        with page.expect_download(timeout=DOWNLOAD_WAIT_MS) as download_info:
            page.click(link, no_wait_after=True)
    except PlaywrightTimeout:
        pytest.fail(f"{link!r} gave no download; the page is {problems(page)}")
    assert "/reauth" not in page.url, "a session logged in minutes ago was asked for the password again"
    saved = download_info.value.path()
    assert saved is not None
    return Path(saved).read_bytes()


def test_a_coordinators_secured_work_is_found_by_the_auditor(  # type: ignore[no-untyped-def]
    page, strict_live_server, factory, tmp_path, artefacts
) -> None:
    live_server = strict_live_server
    page.set_default_timeout(15_000)  # a step that does not come fails in seconds, not half a minute
    coordinator = factory.user("coordinator", teams=("Almaty",))
    auditor = factory.user("auditor")
    photo = tmp_path / "куәлік.jpg"
    photo.write_bytes(jpeg_with_metadata())
    steps = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(artefacts / f"{next(steps):02d}-{name}.png"), full_page=True)

    # 1. The password alone leads to the enrolment page; then a code is asked at every login.
    password_step(page, live_server, coordinator.username, factory.password)
    secret = enrol(page, shot)
    page.click("header >> button:has-text('Log out')")
    page.wait_for_url("**/login")
    password_step(page, live_server, coordinator.username, factory.password)
    page.wait_for_url("**/login/code")
    # The enrolment spent the current time step; the next one is within the accepted window.
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url("**/cases")
    shot("logged-in-with-code")

    # 2. A case whose person is named in four scripts, verified, with a reporter who consents.
    page.click("nav >> text=New case")
    page.click("input[name=add_name]")  # three rows to start with; a fourth for the fourth script
    assert page.locator("table.names tbody tr").count() == 4, problems(page)
    for row, (text, script, kind) in enumerate(NAMES):
        page.fill(f"#names-{row}-text", text)
        page.select_option(f"#names-{row}-script", script)
        page.select_option(f"#names-{row}-kind", kind)
    page.select_option("#hometown_code", "654221")
    page.select_option("#status", "camp")
    page.fill("#status_source", "Letter from the family")
    page.select_option("#verification_level", "2")
    page.fill("#detained_on", "2018-02")
    page.click("form.record button[type=submit]:has-text('Save')")
    heading = page.text_content("h1") or ""
    assert heading.startswith("KZ-") and "Серік Болатұлы" in heading, problems(page)
    reference = heading.split(" ")[0]
    names = page.locator("section:has(h2:text-is('Names')) tbody tr")
    assert names.count() == 4
    for text, _script, _kind in NAMES:
        assert names.locator(f"td:text-is('{text}')").count() == 1, text

    page.click("#reporters >> text=Add a reporter")
    page.fill("#full_name", "Гүлнар Болатқызы")
    page.select_option("#relationship_kind", "sister")
    page.fill("#phone", "+7 701 000 00 00")
    page.select_option("#consent_kz_mfa", "identity")
    page.click("form.record button[type=submit]:has-text('Save')")
    page.wait_for_url(f"**/cases/{reference}#reporters")
    assert page.locator("#reporters >> text=Гүлнар Болатқызы").count() == 1, problems(page)
    shot("case-with-reporter")

    # 3. Evidence: upload one file, download the original in the same fresh session.
    page.click("#evidence >> text=Add evidence")
    page.set_input_files("#files", str(photo))
    page.select_option("#kind", "identity_document")
    page.fill("#source", "Sister, in person in Almaty")
    page.click("form.record button[type=submit]")
    assert page.locator("text=Download the original").count() == 1, problems(page)  # the one item's page
    assert download(page, "text=Download the original") == photo.read_bytes()
    shot("evidence")

    # 4. A packet for the Kazakh Foreign Ministry with this case, and its PDF.
    page.click("nav >> text=Packets")
    page.click("text=New packet")
    page.select_option("#recipient", "kz-mfa")
    page.select_option("#language", "kk")
    page.fill("#references", reference)
    page.click("#preview")
    assert page.locator("text=1 cases go in.").count() == 1, problems(page)
    page.fill("#organisation", "Atajurt Volunteers")
    page.check("input[name=signatories]")
    page.click("#build")
    heading = page.text_content("h1") or ""
    assert "PK-" in heading, problems(page)
    assert download(page, "text=Download the PDF")[:4] == b"%PDF"
    shot("packet")
    page.click("header >> button:has-text('Log out')")
    page.wait_for_url("**/login")

    # 5. The auditor enrols too, then finds each step in the trail.
    password_step(page, live_server, auditor.username, factory.password)
    enrol(page, shot)
    page.click("nav >> text=Audit trail")
    page.wait_for_url("**/audit")
    events = page.locator("table.events tbody tr")
    for action in ("login.success", "totp.enable", "case.create", "evidence.add", "evidence.download",
                   "packet.build", "packet.download"):
        page.fill("#user", coordinator.username)
        page.fill("#case_ref", "")
        assert page.locator(f"#action option[value='{action}']").count() == 1, f"{action} is not in the trail"
        page.select_option("#action", action)
        page.click("form.filters button[type=submit]")
        rows = events.filter(has=page.locator(f"td:text-is('{action}')"))
        assert rows.count() >= 1, f"{action}: {problems(page)}"
        assert rows.filter(has_text=coordinator.username).count() == rows.count() == events.count(), action
        if action == "login.success":
            assert rows.count() == 2  # the password alone (before enrolling), then password and code
    shot("audit-by-user")

    page.fill("#user", "")
    page.select_option("#action", "")
    page.fill("#case_ref", reference)
    page.click("form.filters button[type=submit]")
    for action in ("case.create", "evidence.add", "evidence.download"):
        assert events.filter(has=page.locator(f"td:text-is('{action}')")).count() >= 1, action
    shot("audit-by-case")
