"""The dashboard in a real browser: it draws, its links lead to the lists they count, and it prints."""

from __future__ import annotations

import re

import pytest

from casefile.core.partial_dates import PartialDate

pytestmark = pytest.mark.browser


def test_a_coordinator_follows_a_figure_to_its_list_and_prints_the_page(page, live_server, factory,
                                                                      artefacts) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    for status in ("camp", "camp", "sentenced"):
        factory.case(coordinator, status=status, person={"hometown_code": "654021"},
                     detained_on=PartialDate(2018, 4))
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server}/login")
    page.fill("#username", coordinator.username)
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.click("header nav >> text=Dashboard")
    assert page.url.endswith("/dashboard")
    assert page.locator("svg.chart[role=img]").count() == 6  # nothing handed over yet: no submission charts
    box = page.locator("#status svg").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100  # drawn, not collapsed
    page.screenshot(path=str(artefacts / "dashboard.png"), full_page=True)

    page.click("#status table a[data-value='2']")
    assert "status=camp" in page.url
    assert re.fullmatch(r"\s*2 cases\s*", page.text_content("p.count") or "")

    page.goto(f"{live_server}/dashboard")
    page.emulate_media(media="print")
    assert not page.locator("header.top nav").is_visible()
    assert page.locator("#detained svg").is_visible() and page.locator("#detained table").is_visible()
    page.screenshot(path=str(artefacts / "dashboard-print.png"), full_page=True)
    assert violations == []
