"""Empty target instances to restore into."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from casefile.extensions import db
from tests.backup.helpers import postgres_server
from tests.conftest import make_app
from tests.databases import throwaway_postgres_database


@pytest.fixture
def make_target(tmp_path: Path, keep_logging: None) -> Iterator:  # type: ignore[type-arg]
    """``make_target(kind, master_key_file)``: an app on a new, empty database (no tables at all)."""
    apps: list[Flask] = []
    databases: list = []

    def _make(kind: str, master_key_file: Path, name: str = "target") -> Flask:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        else:
            server = postgres_server()
            assert server, "PostgreSQL target without CASEFILE_TEST_DATABASE_URL"
            manager = throwaway_postgres_database(server, "test_backup_target")
            url = manager.__enter__()
            databases.append(manager)
        app = make_app(tmp_path / name, url, env={"CASEFILE_MASTER_KEY_FILE": str(master_key_file)})
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    for manager in databases:
        manager.__exit__(None, None, None)
