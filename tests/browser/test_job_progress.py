"""A large import in a real browser with scripts on: the job page's bar follows the job to done,
and without scripts the page refreshes itself to the same end."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.cases.models import Case
from casefile.extensions import db
from tests.browser.conftest import CHROMIUM

pytestmark = pytest.mark.browser
ROWS = 600

FIRST = ["Нұрлан", "Гүлнар", "Ерлан", "Айжан", "Серік", "Бақыт", "Асқар", "Мұрат", "Дина", "Жанар"]
FATHER = ["Тоқтар", "Болат", "Қанат", "Төлеген", "Ахмет", "Серік", "Қайрат", "Бек"]
ENDING = ["ұлы", "қызы"]


def sheet_rows(count: int) -> str:
    lines = ["№;Аты-жөні;Статус"]
    names = itertools.cycle(f"{first} {father}{ending}" for first in FIRST for father in FATHER for ending in ENDING)
    for number, name in zip(range(1, count + 1), names):
        lines.append(f"{number};{name};лагерь")
    return "\n".join(lines) + "\n"


def log_in(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def cases() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test"))) or 0


@pytest.fixture
def scripted_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=True)
    yield context.new_page()
    context.close()


def _import_until_the_job_page(page, live_server, factory, tmp_path, rows: int) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    sheet = tmp_path / "long list.csv"
    sheet.write_text(sheet_rows(rows), "utf-8")
    log_in(page, live_server, advocate.username, factory.password)
    page.click("nav >> text=Import")
    page.set_input_files("#file", str(sheet))
    page.click("text=Upload and preview")
    page.click("text=Check every row")
    page.click(f"text=Import all {rows} rows")
    assert "/jobs/" in page.url


def test_the_progress_bar_moves_to_done(scripted_page, live_server, factory, tmp_path, artefacts, app,
                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert CHROMIUM.exists()
    monkeypatch.setitem(app.config, "CASEFILE_IMPORT_JOB_ROWS", 100)
    page = scripted_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    _import_until_the_job_page(page, live_server, factory, tmp_path, ROWS)
    page.screenshot(path=str(artefacts / "01-job-started.png"))
    page.wait_for_selector("#job-result", timeout=120_000)  # the script reloads the page when it is done
    assert page.eval_on_selector("#job-progress", "bar => bar.value") == 100
    assert page.inner_text("#job-percent") == "100 %"
    page.screenshot(path=str(artefacts / "02-job-done.png"))
    assert errors == []  # no CSP refusal, no script error
    page.click("#job-result")
    assert page.locator("text=Cases created").count() == 1
    assert cases() == ROWS


def test_without_scripts_the_job_page_refreshes_to_its_result(page, live_server, factory, tmp_path, artefacts, app,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CASEFILE_IMPORT_JOB_ROWS", 100)
    _import_until_the_job_page(page, live_server, factory, tmp_path, 200)
    page.wait_for_selector("#job-result", timeout=120_000)  # <meta http-equiv="refresh"> while it runs
    page.screenshot(path=str(artefacts / "01-job-done-without-scripts.png"))
    assert cases() == 200
