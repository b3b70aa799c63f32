"""An advocate imports a spreadsheet in a real browser, and a coordinator settles the duplicate it raised."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.cases.models import Case
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db

pytestmark = pytest.mark.browser


def log_in(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_an_import_from_upload_to_commit_and_its_duplicate_reviewed(page, live_server, factory, tmp_path, artefacts) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    coordinator = factory.user("coordinator", teams=("Almaty",))
    recorded = factory.case(advocate, names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")],
                            person={"birth_date": PartialDate(1975, 3, 12), "sex": "M"})
    sheet = tmp_path / "village list.csv"
    sheet.write_text("№;Аты-жөні;Туған күні;Жынысы;Статус\n"
                     "7;努尔兰·托克塔尔;12.03.1975;ер;лагерь\n"
                     "8;古丽娜尔·阿斯卡尔;1982;әйел;сотталған\n", "utf-8")

    log_in(page, live_server, advocate.username, factory.password)
    page.click("nav >> text=Import")
    page.set_input_files("#file", str(sheet))
    page.click("text=Upload and preview")
    assert page.locator("table.preview >> text=努尔兰·托克塔尔").count() == 1
    assert page.input_value("#column_1") == "name_chinese"  # "Аты-жөні" mapped by the script of its values
    page.click("text=Check every row")
    assert page.locator("text=may be people already recorded").count() == 1
    assert page.locator(f"a:has-text('{recorded.reference}')").count() == 1
    page.click("text=Import all 2 rows")  # the likely duplicate stays a new person: it goes to the queue
    assert page.locator("text=Imported 2 case(s)").count() == 1
    page.screenshot(path=str(artefacts / "01-import-report.png"))

    db.session.rollback()
    assert db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("test"))) == 3

    page.context.clear_cookies()
    log_in(page, live_server, coordinator.username, factory.password)
    page.click("nav >> text=Duplicates")
    assert page.locator("text=努尔兰·托克塔尔").count() >= 1 and page.locator("text=Нұрлан Тоқтарұлы").count() >= 1
    pair = page.locator("article.duplicate-pair").first
    pair.locator("input[type=checkbox]").check()
    pair.locator(f"button[value='{recorded.person_id}']").click()  # keep the recorded person
    page.screenshot(path=str(artefacts / "02-merged.png"))
    db.session.rollback()
    people = db.session.scalars(select(Case.person_id).execution_options(**unscoped("test"))).all()
    assert len(set(people)) == 2  # the imported row and the recorded case are now one person
