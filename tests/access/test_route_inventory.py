"""Every route declares who may use it; everything but login, static and health needs a login."""

from __future__ import annotations

from casefile.access import declared_roles
from casefile.access.routes import PUBLIC
from tests.helpers import WebSession, route_url

PUBLIC_ENDPOINTS = {"auth.login", "static", "web.health"}


def test_every_route_declares_an_access_policy(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        undeclared = [rule.endpoint for rule in app.url_map.iter_rules() if declared_roles(rule.endpoint) is None]
        public = {rule.endpoint for rule in app.url_map.iter_rules() if declared_roles(rule.endpoint) == PUBLIC}
    assert undeclared == []
    assert public == PUBLIC_ENDPOINTS


def test_every_non_public_route_sends_anonymous_users_to_login(app, web) -> None:  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = route_url(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = web.client.open(url, method=method)
            # POSTs without a token stop at CSRF (400); everything else goes to the login page.
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (method, url)


def test_an_undeclared_route_is_refused(fresh_app, factory) -> None:  # type: ignore[no-untyped-def]
    def sneaky() -> str:
        return "leak"

    fresh_app.add_url_rule("/undeclared-test-route", "undeclared_test_route", sneaky)
    user = factory.user("coordinator")
    web = WebSession(fresh_app.test_client())
    web.login(user.username, factory.password)
    response = web.get("/undeclared-test-route")
    assert response.status_code == 404 and "leak" not in response.get_data(as_text=True)


def test_role_pages_are_404_for_other_roles(factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = login(factory.user("advocate"))
    assert advocate.get("/admin/users").status_code == 404
    assert advocate.get("/audit").status_code == 404
    admin = login(factory.user("admin"))
    assert admin.get("/cases").status_code == 404
    assert admin.get("/admin/users").status_code == 200
    auditor = login(factory.user("auditor"))
    assert auditor.get("/audit").status_code == 200
    assert auditor.get("/cases/new").status_code == 404
