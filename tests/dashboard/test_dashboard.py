"""The dashboard through the app: scoping, every figure equal to the list it links to, SVG equal to table."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.packets import followup
from casefile.packets.models import Packet, PacketCase, Recipient
from tests.evidence.helpers import PDF, upload

LINK = re.compile(r'<a href="(/cases[^"]*)"[^>]*data-value="(\d+)"')
COUNT = re.compile(r'<p class="count">(.*?)</p>', re.S)
SECTION = re.compile(r'<section class="chart-section" id="(\w+)".*?</section>', re.S)


def home(code: str | None) -> dict[str, object]:
    return {"hometown_code": code}


def packet(reference: str, recipient_code: str, cases: list, author) -> Packet:  # type: ignore[no-untyped-def]
    """A packet row as the builder leaves it (the PDF itself does not matter to the dashboard)."""
    db.session.commit()
    recipient = db.session.scalar(select(Recipient).where(Recipient.code == recipient_code))
    row = Packet(reference=reference, recipient=recipient, language="ru", form="standard", built_by_id=author.id,
                 case_count=len(cases), left_out={}, inputs_sealed=b"", inputs_sha256="0" * 64,
                 pdf_address="0" * 64, pdf_sha256="0" * 64, pdf_size=0, audit_head="0" * 64)
    db.session.add(row)
    db.session.flush()
    for number, case in enumerate(cases, start=1):
        db.session.add(PacketCase(packet_id=row.id, case_id=case.id, number=number, consent_ids=[]))
    db.session.commit()
    return row


@pytest.fixture
def organisation(factory, login):  # type: ignore[no-untyped-def]
    """Two teams, a restricted case the coordinator is not named on and one they are, evidence,
    two packets handed over, one of them answered with outcomes."""
    coordinator = factory.user("coordinator", teams=("Almaty",))
    almaty = factory.user("advocate", teams=("Almaty",))
    shymkent = factory.user("advocate", teams=("Shymkent",))
    cases = {
        "camp": factory.case(almaty, status="camp", person=home("654021"), detained_on=PartialDate(2018, 3)),
        "sentenced": factory.case(almaty, status="sentenced", person=home("654000"),
                                  detained_on=PartialDate(2018, 3, 14)),
        "year": factory.case(almaty, status="camp", person=home(None), detained_on=PartialDate(2017)),
        "undated": factory.case(almaty, status="missing", person=home("654201"), detained_on=None),
        "hidden": factory.case(almaty, status="deceased", person=home("654200"), restricted=True,
                               detained_on=PartialDate(2019, 1)),
        "named": factory.case(almaty, status="exit_barred", person=home("654021"), restricted=True,
                              named_user_ids=[coordinator.id], detained_on=PartialDate(2019, 1)),
        "south": factory.case(shymkent, status="released_restricted", person=home("654201"),
                              detained_on=PartialDate(2019, 11)),
    }
    advocate_web = login(almaty)
    for key in ("camp", "hidden"):
        assert upload(advocate_web, cases[key].reference, [(PDF, "notice.pdf")]).status_code == 302
    assert upload(advocate_web, cases["sentenced"].reference, None, note="A neighbour saw the arrest.").status_code == 302
    assert upload(login(shymkent), cases["south"].reference, [(PDF, "letter.pdf")]).status_code == 302

    mfa = packet("PK-2025-0001", "kz-mfa", [cases[k] for k in ("camp", "sentenced", "south", "hidden")], coordinator)
    embassy = packet("PK-2025-0002", "prc-embassy", [cases[k] for k in ("camp", "year", "named")], coordinator)
    packet("PK-2025-0003", "un-wgeid", [cases["undated"]], coordinator)  # built, never handed over
    for row in (mfa, embassy):
        followup.record_submission(coordinator, db.session.merge(row), followup.SubmissionInput(
            handed_over_on=date(2025, 3, 1), channel="post", handed_over_by="Bota"))
    db.session.commit()
    submission = db.session.merge(mfa).submissions[0]
    followup.record_response(coordinator, submission, followup.ResponseInput(
        received_on=date(2025, 5, 2), kind="token_response", text="",
        outcomes={cases["camp"].id: "released", cases["sentenced"].id: "no_answer"}))
    db.session.commit()
    return {"coordinator": coordinator, "almaty": almaty, "shymkent": shymkent, "cases": cases}


def list_count(web, href: str) -> int:  # type: ignore[no-untyped-def]
    response = web.get(unescape(href))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, (href, page[:2000])
    match = COUNT.search(page)
    assert match, href
    return int(re.sub(r"\D", "", match.group(1)))


def figures(page: str) -> list[tuple[str, int]]:
    return [(unescape(href), int(value)) for href, value in LINK.findall(page)]


def dashboard(web) -> str:  # type: ignore[no-untyped-def]
    response = web.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["coordinator", "almaty", "shymkent"])
def test_every_figure_equals_the_length_of_the_list_it_links_to(organisation, login, who) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation[who])
    links = figures(dashboard(web))
    kinds = {key for href, _value in links for key in parse_qs(urlsplit(href).query)}
    expected = {"status", "prefecture", "county", "detained_from", "detained_known", "created_from", "evidence"}
    if who == "coordinator":
        expected |= {"recipient", "answer", "outcome"}
    assert expected <= kinds, expected - kinds
    mismatches = [(href, value, list_count(web, href)) for href, value in dict(links).items()]
    assert [m for m in mismatches if m[1] != m[2]] == []
    # Not a page of zeros: every kind of figure counts something.
    counted = {key for href, value in links if value for key in parse_qs(urlsplit(href).query)}
    assert expected - {"detained_known"} <= counted, expected - counted


def test_the_coordinator_counts_what_they_may_see_and_nothing_else(organisation, login) -> None:  # type: ignore[no-untyped-def]
    page = dashboard(login(organisation["coordinator"]))
    links = dict(figures(page))
    assert links["/cases"] == 6  # everything but the restricted case they are not named on
    assert links["/cases?status=deceased"] == 0 and links["/cases?status=exit_barred"] == 1
    # Tacheng: two visible cases from Şäueşek; the hidden case's "Tacheng, county not recorded" is not shown.
    assert links["/cases?prefecture=654200"] == 2 and links["/cases?county=654201"] == 2
    assert "/cases?county=654200" not in links
    mfa = db.session.scalar(select(Recipient.id).where(Recipient.code == "kz-mfa"))
    embassy = db.session.scalar(select(Recipient.id).where(Recipient.code == "prc-embassy"))
    # Four cases went to the ministry; the coordinator may see three of them, all answered.
    assert links[f"/cases?recipient={mfa}"] == 3
    assert links[f"/cases?recipient={mfa}&answer=received"] == 3
    assert links[f"/cases?recipient={mfa}&answer=awaiting"] == 0
    assert links[f"/cases?recipient={embassy}"] == 3 and links[f"/cases?recipient={embassy}&answer=awaiting"] == 3
    assert links["/cases?outcome=released"] == 1 and links["/cases?outcome=no_answer"] == 1
    # Submitted somewhere, no outcome: "south" (answered, no outcome for it), "year" and "named" (embassy).
    assert links["/cases?outcome=none"] == 3
    assert links["/cases?evidence=with"] == 2 and links["/cases?evidence=without"] == 4
    assert links["/cases?detained_known=year"] == 1 and links["/cases?detained_known=none"] == 1
    assert links["/cases?detained_from=2018-03&detained_to=2018-03"] == 2
    assert "Nothing to count yet." not in page


def test_advocates_see_their_team_and_no_submissions(organisation, login, factory) -> None:  # type: ignore[no-untyped-def]
    almaty = dict(figures(dashboard(login(organisation["almaty"]))))
    assert almaty["/cases"] == 6 and almaty["/cases?status=deceased"] == 1  # their own restricted case
    assert almaty["/cases?evidence=with"] == 2  # a note is not a document
    # A teammate named on neither restricted case counts neither.
    teammate = dict(figures(dashboard(login(factory.user("advocate", teams=("Almaty",))))))
    assert teammate["/cases"] == 4 and teammate["/cases?status=deceased"] == 0
    assert teammate["/cases?status=exit_barred"] == 0 and teammate["/cases?evidence=with"] == 1
    page = dashboard(login(organisation["shymkent"]))
    shymkent = dict(figures(page))
    assert shymkent["/cases"] == 1 and shymkent["/cases?status=released_restricted"] == 1
    assert shymkent["/cases?status=camp"] == 0
    assert "Submissions by recipient" not in page and not any("recipient=" in href for href in shymkent)
    # The list ignores the coordinators' filters for them rather than revealing what was submitted.
    assert list_count(login(organisation["shymkent"]), "/cases?outcome=released") == 1


def test_the_svg_and_the_table_show_the_same_figures(organisation, login) -> None:  # type: ignore[no-untyped-def]
    page = dashboard(login(organisation["coordinator"]))
    sections = {match.group(1): match.group(0) for match in SECTION.finditer(page)}
    assert set(sections) == {"status", "prefecture", "county", "detained", "created", "evidence", "submissions",
                             "outcomes"}
    for key, html in sections.items():
        svg, table = html.split("</svg>", 1)
        assert re.search(r'<svg class="chart \w+" role="img" aria-labelledby="(\w+)-title \1-desc"', svg), key
        assert f'<title id="{key}-title">' in svg and f'<desc id="{key}-desc">' in svg
        drawn: dict[str, int] = {}
        for label, group in re.findall(r'<g class="row" data-label="([^"]*)">(.*?)</g>', svg, re.S):
            drawn[label] = drawn.get(label, 0) + sum(int(v) for v in re.findall(r'<rect [^>]*data-value="(\d+)"', group))
        tabled: dict[str, int] = {}
        for label, row in re.findall(r'<tr data-label="([^"]*)">(.*?)</tr>', table, re.S):
            values = [int(v) for v in re.findall(r'data-value="(\d+)"', row)]
            tabled[label] = values[0] if len(values) == 1 else values[0]  # a stacked row's first cell is its total
            if len(values) > 1:
                assert values[0] == sum(values[1:]), (key, label)
        assert {label: value for label, value in tabled.items() if value} == {
            label: value for label, value in drawn.items() if value}, key
        assert sum(tabled.values()) > 0, key


def test_an_empty_organisation_gets_a_page_without_figures(factory, login) -> None:  # type: ignore[no-untyped-def]
    page = dashboard(login(factory.user("coordinator")))
    assert page.count("Nothing to count yet.") >= 5
    assert dict(figures(page))["/cases"] == 0


def test_the_dashboard_is_for_case_workers_only(factory, login, web) -> None:  # type: ignore[no-untyped-def]
    assert login(factory.user("auditor")).get("/dashboard").status_code == 404
    assert login(factory.user("admin")).get("/dashboard").status_code == 404
    anonymous = web.get("/dashboard")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_each_view_is_an_audit_event(organisation, login) -> None:  # type: ignore[no-untyped-def]
    dashboard(login(organisation["coordinator"]))
    db.session.commit()
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dashboard.view")))
    assert [(event.actor_username, event.object_type) for event in events] == [
        (organisation["coordinator"].username, "dashboard")]
    assert json.loads(events[0].details) == {"cases": 6}


def test_the_page_keeps_to_the_content_security_policy(organisation, login) -> None:  # type: ignore[no-untyped-def]
    response = login(organisation["coordinator"]).get("/dashboard")
    page = response.get_data(as_text=True)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert " style=" not in page and "<script" not in page and "<style" not in page
    assert re.search(r'<nav>.*href="/dashboard".*</nav>', page, re.S)


def test_the_created_month_filter_bounds_the_month(organisation, login) -> None:  # type: ignore[no-untyped-def]
    web = login(organisation["coordinator"])
    links = dict(figures(dashboard(web)))
    [(href, value)] = [(h, v) for h, v in links.items() if "created_from" in h]
    month = parse_qs(urlsplit(href).query)["created_from"][0]
    assert value == 6 and list_count(web, f"/cases?created_to={month}") == 6
    year, number = int(month[:4]), int(month[5:])
    previous = f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"
    assert list_count(web, f"/cases?created_to={previous}") == 0
