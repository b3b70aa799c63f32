"""Limits around the evidence store: upload size, who may stream a large body, transactions that do not
commit, and the master key the store was written with."""

from __future__ import annotations

import contextvars
import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from casefile.access import unscoped
from casefile.app import create_app
from casefile.cli import main
from casefile.config import ConfigError, Settings, load_settings
from casefile.evidence import services
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from tests.conftest import IsolatedClient
from tests.evidence.helpers import PDF, upload
from tests.helpers import WebSession

MIB = 1024 * 1024


def pdf_of(size: int) -> bytes:
    return b"%PDF-1.4\n" + secrets.token_bytes(size - 9)


def item_count() -> int:
    db.session.commit()
    return len(db.session.scalars(select(EvidenceItem.id).execution_options(**unscoped("test"))).all())


def blob_file(app: Flask, address: str | None) -> Path:
    assert address is not None
    return app.config["CASEFILE_SETTINGS"].evidence_dir / "blobs" / address[:2] / address


def leftovers(app: Flask) -> list[Path]:
    """Every file in the store's blobs/ and tmp/ folders."""
    root = app.config["CASEFILE_SETTINGS"].evidence_dir
    return sorted(path for folder in ("blobs", "tmp") for path in (root / folder).rglob("*") if path.is_file())


def cheap_settings(instance: Path, database_url: str, **env: str) -> Settings:
    return load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url, **env},
                         argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)


