"""The language switch in the header, through the app: what it changes, where it is remembered,
and what it leaves alone (the language of a packet)."""

from __future__ import annotations

import contextvars
import io
import re

import click
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from flask_babel import gettext
from pypdf import PdfReader
from sqlalchemy import select

from casefile.audit.models import AuditEvent
from casefile.auth.models import User
from casefile.cli import main as cli_main
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.packets.labels import label as packet_label
from casefile.web.language import command_locale
from tests.cli.test_cli import invoke as invoke_cli
from tests.helpers import WebSession
from tests.packets.test_build import packet_form, packets, reporter


def switch(web: WebSession, locale: str, back: str = "/cases") -> None:
    response = web.post(f"/language?next={back}", {"locale": locale})
    assert response.status_code == 302 and response.headers["Location"] == back


def header_nav(page: str) -> str:
    return page.split("<header", 1)[1].split("</header>", 1)[0]


def saved_locale(username: str) -> str:
    db.session.commit()
    return db.session.scalar(select(User.locale).where(User.username == username))  # type: ignore[no-any-return]


def test_choosing_russian_translates_the_header_forms_and_dates_and_is_kept_for_the_account(
        login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate, detained_on=PartialDate(2018, 3), person={"birth_date": PartialDate(1976, 3, 14)})
    web = login(advocate)
    english = web.get("/cases").get_data(as_text=True)
    assert ">New case<" in header_nav(english) and 'lang="en"' in english

    switch(web, "ru")
    page = web.get("/cases").get_data(as_text=True)
    assert 'lang="ru"' in page and ">Новое дело<" in header_nav(page) and ">Выйти<" in header_nav(page)
    assert '<option value="ru" lang="ru" selected>Русский</option>' in page
    assert "1 дело" in page  # ngettext with the Russian plural rules
    # CLDR puts no-break spaces in dates ("14 мар. 1976 г."): compare with plain ones.
    shown = re.sub(r"[\u00a0\u202f]", " ", web.get(f"/cases/{case.reference}").get_data(as_text=True))
    assert '<time datetime="2018-03">март 2018</time>' in shown  # the month's name as it stands alone
    assert '<time datetime="1976-03-14">14 мар. 1976 г.</time>' in shown
    assert "Дата задержания" in shown  # a label of the case page

    form = web.get("/account/password").get_data(as_text=True)
    assert '<label for="current">Текущий пароль</label>' in form
    refused = web.post("/account/password", {"current": "", "password": "x", "confirm": "y"}).get_data(as_text=True)
    assert "Обязательное поле." in refused  # WTForms' own message, from its Russian catalogue
    assert "Пароли не совпадают." in refused  # our message, from ours
    status = web.post(f"/cases/{case.reference}/status", {"status": "camp", "occurred_on": "2017-13", "source": "x"})
    assert "Месяца 13 не существует: месяц — от 1 до 12." in status.get_data(as_text=True)

    assert saved_locale(advocate.username) == "ru"
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "user.locale")) == "user.locale"
    web.post("/logout", {})
    assert "<h1>Вход</h1>" in web.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    again = WebSession(web.client.application.test_client())  # another browser, logged out
    login_page = again.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Log in</h1>" in login_page
    again.login(advocate.username, factory.password)
    assert ">Новое дело<" in header_nav(again.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True))


