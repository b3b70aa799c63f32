"""``load_settings``: secrets fail closed in production, are generated once in development."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from casefile.app import create_app
from casefile.config import ConfigError, load_settings
from casefile.extensions import db
from tests.conftest import IsolatedClient
from tests.helpers import csrf_token_in

SECRET = "s" * 40
MASTER_HEX = "ab" * 32


def env(instance: Path, **values: str) -> dict[str, str]:
    return {"CASEFILE_INSTANCE": str(instance), **values}


def refused(environment: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(environment)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


@pytest.fixture
def master_key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "master.key"
    path.parent.mkdir()
    path.write_text(MASTER_HEX + "\n")
    path.chmod(0o600)
    return path


def test_production_without_a_secret_key_is_refused(tmp_path: Path, master_key: Path) -> None:
    message = refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_MASTER_KEY_FILE=str(master_key)))
    assert message == "CASEFILE_SECRET_KEY is required in production."
    assert not (tmp_path / "secret_key").exists()  # nothing generated in production


def test_production_without_a_master_key_file_is_refused(tmp_path: Path) -> None:
    message = refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_SECRET_KEY=SECRET))
    assert str(tmp_path / "master.key") in message and "CASEFILE_MASTER_KEY_FILE" in message
    assert not (tmp_path / "master.key").exists()
    missing = tmp_path / "elsewhere" / "master.key"
    message = refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_SECRET_KEY=SECRET,
                          CASEFILE_MASTER_KEY_FILE=str(missing)))
    assert str(missing) in message and not missing.exists()


def test_production_with_both_secrets_loads(tmp_path: Path, master_key: Path) -> None:
    settings = load_settings(env(tmp_path, CASEFILE_ENV=" Production ", CASEFILE_SECRET_KEY=SECRET,
                                 CASEFILE_MASTER_KEY_FILE=str(master_key)))
    assert settings.production and settings.secret_key == SECRET
    assert settings.master_key_file == master_key.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"]  # no generated secrets


def test_production_refuses_a_master_key_that_others_can_read(tmp_path: Path, master_key: Path) -> None:
    master_key.chmod(0o644)
    message = refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_SECRET_KEY=SECRET,
                          CASEFILE_MASTER_KEY_FILE=str(master_key)))
    assert "chmod 600" in message


def test_a_new_instance_folder_is_private(tmp_path: Path) -> None:
    load_settings(env(tmp_path / "new-instance"))
    assert stat.S_IMODE((tmp_path / "new-instance").stat().st_mode) == 0o700


def test_second_factor_roles_and_login_limit_are_read(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.totp_required_roles == {"coordinator", "auditor", "admin"}
    assert settings.login_rate_limit == "30 per 15 minutes"
    chosen = load_settings(env(tmp_path, CASEFILE_TOTP_REQUIRED_ROLES="Advocate, admin",
                               CASEFILE_LOGIN_RATE_LIMIT="5 per minute"))
    assert chosen.totp_required_roles == {"advocate", "admin"} and chosen.login_rate_limit == "5 per minute"
    assert "unknown roles: guest" in refused(env(tmp_path, CASEFILE_TOTP_REQUIRED_ROLES="admin,guest"))
    assert "CASEFILE_LOGIN_RATE_LIMIT" in refused(env(tmp_path, CASEFILE_LOGIN_RATE_LIMIT="often"))


def test_an_empty_master_key_file_is_refused(tmp_path: Path, master_key: Path) -> None:
    master_key.write_text("\n")
    assert "is empty" in refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_SECRET_KEY=SECRET,
                                     CASEFILE_MASTER_KEY_FILE=str(master_key)))


@pytest.mark.parametrize("content", ["not a hex key", "ab" * 31, "ab" * 33])
def test_a_malformed_master_key_file_is_refused(tmp_path: Path, master_key: Path, content: str) -> None:
    master_key.write_text(content + "\n")
    message = refused(env(tmp_path, CASEFILE_ENV="production", CASEFILE_SECRET_KEY=SECRET,
                          CASEFILE_MASTER_KEY_FILE=str(master_key)))
    assert str(master_key) in message and "64" in message


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_short_secret_key_is_refused(tmp_path: Path, master_key: Path, environment: str) -> None:
    values = {"CASEFILE_ENV": environment, "CASEFILE_MASTER_KEY_FILE": str(master_key)}
    message = refused(env(tmp_path, CASEFILE_SECRET_KEY="s" * 31, **values))
    assert message == "CASEFILE_SECRET_KEY must be at least 32 characters."
    assert load_settings(env(tmp_path, CASEFILE_SECRET_KEY="s" * 32, **values)).secret_key == "s" * 32


def test_development_generates_its_secrets_once_with_mode_0600(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = load_settings(env(instance))
    secret_file, key_file = instance / "secret_key", instance / "master.key"
    for path in (secret_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert first.secret_key == secret_file.read_text().strip() and len(first.secret_key) == 64
    assert first.master_key_file == key_file
    key_text = key_file.read_text()
    assert len(bytes.fromhex(key_text.strip())) == 32
    assert not first.production and first.database_url == f"sqlite:///{instance / 'casefile.sqlite3'}"

    second = load_settings(env(instance))
    assert second.secret_key == first.secret_key
    assert key_file.read_text() == key_text
    assert sorted(p.name for p in instance.iterdir()) == ["master.key", "secret_key"]


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://casefile@db.example/casefile", "postgresql+psycopg://casefile@db.example/casefile"),
    ("postgresql://u:p%40ss@127.0.0.1:5432/x?sslmode=require",
     "postgresql+psycopg://u:p%40ss@127.0.0.1:5432/x?sslmode=require"),
    ("postgresql+psycopg://casefile@db/casefile", "postgresql+psycopg://casefile@db/casefile"),
    ("sqlite:////var/lib/casefile/db.sqlite3", "sqlite:////var/lib/casefile/db.sqlite3"),
])
def test_postgresql_urls_get_the_psycopg_driver(tmp_path: Path, url: str, expected: str) -> None:
    settings = load_settings(env(tmp_path, CASEFILE_DATABASE_URL=url))
    assert settings.database_url == expected
    assert settings.flask_config()["SQLALCHEMY_DATABASE_URI"] == expected


@pytest.mark.parametrize("value", ["abc", "1.5", "", "0", "-5"])
def test_a_bad_idle_timeout_is_refused(tmp_path: Path, value: str) -> None:
    message = refused(env(tmp_path, CASEFILE_IDLE_TIMEOUT_MINUTES=value))
    assert message.startswith("CASEFILE_IDLE_TIMEOUT_MINUTES must be")


@pytest.mark.parametrize(("value", "minutes"), [(None, 30), ("45", 45), (" 5 ", 5)])
def test_a_good_idle_timeout_is_read(tmp_path: Path, value: str | None, minutes: int) -> None:
    extra = {} if value is None else {"CASEFILE_IDLE_TIMEOUT_MINUTES": value}
    assert load_settings(env(tmp_path, **extra)).idle_timeout == timedelta(minutes=minutes)


def _app(instance: Path, database_url: str, **values: str) -> Flask:
    settings = load_settings(env(instance, CASEFILE_DATABASE_URL=database_url, **values),
                             argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)
    app = create_app(settings, TESTING=True)
    app.test_client_class = IsolatedClient
    return app


def _https_login(app: Flask, username: str, password: str, referrer: bool = True) -> TestResponse:
    """Log in over https as a browser does (the CSRF check wants a same-origin Referer there)."""
    client = app.test_client()
    headers = {"Referer": "https://localhost/login"} if referrer else {}
    token = csrf_token_in(client.get("/login", base_url="https://localhost").get_data(as_text=True))
    return client.post("/login", base_url="https://localhost", headers=headers,
                       data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize(("https", "secure"), [("1", True), ("", False)])
def test_https_makes_the_session_cookie_secure(tmp_path: Path, database_url: str, factory, https: str,  # type: ignore[no-untyped-def]
                                               secure: bool) -> None:
    user = factory.user("advocate")
    app = _app(tmp_path, database_url, CASEFILE_HTTPS=https)
    response = _https_login(app, user.username, factory.password)
    assert response.status_code == 302, "login failed"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("casefile_session=")
    assert ("; Secure" in cookie) is secure
    with app.app_context():
        db.engine.dispose()


def test_a_browser_that_sends_no_referrer_can_log_in_over_https(tmp_path: Path, database_url: str,  # type: ignore[no-untyped-def]
                                                                  factory) -> None:
    # Every page asks for "Referrer-Policy: no-referrer", so browsers send no Referer; CSRF must
    # still hold without Flask-WTF's https Referer check.
    user = factory.user("advocate")
    app = _app(tmp_path, database_url, CASEFILE_HTTPS="1")
    try:
        client = app.test_client()
        assert client.get("/login", base_url="https://localhost").headers["Referrer-Policy"] == "no-referrer"
        assert _https_login(app, user.username, factory.password, referrer=False).status_code == 302
        tokenless = client.post("/login", base_url="https://localhost",
                                data={"username": user.username, "password": factory.password})
        assert tokenless.status_code == 400
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_command_line_refuses_to_start_in_production_with_one_line(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CASEFILE_")}
    environment.update(CASEFILE_ENV="production", CASEFILE_INSTANCE=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "casefile.cli", "users", "create", "--username", "x",
                             "--role", "admin", "--password-stdin"], input="", capture_output=True, text=True,
                            env=environment, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "Error: CASEFILE_SECRET_KEY is required in production.\n"
    assert list(tmp_path.iterdir()) == []
