"""The ``casefile`` command line as an operator uses it: ``users create`` and ``demo``, on the test database."""

from __future__ import annotations

import contextvars
import re
import unicodedata

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.auth.models import Team, User
from casefile.cases.models import Case
from casefile.cli import main
from casefile.extensions import db
from casefile.people.models import PersonName
from tests.helpers import WebSession

PASSWORD = "a long enough operator password"
DEMO_LINE = re.compile(r"^\s+(advocate|coordinator|auditor|admin)\s+(\S+)\s+(\S+)$")
# The first word of the Unicode names of each script's letters.
SCRIPT_LETTERS = {"cyrillic": "CYRILLIC", "latin": "LATIN", "chinese": "CJK", "arabic": "ARABIC"}


def invoke(app: Flask, args: list[str], stdin: str | None = None, loads: list[Flask] | None = None) -> Result:
    """Run ``casefile ARGS`` against ``app`` as a separate process would: no app context of the test's.

    An empty contextvars context means ``with_appcontext`` finds no current app, so the command
    loads its app through the ScriptInfo (recorded in ``loads``) and opens its own session.
    """

    def create_app() -> Flask:
        if loads is not None:
            loads.append(app)
        return app

    runner = CliRunner()
    return contextvars.Context().run(
        runner.invoke, main, args, input=stdin, obj=ScriptInfo(create_app=create_app))


def counts() -> dict[str, int]:
    db.session.rollback()  # a fresh snapshot: see what the command committed
    return {
        "users": db.session.scalar(select(func.count(User.id))) or 0,
        "teams": db.session.scalar(select(func.count(Team.id))) or 0,
        "events": db.session.scalar(select(func.count(AuditEvent.id))) or 0,
        "cases": db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test count"))) or 0,
    }


def one_line_error(result: Result) -> str:
    assert isinstance(result.exception, SystemExit), f"crashed instead of a message: {result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_users_create_with_teams_and_display_name(app, factory) -> None:  # type: ignore[no-untyped-def]
    factory.user("advocate", teams=("Almaty volunteers",), username="existing")
    before = counts()
    loads: list[Flask] = []
    result = invoke(app, ["users", "create", "--username", "Aigerim", "--role", "advocate", "--team",
                          "Almaty volunteers", "--team", "Shymkent", "--display-name", "Aigerim S.",
                          "--password-stdin"], stdin=PASSWORD + "\n", loads=loads)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created advocate aigerim in Almaty volunteers, Shymkent.\n"
    assert loads == [app]  # the command ran on the test app, not on one built from the environment

    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == "aigerim"))
    assert user is not None and user.role == "advocate" and user.display_name == "Aigerim S."
    assert [team.name for team in user.teams] == ["Almaty volunteers", "Shymkent"]
    assert counts() == {**before, "users": before["users"] + 1, "teams": before["teams"] + 1,
                        "events": before["events"] + 2}
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)))
    assert [(e.action, e.client_addr, e.actor_id) for e in events] == [
        ("user.create", "cli", None), ("team.create", "cli", None)]
    assert PASSWORD not in "".join(e.details for e in events)

    web = WebSession(app.test_client())
    web.login("aigerim", PASSWORD)  # the password read from stdin is the account's password
    assert web.get("/cases").status_code == 200


REFUSALS = [
    (["--username", "short.pw", "--role", "advocate", "--team", "Brand new team"], "too short",
     "Error: Use at least 12 characters."),
    (["--username", "Bad Name!", "--role", "advocate", "--team", "Brand new team"], PASSWORD,
     "Error: A username has 2 to 64 characters: lower-case letters, digits, dot, dash, underscore."),
    (["--username", "taken", "--role", "coordinator", "--team", "Brand new team"], PASSWORD,
     "Error: This username is taken."),
]


