"""The Alembic migrations build exactly the schema of the models, and go down and up with data in them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import CheckConstraint, func, inspect, select, text

from casefile.access import unscoped
from casefile.auth.models import User
from casefile.auth.services import create_user
from casefile.cases.models import Case
from casefile.extensions import db
from tests.conftest import _postgres_database, make_app
from tests.factories import Factory

PASSWORD = "a long enough migration password"
SQLITE_COLLATE = re.compile(r'"?(\w+)"?\s+\w+(?:\(\d+\))?\s+COLLATE\s+"?(\w+)"?', re.IGNORECASE)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the current backend with no table at all (PostgreSQL: a separate one)."""
    server = os.environ.get("CASEFILE_TEST_DATABASE_URL")
    if server:
        yield from _postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.fixture
def migrated_app(tmp_path: Path, empty_database_url: str, keep_logging: None) -> Iterator[Flask]:
    """An app on the empty database, inside its app context; nothing is migrated yet."""
    app = make_app(tmp_path / "instance", empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _drift() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _scripts(app: Flask) -> ScriptDirectory:
    return ScriptDirectory(app.extensions["migrate"].directory)


def test_the_comparison_sees_a_schema_that_is_missing(migrated_app: Flask) -> None:
    """Guards the drift test below: on an empty database the comparison reports every table."""
    added = {diff[1].name for diff in _drift() if isinstance(diff, tuple) and diff[0] == "add_table"}
    assert added == set(db.metadata.tables)


def test_migrations_build_exactly_the_models_schema(migrated_app: Flask) -> None:
    flask_migrate.upgrade()
    assert _drift() == []
    assert _tables() == set(db.metadata.tables) | {"alembic_version"}
    assert _current_revision() == _scripts(migrated_app).get_current_head()


def test_check_constraints_are_migrated_with_their_names(migrated_app: Flask) -> None:
    # Autogenerate does not compare CHECK constraints; they guard roles and verification levels.
    flask_migrate.upgrade()
    inspector = inspect(db.engine)
    expected = {(table.name, constraint.name) for table in db.metadata.tables.values()
                for constraint in table.constraints if isinstance(constraint, CheckConstraint)}
    reflected = {(table, check["name"]) for table in db.metadata.tables
                 for check in inspector.get_check_constraints(table)}
    assert expected and reflected == expected


def test_collations_are_migrated(migrated_app: Flask, backend: str) -> None:
    # Autogenerate does not compare collations either; prefix scans and partial-date ranges
    # rely on code-point order ("C") on PostgreSQL.
    flask_migrate.upgrade()
    dialect = db.engine.dialect
    expected = {(table.name, column.name): column.type.dialect_impl(dialect).collation
                for table in db.metadata.tables.values() for column in table.columns
                if getattr(column.type.dialect_impl(dialect), "collation", None)}
    with db.engine.connect() as connection:
        if backend == "postgresql":
            rows = connection.execute(text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND collation_name IS NOT NULL"))
            reflected = {(table, column): collation for table, column, collation in rows}
            assert ("name_tokens", "token") in expected
        else:
            rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            reflected = {(table, column): collation for table, sql in rows
                         for column, collation in SQLITE_COLLATE.findall(sql or "")}
    assert reflected == expected


def test_there_is_one_head_and_a_linear_history(migrated_app: Flask) -> None:
    scripts = _scripts(migrated_app)
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(not revision.is_merge_point and not revision.is_branch_point for revision in revisions)


def test_down_to_base_and_up_again_with_data_in_the_tables(migrated_app: Flask) -> None:
    flask_migrate.upgrade()
    user = create_user(None, username="migrated.user", role="advocate", password=PASSWORD, teams=("Almaty",))
    db.session.commit()
    Factory(migrated_app).case(user)  # rows in persons, names, tokens, cases, status events, audit
    db.session.commit()
    assert db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("migration test"))) == 1
    db.session.remove()  # no open transaction may hold a lock on a table about to be dropped

    flask_migrate.downgrade(revision="base")
    assert _tables() == {"alembic_version"}
    assert _current_revision() is None

    flask_migrate.upgrade()
    assert _drift() == []
    assert db.session.scalar(select(func.count(User.id))) == 0
    again = create_user(None, username="migrated.user", role="advocate", password=PASSWORD, teams=("Almaty",))
    db.session.commit()
    assert again.id is not None and [team.name for team in again.teams] == ["Almaty"]


def test_every_revision_goes_up_and_down_one_step_at_a_time(migrated_app: Flask) -> None:
    revisions = [revision.revision for revision in reversed(list(_scripts(migrated_app).walk_revisions()))]
    for revision in revisions:
        flask_migrate.upgrade(revision=revision)
        assert _current_revision() == revision
    for revision in reversed(revisions):
        assert _current_revision() == revision
        flask_migrate.downgrade(revision="-1")
    assert _current_revision() is None
    assert _tables() == {"alembic_version"}
