"""The console's flags: bursts of failed logins, heavy viewers, every export and download."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from casefile.audit.console import Burst, _bursts
from tests.audit.test_console import events, listed_seqs, page_of, table_rows

WRONG = "wrong password, twelve+"


def _fail(web, username: str, address: str, times: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        response = web.post("/login", {"username": username, "password": WRONG},
                            environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200


def test_bursts_of_failed_logins_per_account_and_per_address(  # type: ignore[no-untyped-def]
        app, web, factory, login, monkeypatch) -> None:
    _fail(web, "mallory", "10.0.0.7", 3)
    _fail(web, "oscar", "10.0.0.7", 1)
    _fail(web, "trudy", "10.0.0.8", 2)
    assert {event.client_addr for event in events(action="login.failure")} == {"10.0.0.7", "10.0.0.8"}
    auditor = login(factory.user("auditor"))

    html = page_of(auditor, "/audit/flags")  # the default threshold, 5, is not reached
    assert table_rows(html, "account") == [] and table_rows(html, "address") == []

    monkeypatch.setitem(app.config, "CASEFILE_AUDIT_FAILED_LOGIN_BURST", 3)
    html = page_of(auditor, "/audit/flags")
    assert "3 or more failures within 15 minutes" in html
    assert [row[:2] for row in table_rows(html, "account")] == [["mallory", "3"]]
    assert [row[:2] for row in table_rows(html, "address")] == [["10.0.0.7", "4"]]
    assert 'href="/audit/users/mallory"' in html


def test_bursts_are_merged_and_need_the_failures_within_15_minutes() -> None:
    t0 = datetime(2025, 3, 1, 12, 0)
    minutes = [0, 5, 10, 14, 40, 41, 70, 80, 90]  # 0-14: four within 15 min; 70-90: three, but spread over 20
    bursts = _bursts({"k": [t0 + timedelta(minutes=m) for m in minutes]}, threshold=3)
    assert bursts == [Burst("k", t0, t0 + timedelta(minutes=14), 4)]
    assert _bursts({"k": [t0 + timedelta(minutes=m) for m in minutes]}, threshold=2) == [
        Burst("k", t0 + timedelta(minutes=70), t0 + timedelta(minutes=90), 3),
        Burst("k", t0 + timedelta(minutes=40), t0 + timedelta(minutes=41), 2),
        Burst("k", t0, t0 + timedelta(minutes=14), 4),
    ]
    assert _bursts({"k": [t0, t0 + timedelta(minutes=15, seconds=1)]}, threshold=2) == []


def test_an_account_that_viewed_many_cases_in_an_hour(  # type: ignore[no-untyped-def]
        app, factory, login, monkeypatch) -> None:
    alice = factory.user("advocate", username="alice")
    bob = factory.user("advocate", username="bob")
    references = [factory.case(alice).reference for _ in range(3)]
    alice_web, bob_web = login(alice), login(bob)
    for reference in references:
        assert alice_web.get(f"/cases/{reference}").status_code == 200
    for _ in range(4):  # many views, but of one case
        assert bob_web.get(f"/cases/{references[0]}").status_code == 200
    auditor = login(factory.user("auditor"))
    assert table_rows(page_of(auditor, "/audit/flags"), "viewers") == []  # default threshold: 50

    monkeypatch.setitem(app.config, "CASEFILE_AUDIT_VIEWS_PER_HOUR", 3)
    html = page_of(auditor, "/audit/flags")
    hour = events(action="case.view")[0].occurred_at.strftime("%Y-%m-%d %H:00")
    assert table_rows(html, "viewers") == [["alice (advocate)", hour, "3", "3"]]

    monkeypatch.setitem(app.config, "CASEFILE_AUDIT_VIEWS_PER_HOUR", 1)
    rows = table_rows(page_of(auditor, "/audit/flags"), "viewers")
    assert sorted((row[0], row[2], row[3]) for row in rows) == [("alice (advocate)", "3", "3"),
                                                                ("bob (advocate)", "1", "4")]


def test_every_export_is_listed(factory, login) -> None:  # type: ignore[no-untyped-def]
    alice = factory.user("advocate", username="alice")
    reference = factory.case(alice).reference
    assert login(alice).get(f"/cases/{reference}").status_code == 200
    auditor = login(factory.user("auditor"))
    assert table_rows(page_of(auditor, "/audit/flags"), "events") == []
    for query in ("", "?action=case.view"):
        assert auditor.get("/audit/export.csv" + query, buffered=True).status_code == 200
    html = page_of(auditor, "/audit/flags")
    exports = events(action="audit.export")
    assert listed_seqs(html) == [event.seq for event in reversed(exports)] and len(exports) == 2
    assert "page" in page_of(auditor, "/audit/flags?page=nope", status=400).lower()


@pytest.mark.parametrize("url", ["/audit/flags", "/audit/flags?page=3"])
def test_the_flags_page_answers_on_an_empty_trail(factory, login, url) -> None:  # type: ignore[no-untyped-def]
    html = page_of(login(factory.user("auditor")), url)
    assert "Bursts of failed logins" in html and "Many cases viewed in one hour" in html
