"""The auditor's console: who reaches it, filters, pagination, per-user and per-case pages,
chain status and verification, and no case content anywhere."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, text

from casefile.access import declared_roles
from casefile.audit.console import shown_details
from casefile.audit.models import AuditEvent
from casefile.extensions import db
from tests.helpers import WebSession

CONSOLE_GETS = ["/audit", "/audit?action=case.view", "/audit/export.csv", "/audit/users/someone",
                "/audit/cases/KZ-2025-00001", "/audit/flags"]
# Distinctive strings that live only in case content (and a search query); the console must never show them.
SECRET_NAME = "Мейрамгүл Тұрсынғалиқызы"
SECRET_WORDS = ("Мейрамгүл", "Тұрсынғалиқызы", "Tursyngaliqyzy", "ZQXW-narrative-marker", "ZQXW-facility",
                "ZQXW-reporter", "ZQXW-timeline")


class _Tables(HTMLParser):
    """The body rows of every table on a page, as lists of cell texts, with the table's classes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(((dict(attrs).get("class") or "").split(), []))
        elif tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) > 1:  # an empty table's single "none" cell is no row
                self.tables[-1][1].append(self._row)
            self._row = None


def table_rows(html: str, css_class: str) -> list[list[str]]:
    """The rows of the first table with ``css_class`` (one list of cell texts per row)."""
    parser = _Tables()
    parser.feed(html)
    for classes, rows in parser.tables:
        if css_class in classes:
            return rows
    raise AssertionError(f"no table of class {css_class} on the page")


def listed_seqs(html: str) -> list[int]:
    """The sequence numbers in the page's events table, in the order shown."""
    return [int(row[0]) for row in table_rows(html, "events")]


def events(**where: object) -> list[AuditEvent]:
    """Committed events matching column=value, oldest first."""
    db.session.rollback()  # a new snapshot: see what requests committed
    statement = select(AuditEvent).order_by(AuditEvent.seq)
    for column, value in where.items():
        statement = statement.where(getattr(AuditEvent, column) == value)
    return list(db.session.scalars(statement))


def page_of(session: WebSession, url: str, status: int = 200) -> str:
    response = session.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture
def trail(factory, login, web):  # type: ignore[no-untyped-def]
    """Two advocates' work on two cases, a failed login, and an auditor's session."""
    alice = factory.user("advocate", username="alice")
    bob = factory.user("advocate", username="bob")
    case_a = factory.case(alice, names=[("cyrillic", "primary", "Серік Болатұлы")])
    case_b = factory.case(bob, names=[("cyrillic", "primary", "Айгүл Тұрсынқызы")])
    alice_web = login(alice)
    assert alice_web.get(f"/cases/{case_a.reference}").status_code == 200
    assert alice_web.get(f"/cases/{case_b.reference}").status_code == 200  # same team: Almaty
    assert web.post("/login", {"username": "nobody-here", "password": "wrong password, twelve+"}).status_code == 200
    auditor = factory.user("auditor", username="auditor1")
    return {"alice": alice, "bob": bob, "a": case_a.reference, "b": case_b.reference, "auditor": login(auditor)}


# --- who reaches it ---------------------------------------------------------------------------

