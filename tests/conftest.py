"""Fixtures: a real app on a real database (SQLite, or PostgreSQL when asked), actors, clients."""

from __future__ import annotations

import contextvars
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from casefile.app import create_app
from casefile.auth import throttle
from casefile.config import load_settings
from casefile.db import defer_sqlite_write_lock
from casefile.extensions import db
from casefile.packets.models import Recipient
from casefile.packets.recipients import seeded_rows
from tests.databases import throwaway_postgres_database
from tests.factories import Factory
from tests.helpers import WebSession


def _postgres_database(base_url: str) -> Iterator[str]:
    with throwaway_postgres_database(base_url, "casefile_test") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("CASEFILE_TEST_DATABASE_URL")
    if server:
        yield from _postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'casefile.sqlite3'}"


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context.

    Flask reuses an app context that is already pushed, and with it ``g`` and the database
    session; each request here runs in an empty contextvars context, as in a real server.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        def request() -> Any:
            response = FlaskClient.open(self, *args, **kwargs)
            response.get_data()  # a streamed body runs here too, in the request's own context
            return response

        return contextvars.Context().run(request)


def make_app(instance: Path, database_url: str, *, env: dict[str, str] | None = None, **overrides: object) -> Flask:
    """An app with cheap argon2 parameters (the real ones are tested separately).

    No role is made to enrol a second factor here, so tests log in with a password; the tests of
    the second factor (tests/auth) use an app with the default, which requires it.
    """
    settings = load_settings(
        {"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url,
         "CASEFILE_TOTP_REQUIRED_ROLES": "", **(env or {})},
        argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1,
    )
    app = create_app(settings, TESTING=True, **overrides)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def _session_app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path_factory.mktemp("instance"), database_url)
    with app.app_context():
        upgrade()  # the real migrations, triggers included
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


APPEND_ONLY_TABLES = ("audit_events", "evidence_items", "evidence_custody")


def _empty_all_tables(app: Flask) -> None:
    """Empty every table and the evidence store between tests, lifting append-only triggers briefly."""
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                for table in APPEND_ONLY_TABLES:
                    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                for table in APPEND_ONLY_TABLES:
                    connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            else:
                triggers = connection.execute(text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                    "('audit_events', 'evidence_items', 'evidence_custody')"
                )).all()
                for name, _sql in triggers:
                    connection.execute(text(f'DROP TRIGGER "{name}"'))
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
                for _name, sql in triggers:
                    connection.execute(text(sql))
            # The recipients a migrated instance starts with.
            connection.execute(Recipient.__table__.insert(), seeded_rows(datetime(2026, 11, 24)))
        throttle.reset(app)  # failed-login counters per address
        blobs = app.config["CASEFILE_SETTINGS"].evidence_dir
        for folder in (blobs / "blobs", blobs / "tmp"):
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app(_session_app: Flask) -> Iterator[Flask]:
    """The app, with every table emptied after the test."""
    yield _session_app
    _empty_all_tables(_session_app)


@pytest.fixture
def factory(app: Flask) -> Iterator[Factory]:
    """Rows made through the services, in the test's own app context (never a request's)."""
    defer_sqlite_write_lock()
    with app.app_context():
        yield Factory(app)
        db.session.remove()


@pytest.fixture
def web(app: Flask) -> WebSession:
    """An anonymous browser-like session on the test client."""
    return WebSession(app.test_client())


@pytest.fixture
def login(app: Flask, factory: Factory):  # type: ignore[no-untyped-def]
    """``login(user)`` returns a WebSession logged in as that user."""

    def _login(user) -> WebSession:  # type: ignore[no-untyped-def]
        session = WebSession(app.test_client())
        session.login(user.username, factory.password)
        return session

    return _login


@pytest.fixture
def fresh_app(app: Flask, database_url: str, tmp_path: Path) -> Flask:
    """A second app on the same database, for tests that add routes before its first request."""
    return make_app(tmp_path, database_url)


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """Alembic's env.py (a migration or a restore run in-process) calls ``logging.config.fileConfig``,
    which disables every logger that exists; put them back so later tests still see the app's records."""
    manager = logging.root.manager
    loggers = {name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
               for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root = (logging.root.level, list(logging.root.handlers))
    yield
    for name, (disabled, level, handlers, propagate) in loggers.items():
        logger = logging.getLogger(name)
        logger.disabled, logger.level, logger.handlers, logger.propagate = disabled, level, handlers, propagate
    logging.root.level, logging.root.handlers = root[0], root[1]
