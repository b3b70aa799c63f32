"""A person's first case, in a real browser: log in, create a case, find it by another script, log out."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_advocate_logs_a_case_and_finds_it_by_its_chinese_name(page, live_server, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    page.goto(f"{live_server}/cases")
    assert "/login" in page.url
    page.fill("#username", advocate.username)
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    assert page.url.endswith("/cases")

    page.click("text=New case")
    page.fill("#names-0-text", "Серік Болатұлы")
    page.fill("#names-1-text", "赛力克·波拉提")
    page.select_option("#names-1-kind", "document")
    page.fill("#birth_date", "1969-11")
    page.select_option("#hometown_code", "654221")
    page.select_option("#status", "sentenced")
    page.fill("#status_source", "Letter from the family")
    page.fill("#detained_on", "2018-02")
    page.fill("#narrative", "<b>not bold</b>")
    page.click("form.record button[type=submit]:has-text('Save')")
    heading = page.text_content("h1") or ""
    assert heading.startswith("KZ-") and "Серік Болатұлы" in heading
    reference = heading.split(" ")[0]
    assert page.locator("text=<b>not bold</b>").count() == 1  # shown as typed, not as markup

    page.goto(f"{live_server}/cases?q=%E8%B5%9B%E5%8A%9B%E5%85%8B")  # 赛力克
    assert page.locator(f"a:has-text('{reference}')").count() == 1
    page.fill("#q", "Serik Bolat")
    page.click("form.filters button[type=submit]")
    assert page.locator(f"a:has-text('{reference}')").count() == 1

    page.click("text=Log out")
    assert "/login" in page.url
    page.goto(f"{live_server}/cases/{reference}")
    assert "/login" in page.url


def test_a_wrong_check_digit_is_shown_next_to_the_field(page, live_server, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    page.goto(f"{live_server}/login")
    page.fill("#username", advocate.username)
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/cases/new")
    page.fill("#names-0-text", "Айгүл Тұрсынқызы")
    page.fill("#prc_id", "110105194912310021")
    page.click("form.record button[type=submit]:has-text('Save')")
    error = page.locator(".field.has-error .error").first.text_content() or ""
    assert "expected X" in error
    assert page.locator("#prc_id").input_value() == "110105194912310021"  # what was typed stays