def test_the_saved_choice_wins_over_the_browser_and_the_browser_over_english(login, factory, web) -> None:  # type: ignore[no-untyped-def]
    kazakh = web.get("/login", headers={"Accept-Language": "kk,ru;q=0.8"}).get_data(as_text=True)
    assert 'lang="kk"' in kazakh and "<h1>Log in</h1>" not in kazakh and "<h1>Вход</h1>" not in kazakh
    refused = web.post("/login", {"username": "", "password": ""}, headers={"Accept-Language": "kk"})
    assert "Бұл өріс міндетті түрде керек." in refused.get_data(as_text=True)  # WTForms ships Kazakh too
    assert "<h1>Вход</h1>" in web.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert "<h1>Log in</h1>" in web.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    advocate = factory.user("advocate")
    session = login(advocate)
    switch(session, "kk")
    assert 'lang="kk"' in session.get("/cases", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    switch(session, "en")
    assert 'lang="en"' in session.get("/cases", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert saved_locale(advocate.username) == "en"


def test_a_choice_on_the_login_page_outlives_the_login(web, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    switch(web, "ru", back="/login")
    page = web.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Вход</h1>" in page and "Имя пользователя" in page
    refused = web.post("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "Обязательное поле." in refused
    web.login(advocate.username, factory.password)  # a new session: the choice is in its own cookie
    assert ">Новое дело<" in header_nav(web.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert saved_locale(advocate.username) == ""  # the account has chosen nothing yet


def test_a_choice_outside_the_offer_changes_nothing(login, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    web = login(advocate)
    response = web.post("/language?next=/cases", {"locale": "de"})
    assert response.status_code == 302
    assert "Choose one of the languages offered." in web.get("/cases").get_data(as_text=True)
    assert saved_locale(advocate.username) == ""
    # Only a path on this site is a way back.
    for away in ("https://example.org/", "//example.org/", "/\\example.org"):
        assert web.post(f"/language?next={away}", {"locale": "ru"}).headers["Location"] == "/"
    assert web.post("/language", {"locale": "ru"}, csrf=False).status_code == 400


def test_a_packet_keeps_its_own_language_whatever_the_interface_language(login, factory) -> None:  # type: ignore[no-untyped-def]
    coordinator = factory.user("coordinator")
    advocate = factory.user("advocate")
    case = factory.case(advocate, verification_level=2)
    reporter(factory, advocate, case, "Гүлнар Сейтқызы", {"kz_mfa": "case"})
    web = login(coordinator)
    switch(web, "ru")
    response = web.post("/packets/new", packet_form(language="kk", build="Build", subject="Өтініш", text="Сұраймыз."))
    assert response.status_code == 302, response.get_data(as_text=True)
    [packet] = packets()
    pdf = web.get(f"/packets/{packet.reference}/pdf").get_data()
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    text = re.sub(r"\s+", " ", text)
    status = factory.reload_case(case.reference).status
    assert packet_label("kk", "status", status) in text
    assert packet_label("ru", "status", status) not in text


def test_commands_speak_english_unless_told_otherwise() -> None:
    assert command_locale({}) == "en"
    assert command_locale({"LANG": "C.UTF-8"}) == "en"
    assert command_locale({"LANG": "ru_RU.UTF-8"}) == "ru"
    assert command_locale({"LANG": "ru_RU.UTF-8", "CASEFILE_LANGUAGE": "kk"}) == "kk"
    assert command_locale({"CASEFILE_LANGUAGE": "de", "LANG": "de_DE.UTF-8"}) == "en"


def test_a_command_speaks_the_language_it_is_given(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CASEFILE_LANGUAGE", "ru")
    with app.app_context():  # a command: an app context, no request
        assert gettext("Log in") == "Вход"
    monkeypatch.delenv("CASEFILE_LANGUAGE")
    monkeypatch.setenv("LANG", "C.UTF-8")
    with app.app_context():
        assert gettext("Log in") == "Log in"


def test_a_command_prints_its_messages_in_the_language_it_is_given(app, factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CASEFILE_LANGUAGE", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    create = ["users", "create", "--role", "advocate", "--password-stdin", "--username"]
    english = invoke_cli(app, [*create, "english.one"], stdin="a long enough operator password\n")
    assert english.exit_code == 0 and english.stdout == "Created advocate english.one.\n"

    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    russian = invoke_cli(app, [*create, "russian.one"], stdin="a long enough operator password\n")
    assert russian.exit_code == 0 and russian.stdout == "Создан пользователь russian.one (роль advocate).\n"

    monkeypatch.setenv("CASEFILE_LANGUAGE", "kk")  # wins over LANG
    kazakh = invoke_cli(app, [*create, "kazakh.one", "--team", "Алматы"], stdin="a long enough operator password\n")
    assert kazakh.exit_code == 0
    assert kazakh.stdout == "kazakh.one пайдаланушысы құрылды (рөлі advocate), топтары: Алматы.\n"
    refused = invoke_cli(app, ["packets", "build", "--recipient", "kz-mfa", "--as", "nobody", "--out", "x.pdf"])
    assert refused.exit_code == 1 and "Error: nobody деген белсенді тіркелгі жоқ." in refused.stderr


def test_command_help_is_printed_in_the_language_it_is_given(app, factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("CASEFILE_LANGUAGE", "en")
    top = invoke_cli(app, ["--help"])
    assert top.exit_code == 0 and "casefile: case records, evidence and petition packets." in top.stdout
    assert "Manage accounts." in top.stdout

    monkeypatch.setenv("CASEFILE_LANGUAGE", "kk")
    top = invoke_cli(app, ["--help"])
    assert top.exit_code == 0
    assert "casefile: іс жазбалары, дәлелдер және өтініш пакеттері." in top.stdout
    assert "Тіркелгілерді басқару." in top.stdout and "Manage accounts." not in top.stdout
    purge = invoke_cli(app, ["evidence", "purge", "--help"])
    assert purge.exit_code == 0 and "Растауды сұрамау." in purge.stdout and "Материалдың нөмірі." in purge.stdout

    monkeypatch.setenv("CASEFILE_LANGUAGE", "ru")
    backup = invoke_cli(app, ["backup", "--help"])
    assert backup.exit_code == 0 and "Записать в OUT один зашифрованный архив" in backup.stdout
    assert "Файл ключа резервной копии" in backup.stdout
    rotate = invoke_cli(app, ["keys", "rotate", "--help"])
    assert rotate.exit_code == 0 and "Сначала остановите приложение" in rotate.stdout
    assert "Куда записать новый главный ключ" in rotate.stdout


def test_command_help_is_printed_in_english_when_the_app_cannot_start(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken() -> Flask:
        raise click.ClickException("CASEFILE_SECRET_KEY is not set")

    monkeypatch.setenv("CASEFILE_LANGUAGE", "ru")
    result = contextvars.Context().run(
        CliRunner().invoke, cli_main, ["users", "create", "--help"], obj=ScriptInfo(create_app=broken))
    assert result.exit_code == 0
    assert "Create an account." in result.stdout and "The name shown in the interface." in result.stdout