@pytest.mark.parametrize(("args", "password", "message"), REFUSALS)
def test_users_create_refuses_bad_input_and_creates_nothing(app, factory, args, password, message) -> None:  # type: ignore[no-untyped-def]
    factory.user("advocate", teams=("Almaty",), username="taken")
    before = counts()
    result = invoke(app, ["users", "create", *args, "--password-stdin"], stdin=password + "\n")
    assert result.exit_code == 1
    assert one_line_error(result) == message
    assert result.stdout == ""
    assert counts() == before
    assert db.session.scalar(select(Team).where(Team.name == "Brand new team")) is None


def test_users_create_refuses_an_unknown_role(app, factory) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    result = invoke(app, ["users", "create", "--username", "someone", "--role", "superuser", "--team", "X",
                          "--password-stdin"], stdin=PASSWORD + "\n")
    assert result.exit_code == 2
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "--role" in error[0] and "superuser" in error[0]
    assert counts() == before


@pytest.mark.parametrize(("command", "options"), [
    (["users", "create"], ["--username", "--role", "--team", "--display-name", "--password-stdin"]),
    (["demo"], ["--cases", "--seed"]),
])
def test_help(app, factory, command, options) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    result = invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: main {' '.join(command)} [OPTIONS]")
    for option in options:
        assert option in result.stdout
    assert counts() == before


def run_demo(app: Flask) -> dict[str, tuple[str, str]]:
    """``casefile demo --cases 12 --seed 1``; the printed accounts as {username: (role, password)}."""
    result = invoke(app, ["demo", "--cases", "12", "--seed", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Demo organisation created with 12 fictional cases.",
                         "Accounts (passwords are shown once, write them down):"]
    matches = [DEMO_LINE.match(line) for line in lines[2:]]
    assert len(matches) == 5 and all(matches), result.stdout
    return {m.group(2): (m.group(1), m.group(3)) for m in matches if m}


def test_demo_creates_an_organisation_and_prints_its_passwords(app, factory) -> None:  # type: ignore[no-untyped-def]
    accounts = run_demo(app)
    after = counts()
    assert after["users"] == 5 and after["cases"] == 12 and after["teams"] == 2
    stored = dict(db.session.execute(select(User.username, User.role)).tuples().all())
    assert stored == {username: role for username, (role, _) in accounts.items()}
    assert sorted(stored.values()) == ["admin", "advocate", "advocate", "auditor", "coordinator"]

    coordinator = next(username for username, (role, _) in accounts.items() if role == "coordinator")
    web = WebSession(app.test_client())
    web.login(coordinator, accounts[coordinator][1])
    page = web.get("/cases").get_data(as_text=True)
    assert '<p class="count">12 cases</p>' in page
    references = db.session.scalars(select(Case.reference).execution_options(**unscoped("test"))).all()
    assert len(references) == 12 and all(reference in page for reference in references)

    for username, (_, password) in accounts.items():  # every printed password opens its account
        WebSession(app.test_client()).login(username, password)


def test_demo_names_use_all_four_scripts(app, factory) -> None:  # type: ignore[no-untyped-def]
    run_demo(app)
    db.session.rollback()
    names = db.session.execute(
        select(PersonName.script, PersonName.text).execution_options(**unscoped("test"))).tuples().all()
    seen = set()
    for script, text in names:
        letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
        assert letters and all(unicodedata.name(ch).startswith(SCRIPT_LETTERS[script]) for ch in letters), (
            script, text)
        seen.add(script)
    assert seen == set(SCRIPT_LETTERS)


def test_a_second_demo_refuses_and_creates_nothing(app, factory) -> None:  # type: ignore[no-untyped-def]
    run_demo(app)
    before = counts()
    result = invoke(app, ["demo", "--cases", "3"])
    assert result.exit_code == 1
    assert one_line_error(result) == "Error: This instance already has cases; the demo only fills an empty instance."
    assert counts() == before


def test_demo_refuses_when_its_accounts_exist(app, factory) -> None:  # type: ignore[no-untyped-def]
    factory.user("coordinator", teams=("Almaty",), username="coordinator")
    before = counts()
    result = invoke(app, ["demo", "--cases", "3"])
    assert result.exit_code == 1
    assert one_line_error(result) == "Error: Demo accounts already exist on this instance."
    assert counts() == before
