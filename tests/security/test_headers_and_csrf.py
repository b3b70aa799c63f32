"""Headers on every response, CSRF on every state-changing route, no stack traces."""

from __future__ import annotations

from sqlalchemy import func, select

from casefile import access
from casefile.access import unscoped
from casefile.cases.models import Case
from casefile.extensions import db
from tests.cases.test_case_forms import case_form
from tests.conftest import make_app
from tests.helpers import WebSession, csrf_token_in, route_url


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


def test_state_changing_routes_refuse_a_missing_csrf_token(app, web, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    browsers = {"anonymous": web, **{role: login(factory.user(role, teams=("Almaty",)))
                                     for role in ("advocate", "coordinator", "auditor", "admin")}}
    response = browsers["advocate"].post("/cases/new", case_form(advocate.teams[0].id), csrf=False)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test"))) == 0
    changing = [(rule, method) for rule in app.url_map.iter_rules()
                for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"})]
    assert ("/logout", "POST") in {(rule.rule, method) for rule, method in changing}
    for rule, method in changing:
        url = route_url(rule.rule, user_id=advocate.id)
        for who, browser in browsers.items():
            status = browser.client.open(url, method=method, data={}).status_code
            # The token is checked before anything else: before the login, the role and the lookup.
            assert status == 400, (who, method, url, status)
    for browser in browsers.values():
        assert browser.get("/").status_code in (200, 302)
    assert browsers["admin"].get("/admin/users").status_code == 200  # still logged in: logout was refused


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


def test_hsts_only_over_https(app, database_url, tmp_path, web) -> None:  # type: ignore[no-untyped-def]
    assert "Strict-Transport-Security" not in web.get("/login").headers
    https = make_app(tmp_path, database_url, env={"CASEFILE_HTTPS": "1"})
    response = https.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in https.test_client().get("/login").headers.get("Set-Cookie", "Secure")


def test_a_database_that_is_down_gives_a_503_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    down = make_app(tmp_path, "postgresql://casefile@127.0.0.1:9/unreachable")  # nothing listens on port 9
    client = down.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": "someone", "password": "whatever it is",
                                           "csrf_token": csrf_token_in(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "database does not answer" in body
    assert "psycopg" not in body and "Traceback" not in body and "127.0.0.1" not in body
    assert client.get("/health").status_code == 503


def test_debug_is_off_unless_asked_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from casefile.app import create_app
    from casefile.config import load_settings

    app = create_app(load_settings({"CASEFILE_INSTANCE": str(tmp_path)}))
    assert app.debug is False and not app.config["PROPAGATE_EXCEPTIONS"]
    assert app.config["TESTING"] is False


def test_no_version_on_error_pages(web) -> None:  # type: ignore[no-untyped-def]
    response = web.get("/no-such-page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    for leak in ("Werkzeug", "Flask", "Python", "casefile 0.", "SQLAlchemy"):
        assert leak not in body
