"""Headers on every response, CSRF on every state-changing route, no stack traces."""

from __future__ import annotations

from sqlalchemy import func, select

from casefile import access
from casefile.access import unscoped
from casefile.cases.models import Case
from casefile.extensions import db
from tests.cases.test_case_forms import case_form
from tests.helpers import WebSession, route_url


def test_security_headers_on_pages(web, factory, login) -> None:  # type: ignore[no-untyped-def]
    for response in (web.get("/login"), login(factory.user("advocate")).get("/cases")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
                          "form-action 'self'"):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cache-Control"] == "no-store"


def test_state_changing_routes_refuse_a_missing_csrf_token(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    web = login(advocate)
    response = web.post("/cases/new", case_form(advocate.teams[0].id), csrf=False)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test"))) == 0
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert posts
    for rule in posts:
        url = route_url(rule.rule, user_id=advocate.id)
        status = web.post(url, {}, csrf=False).status_code
        assert status in (400, 404), (url, status)  # 404 where the role may not use it at all


def test_error_pages_carry_no_stack_trace(fresh_app, factory) -> None:  # type: ignore[no-untyped-def]
    def broken() -> str:
        raise RuntimeError("internal detail that must not leak")

    fresh_app.add_url_rule("/broken-test-route", "broken_test_route", access.authenticated(broken))
    user = factory.user("advocate")
    web = WebSession(fresh_app.test_client())
    web.login(user.username, factory.password)
    response = web.get("/broken-test-route")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "internal detail" not in body and "Traceback" not in body


def test_health_check(web) -> None:  # type: ignore[no-untyped-def]
    response = web.get("/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}
