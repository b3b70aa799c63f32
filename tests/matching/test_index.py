"""Blocking keys in the database and matching new rows against the recorded people (``matching.index``)."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from sqlalchemy import delete, select

from casefile.access import unscoped
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.matching import index
from casefile.matching.models import DuplicateCandidate, PersonDistinction, PersonMatchKey
from casefile.matching.review import merge
from casefile.matching.score import DEFAULT_THRESHOLD, Match, PersonFacts, blocking_keys, compare, prepare
from casefile.people.identifiers import prc_check_character
from casefile.people.models import Person
from tests.cases.test_case_forms import case_form
from tests.matching.test_quality import load_labelled

NURLAN = [("cyrillic", "primary", "Нұрлан Тоқтарұлы")]
NURLAN_ZH = PersonFacts([("努尔兰·托克塔尔", "chinese")], birth_date=PartialDate(1971))


def keys_of(person_id: int) -> set[str]:
    db.session.commit()  # a fresh snapshot
    return set(db.session.scalars(select(PersonMatchKey.key).where(PersonMatchKey.person_id == person_id)
                                  .execution_options(**unscoped("test"))))


def person(person_id: int) -> Person:
    db.session.commit()
    found = db.session.scalar(select(Person).where(Person.id == person_id).execution_options(**unscoped("test")))
    assert found is not None
    return found


def set_source_ref(factory, reference: str, source_ref: str) -> None:  # type: ignore[no-untyped-def]
    case = factory.reload_case(reference)
    case.source_ref = source_ref
    db.session.commit()


def test_keys_are_stored_on_create_and_replaced_on_edit(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    web = login(advocate)
    response = web.post("/cases/new", case_form(advocate.teams[0].id))
    assert response.status_code == 302
    case = factory.reload_case(response.headers["Location"].rsplit("/", 1)[-1])
    stored = keys_of(case.person_id)
    assert stored and stored == blocking_keys(prepare(index.facts_of(case.person)))
    assert any(key.startswith("gd:") and key.endswith("/1976-03-14") for key in stored)

    edited = case_form(advocate.teams[0].id, **{"names-0-text": "Серік Болатұлы", "names-1-text": "",
                                                 "birth_date": "1980"})
    assert web.post(f"/cases/{case.reference}/edit", edited).status_code == 302
    after = keys_of(case.person_id)
    assert after and after.isdisjoint({key for key in stored if key.startswith(("n:", "m:"))})
    assert after == blocking_keys(prepare(index.facts_of(factory.reload_case(case.reference).person)))
    assert not any(key.startswith("gd:") for key in after)


def test_an_edit_that_touches_no_matched_fact_leaves_the_keys(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    case = factory.case(advocate, names=NURLAN)
    before = keys_of(case.person_id)
    db.session.execute(delete(PersonMatchKey).where(PersonMatchKey.person_id == case.person_id))
    db.session.execute(PersonMatchKey.__table__.insert(), [{"key": "marker", "person_id": case.person_id}])
    db.session.commit()
    web = login(advocate)
    form = case_form(advocate.teams[0].id, **{"names-0-text": "Нұрлан Тоқтарұлы", "names-0-script": "cyrillic",
                                              "names-1-text": "", "sex": "", "birth_date": "",
                                              "hometown_code": "", "occupation": "teacher"})
    assert web.post(f"/cases/{case.reference}/edit", form).status_code == 302
    assert keys_of(case.person_id) == {"marker"}  # only the occupation changed
    assert before


def test_find_for_new_finds_the_same_man_across_scripts(factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    case = factory.case(coordinator, names=NURLAN, person={"birth_date": PartialDate(1971, 5)})
    set_source_ref(factory, case.reference, "list-2019 #17")
    factory.case(coordinator, names=[("cyrillic", "primary", "Тоқтар Нұрланұлы")],
                 person={"birth_date": PartialDate(1995)})  # the son
    stranger = PersonFacts([("Айгүл Серікқызы", "cyrillic")], birth_date=PartialDate(1980))
    [found], nobody = index.find_for_new(coordinator, [NURLAN_ZH, stranger])
    assert nobody == []
    assert found.person_id == case.person_id and found.name == "Нұрлан Тоқтарұлы"
    assert found.cases == (index.FoundCase(case.reference, "list-2019 #17"),)
    assert found.references == (case.reference,) and found.source_refs == ("list-2019 #17",)
    assert found.score >= DEFAULT_THRESHOLD and any("across scripts" in reason for reason in found.reasons)
    assert not found.same_identifier
    assert index.find_for_new(coordinator, [NURLAN_ZH], min_score=0.999) == [[]]


def test_find_for_new_only_offers_people_the_actor_may_see(factory) -> None:  # type: ignore[no-untyped-def]
    almaty = factory.user("advocate", teams=("Almaty",))
    astana = factory.user("advocate", teams=("Astana",))
    coordinator = factory.user("coordinator", teams=("Almaty",))
    team_case = factory.case(almaty, names=NURLAN, person={"birth_date": PartialDate(1971)})
    secret = factory.case(almaty, names=[("cyrillic", "primary", "Серік Болатұлы")],
                          person={"birth_date": PartialDate(1966)}, restricted=True)
    serik = PersonFacts([("赛力克·波拉提", "chinese")], birth_date=PartialDate(1966))
    assert index.find_for_new(astana, [NURLAN_ZH, serik]) == [[], []]
    by_team, hidden = index.find_for_new(coordinator, [NURLAN_ZH, serik])
    assert [f.person_id for f in by_team] == [team_case.person_id] and hidden == []
    own_team, own_secret = index.find_for_new(almaty, [NURLAN_ZH, serik])
    assert [f.person_id for f in own_team] == [team_case.person_id]
    assert [f.person_id for f in own_secret] == [secret.person_id]  # the creator sees the restricted case


def test_find_for_new_never_offers_a_merged_record(factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    first = factory.case(coordinator, names=NURLAN, person={"birth_date": PartialDate(1971, 5)})
    second = factory.case(coordinator, names=[("latin", "primary", "Nurlan Toqtaruly")],
                          person={"birth_date": PartialDate(1971)})
    assert {f.person_id for f in index.find_for_new(coordinator, [NURLAN_ZH])[0]} == {first.person_id,
                                                                                       second.person_id}
    kept_id, merged_id = first.person_id, second.person_id  # (the moved case's person_id changes)
    merge(coordinator, kept_id, merged_id)
    db.session.commit()
    [found] = index.find_for_new(coordinator, [NURLAN_ZH])
    assert [f.person_id for f in found] == [kept_id]
    assert [f.references for f in found] == [tuple(sorted((first.reference, second.reference)))]
    assert keys_of(merged_id) == set() and keys_of(kept_id)


def test_the_same_identifier_is_flagged(factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    number = "65402819760314001" + prc_check_character("65402819760314001")
    case = factory.case(coordinator, names=NURLAN, person={"prc_id": number})
    other_name = PersonFacts([("Someone Else", "latin")], prc_id=f"{number[:6]} {number[6:14]} {number[14:]}")
    [[found]] = index.find_for_new(coordinator, [other_name])
    assert found.person_id == case.person_id and found.score == 1.0 and found.same_identifier


def test_find_within_pairs_rows_of_one_file(app) -> None:  # type: ignore[no-untyped-def]
    rows = [PersonFacts([("Нұрлан Тоқтарұлы", "cyrillic")], birth_date=PartialDate(1971, 5)),
            PersonFacts([("Айгүл Серікқызы", "cyrillic")], birth_date=PartialDate(1980)),
            NURLAN_ZH]
    [(i, j, match)] = index.find_within(rows, DEFAULT_THRESHOLD)
    assert (i, j) == (0, 2) and match.score >= DEFAULT_THRESHOLD


def test_bulk_key_rows_are_the_keys_of_each_person(app) -> None:  # type: ignore[no-untyped-def]
    rows = [(7, NURLAN_ZH), (8, PersonFacts([("Серік Болатұлы", "cyrillic")])), (9, NURLAN_ZH)]
    produced = list(index.bulk_key_rows(rows))
    assert produced == [*index.key_rows(7, prepare(NURLAN_ZH)), *index.key_rows(8, prepare(rows[1][1])),
                        *index.key_rows(9, prepare(NURLAN_ZH))]
    assert {row["key"] for row in produced if row["person_id"] == 7} == blocking_keys(NURLAN_ZH)


def test_rebuild_all_restores_every_unmerged_persons_keys(factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    first = factory.case(coordinator, names=NURLAN)
    second = factory.case(coordinator, names=[("cyrillic", "primary", "Серік Болатұлы")])
    expected = {first.person_id: keys_of(first.person_id), second.person_id: keys_of(second.person_id)}
    db.session.execute(delete(PersonMatchKey))
    db.session.execute(PersonMatchKey.__table__.insert(), [{"key": "stale", "person_id": first.person_id}])
    people, keys = index.rebuild_all(batch=1)
    db.session.commit()
    assert people == 2 and keys == sum(map(len, expected.values()))
    assert {pid: keys_of(pid) for pid in expected} == expected


def test_queue_candidates_skips_decided_queued_and_merged_pairs(factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    a, b, c, d = (factory.case(coordinator, names=[("cyrillic", "primary", name)]).person_id
                  for name in ("Нұрлан Тоқтарұлы", "Серік Болатұлы", "Айгүл Серікқызы", "Ержан Қанатұлы"))
    db.session.execute(delete(DuplicateCandidate))
    db.session.add(PersonDistinction(first_id=min(a, b), second_id=max(a, b), decided_by_id=coordinator.id))
    merged = person(d)
    merged.merged_into_id = a
    db.session.commit()
    match = Match(0.8, ["names agree"])
    assert index.queue_candidates([(b, a, match), (c, a, match), (a, c, Match(0.9, ["x"])), (c, d, match),
                                   (c, c, match)]) == 1
    assert index.queue_candidates([(a, c, match)]) == 0
    db.session.commit()
    rows = db.session.execute(select(DuplicateCandidate.first_id, DuplicateCandidate.second_id,
                                     DuplicateCandidate.score)
                              .execution_options(**unscoped("test"))).all()
    assert [tuple(row) for row in rows] == [(min(a, c), max(a, c), 0.9)]
    assert index.queue_pairs([(b, c, 0.7, ["y"])]) == 1


def test_the_ceiling_never_drops_a_pair_compare_accepts(app) -> None:  # type: ignore[no-untyped-def]
    data = load_labelled()
    pairs = [pair for group in data.groups for pair in combinations(group, 2)]
    pairs += [(a, b) for a, b, _trap in data.different]
    dropped = 0
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            stored = index._light_of_row(y.birth_date, y.sex, y.prc_id, y.iin, y.hometown_code)
            bound = index._ceiling(index._Light.of(prepare(x)), stored)
            ceiling = 1.0 if bound == math.inf else 1.0 / (1.0 + math.exp(-bound))
            assert compare(x, y).score <= ceiling + 1e-4, (x, y)
            dropped += bound < index._log_odds(DEFAULT_THRESHOLD)
    assert dropped  # the bound does cut pairs on the labelled set


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_thresholds_at_the_ends(factory, threshold) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator", teams=("Almaty",))
    factory.case(coordinator, names=NURLAN, person={"birth_date": PartialDate(1930)})
    [found] = index.find_for_new(coordinator, [NURLAN_ZH], min_score=threshold)
    assert (len(found) == 1) == (threshold == 0.0)
