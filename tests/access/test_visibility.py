"""Who sees which case, proven on every case-bearing route for every role."""

from __future__ import annotations

import re

import pytest

from tests.helpers import route_url

CASE_ROUTE = re.compile(r"<reference>")


@pytest.fixture
def world(factory):  # type: ignore[no-untyped-def]
    """Two teams, one case each, one restricted case, and one user per role."""
    almaty = factory.user("advocate", teams=("Almaty",), username="adv-almaty")
    astana = factory.user("advocate", teams=("Astana",), username="adv-astana")
    named = factory.user("advocate", teams=("Astana",), username="adv-named")
    coordinator = factory.user("coordinator", teams=("Almaty",), username="coord")
    outsider_coordinator = factory.user("coordinator", teams=("Astana",), username="coord2")
    auditor = factory.user("auditor", username="aud")
    admin = factory.user("admin", username="adm")
    case_a = factory.case(almaty, names=[("cyrillic", "primary", "Серік Болатұлы")])
    case_b = factory.case(astana, names=[("cyrillic", "primary", "Айгүл Тұрсынқызы")])
    secret = factory.case(almaty, names=[("cyrillic", "primary", "Қанат Жұмабекұлы")], restricted=True,
                          named_user_ids=[named.id])
    return {
        "users": {u.username: u for u in (almaty, astana, named, coordinator, outsider_coordinator, auditor, admin)},
        "cases": {"a": case_a.reference, "b": case_b.reference, "secret": secret.reference},
    }


# Which of the three cases each user may see.
EXPECTED = {
    "adv-almaty": {"a", "secret"},      # own team + created the restricted one
    "adv-astana": {"b"},
    "adv-named": {"b", "secret"},       # named on the restricted case
    "coord": {"a", "b"},                # every case but the restricted one
    "coord2": {"a", "b"},
    "aud": set(),
    "adm": set(),
}


def _case_urls(app, reference: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    urls = []
    for rule in app.url_map.iter_rules():
        if not CASE_ROUTE.search(rule.rule):
            continue
        url = route_url(rule.rule, reference)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_every_case_route_shows_or_hides_by_role(app, world, login, username) -> None:  # type: ignore[no-untyped-def]
    web = login(world["users"][username])
    for key, reference in world["cases"].items():
        visible = key in EXPECTED[username]
        for method, url in _case_urls(app, reference):
            if url.endswith("/reporters/1/edit") or "/evidence/1" in url:
                continue  # reporter and evidence ids are checked in their own tests
            response = web.get(url) if method == "GET" else web.post(url, {})
            if visible:
                assert response.status_code in (200, 302, 400), (username, method, url, response.status_code)
            else:
                assert response.status_code == 404, (username, method, url, response.status_code)


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_list_search_and_counts_show_only_visible_cases(world, login, username) -> None:  # type: ignore[no-untyped-def]
    web = login(world["users"][username])
    response = web.get("/cases")
    if not EXPECTED[username]:
        assert response.status_code == 404
        return
    page = response.get_data(as_text=True)
    for key, reference in world["cases"].items():
        assert (reference in page) == (key in EXPECTED[username]), (username, key)
    count = len(EXPECTED[username])
    assert f"{count} case" in page
    # A search that would match the hidden restricted case finds nothing for those who may not see it.
    found = web.get("/cases?q=Қанат").get_data(as_text=True)
    assert (world["cases"]["secret"] in found) == ("secret" in EXPECTED[username])
    if "secret" not in EXPECTED[username]:
        assert "0 cases" in found


def test_unknown_reference_is_404(world, login) -> None:  # type: ignore[no-untyped-def]
    web = login(world["users"]["coord"])
    assert web.get("/cases/KZ-1999-99999").status_code == 404
    assert web.get("/cases/" + "x" * 300).status_code == 404
