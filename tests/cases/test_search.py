"""The case list: name search in every script, filters, sorting, pagination."""

from __future__ import annotations

import pytest

from casefile.core.partial_dates import PartialDate

PEOPLE = {
    "nurlan": [("cyrillic", "primary", "Нұрлан Тоқтарұлы"), ("chinese", "document", "努尔兰·托合塔尔"),
               ("arabic", "alias", "نۇرلان توقتار"), ("latin", "alias", "Nūrlan Toqtarūly")],
    "serik": [("cyrillic", "primary", "Серік Болатұлы"), ("chinese", "document", "赛力克·波拉提")],
    "erzhan": [("cyrillic", "primary", "Ержан Асқарұлы"), ("chinese", "document", "叶尔江·阿斯卡尔")],
}


@pytest.fixture
def listed(factory):  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    refs = {
        "nurlan": factory.case(advocate, names=PEOPLE["nurlan"], status="camp", detained_on=PartialDate(2017, 8),
                               person={"hometown_code": "654028"}, verification_level=2).reference,
        "serik": factory.case(advocate, names=PEOPLE["serik"], status="sentenced", detained_on=PartialDate(2018),
                              person={"hometown_code": "654221"}, verification_level=4).reference,
        "erzhan": factory.case(advocate, names=PEOPLE["erzhan"], status="camp", detained_on=PartialDate(2019, 1, 5),
                               person={"hometown_code": "654325"}, verification_level=1).reference,
    }
    return advocate, refs


def _found(web, query: str) -> set[str]:  # type: ignore[no-untyped-def]
    response = web.get("/cases?" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    return {ref for ref in page.split('href="/cases/')[1:] for ref in [ref.split('"', 1)[0]] if ref.startswith("KZ-")}


@pytest.mark.parametrize("query", ["Токтар", "Toktar", "Тоқтар", "Toqtar", "TOKTARULY NURLAN", "Токтаров Нурлан",
                                   "нурлан", "努尔兰", "托合塔尔", "نۇرلان", "Nurlan Toktaruly"])
def test_name_search_in_every_script(login, listed, query) -> None:  # type: ignore[no-untyped-def]
    advocate, refs = listed
    assert _found(login(advocate), "q=" + query) == {refs["nurlan"]}


def test_search_does_not_merge_similar_names(login, listed) -> None:  # type: ignore[no-untyped-def]
    advocate, refs = listed
    web = login(advocate)
    assert _found(web, "q=Ержан") == {refs["erzhan"]}
    assert _found(web, "q=Ерлан") == set()


def test_search_by_reference(login, listed) -> None:  # type: ignore[no-untyped-def]
    advocate, refs = listed
    assert _found(login(advocate), "q=" + refs["serik"].lower()) == {refs["serik"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=camp", {"nurlan", "erzhan"}),
        ("prefecture=654200", {"serik"}),
        ("prefecture=654300", {"erzhan"}),
        ("verification=4", {"serik"}),
        ("detained_from=2018", {"serik", "erzhan"}),
        ("detained_to=2018", {"nurlan", "serik"}),
        ("detained_from=2017-09&detained_to=2019-01", {"serik", "erzhan"}),
        ("status=camp&prefecture=654000", {"nurlan"}),
    ],
)
def test_filters(login, listed, query, expected) -> None:  # type: ignore[no-untyped-def]
    advocate, refs = listed
    assert _found(login(advocate), query) == {refs[key] for key in expected}


def test_bad_filter_values_answer_400(login, listed) -> None:  # type: ignore[no-untyped-def]
    advocate, _refs = listed
    web = login(advocate)
    assert web.get("/cases?detained_from=2017-13").status_code == 400
    assert web.get("/cases?status=nonsense").status_code == 400
    assert web.get("/cases?page=abc").status_code == 400


def test_sorting_and_pagination(app, login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    refs = [factory.case(advocate, names=[("latin", "primary", f"Person Number {'abcdefghijklmnopqrstuvwxyzab'[i]}")]).reference
            for i in range(27)]
    web = login(advocate)
    first = web.get("/cases?sort=reference").get_data(as_text=True)
    assert "Page 1 of 2" in first and "27 cases" in first
    assert refs[0] in first and refs[25] not in first
    second = web.get("/cases?sort=reference&page=2").get_data(as_text=True)
    assert refs[25] in second and refs[26] in second and refs[0] not in second
    newest_first = web.get("/cases?sort=reference_desc").get_data(as_text=True)
    assert newest_first.index(refs[26]) < newest_first.index(refs[20])
    beyond = web.get("/cases?page=99").get_data(as_text=True)
    assert "Page 2 of 2" in beyond