@pytest.fixture
def small_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the test database whose evidence uploads may be 1 MiB, with a store of its own."""
    master_key = app.config["CASEFILE_SETTINGS"].master_key_file  # the rows' sealed fields stay readable
    settings = cheap_settings(tmp_path / "small", database_url, CASEFILE_EVIDENCE_MAX_MB="1",
                              CASEFILE_MASTER_KEY_FILE=str(master_key))
    small = create_app(settings, TESTING=True)
    small.test_client_class = IsolatedClient
    yield small
    with small.app_context():
        db.engine.dispose()


def logged_in(app: Flask, factory, user) -> WebSession:  # type: ignore[no-untyped-def]
    session = WebSession(app.test_client())
    session.login(user.username, factory.password)
    return session


# --- size ------------------------------------------------------------------------------------

def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(small_app, factory) -> None:  # type: ignore[no-untyped-def]
    assert small_app.config["CASEFILE_SETTINGS"].evidence_max_bytes == MIB
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = logged_in(small_app, factory, advocate)
    response = upload(web, case.reference, [(pdf_of(2 * MIB), "scan.pdf")])
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)
    assert item_count() == 0 and leftovers(small_app) == []
    # Just under the limit is taken: the 413 came from the evidence limit, not from something else.
    assert upload(web, case.reference, [(pdf_of(MIB - 4096), "scan.pdf")]).status_code == 302
    assert item_count() == 1 and len(leftovers(small_app)) == 1


def test_a_body_without_a_length_is_cut_off_at_the_limit_and_its_partial_upload_discarded(  # type: ignore[no-untyped-def]
        small_app, factory) -> None:
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    web = logged_in(small_app, factory, advocate)
    form = EnvironBuilder(method="POST", data={
        "csrf_token": web.token(), "kind": "other", "files": (io.BytesIO(pdf_of(3 * MIB)), "scan.pdf")})
    environ = form.get_environ()
    body = environ["wsgi.input"].read()
    response = web.client.post(
        f"/cases/{case.reference}/evidence/new", input_stream=io.BytesIO(body), content_type=environ["CONTENT_TYPE"],
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert item_count() == 0 and leftovers(small_app) == []


def test_an_anonymous_post_is_not_streamed_into_the_store(app, factory, web) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    big = upload(web, case.reference, [(pdf_of(17 * MIB), "scan.pdf")])
    assert big.status_code == 413  # the anonymous get Flask's small limit, not the evidence one
    small = upload(web, case.reference, [(pdf_of(2 * MIB), "scan.pdf")])  # with a valid CSRF token
    assert small.status_code == 302 and small.headers["Location"].startswith("/login")
    assert item_count() == 0 and leftovers(app) == []


def test_an_auditor_gets_the_small_limit_too(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    advocate, auditor = factory.user("advocate"), factory.user("auditor")
    case = factory.case(advocate)
    assert upload(login(auditor), case.reference, [(pdf_of(17 * MIB), "scan.pdf")]).status_code == 413
    assert item_count() == 0 and leftovers(app) == []


def test_the_upload_of_someone_who_cannot_see_the_case_is_discarded(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    owner = factory.user("advocate", teams=("Almaty",))
    outsider = factory.user("advocate", teams=("Astana",))
    case = factory.case(owner)
    assert upload(login(outsider), case.reference, [(pdf_of(2 * MIB), "scan.pdf")]).status_code == 404
    assert item_count() == 0 and leftovers(app) == []


# --- transactions ----------------------------------------------------------------------------

def _add_in_a_request(actor, case, content: bytes) -> EvidenceItem:  # type: ignore[no-untyped-def]
    sink = services.open_sink()
    sink.write(content)
    result = services.add_evidence(actor, case, services.EvidenceInput(kind="other"),
                                   [services.Upload("a.pdf", sink)])
    [added] = result.added
    return added


def test_a_rolled_back_addition_leaves_no_blob_and_a_committed_one_stays(app, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    with app.test_request_context():
        added = _add_in_a_request(advocate, case, pdf_of(300_000))
        blob = blob_file(app, added.blob_address)
        assert blob.exists()
        db.session.rollback()
        assert not blob.exists()
        assert item_count() == 0 and leftovers(app) == []

        kept = _add_in_a_request(advocate, factory.reload_case(case.reference), PDF)
        kept_blob = blob_file(app, kept.blob_address)
        db.session.commit()
        assert kept_blob.exists()
        db.session.rollback()  # a later rollback with nothing new does not touch it
        assert kept_blob.exists() and item_count() == 1


def test_rolling_back_a_copy_of_a_committed_file_keeps_the_shared_blob(app, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    first, second = factory.case(advocate), factory.case(advocate)
    with app.test_request_context():
        committed = _add_in_a_request(advocate, first, PDF)
        blob = blob_file(app, committed.blob_address)
        db.session.commit()
        copy = _add_in_a_request(advocate, factory.reload_case(second.reference), PDF)
        assert copy.blob_address == committed.blob_address
        db.session.rollback()
        assert blob.exists() and item_count() == 1


def test_a_refused_request_leaves_neither_of_its_files_behind(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    # Both files were encrypted into the store's tmp/ while the form was read; the second is refused.
    advocate = factory.user("advocate")
    case = factory.case(advocate)
    response = upload(login(advocate), case.reference, [(pdf_of(200_000), "a.pdf"), (b"MZ" + bytes(64), "b.pdf")])
    assert response.status_code == 400
    assert item_count() == 0 and leftovers(app) == []


# --- the master key --------------------------------------------------------------------------

def _written_store(instance: Path, database_url: str) -> Path:
    """An instance whose evidence store was opened once (so it has its key check); its key file."""
    settings = cheap_settings(instance, database_url)
    first = create_app(settings, TESTING=True)
    with first.app_context():
        db.engine.dispose()
    assert (settings.evidence_dir / "KEYCHECK").exists()
    return settings.master_key_file


def test_another_master_key_does_not_start_on_a_written_store(tmp_path: Path, database_url: str) -> None:
    key_file = _written_store(tmp_path, database_url)
    key_file.write_text(secrets.token_hex(32) + "\n")  # a valid key, but not the store's
    with pytest.raises(ConfigError) as refused:
        create_app(cheap_settings(tmp_path, database_url), TESTING=True)
    message = str(refused.value)
    assert "master key" in message.lower() and str(key_file) in message and "\n" not in message


def test_the_command_line_says_so_in_one_line(tmp_path: Path, database_url: str,  # type: ignore[no-untyped-def]
                                              monkeypatch) -> None:
    key_file = _written_store(tmp_path, database_url)
    key_file.write_text(secrets.token_hex(32) + "\n")
    monkeypatch.setenv("CASEFILE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CASEFILE_DATABASE_URL", database_url)
    result = contextvars.Context().run(CliRunner().invoke, main, ["evidence", "verify"])  # the real loader
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("Error: The master key in ") and str(key_file) in line


@pytest.mark.parametrize("mode", ["development", "production"])
def test_a_missing_master_key_with_a_written_store_is_refused(tmp_path: Path, database_url: str,
                                                               mode: str) -> None:
    key_file = _written_store(tmp_path, database_url)
    key_file.unlink()
    environment = {"CASEFILE_ENV": mode, "CASEFILE_SECRET_KEY": "s" * 40}
    with pytest.raises(ConfigError) as refused:
        cheap_settings(tmp_path, database_url, **environment)
    assert "Master key file" in str(refused.value) and str(key_file) in str(refused.value)
    assert not key_file.exists()  # no new key was made up in its place


def test_the_same_master_key_starts_again_and_keeps_the_key_check(tmp_path: Path, database_url: str) -> None:
    key_file = _written_store(tmp_path, database_url)
    key_check = tmp_path / "evidence" / "KEYCHECK"
    written = key_check.read_bytes()
    assert b"key check" not in written  # it is sealed like any blob
    again = create_app(cheap_settings(tmp_path, database_url), TESTING=True)
    with again.app_context():
        db.engine.dispose()
    assert key_check.read_bytes() == written and key_file.exists()
