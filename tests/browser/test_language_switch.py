"""The language switch in a real browser, with the app's strict CSP: a plain form, no script needed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_header_switch_changes_the_language_and_stays_on_the_page(page, live_server, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    page.goto(f"{live_server}/login")
    page.select_option("#language-switch", "ru")
    page.click("header form.language button")
    assert page.url.endswith("/login")
    assert page.text_content("h1") == "Вход"
    page.fill("#username", advocate.username)
    page.fill("#password", factory.password)
    page.click("main button[type=submit]")
    assert page.locator("header nav").locator("text=Новое дело").count() == 1
    page.select_option("#language-switch", "en")
    page.click("header form.language button")
    assert page.url.endswith("/cases")
    assert page.locator("header nav").locator("text=New case").count() == 1
