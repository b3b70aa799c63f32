"""Creating and editing cases through the web forms, and refusing bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.cases.models import Case
from casefile.extensions import db


def case_form(team_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "names-0-text": "Нұрлан Тоқтарұлы", "names-0-script": "auto", "names-0-kind": "primary",
        "names-1-text": "努尔兰·托合塔尔", "names-1-script": "chinese", "names-1-kind": "document",
        "names-2-text": "", "names-2-script": "auto", "names-2-kind": "alias",
        "sex": "M", "birth_date": "1976-03-14", "ethnicity": "Kazakh", "prc_id": "", "iin": "",
        "hometown_code": "654028", "hometown_village": "Aqsu", "occupation": "herder",
        "citizenship": "residence_permit", "kz_documents": "", "kazakhstan_ties": "Daughter lives in Almaty",
        "team_id": str(team_id), "status": "camp", "status_on": "2018-03", "status_source": "Testimony of the daughter",
        "verification_level": "1", "detained_on": "2018-03", "last_contact_on": "2018", "trial_on": "",
        "release_on": "", "detention_facility": "Camp No. 3", "detention_city": "Nilka",
        "alleged_reasons": ["relatives_abroad", "travel_kazakhstan"], "alleged_reason_other": "",
        "sentence": "", "narrative": "Taken from home in March 2018.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def case_count() -> int:
    db.session.rollback()  # a new snapshot: see what requests committed
    return db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test"))) or 0


@pytest.fixture
def advocate(factory):  # type: ignore[no-untyped-def]
    return factory.user("advocate", teams=("Almaty",))


def test_create_case_through_the_form(login, advocate, factory) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    assert web.get("/cases/new").status_code == 200
    response = web.post("/cases/new", case_form(advocate.teams[0].id))
    assert response.status_code == 302, response.get_data(as_text=True)
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    assert reference.startswith("KZ-") and len(reference) == len("KZ-2026-00001")
    page = web.get(f"/cases/{reference}").get_data(as_text=True)
    for expected in ("Нұрлан Тоқтарұлы", "努尔兰·托合塔尔", "1976-03-14", "2018-03", "Camp No. 3", "尼勒克县"):
        assert expected in page
    case = factory.reload_case(reference)
    assert case.person.names[1].script == "chinese"
    assert case.person.names[0].script == "cyrillic"
    assert case.status_events[0].source == "Testimony of the daughter"
    assert case.prefecture_code == "654000"


def test_references_are_unique_and_sequential(login, advocate) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    refs = [web.post("/cases/new", case_form(advocate.teams[0].id)).headers["Location"].rsplit("/", 1)[-1]
            for _ in range(3)]
    numbers = [int(ref.rsplit("-", 1)[-1]) for ref in refs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prc_id": "110105194912310021"}, "expected X"),
        ({"iin": "061211600013"}, "expected 2"),
        ({"birth_date": "2017-02-30"}, ""),
        ({"detained_on": "2017-13"}, ""),
        ({"names-0-text": "Nurlan", "names-0-script": "chinese"}, ""),
        ({"names-0-text": "Nurlаn"}, ""),  # a Cyrillic а inside Latin letters
        ({"names-0-text": "Н" * 201}, ""),
        ({"narrative": "x" * 100_001}, ""),
        ({"status": "vanished"}, "Not a valid choice"),
        ({"alleged_reasons": ["witchcraft"]}, ""),
        ({"occupation": "herder\x00"}, "control characters"),
        ({"names-0-text": "", "names-1-text": ""}, "at least one name"),
        ({"release_on": "2017", "detained_on": "2018-03"}, "before the detention"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_saves_nothing(login, advocate, overrides, message) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    response = web.post("/cases/new", case_form(advocate.teams[0].id, **overrides))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'class="error"' in body
    if message:
        assert message in body
    assert case_count() == 0


def test_prc_id_must_agree_with_birth_date_and_sex(login, advocate) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    # 11010519491231002X: born 1949-12-31, sequence 002 → female.
    response = web.post("/cases/new", case_form(advocate.teams[0].id, prc_id="11010519491231002X"))
    assert response.status_code == 400
    assert case_count() == 0
    ok = web.post("/cases/new", case_form(advocate.teams[0].id, prc_id="11010519491231002X", sex="F",
                                          birth_date="1949"))
    assert ok.status_code == 302


def test_legacy_prc_id_is_stored_converted(login, advocate, factory) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    response = web.post("/cases/new", case_form(advocate.teams[0].id, prc_id="654028760314001", birth_date="",
                                                 hometown_code=""))
    assert response.status_code == 302
    case = factory.reload_case(response.headers["Location"].rsplit("/", 1)[-1])
    assert len(case.person.prc_id) == 18 and case.person.prc_id.startswith("65402819760314001")
    assert case.person.hometown_code == "654028"  # filled from the ID's address code


def test_script_shown_escaped(login, advocate) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    payload = "<script>alert(1)</script>"
    response = web.post("/cases/new", case_form(advocate.teams[0].id, narrative=payload, occupation=payload))
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_case_records_changed_fields_only(login, advocate, factory) -> None:  # type: ignore[no-untyped-def]
    case = factory.case(advocate, person={"sex": "M"})
    web = login(advocate)
    form_page = web.get(f"/cases/{case.reference}/edit")
    assert form_page.status_code == 200
    data = case_form(advocate.teams[0].id, status="sentenced", status_source="Letter from the court",
                     sentence="12 years, 'inciting extremism', Ili court, 2019")
    response = web.post(f"/cases/{case.reference}/edit", data)
    assert response.status_code == 302
    updated = factory.reload_case(case.reference)
    assert updated.status == "sentenced"
    assert [e.status for e in updated.status_events][:2] == ["sentenced", "missing"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.update")).one()
    assert '"sentence"' in event.details and "12 years" not in event.details


def test_add_name_button_adds_a_row_without_saving(login, advocate) -> None:  # type: ignore[no-untyped-def]
    web = login(advocate)
    response = web.post("/cases/new", case_form(advocate.teams[0].id, add_name="Add another name"))
    assert response.status_code == 200
    assert 'name="names-3-text"' in response.get_data(as_text=True)
    assert case_count() == 0


def test_status_change_and_timeline(login, advocate, factory) -> None:  # type: ignore[no-untyped-def]
    case = factory.case(advocate)
    web = login(advocate)
    assert web.post(f"/cases/{case.reference}/status",
                    {"status": "released_restricted", "occurred_on": "2021-06", "source": "Phone call"}).status_code == 302
    assert web.post(f"/cases/{case.reference}/status", {"status": "released_restricted", "source": ""}).status_code == 400
    assert web.post(f"/cases/{case.reference}/timeline",
                    {"kind": "transfer", "occurred_on": "2019", "place": "Ghulja", "description": "Moved",
                     "source": "Co-detainee"}).status_code == 302
    updated = factory.reload_case(case.reference)
    assert updated.status == "released_restricted"
    assert updated.timeline[0].place == "Ghulja"


def test_advocate_cannot_file_a_case_under_another_team(login, advocate, factory) -> None:  # type: ignore[no-untyped-def]
    other = factory.user("advocate", teams=("Astana",))
    web = login(advocate)
    response = web.post("/cases/new", case_form(other.teams[0].id))
    assert response.status_code == 400
    assert case_count() == 0
