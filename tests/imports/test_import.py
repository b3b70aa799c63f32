"""Importing spreadsheets through the app and the command line: mapping, row checks, duplicates, all or nothing."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.audit.verify import verify_chain
from casefile.cases import services as case_services
from casefile.cases.models import Case, Consent, Reporter
from casefile.extensions import db
from casefile.imports import SAMPLE_PATH, columns
from casefile.imports.models import ImportBatch
from casefile.matching.models import DuplicateCandidate
from casefile.people.models import Person
from tests.cli.test_cli import invoke

HEADER = "source_ref,name_cyrillic,name_latin,name_chinese,sex,birth_date,prc_id,hometown,status,reporter_name,consent_kz_mfa\n"


def counts() -> dict[str, int]:
    db.session.rollback()
    scoped = unscoped("test counts")
    return {
        "cases": db.session.scalar(select(func.count(Case.id)).execution_options(**scoped)) or 0,
        "people": db.session.scalar(select(func.count(Person.id)).execution_options(**scoped)) or 0,
        "reporters": db.session.scalar(select(func.count(Reporter.id)).execution_options(**scoped)) or 0,
        "consents": db.session.scalar(select(func.count(Consent.id)).execution_options(**scoped)) or 0,
    }


def cases_by_source() -> dict[str, Case]:
    db.session.rollback()
    rows = db.session.scalars(select(Case).execution_options(**unscoped("test"))).all()
    return {case.source_ref: case for case in rows}


def selected(html: str, value: str) -> bool:
    return re.search(rf'<option (?:selected value="{value}"|value="{value}" selected)', html) is not None


def upload(session, data: bytes, filename: str, team_id: int):  # type: ignore[no-untyped-def]
    return session.post("/imports", {"file": (io.BytesIO(data), filename), "team_id": str(team_id)},
                        content_type="multipart/form-data")


def batch_id(response) -> int:  # type: ignore[no-untyped-def]
    match = re.search(r"/imports/(\d+)", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


@pytest.fixture
def advocate(factory):  # type: ignore[no-untyped-def]
    return factory.user("advocate", teams=("Almaty",))


def team_id(user) -> int:  # type: ignore[no-untyped-def]
    return user.teams[0].id


# --- the whole flow in the browser -----------------------------------------------------------------

def test_the_sample_file_imports_through_every_step(advocate, login):  # type: ignore[no-untyped-def]
    session = login(advocate)
    response = upload(session, SAMPLE_PATH.read_bytes(), "sample_import.csv", team_id(advocate))
    assert response.status_code == 302
    number = batch_id(response)

    page = session.get(f"/imports/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Нұрлан Тоқтарұлы" in html  # the preview
    assert selected(html, "name_chinese")  # canonical headers are mapped without asking

    mapping = {f"column_{i}": column for i, column in enumerate(SAMPLE_PATH.read_text("utf-8").splitlines()[0].split(","))}
    response = session.post(f"/imports/{number}", {**mapping, "action": "check"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/{number}/review")

    review = session.get(f"/imports/{number}/review").get_data(as_text=True)
    assert "problem(s)" not in review
    assert "Import all 5 rows" in review
    assert counts()["cases"] == 0  # nothing before the commit

    response = session.post(f"/imports/{number}/commit", {})
    assert response.status_code == 302
    assert counts() == {"cases": 5, "people": 5, "reporters": 4, "consents": 11}
    report = session.get(f"/imports/{number}/review").get_data(as_text=True)
    assert "Cases created" in report and ">5<" in report.replace(" ", "").replace("\n", "")

    cases = cases_by_source()
    first = cases["1"]
    assert first.status == "camp" and first.team_id == team_id(advocate)
    assert first.person.prc_id == "654028197503120016" and first.person.hometown_code == "654028"
    assert [name.script for name in first.person.names] == ["cyrillic", "latin", "chinese", "arabic"]
    assert cases["4"].person.birth_date.isoformat() == "1990-01-01"
    shown = session.get(f"/cases/{first.reference}").get_data(as_text=True)
    assert "Source list" in shown and '<span class="source-ref">1</span>' in shown
    spouse = first.reporters[0]
    assert spouse.relationship_kind == "spouse"
    assert case_services.reporter_contact_for_packet(spouse) == {"phone": "+7 701 000 0001"}
    assert sorted(c.recipient_kind for c in spouse.consents) == ["kz_mfa", "kz_parliament", "un"]

    actions = dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
    assert actions["case.create"] == 5 and actions["reporter.create"] == 4 and actions["consent.record"] == 11
    assert actions["import.commit"] == 1 and actions["import.stage"] == 1
    assert verify_chain(db.session).ok

    again = session.post(f"/imports/{number}/commit", {})
    assert again.status_code == 302 and counts()["cases"] == 5  # a committed file is not imported twice


def test_one_bad_row_imports_nothing_and_names_row_column_and_reason(advocate, login):  # type: ignore[no-untyped-def]
    data = (HEADER
            + "A1,Нұрлан Тоқтарұлы,,,M,1975-03-12,654028197503120016,,camp,,\n"
            + "A2,Гүлнар Асқарқызы,,,F,1982-13-40,,,missing,,\n"
            + "A3,Серік,Серік Болатұлы,,M,,654028197503120017,,lost at sea,,иә\n").encode()
    session = login(advocate)
    number = batch_id(upload(session, data, "list.csv", team_id(advocate)))
    session.post(f"/imports/{number}", {f"column_{i}": c for i, c in enumerate(HEADER.strip().split(","))})
    html = session.get(f"/imports/{number}/review").get_data(as_text=True)
    assert "problem(s)" in html
    for needle in ("Unparseable date 1982-13-40", "Script mismatch", "The last character does not match",
                   "Unknown status lost at sea", "give the reporter&#39;s name"):
        assert needle in html, needle
    assert re.search(r"<td>4</td><td>name_latin</td>", html)  # the row as numbered in the file, its header
    response = session.post(f"/imports/{number}/commit", {})
    assert response.status_code == 302
    assert counts() == {"cases": 0, "people": 0, "reporters": 0, "consents": 0}
    assert "nothing was imported" in session.get(f"/imports/{number}/review").get_data(as_text=True)


def test_a_file_that_cannot_be_read_is_refused_at_upload(advocate, login):  # type: ignore[no-untyped-def]
    session = login(advocate)
    response = upload(session, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "list.xlsx", team_id(advocate))
    assert response.status_code == 400
    assert "not an Excel workbook" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_an_import_is_private_to_whoever_uploaded_it(advocate, factory, login):  # type: ignore[no-untyped-def]
    number = batch_id(upload(login(advocate), SAMPLE_PATH.read_bytes(), "s.csv", team_id(advocate)))
    colleague = login(factory.user("advocate", teams=("Almaty",)))
    assert colleague.get(f"/imports/{number}").status_code == 404
    assert colleague.post(f"/imports/{number}/commit", {}).status_code == 404
    auditor = login(factory.user("auditor"))
    assert auditor.get("/imports").status_code == 404


def test_discarding_a_file_removes_it_and_imports_nothing(advocate, login, app):  # type: ignore[no-untyped-def]
    session = login(advocate)
    number = batch_id(upload(session, SAMPLE_PATH.read_bytes(), "s.csv", team_id(advocate)))
    db.session.rollback()
    address = db.session.get(ImportBatch, number).file_address
    store = app.config["CASEFILE_SETTINGS"].evidence_dir
    assert any(store.rglob(address[:16] + "*"))
    assert session.post(f"/imports/{number}/discard", {}).status_code == 302
    db.session.rollback()
    assert db.session.get(ImportBatch, number).state == "discarded"
    assert not any(store.rglob(address[:16] + "*"))
    assert counts()["cases"] == 0


def test_a_mapping_can_be_saved_and_reused(advocate, login):  # type: ignore[no-untyped-def]
    session = login(advocate)
    odd = "Колонка А;Колонка Б;Когда\n7;Нұрлан Тоқтарұлы;2018\n".encode()
    number = batch_id(upload(session, odd, "odd.csv", team_id(advocate)))
    response = session.post(f"/imports/{number}", {"column_0": "source_ref", "column_1": "name_cyrillic",
                                                   "column_2": "detained_on", "mapping_name": "Village lists",
                                                   "action": "check"})
    assert response.status_code == 302
    second = batch_id(upload(session, odd, "odd2.csv", team_id(advocate)))
    page = session.get(f"/imports/{second}").get_data(as_text=True)
    saved_id = re.search(r'<option value="(\d+)">Village lists</option>', page).group(1)
    applied = session.get(f"/imports/{second}?saved={saved_id}").get_data(as_text=True)
    assert selected(applied, "detained_on") and selected(applied, "name_cyrillic")


# --- headers and values ------------------------------------------------------------------------------

def test_headers_in_english_russian_and_kazakh_are_mapped(app):  # type: ignore[no-untyped-def]
    headers = ["№", "ФИО", "Аты-жөні", "Туған күні", "Дата задержания", "ИИН", "Жынысы", "Статус", "Колонка"]
    samples = {"ФИО": ["Нұрлан Тоқтарұлы"], "Аты-жөні": ["努尔兰·托克塔尔"]}
    with app.app_context():
        mapping = columns.auto_mapping(headers, samples=samples)
    assert mapping == {"№": "source_ref", "ФИО": "name_cyrillic", "Аты-жөні": "name_chinese",
                       "Туған күні": "birth_date", "Дата задержания": "detained_on", "ИИН": "iin",
                       "Жынысы": "sex", "Статус": "status", "Колонка": ""}
    assert columns.auto_mapping(["Дата рождения", "Туған күні"])["Туған күні"] == ""  # one header per column


@pytest.mark.parametrize(("text", "choice"), [("yes", "case"), ("Да", "case"), ("иә", "case"), ("жоқ", "none"),
                                              ("нет", "none"), ("no", "none"), ("maybe", None)])
def test_consent_values_in_three_languages(text, choice):  # type: ignore[no-untyped-def]
    assert columns.consent_choice(text) == choice


# --- duplicates ------------------------------------------------------------------------------------

def test_a_row_that_is_a_recorded_person_in_another_script_can_be_linked(advocate, factory, login):  # type: ignore[no-untyped-def]
    existing = factory.case(advocate, names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")],
                            person={"birth_date": case_services.PartialDate(1975, 3, 12), "sex": "M"})
    data = ("source_ref,name_chinese,birth_date,sex\nV-9,努尔兰·托克塔尔,1975-03-12,M\n").encode()
    session = login(advocate)
    number = batch_id(upload(session, data, "village.csv", team_id(advocate)))
    session.post(f"/imports/{number}", {"column_0": "source_ref", "column_1": "name_chinese", "column_2": "birth_date",
                                        "column_3": "sex", "action": "check"})
    review = session.get(f"/imports/{number}/review").get_data(as_text=True)
    assert f'value="person:{existing.person_id}"' in review
    assert existing.reference in review and "names agree across scripts" in review
    response = session.post(f"/imports/{number}/commit", {"row-2": f"person:{existing.person_id}"})
    assert response.status_code == 302
    imported = cases_by_source()["V-9"]
    assert imported.person_id == existing.person_id
    assert counts()["people"] == 1
    names = {(name.script, name.kind, name.text) for name in imported.person.names}
    assert ("chinese", "alias", "努尔兰·托克塔尔") in names  # the new spelling is kept on the person


def test_a_person_offered_to_nobody_cannot_be_linked_by_a_forged_choice(advocate, factory, login):  # type: ignore[no-untyped-def]
    other_team = factory.user("advocate", teams=("Shymkent",))
    hidden = factory.case(other_team, names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")])
    data = "name_cyrillic\nНұрлан Тоқтарұлы\n".encode()
    session = login(advocate)
    number = batch_id(upload(session, data, "a.csv", team_id(advocate)))
    session.post(f"/imports/{number}", {"column_0": "name_cyrillic", "action": "check"})
    assert hidden.reference not in session.get(f"/imports/{number}/review").get_data(as_text=True)
    session.post(f"/imports/{number}/commit", {"row-2": f"person:{hidden.person_id}"})
    imported = [case for case in cases_by_source().values() if case.id != hidden.id]
    assert len(imported) == 1 and imported[0].person_id != hidden.person_id  # the forged choice counts for nothing


def test_rows_of_one_file_that_are_one_person_are_flagged_and_queued(advocate, factory, login):  # type: ignore[no-untyped-def]
    data = ("source_ref,name_cyrillic,name_chinese,birth_date,sex\n"
            "1,Нұрлан Тоқтарұлы,,1975-03-12,M\n"
            "2,,努尔兰·托克塔尔,1975-03-12,M\n"
            "3,Гүлнар Асқарқызы,,1982,F\n").encode()
    session = login(advocate)
    number = batch_id(upload(session, data, "dups.csv", team_id(advocate)))
    session.post(f"/imports/{number}", {"column_0": "source_ref", "column_1": "name_cyrillic",
                                        "column_2": "name_chinese", "column_3": "birth_date", "column_4": "sex",
                                        "action": "check"})
    review = session.get(f"/imports/{number}/review").get_data(as_text=True)
    assert 'name="row-3" value="row:2"' in review  # row 3 of the file (source 2) may be row 2
    session.post(f"/imports/{number}/commit", {})  # left as new people: the pair goes to the queue
    assert counts()["people"] == 3
    db.session.rollback()
    queued = db.session.scalars(select(DuplicateCandidate).execution_options(**unscoped("test"))).all()
    cases = cases_by_source()
    assert {(q.first_id, q.second_id) for q in queued} == {tuple(sorted((cases["1"].person_id, cases["2"].person_id)))}


# --- the command line ----------------------------------------------------------------------------------

def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cli_imports_an_xlsx_and_links_a_recorded_prc_id(app, advocate, factory, tmp_path):  # type: ignore[no-untyped-def]
    existing = factory.case(advocate, names=[("latin", "primary", "Serik Bolatuly")],
                            person={"prc_id": "654002196811200036"})
    path = tmp_path / "list.xlsx"
    path.write_bytes(xlsx([["№", "ФИО", "Дата рождения", "PRC ID", "Статус"],
                           [1, "Серік Болатұлы", "20.11.1968", "654002196811200036", "запрет на выезд"],
                           [2, "Ерлан Қанатұлы", 1990, None, "лагерь"]]))
    result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", advocate.username, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and counts()["cases"] == 1
    result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", advocate.username])
    assert result.exit_code == 0, result.output
    assert "2 cases" in result.output and "1 rows linked" in result.output
    cases = cases_by_source()
    assert cases["1"].person_id == existing.person_id and cases["1"].status == "exit_barred"
    assert cases["2"].status == "camp" and cases["2"].person.birth_date.isoformat() == "1990"


def test_cli_refuses_a_file_with_a_bad_row_and_imports_nothing(app, advocate, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "1,Нұрлан,,,M,1975,654028197503120017,,camp,,\n2,Гүлнар,,,F,1982,,,camp,,\n", "utf-8")
    result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", advocate.username])
    assert result.exit_code == 1
    assert "row 2, prc_id:" in result.output and "nothing was imported" in result.output
    assert counts()["cases"] == 0


def test_cli_takes_a_mapping_file(app, advocate, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "odd.csv"
    path.write_text("Колонка А\tКолонка Б\nX-1\tNurlan Toktarov\n", "cp1251")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Колонка А": "source_ref", "Колонка Б": "name_latin"}), "utf-8")
    result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", advocate.username, "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert cases_by_source()["X-1"].person.names[0].text == "Nurlan Toktarov"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"Nope": "source_ref"}), "utf-8")
    result = invoke(app, ["import", str(path), "--team", "Almaty", "--as", advocate.username, "--mapping", str(wrong)])
    assert result.exit_code == 1 and "headers the file does not have: Nope" in result.output


def test_cli_refuses_a_team_the_account_cannot_use(app, advocate, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.csv"
    path.write_bytes(SAMPLE_PATH.read_bytes())
    result = invoke(app, ["import", str(path), "--team", "Shymkent", "--as", advocate.username])
    assert result.exit_code == 1 and "cannot file cases under a team named Shymkent" in result.output
    assert counts()["cases"] == 0


# --- size ----------------------------------------------------------------------------------------------

@pytest.fixture
def small_app(app, database_url, tmp_path):  # type: ignore[no-untyped-def]
    """The app with a 1 MB import limit, on the same database and keys."""
    from casefile.app import create_app
    from tests.conftest import IsolatedClient
    from tests.evidence.test_limits import cheap_settings

    master_key = app.config["CASEFILE_SETTINGS"].master_key_file
    small = create_app(cheap_settings(tmp_path / "small", database_url, CASEFILE_IMPORT_MAX_MB="1",
                                      CASEFILE_MASTER_KEY_FILE=str(master_key)), TESTING=True)
    small.test_client_class = IsolatedClient
    yield small
    with small.app_context():
        db.engine.dispose()


def test_a_large_file_of_junk_is_refused_before_it_is_read(small_app, factory, tmp_path):  # type: ignore[no-untyped-def]
    import os

    from tests.helpers import WebSession

    advocate = factory.user("advocate", teams=("Almaty",))
    session = WebSession(small_app.test_client())
    session.login(advocate.username, factory.password)
    junk = os.urandom(3 * 2**20)
    response = upload(session, junk, "list.xlsx", team_id(advocate))
    assert response.status_code == 413 and "larger than this server accepts" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0
    path = tmp_path / "junk.csv"
    path.write_bytes(junk)
    result = invoke(small_app, ["import", str(path), "--team", "Almaty", "--as", advocate.username])
    assert result.exit_code == 1 and "larger than CASEFILE_IMPORT_MAX_MB (1 MB)" in result.output
    assert counts()["cases"] == 0
