"""The route registry: every route declares who may use it, everything but the login steps, static
files and the health check needs a login, and the sensitive steps ask for the password again."""

from __future__ import annotations

from casefile.access import route_registry
from casefile.access.routes import PUBLIC
from tests.helpers import WebSession, route_url

# The login page and its second step (the TOTP code after a correct password) are the login; the
# language switch serves the login page too.
PUBLIC_ENDPOINTS = {"auth.login", "auth.second_factor", "static", "web.health", "web.language"}
# Downloads of evidence and packets, building a packet, account administration (roles included),
# the audit export, and the user's own second factor.
RECENT_AUTH = {
    "evidence.download": {"GET"},
    "packets.pdf": {"GET"},
    "packets.zip_bundle": {"GET"},
    "packets.receipt": {"GET"},
    "packets.create": {"POST"},
    "audit.export": {"GET"},
    "admin.create_user": {"POST"},
    "admin.edit_user": {"POST"},
    "admin.reset_password": {"POST"},
    "admin.set_active": {"POST"},
    "admin.unlock": {"POST"},
    "admin.remove_two_factor": {"POST"},
    "auth.two_factor": {"GET", "POST"},
    "auth.recovery_codes": {"POST"},
    "auth.remove_two_factor": {"POST"},
}


def test_every_route_declares_an_access_policy(app) -> None:  # type: ignore[no-untyped-def]
    registry = route_registry(app)
    assert {rule.endpoint for rule in app.url_map.iter_rules()} <= set(registry)
    assert [endpoint for endpoint, policy in registry.items() if policy.who is None] == []
    assert {endpoint for endpoint, policy in registry.items() if policy.who == PUBLIC} == PUBLIC_ENDPOINTS


def test_sensitive_steps_declare_recent_authentication(app) -> None:  # type: ignore[no-untyped-def]
    declared = {endpoint: set(policy.recent_auth.methods)
                for endpoint, policy in route_registry(app).items() if policy.recent_auth is not None}
    assert declared == RECENT_AUTH
    assert route_registry(app)["packets.create"].recent_auth.when_field == "build"  # not the preview


def test_a_route_added_without_a_declaration_shows_in_the_registry(fresh_app) -> None:  # type: ignore[no-untyped-def]
    fresh_app.add_url_rule("/undeclared-registry-route", "undeclared_registry_route", lambda: "leak")
    assert route_registry(fresh_app)["undeclared_registry_route"].who is None


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
