"""The tripwire refuses case-owned rows that did not come through ``casefile.access``; raw SQL is listed."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

import casefile
from casefile.access import UnscopedQuery, visible_cases, visible_persons, visible_reporters
from casefile.auth.models import User
from casefile.cases import services as case_services
from casefile.cases.models import Case, CaseStatusEvent, Consent, Reporter, TimelineEvent
from casefile.extensions import db
from casefile.people.models import NameToken, Person, PersonName

GUARDED = [Case, Person, PersonName, NameToken, CaseStatusEvent, TimelineEvent, Reporter, Consent]
PACKAGE = Path(casefile.__file__).resolve().parent

# Every raw SQL string in the package, by (file, function, call, first argument). A new one fails
# the scan below until someone has looked at it and added it here.
RAW_SQL_ALLOWED = {
    ("casefile/imports/services.py", "_copy", "cursor.copy", "f'COPY {table.name} ({names}) FROM STDIN'"),
    ("casefile/audit/services.py", "_lock_chain", "text", "'SELECT pg_advisory_xact_lock(:key)'"),
    ("casefile/db.py", "install_sqlite_pragmas._on_begin", "exec_driver_sql",
     "'BEGIN IMMEDIATE' if _sqlite_write_lock_on_begin.get() else 'BEGIN'"),
    ("casefile/db.py", "install_sqlite_pragmas._on_connect", "cursor.execute", "'PRAGMA foreign_keys=ON'"),
    ("casefile/db.py", "install_sqlite_pragmas._on_connect", "cursor.execute", "'PRAGMA journal_mode=WAL'"),
    ("casefile/db.py", "install_sqlite_pragmas._on_connect", "cursor.execute", "'PRAGMA synchronous=NORMAL'"),
    ("casefile/db.py", "install_sqlite_pragmas._on_connect", "cursor.execute", "'PRAGMA busy_timeout=30000'"),
    ("casefile/web/views.py", "health", "text", "'SELECT 1'"),
    ("casefile/backup/services.py", "_revision", "text", "'SELECT version_num FROM alembic_version'"),
    ("casefile/evidence/services.py", "_lock_blob", "text", "'SELECT pg_advisory_xact_lock(:space, :key)'"),
}


@pytest.fixture
def world(factory):  # type: ignore[no-untyped-def]
    """Two teams with one case each (one with a reporter), and a restricted case."""
    almaty = factory.user("advocate", teams=("Almaty",), username="adv-almaty")
    astana = factory.user("advocate", teams=("Astana",), username="adv-astana")
    factory.user("coordinator", teams=("Almaty",), username="coord")
    factory.user("admin", username="adm")
    case_a = factory.case(almaty, names=[("cyrillic", "primary", "Серік Болатұлы"), ("latin", "alias", "Serik")])
    case_b = factory.case(astana, names=[("cyrillic", "primary", "Айгүл Тұрсынқызы")])
    secret = factory.case(astana, names=[("cyrillic", "primary", "Қанат Жұмабекұлы")], restricted=True)
    case_services.add_reporter(almaty, factory.reload_case(case_a.reference), case_services.ReporterInput(
        full_name="Болат Серікұлы", relationship_kind="father", contact={"phone": "+7 701 000 0000"},
        consents={"un": "case"}, consent_on=date(2024, 5, 1)))
    db.session.commit()
    refs = {"a": case_a.reference, "b": case_b.reference, "secret": secret.reference}
    db.session.remove()  # a new session: nothing of the above in the identity map
    users = {name: db.session.scalar(select(User).where(User.username == name))
             for name in ("adv-almaty", "adv-astana", "coord", "adm")}
    return {"users": users, "refs": refs}


@pytest.mark.parametrize("model", GUARDED, ids=lambda model: model.__name__)
def test_an_unscoped_select_is_refused(world, model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnscopedQuery):
        db.session.scalars(select(model)).all()
    db.session.rollback()
    with pytest.raises(UnscopedQuery):  # a column of the model, or a count, is refused as well
        db.session.scalar(select(func.count(getattr(model, model.__mapper__.primary_key[0].key))))
    db.session.rollback()


def test_get_by_primary_key_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    case_id = db.session.scalar(visible_cases(world["users"]["coord"]).limit(1)).id
    db.session.remove()  # the case must not be in the identity map already
    with pytest.raises(UnscopedQuery):
        db.session.get(Case, case_id)
    db.session.rollback()
    with pytest.raises(UnscopedQuery):
        db.session.get(Person, 1)


@pytest.mark.parametrize(("username", "expected"), [
    ("adv-almaty", {"a"}),
    ("adv-astana", {"b", "secret"}),  # own team, and the creator of the restricted case
    ("coord", {"a", "b"}),
    ("adm", set()),
])
def test_the_scoped_selects_return_what_the_user_may_see(world, username, expected) -> None:  # type: ignore[no-untyped-def]
    user = world["users"][username]
    refs = world["refs"]
    cases = db.session.scalars(visible_cases(user)).all()
    assert {case.reference for case in cases} == {refs[key] for key in expected}
    assert db.session.scalar(select(func.count()).select_from(visible_cases(user).subquery())) == len(expected)
    persons = db.session.scalars(visible_persons(user)).all()
    assert {person.id for person in persons} == {case.person_id for case in cases}
    reporters = db.session.scalars(visible_reporters(user)).all()
    assert [r.full_name for r in reporters] == (["Болат Серікұлы"] if "a" in expected else [])


def test_relationships_of_a_case_fetched_through_access_load(world) -> None:  # type: ignore[no-untyped-def]
    user = world["users"]["adv-almaty"]
    case = db.session.scalar(visible_cases(user).where(Case.reference == world["refs"]["a"]))
    assert [name.text for name in case.person.names] == ["Серік Болатұлы", "Serik"]
    assert all(name.tokens for name in case.person.names)
    assert [event.status for event in case.status_events] == [case.status]
    [reporter] = case.reporters
    assert [consent.recipient_kind for consent in reporter.consents] == ["un"]
    assert case.team.name == "Almaty" and case.created_by.username == "adv-almaty"
    db.session.commit()  # expired attributes are reloaded by primary key: allowed too
    assert case.reference == world["refs"]["a"] and case.person.names[0].text == "Серік Болатұлы"


# Gaps in the tripwire (app bug, see the report): statements whose first entity is not case-owned,
# a count with select_from, and Core selects of the tables all read case rows unchecked.
@pytest.mark.parametrize("statement", [
    lambda: select(func.count()).select_from(Case),
    lambda: select(User.username).join(Case, Case.created_by_id == User.id).join(Person).join(PersonName)
    .where(PersonName.text == "Қанат Жұмабекұлы"),
    lambda: select(User.username).where(select(Case.id).where(Case.created_by_id == User.id).exists()),
    lambda: select(Case.__table__.c.reference),
], ids=["count-select-from", "join-through-user", "exists-subquery", "core-table"])
def test_statements_that_reach_case_rows_otherwise_are_refused(world, statement) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnscopedQuery):
        db.session.execute(statement()).all()


class RawSqlFinder(ast.NodeVisitor):
    """Calls that run SQL written as a string: ``text()``, ``literal_column()``,
    ``exec_driver_sql()``, and DB-API ``execute*()`` (and psycopg's ``copy()``) with a literal string."""

    def __init__(self, path: str) -> None:
        self.path, self.scope, self.text_names = path, [], {"text", "literal_column"}
        self.found: set[tuple[str, str, str, str]] = set()

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").startswith("sqlalchemy"):
            self.text_names |= {alias.asname or alias.name for alias in node.names
                                if alias.name in ("text", "literal_column")}

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_Call(self, node: ast.Call) -> None:
        func_, kind = node.func, None
        first = node.args[0] if node.args else None
        if isinstance(func_, ast.Name) and func_.id in self.text_names:
            kind = "text"
        elif isinstance(func_, ast.Attribute) and func_.attr in ("text", "literal_column", "exec_driver_sql"):
            kind = func_.attr
        elif (isinstance(func_, ast.Attribute) and func_.attr in ("execute", "executemany", "executescript", "copy")
              and isinstance(first, (ast.Constant, ast.JoinedStr, ast.BinOp))):
            kind = f"{ast.unparse(func_.value)}.{func_.attr}"
        if kind:
            self.found.add((self.path, ".".join(self.scope), kind, ast.unparse(first) if first else ""))
        self.generic_visit(node)


def raw_sql_in(source: str, path: str) -> set[tuple[str, str, str, str]]:
    finder = RawSqlFinder(path)
    finder.visit(ast.parse(source, path))
    return finder.found


def test_the_raw_sql_finder_finds_what_it_should() -> None:
    source = (
        "from sqlalchemy import text as sql_text\n"
        "import sqlalchemy as sa\n"
        "def f(session, cursor, path, name):\n"
        "    session.execute(sql_text('SELECT * FROM cases'))\n"
        "    session.execute(sa.text(f'SELECT {name}'))\n"
        "    cursor.execute('DELETE FROM persons')\n"
        "    cursor.execute(query)\n"          # a variable: not a literal, the definition is scanned
        "    return path.read_text(), name.text\n"
    )
    assert raw_sql_in(source, "x.py") == {
        ("x.py", "f", "text", "'SELECT * FROM cases'"),
        ("x.py", "f", "text", "f'SELECT {name}'"),
        ("x.py", "f", "cursor.execute", "'DELETE FROM persons'"),
    }


def test_every_raw_sql_use_in_the_package_is_on_the_allow_list() -> None:
    found: set[tuple[str, str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        found |= raw_sql_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent).as_posix())
    assert found - RAW_SQL_ALLOWED == set(), "new raw SQL: review it, then add it to RAW_SQL_ALLOWED"
    assert RAW_SQL_ALLOWED - found == set(), "stale entries: remove them from RAW_SQL_ALLOWED"
