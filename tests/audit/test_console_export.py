"""The console's CSV export: filtered, streamed, safe to open in a spreadsheet, itself audited."""

from __future__ import annotations

import csv
import io
import json

import pytest

from casefile.core.spreadsheets import neutralise
from tests.audit.test_console import events

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://x","y")'


def _csv(session, query: str = "") -> tuple[object, list[list[str]]]:  # type: ignore[no-untyped-def]
    response = session.get("/audit/export.csv" + query, buffered=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so spreadsheets read the encoding"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    return response, rows


@pytest.fixture
def tried(web, factory, login):  # type: ignore[no-untyped-def]
    """Failed logins under formula-like usernames, and an auditor's session."""
    for username in (HYPERLINK, "+1+1", "-2+3", "@SUM(A1)"):
        assert web.post("/login", {"username": username, "password": "wrong password, twelve+"}).status_code == 200
    return login(factory.user("auditor", username="auditor1"))


def test_a_formula_username_opens_as_text(tried) -> None:  # type: ignore[no-untyped-def]
    response, rows = _csv(tried, "?outcome=failure")
    header, data = rows[0], rows[1:]
    assert header[:5] == ["seq", "occurred_at_utc", "actor_username", "actor_role", "action"]
    names = [row[2] for row in data]
    # Logins store the tried name in lower case; each comes back prefixed with an apostrophe.
    assert names == ["'@sum(a1)", "'-2+3", "'+1+1", "'" + HYPERLINK.lower()]
    for row in data:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    details = json.loads(data[-1][header.index("details")])
    assert details == {"reason": "unknown user", "username": HYPERLINK.lower()}


def test_the_export_is_an_attachment_streamed_and_never_cached(tried) -> None:  # type: ignore[no-untyped-def]
    response, _rows = _csv(tried)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-events-')
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in response.headers  # a generator, not a body built in memory


def test_the_export_holds_exactly_the_filtered_events(tried) -> None:  # type: ignore[no-untyped-def]
    before = events()
    _response, rows = _csv(tried)
    assert [int(row[0]) for row in rows[1:]] == [event.seq for event in reversed(before)]
    _response, rows = _csv(tried, "?action=user.create")
    assert [row[4] for row in rows[1:]] == ["user.create"]
    _response, rows = _csv(tried, "?user=nobody&outcome=success")
    assert rows[1:] == []


def test_the_export_is_itself_an_audit_event_with_its_filters(tried) -> None:  # type: ignore[no-untyped-def]
    _response, rows = _csv(tried, "?outcome=failure&user=%2B1%2B1&date_from=2020-01-01")
    (export,) = events(action="audit.export")
    assert export.actor_username == "auditor1" and export.actor_role == "auditor"
    assert json.loads(export.details) == {"filters": {"outcome": "failure", "user": "+1+1",
                                                      "date_from": "2020-01-01"}}
    assert [row[2] for row in rows[1:]] == ["'+1+1"]
    # The next export lists the first one, and the flags page lists both.
    _response, rows = _csv(tried, "?action=audit.export")
    assert [row[4] for row in rows[1:]] == ["audit.export"]
    assert len(events(action="audit.export")) == 2


def test_an_export_spans_several_chunks(factory, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from casefile.audit import console

    monkeypatch.setattr(console, "EXPORT_CHUNK", 7)  # small chunks, so the keyset walk is exercised
    alice = factory.user("advocate", username="alice")
    reference = factory.case(alice).reference
    alice_web = login(alice)
    for _ in range(20):
        assert alice_web.get(f"/cases/{reference}").status_code == 200
    _response, rows = _csv(login(factory.user("auditor")), "?action=case.view")
    assert [int(row[0]) for row in rows[1:]] == [event.seq for event in reversed(events(action="case.view"))]
    assert len(rows) == 21


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42"),
])
def test_neutralise(cell, expected) -> None:  # type: ignore[no-untyped-def]
    assert neutralise(cell) == expected