def test_every_console_route_is_declared_for_auditors_only(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")}
        assert endpoints == {"audit.index", "audit.export", "audit.verify", "audit.user", "audit.case", "audit.flags"}
        assert {endpoint: declared_roles(endpoint) for endpoint in endpoints} == {
            endpoint: frozenset({"auditor"}) for endpoint in endpoints}


@pytest.mark.parametrize("role", ["advocate", "coordinator", "admin"])
def test_other_roles_get_404_on_every_console_route(factory, login, role) -> None:  # type: ignore[no-untyped-def]
    session = login(factory.user(role))
    for url in CONSOLE_GETS:
        assert session.get(url).status_code == 404, url
    assert session.post("/audit/verify").status_code == 404
    assert events(action="audit.export") == [] and events(action="audit.verify") == []


def test_anonymous_users_go_to_login(web, factory) -> None:  # type: ignore[no-untyped-def]
    for url in CONSOLE_GETS:
        response = web.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert web.post("/audit/verify").status_code in (302, 400)
    assert events(action="audit.verify") == []


def test_auditors_reach_every_console_route_and_start_there(factory, login) -> None:  # type: ignore[no-untyped-def]
    session = login(factory.user("auditor"))
    for url in CONSOLE_GETS:
        assert session.get(url).status_code == 200, url
    assert session.get("/").headers["Location"] == "/audit"
    assert 'href="/audit"' in page_of(session, "/audit/flags")  # the nav link


# --- the list and its filters -----------------------------------------------------------------

def test_the_list_shows_every_event_newest_first(trail) -> None:  # type: ignore[no-untyped-def]
    html = page_of(trail["auditor"], "/audit")
    expected = [event.seq for event in events()]
    assert listed_seqs(html) == sorted(expected, reverse=True)[:25]


@pytest.mark.parametrize("query, expected", [
    ("user=alice", lambda e, t: e.actor_username == "alice"),
    ("user=ALICE", lambda e, t: e.actor_username == "alice"),  # usernames are stored in lower case
    ("user=nobody-here", lambda e, t: e.actor_username == "nobody-here"),
    ("action=case.view", lambda e, t: e.action == "case.view"),
    ("action=case.create", lambda e, t: e.action == "case.create"),
    ("case_ref={a}", lambda e, t: e.case_ref == t["a"]),
    ("case_ref={a_lower}", lambda e, t: e.case_ref == t["a"]),
    ("outcome=failure", lambda e, t: e.outcome == "failure"),
    ("outcome=success", lambda e, t: e.outcome == "success"),
    ("user=alice&action=case.view&case_ref={b}", lambda e, t: (e.actor_username, e.action, e.case_ref) == (
        "alice", "case.view", t["b"])),
])
def test_filters_narrow_the_list(trail, query, expected) -> None:  # type: ignore[no-untyped-def]
    url = "/audit?" + query.format(a=trail["a"], b=trail["b"], a_lower=trail["a"].lower())
    shown = listed_seqs(page_of(trail["auditor"], url))
    wanted = [event.seq for event in reversed(events()) if expected(event, trail)]
    assert wanted and shown == wanted


def test_the_date_range_is_inclusive_and_narrows(trail) -> None:  # type: ignore[no-untyped-def]
    everything = events()
    days = {event.occurred_at.date() for event in everything}
    day = max(days)
    on_that_day = sorted((e.seq for e in everything if e.occurred_at.date() == day), reverse=True)
    auditor = trail["auditor"]

    def shown(query: str) -> list[int]:
        return listed_seqs(page_of(auditor, "/audit?" + query))

    assert shown(f"date_from={day}&date_to={day}") == on_that_day
    assert shown(f"date_from={day}") == on_that_day
    assert shown(f"date_to={day}") == sorted((e.seq for e in everything), reverse=True)
    assert shown(f"date_from={day + timedelta(days=1)}") == []
    assert shown(f"date_to={day - timedelta(days=1)}") == [e.seq for e in reversed(everything) if e.occurred_at.date()
                                                           < day]


@pytest.mark.parametrize("query, message", [
    ("action=drop.tables", "Not a valid choice"),
    ("outcome=maybe", "Not a valid choice"),
    ("date_from=2025-13-01", "There is no such day."),
    ("date_to=2025-02-30", "There is no such day."),
    ("date_from=31.12.2025", "Write the date as YYYY-MM-DD"),
    ("date_from=yesterday", "Write the date as YYYY-MM-DD"),
    ("date_to=0001-01-01", "Choose a day between 1970 and 2999."),
    ("date_to=9999-12-31", "Choose a day between 1970 and 2999."),
    ("date_from=2025-03-02&date_to=2025-03-01", "The end of the range is before its start."),
    ("case_ref=1%27%20OR%201=1", "Write a case reference such as KZ-2025-00042."),
    ("user=" + "x" * 65, "A username has at most 64 characters."),
    ("user=al%00ice", "Remove control characters and null bytes."),
    ("page=abc", "A page number is a whole number from 1."),
    ("page=0", "A page number from 1."),
    ("page=-3", "A page number from 1."),
])
def test_nonsense_filters_answer_400_with_a_message(trail, query, message) -> None:  # type: ignore[no-untyped-def]
    for path in ("/audit", "/audit/export.csv"):
        html = page_of(trail["auditor"], f"{path}?{query}", status=400)
        assert message in html, (path, query)
        assert '<p class="error" role="alert">' in html
    assert events(action="audit.export") == []  # a refused export is no export


def test_a_refused_filter_is_shown_next_to_its_field(trail) -> None:  # type: ignore[no-untyped-def]
    html = page_of(trail["auditor"], "/audit?date_from=2025-13-01&user=alice", status=400)
    field = html.split('<div class="field  has-error">', 1)[1].split("</div>", 1)[0]
    assert 'name="date_from"' in field and "There is no such day." in field
    assert 'value="alice"' in html  # the other filters are kept as typed


# --- pagination ---------------------------------------------------------------------------------

def test_pagination_25_a_page_with_links_that_keep_the_filters(factory, login) -> None:  # type: ignore[no-untyped-def]
    alice = factory.user("advocate", username="alice")
    reference = factory.case(alice).reference
    alice_web = login(alice)
    for _ in range(30):
        assert alice_web.get(f"/cases/{reference}").status_code == 200
    auditor = login(factory.user("auditor"))
    views = [event.seq for event in reversed(events(action="case.view"))]
    assert len(views) == 30

    first = page_of(auditor, "/audit?action=case.view")
    assert listed_seqs(first) == views[:25]
    assert "Page 1 of 2" in first and "30 events" in first
    assert 'rel="next" href="/audit?action=case.view&amp;page=2"' in first
    second = page_of(auditor, "/audit?action=case.view&page=2")
    assert listed_seqs(second) == views[25:]
    assert 'rel="prev" href="/audit?action=case.view&amp;page=1"' in second
    assert listed_seqs(page_of(auditor, "/audit?action=case.view&page=99")) == views[25:]  # the last page


# --- per user, per case --------------------------------------------------------------------------

def test_the_user_page_shows_their_events_and_counts_per_action(trail) -> None:  # type: ignore[no-untyped-def]
    html = page_of(trail["auditor"], "/audit/users/alice")
    theirs = [event for event in reversed(events()) if event.actor_username == "alice"]
    assert listed_seqs(html) == [event.seq for event in theirs]
    counts = {row[0]: int(row[1]) for row in table_rows(html, "counts")}
    assert counts == {"case.create": 1, "case.view": 2, "login.success": 1}
    assert "advocate" in html

    tried = page_of(trail["auditor"], "/audit/users/nobody-here")
    assert [row[3] for row in table_rows(tried, "events")] == ["login.failure"]
    assert "No account has this name" in tried
    assert listed_seqs(page_of(trail["auditor"], "/audit/users/no-such-name")) == []


def test_the_user_page_refuses_nonsense(trail) -> None:  # type: ignore[no-untyped-def]
    assert "not a username" in page_of(trail["auditor"], "/audit/users/" + "y" * 65, status=400)
    assert "whole number" in page_of(trail["auditor"], "/audit/users/alice?page=x", status=400)


def test_the_case_page_shows_who_touched_this_case_and_only_it(trail) -> None:  # type: ignore[no-untyped-def]
    html = page_of(trail["auditor"], f"/audit/cases/{trail['b']}")
    about_b = [event.seq for event in reversed(events(case_ref=trail["b"]))]
    assert listed_seqs(html) == about_b
    summary = {row[0]: row[1:5] for row in table_rows(html, "summary")}
    # who: viewed, changed, downloaded, exported
    assert summary == {"alice (advocate)": ["1", "0", "0", "0"], "bob (advocate)": ["0", "1", "0", "0"]}
    assert trail["a"] not in html
    assert listed_seqs(page_of(trail["auditor"], f"/audit/cases/{trail['b'].lower()}")) == about_b
    assert "Write a case reference" in page_of(trail["auditor"], "/audit/cases/not-a-reference", status=400)


# --- no case content, anywhere --------------------------------------------------------------------

@pytest.fixture
def content_trail(factory, login):  # type: ignore[no-untyped-def]
    """A case full of distinctive content, searched for, viewed, edited, with a reporter and timeline."""
    alice = factory.user("advocate", username="alice")
    case = factory.case(alice, names=[("cyrillic", "primary", SECRET_NAME), ("latin", "alias", "Tursyngaliqyzy")],
                        narrative="Taken at night. ZQXW-narrative-marker", detention_facility="ZQXW-facility")
    alice_web = login(alice)
    assert alice_web.get("/cases?q=" + SECRET_NAME).status_code == 200
    assert alice_web.get(f"/cases/{case.reference}").status_code == 200
    response = alice_web.post(f"/cases/{case.reference}/reporters/new", {
        "full_name": "ZQXW-reporter", "relationship_kind": "sister", "consent_kz_mfa": "none",
        "consent_prc_embassy": "none", "consent_kz_parliament": "none", "consent_un": "case", "consent_public": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = alice_web.post(f"/cases/{case.reference}/timeline", {
        "kind": "transfer", "occurred_on": "2019-05", "description": "ZQXW-timeline"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return {"alice": alice, "reference": case.reference}


def test_the_trail_holds_the_query_but_the_console_shows_only_that_a_search_happened(
        content_trail, factory, login) -> None:  # type: ignore[no-untyped-def]
    search = events(action="case.search")
    assert len(search) == 1 and json.loads(search[0].details) == {"q": SECRET_NAME, "results": 1}
    auditor = login(factory.user("auditor"))
    html = page_of(auditor, "/audit?action=case.search")
    (row,) = table_rows(html, "events")
    assert row[2] == "alice (advocate)" and row[3] == "case.search"
    assert "results: 1" in row[-1] and "query not shown" in row[-1]
    assert SECRET_NAME not in html


def test_no_console_page_and_no_export_shows_case_content(  # type: ignore[no-untyped-def]
        content_trail, factory, login) -> None:
    assert any("ZQXW" in event.details or SECRET_NAME in event.details for event in events())  # it is in the trail
    auditor = login(factory.user("auditor"))
    reference = content_trail["reference"]
    pages = ["/audit", f"/audit?case_ref={reference}", "/audit/users/alice", f"/audit/cases/{reference}",
             "/audit/flags", "/audit?action=case.search", "/audit?action=case.timeline.add"]
    for url in pages:
        html = page_of(auditor, url)
        assert reference in html or url.endswith(("flags", "search")), url
        for word in SECRET_WORDS:
            assert word not in html, (url, word)
    body = auditor.get("/audit/export.csv", buffered=True).get_data(as_text=True)
    assert reference in body and "case.search" in body
    for word in SECRET_WORDS:
        assert word not in body, word


def test_details_are_shown_by_an_allow_list() -> None:
    def event(action: str, details: dict[str, object]) -> AuditEvent:
        return AuditEvent(action=action, details=json.dumps(details))

    search = shown_details(event("case.search", {"q": "Нұрлан", "results": 3}))
    assert search.shown == {"results": 3} and search.withheld
    status = shown_details(event("case.status", {"from": "camp", "to": "released"}))
    assert status.shown == {} and status.withheld
    failure = shown_details(event("login.failure", {"username": "x", "reason": "unknown user"}))
    assert failure.shown == {"username": "x", "reason": "unknown user"} and not failure.withheld
    unknown = shown_details(event("evidence.view", {"file_name": "passport.jpg"}))
    assert unknown.shown == {} and unknown.withheld  # a later feature's keys stay hidden until allowed
    assert shown_details(AuditEvent(action="case.view", details="not json")).shown == {}


# --- the chain ------------------------------------------------------------------------------------

def test_the_console_shows_the_head_of_the_chain(trail) -> None:  # type: ignore[no-untyped-def]
    head = events()[-1]
    html = page_of(trail["auditor"], "/audit")
    assert head.hash in html and f"#{head.seq}" in html
    assert f"{len(events())} events in the chain." in html
    assert "not been verified" in html


def test_the_verify_button_checks_the_chain_and_records_it(trail) -> None:  # type: ignore[no-untyped-def]
    auditor = trail["auditor"]
    html = page_of(auditor, "/audit")
    assert 'action="/audit/verify"' in html and "Verify the chain now" in html
    count = len(events())
    assert auditor.post("/audit/verify", csrf=False).status_code == 400
    assert events(action="audit.verify") == []

    response = auditor.post("/audit/verify", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"The chain is intact: {count} events" in html
    (verified,) = events(action="audit.verify")
    assert verified.actor_username == "auditor1" and verified.outcome == "success"
    assert json.loads(verified.details)["ok"] is True and json.loads(verified.details)["count"] == count
    assert "Last verified" in page_of(auditor, "/audit") and "intact" in html


def test_the_verify_button_reports_a_broken_chain(trail) -> None:  # type: ignore[no-untyped-def]
    victim = events(action="login.failure")[0]
    tamper = text("UPDATE audit_events SET client_addr = '10.6.6.6' WHERE seq = :s")
    with db.engine.begin() as connection:  # as an intruder with database access would
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            connection.execute(tamper, {"s": victim.seq})
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            triggers = connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")).all()
            for name, _sql in triggers:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
            connection.execute(tamper, {"s": victim.seq})
            for _name, sql in triggers:
                connection.execute(text(sql))
    html = trail["auditor"].post("/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert f"The chain is broken at event #{victim.seq} (altered)" in html
    (verified,) = events(action="audit.verify")
    assert verified.outcome == "failure" and json.loads(verified.details)["first_broken_seq"] == victim.seq
    html = page_of(trail["auditor"], "/audit?outcome=failure&action=audit.verify")
    assert f"broken</strong> at event #{victim.seq} (altered)" in html
    assert listed_seqs(html) == [verified.seq]

