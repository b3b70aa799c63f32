"""The duplicates queue through the web: proposals, the queue page, merges and "not the same person"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casefile.access import unscoped, visible_persons
from casefile.audit.models import AuditEvent
from casefile.cases.models import Case
from casefile.core.errors import InvalidInput
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.matching import index, review
from casefile.matching.models import DuplicateCandidate, PersonDistinction, PersonMerge
from casefile.people.models import Person
from tests.cases.test_case_forms import case_form
from tests.evidence.test_cli import invoke

NURLAN = [("cyrillic", "primary", "Нұрлан Тоқтарұлы")]


def rows(model: Any) -> list[Any]:
    db.session.commit()  # a fresh snapshot: see what requests and commands committed
    return list(db.session.scalars(select(model).execution_options(**unscoped("test"))))


def queued() -> set[tuple[int, int]]:
    return {(row.first_id, row.second_id) for row in rows(DuplicateCandidate)}


def events(action: str) -> list[AuditEvent]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def person(person_id: int) -> Person:
    db.session.commit()
    found = db.session.scalar(select(Person).where(Person.id == person_id).execution_options(**unscoped("test")))
    assert found is not None
    return found


def cases_of(person_id: int) -> set[str]:
    db.session.commit()
    return set(db.session.scalars(select(Case.reference).where(Case.person_id == person_id)
                                  .execution_options(**unscoped("test"))))


@pytest.fixture
def pair(factory):  # type: ignore[no-untyped-def]
    """The same man twice: in Cyrillic with a hometown (two cases), in Chinese with a PRC ID and a source row."""
    advocate = factory.user("advocate", teams=("Almaty",))
    coordinator = factory.user("coordinator", teams=("Almaty",))
    kept = factory.case(advocate, names=NURLAN, person={"birth_date": PartialDate(1971, 5), "occupation": "herder"})
    kept_again = factory.case(advocate, names=NURLAN, person={"birth_date": PartialDate(1971, 5)})
    merged = factory.case(advocate, names=[("chinese", "primary", "努尔兰·托克塔尔"), ("latin", "alias", "Nurlan")],
                          person={"birth_date": PartialDate(1971), "hometown_code": "654028", "occupation": "driver",
                                  "ethnicity": "Kazakh"})
    case = factory.reload_case(merged.reference)
    case.source_ref = "row 17"
    db.session.commit()
    return {"advocate": advocate, "coordinator": coordinator, "kept": kept.person_id, "other": kept_again.person_id,
            "merged": merged.person_id, "refs": (kept.reference, kept_again.reference, merged.reference)}


def test_a_case_created_through_the_form_lands_in_the_queue(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    existing = factory.case(advocate, names=NURLAN, person={"birth_date": PartialDate(1976, 3, 14)})
    assert queued() == set()
    web = login(advocate)
    form = case_form(advocate.teams[0].id, **{"names-0-text": "努尔兰·托克塔尔", "names-0-script": "chinese",
                                              "names-1-text": "", "birth_date": "1976"})
    response = web.post("/cases/new", form)
    assert response.status_code == 302
    new = factory.reload_case(response.headers["Location"].rsplit("/", 1)[-1])
    [entry] = rows(DuplicateCandidate)
    assert (entry.first_id, entry.second_id) == (existing.person_id, new.person_id)
    assert entry.score >= 0.5 and any("across scripts" in reason for reason in entry.reasons)


def test_the_queue_shows_each_pair_to_coordinators_only(pair, login) -> None:  # type: ignore[no-untyped-def]
    assert (pair["kept"], pair["merged"]) in queued()
    page = login(pair["coordinator"]).get("/people/duplicates")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for expected in ("Нұрлан Тоқтарұлы", "努尔兰·托克塔尔", "Nurlan", "1971-05", "across scripts", "row 17",
                     f'href="/cases/{pair["refs"][2]}"',
                     f'action="/people/duplicates/{pair["kept"]}/{pair["merged"]}/merge"',
                     "Not the same person"):
        assert expected in html, expected
    [viewed] = events("person.duplicates.view")
    assert pair["merged"] in json.loads(viewed.details)["person_ids"]
    detail = login(pair["coordinator"]).get(f"/people/duplicates/{pair['kept']}/{pair['merged']}")
    assert detail.status_code == 200 and "row 17" in detail.get_data(as_text=True)
    advocate = login(pair["advocate"])
    assert advocate.get("/people/duplicates").status_code == 404
    assert advocate.get(f"/people/duplicates/{pair['kept']}/{pair['merged']}").status_code == 404
    assert "/people/duplicates" not in advocate.get("/cases").get_data(as_text=True)
    assert 'href="/people/duplicates"' in login(pair["coordinator"]).get("/cases").get_data(as_text=True)


def test_a_pair_with_a_hidden_person_is_not_shown(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    coordinator = factory.user("coordinator", teams=("Astana",))
    factory.case(advocate, names=NURLAN, person={"birth_date": PartialDate(1971)})
    secret = factory.case(advocate, names=[("chinese", "primary", "努尔兰·托克塔尔")],
                          person={"birth_date": PartialDate(1971)}, restricted=True)
    assert len(queued()) == 1  # proposed whoever may see it; shown only to those who may see both
    html = login(coordinator).get("/people/duplicates").get_data(as_text=True)
    assert "努尔兰" not in html and "No pair to review." in html
    first, second = sorted(queued())[0]
    assert login(coordinator).get(f"/people/duplicates/{first}/{second}").status_code == 404
    assert secret.reference not in html


def test_merge_moves_every_case_and_keeps_both_records(pair, login) -> None:  # type: ignore[no-untyped-def]
    web = login(pair["coordinator"])
    kept, merged = pair["kept"], pair["merged"]
    url = f"/people/duplicates/{kept}/{merged}/merge"
    assert web.post(url, {"keep": kept}).status_code == 400  # not confirmed: nothing changes
    assert person(merged).merged_into_id is None
    response = web.post(url, {"keep": kept, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/people/duplicates"
    message = web.get("/people/duplicates").get_data(as_text=True)
    assert "1 case(s) moved" in message and "Occupation" in message  # the conflict is named

    assert cases_of(kept) == {pair["refs"][0], pair["refs"][2]} and cases_of(merged) == set()
    record, gone = person(kept), person(merged)
    assert gone.merged_into_id == kept and [n.text for n in gone.names] == ["努尔兰·托克塔尔", "Nurlan"]
    assert [(n.script, n.kind, n.text) for n in record.names] == [
        ("cyrillic", "primary", "Нұрлан Тоқтарұлы"), ("chinese", "alias", "努尔兰·托克塔尔"), ("latin", "alias", "Nurlan")]
    assert record.hometown_code == "654028" and record.ethnicity == "Kazakh"  # blanks filled
    assert record.occupation == "herder" and record.birth_date == PartialDate(1971, 5)  # never overwritten
    moved = db.session.scalar(select(Case).where(Case.reference == pair["refs"][2])
                              .execution_options(**unscoped("test")))
    assert moved.prefecture_code == "654000"
    assert moved.source_ref == "row 17"

    [merge] = rows(PersonMerge)
    assert (merge.kept_id, merge.merged_id, merge.merged_by_id) == (kept, merged, pair["coordinator"].id)
    assert merge.snapshot["cases"] == [pair["refs"][2]] and merge.snapshot["conflicts"] == ["occupation"]
    assert merge.snapshot["merged"]["names"][0]["text"] == "努尔兰·托克塔尔"
    assert merge.snapshot["kept"]["hometown_code"] is None and merge.score is not None
    [event] = events("person.merge")
    details = json.loads(event.details)
    assert (details["kept_id"], details["merged_id"], details["cases_moved"]) == (kept, merged, 1)
    assert "Нұрлан" not in event.details and "努尔兰" not in event.details
    [case_event] = [e for e in events("case.update") if e.case_ref == pair["refs"][2]]
    assert json.loads(case_event.details)["fields"] == ["person"]
    assert [e.action for e in events("case.create") if e.case_ref == pair["refs"][2]]  # its history stays
    assert all(merged not in entry for entry in queued())
    visible = {p.id for p in db.session.scalars(visible_persons(pair["coordinator"]))}
    assert merged not in visible and kept in visible  # a merged record has no case left to be seen through


def test_a_merged_record_cannot_be_merged_again(pair, login) -> None:  # type: ignore[no-untyped-def]
    web = login(pair["coordinator"])
    kept, merged, other = pair["kept"], pair["merged"], pair["other"]
    assert web.post(f"/people/duplicates/{kept}/{merged}/merge", {"keep": kept, "confirm": "y"}).status_code == 302
    assert web.post(f"/people/duplicates/{kept}/{merged}/merge", {"keep": kept, "confirm": "y"}).status_code == 404
    assert web.post(f"/people/duplicates/{other}/{merged}/merge",
                    {"keep": other, "confirm": "y"}).status_code == 404
    assert web.post(f"/people/duplicates/{kept}/{merged}/merge", {"keep": 999, "confirm": "y"}).status_code == 404
    db.session.commit()  # a fresh snapshot: see what the requests committed
    with pytest.raises(NotFound):
        review.merge(pair["coordinator"], merged, kept)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        review.merge(pair["coordinator"], kept, kept)
    db.session.rollback()
    person(other).merged_into_id = kept  # even a record still seen through a case is refused once merged
    db.session.flush()
    with pytest.raises(InvalidInput):
        review.merge(pair["coordinator"], kept, other)
    db.session.rollback()
    assert len(rows(PersonMerge)) == 1


def test_not_the_same_person_is_never_proposed_again(pair, login, app) -> None:  # type: ignore[no-untyped-def]
    kept, merged = pair["kept"], pair["merged"]
    web = login(pair["coordinator"])
    response = web.post(f"/people/duplicates/{kept}/{merged}/distinct", {})
    assert response.status_code == 302
    assert (kept, merged) not in queued()
    [decision] = rows(PersonDistinction)
    assert (decision.first_id, decision.second_id, decision.decided_by_id) == (kept, merged, pair["coordinator"].id)
    [event] = events("person.distinct")
    assert json.loads(event.details) == {"first_id": kept, "second_id": merged}

    assert index.propose_for(person(merged)) == 0 and (kept, merged) not in queued()
    result = invoke(app, ["duplicates", "--json", "--queue"])
    assert result.exit_code == 0, result.output
    pairs = {(p["first_id"], p["second_id"]) for p in json.loads(result.stdout)}
    assert (kept, merged) not in pairs and (kept, pair["other"]) in pairs
    assert (kept, merged) not in queued()


def test_the_command_prints_source_refs_and_can_rebuild_and_queue(pair, app) -> None:  # type: ignore[no-untyped-def]
    db.session.execute(DuplicateCandidate.__table__.delete())
    db.session.commit()
    text = invoke(app, ["duplicates"])
    assert text.exit_code == 0, text.output
    assert f"{pair['refs'][2]} (source row 17)" in text.output
    data = json.loads(invoke(app, ["duplicates", "--json"]).output)
    [with_row] = [p for p in data if pair["merged"] in (p["first_id"], p["second_id"])
                  and pair["kept"] in (p["first_id"], p["second_id"])]
    assert with_row["second_source_refs"] == ["row 17"] and with_row["second_cases"] == [pair["refs"][2]]
    assert queued() == set()
    result = invoke(app, ["duplicates", "--rebuild-keys", "--queue"])
    assert result.exit_code == 0, result.output
    assert "Blocking keys rebuilt" in result.output and "3 pair(s) added to the review queue." in result.output
    assert len(queued()) == 3
    assert [e.action for e in events("person.keys.rebuild")]


def test_posting_without_the_csrf_token_is_refused(pair, login) -> None:  # type: ignore[no-untyped-def]
    web = login(pair["coordinator"])
    kept, merged = pair["kept"], pair["merged"]
    assert web.post(f"/people/duplicates/{kept}/{merged}/merge", {"keep": kept, "confirm": "y"},
                    csrf=False).status_code == 400
    assert web.post(f"/people/duplicates/{kept}/{merged}/distinct", {}, csrf=False).status_code == 400
    assert person(merged).merged_into_id is None and rows(PersonDistinction) == []
    assert (kept, merged) in queued()


def test_search_finds_the_moved_case_under_the_kept_record(pair, login) -> None:  # type: ignore[no-untyped-def]
    web = login(pair["coordinator"])
    kept, merged = pair["kept"], pair["merged"]
    web.post(f"/people/duplicates/{kept}/{merged}/merge", {"keep": kept, "confirm": "y"})
    html = web.get("/cases", query_string={"q": "努尔兰"}).get_data(as_text=True)
    assert pair["refs"][2] in html and pair["refs"][0] in html  # the kept record now has the Chinese name
