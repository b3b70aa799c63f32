"""A live server on loopback and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from casefile.extensions import db
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
REPOSITORY = Path(__file__).resolve().parents[2]
# Screenshots and other files worth keeping after a run; CASEFILE_TEST_ARTEFACTS moves the folder.
ARTEFACTS_VARIABLE = "CASEFILE_TEST_ARTEFACTS"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the duration of the block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def strict_live_server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[str]:
    """A live server whose coordinators, auditors and admins must enrol a second factor (the production default).

    It runs a second app on the test database (emptied after the test by ``app``) with its own
    instance folder, hence its own master key: whatever it seals must be made through it.
    """
    strict = make_app(tmp_path / "strict-instance", database_url,
                      env={"CASEFILE_TOTP_REQUIRED_ROLES": "coordinator,auditor,admin"})
    try:
        with serving(strict) as url:
            yield url
    finally:
        with strict.app_context():
            db.session.remove()
            db.engine.dispose()  # no connection of this app outlives the test (PostgreSQL drops the database)


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """This test's folder for screenshots: ``artefacts/browser/<test name>/`` under the repository root,
    or under ``$CASEFILE_TEST_ARTEFACTS/browser/`` when set. Emptied of the previous run's screenshots."""
    root = Path(os.environ.get(ARTEFACTS_VARIABLE) or REPOSITORY / "artefacts")
    folder = root / "browser" / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)  # the main flows work without scripts
    yield context.new_page()
    context.close()
