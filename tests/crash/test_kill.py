"""SIGKILL in the middle of an import, an evidence upload and a packet build.

Each test runs the work in a process of its own on the test instance, waits (polling, bounded)
until it is seen from outside to be half done, kills it, and checks what is left: every row of
a file or none, no evidence row without its blob, any blob without a row found by ``evidence
sweep``, the audit chain intact. Then the same work is done again, to the end.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import subprocess
import sys
import tempfile
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask

from casefile.audit.models import AuditEvent
from casefile.cases.models import Case, Reporter
from casefile.evidence.models import CustodyEvent, EvidenceItem
from casefile.extensions import db
from casefile.imports.models import ImportBatch
from casefile.packets.models import Packet, PacketCase
from casefile.people.models import NameToken, Person, PersonName
from tests.crash.helpers import (
    ROOT,
    blob_files,
    child_env,
    children_of,
    count,
    kill,
    start_cli,
    table_bytes,
    upload_files,
    wait_gone,
    wait_until,
    wal_bytes,
    write_import,
)
from tests.evidence.test_cli import invoke
from tests.factories import Factory
from tests.helpers import csrf_token_in

IMPORT_ROWS = 4000


def _store_and_trail_are_sound(app: Flask, blobs_before: list[Path], orphans: int, stale: int = 0) -> None:
    """Sweep finds exactly what the crash left; afterwards the store and the trail verify."""
    swept = invoke(app, ["evidence", "sweep", "--grace-minutes", "0"])
    assert swept.exit_code == 0, swept.output
    assert f"Removed {orphans} unreferenced blob(s) and {stale} stale upload(s)." in swept.output
    assert blob_files(app) == blobs_before
    assert upload_files(app) == []
    verified = invoke(app, ["evidence", "verify"])
    assert verified.exit_code == 0, verified.output
    chain = invoke(app, ["audit", "verify"])
    assert chain.exit_code == 0, chain.output


# --- import -----------------------------------------------------------------------------------

def test_import_killed_while_writing_rows_leaves_no_row(app: Flask, factory: Factory, backend: str,
                                                        tmp_path: Path) -> None:
    username = factory.user("coordinator", teams=("Almaty",)).username
    source = tmp_path / "cases.csv"
    write_import(source, IMPORT_ROWS)
    if backend == "sqlite":
        # An empty log, so that what the import writes before its commit shows as growth.
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert wal_bytes(app) == 0
    blobs_before = blob_files(app)
    log = tmp_path / "import.log"
    process = start_cli(app, ["import", str(source), "--team", "Almaty", "--as", username], log)

    # Staged: the file is sealed in the store; the rows come next, in the same transaction.
    wait_until(lambda: len(blob_files(app)) > len(blobs_before), process, "the import file was stored", log)
    if backend == "postgresql":
        wait_until(lambda: table_bytes("persons") > 0, process, "people were written", log)
    else:
        wait_until(lambda: wal_bytes(app) > 256 * 1024, process, "rows were spilled to the log", log)
    kill(process)
    assert "Import IM-" not in log.read_text()

    for model in (Case, Person, PersonName, NameToken, Reporter, ImportBatch):
        assert count(model) == 0, model.__tablename__
    assert count(AuditEvent, AuditEvent.action.in_(("case.create", "import.stage", "import.commit"))) == 0
    _store_and_trail_are_sound(app, blobs_before, orphans=1)

    # The same file, again, to the end: every row.
    again = invoke(app, ["import", str(source), "--team", "Almaty", "--as", username])
    assert again.exit_code == 0, again.output
    assert count(Case) == IMPORT_ROWS
    assert count(ImportBatch) == 1
    assert count(AuditEvent, AuditEvent.action == "case.create") == IMPORT_ROWS
    _store_and_trail_are_sound(app, blob_files(app), orphans=0)


# --- evidence ---------------------------------------------------------------------------------

_SERVER = """
from werkzeug.serving import make_server
from casefile.app import create_app
server = make_server("127.0.0.1", 0, create_app(), threaded=True)
print("PORT", server.port, flush=True)
server.serve_forever()
"""


class _Browser:
    """One user's cookies and CSRF token over plain HTTP to a server on the loopback."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie_header()}
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, text

    def login(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/login")
        form = f"csrf_token={csrf_token_in(page)}&username={username}&password={password.replace(' ', '+')}"
        status, _ = self.request("POST", "/login", form.encode(), "application/x-www-form-urlencoded")
        assert status == 302, "login failed"


def _multipart(token: str, filename: str, size: int) -> tuple[str, bytes, bytes]:
    """(content type, everything before the file's bytes, everything after them)."""
    boundary = secrets.token_hex(16)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head, tail


def _pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + secrets.token_bytes(size - 9)


def test_evidence_upload_killed_while_streaming_leaves_only_a_stale_upload(
        app: Flask, factory: Factory, tmp_path: Path) -> None:
    advocate = factory.user("advocate", teams=("Almaty",))
    reference = factory.case(advocate).reference
    username = advocate.username
    db.session.remove()  # hold no transaction while the other process works
    log = tmp_path / "server.log"
    with open(log, "wb") as errors:
        server = subprocess.Popen([sys.executable, "-c", _SERVER], env=child_env(app, CASEFILE_EVIDENCE_MAX_MB="64"),
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("PORT "), log.read_text()
        browser = _Browser(int(line.split()[1]))
        browser.login(username, factory.password)
        form_path = f"/cases/{reference}/evidence/new"

        # One whole upload first: it must come through the crash with its blob.
        _status, page = browser.request("GET", form_path)
        content_type, head, tail = _multipart(csrf_token_in(page), "whole.pdf", 0)
        status, _ = browser.request("POST", form_path, head + _pdf(300_000) + tail, content_type)
        assert status == 302
        blobs_before = blob_files(app)
        assert len(blobs_before) == 1

        # A 32 MiB upload of which 6 MiB are sent: the server is writing it into the store.
        size = 32 * 2**20
        content_type, head, tail = _multipart(csrf_token_in(page), "large.pdf", size)
        client = socket.create_connection(("127.0.0.1", browser.port), timeout=60)
        client.sendall((f"POST {form_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {browser.cookie_header()}\r\n"
                        f"Content-Type: {content_type}\r\nContent-Length: {len(head) + size + len(tail)}\r\n\r\n")
                       .encode() + head + _pdf(6 * 2**20))
        wait_until(lambda: any(path.stat().st_size >= 4 * 2**20 for path in upload_files(app)), server,
                   "the upload was being written to the store")
        kill(server)
        client.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()

    assert count(EvidenceItem) == 1
    assert count(CustodyEvent) == 1  # "added", of the whole upload
    assert len(upload_files(app)) == 1
    _store_and_trail_are_sound(app, blobs_before, orphans=0, stale=1)


_ADD_AND_WAIT = """
import sys
from casefile import access
from casefile.app import create_app
from casefile.auth.services import user_by_username
from casefile.evidence import services
from casefile.extensions import db
with create_app().app_context():
    actor = user_by_username(sys.argv[1])
    case = access.get_case(actor, sys.argv[2])
    sink = services.open_sink()
    sink.write(open(sys.argv[3], "rb").read())
    result = services.add_evidence(actor, case, services.EvidenceInput(kind="other"),
                                   [services.Upload("report.pdf", sink)])
    db.session.flush()
    print("STORED", result.added[0].blob_address, flush=True)
    sys.stdin.read()  # the transaction stays open until the process is killed
"""


def test_evidence_killed_between_store_and_commit_leaves_a_blob_sweep_finds(
        app: Flask, factory: Factory, tmp_path: Path) -> None:
    advocate = factory.user("advocate", teams=("Almaty",))
    reference = factory.case(advocate).reference
    username = advocate.username
    db.session.remove()  # hold no transaction while the other process works
    content = tmp_path / "report.pdf"
    content.write_bytes(_pdf(2_500_000))
    process = subprocess.Popen([sys.executable, "-c", _ADD_AND_WAIT, username, reference, str(content)],
                               env=child_env(app), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("STORED "), line
        address = line.split()[1]
        assert [path.name for path in blob_files(app)] == [address]  # the blob is at its address
        kill(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()

    assert count(EvidenceItem) == 0
    assert count(CustodyEvent) == 0
    assert count(AuditEvent, AuditEvent.action == "evidence.add") == 0
    _store_and_trail_are_sound(app, [], orphans=1)


# --- packets ----------------------------------------------------------------------------------

def test_packet_build_killed_while_rendering_leaves_no_packet(app: Flask, factory: Factory, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    coordinator = factory.user("coordinator", teams=("Almaty",))
    source = tmp_path / "cases.csv"
    write_import(source, 40)
    imported = invoke(app, ["import", str(source), "--team", "Almaty", "--as", coordinator.username])
    assert imported.exit_code == 0, imported.output
    blobs_before = blob_files(app)  # the import's file
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = tmp_path / "packet.pdf"
    build = ["packets", "build", "--recipient", "kz-mfa", "--as", coordinator.username, "--out", str(out),
             "--min-verification", "0", "--organisation", "Atajurt Volunteers", "--contact", "Almaty"]
    log = tmp_path / "build.log"
    process = start_cli(app, build, log, TMPDIR=str(temporary))

    # Rendering: the packet's row is written and its parts are being compiled.
    wait_until(lambda: any(folder.name.startswith("casefile-packet-") for folder in temporary.iterdir()), process,
               "the packet was being rendered", log)
    workers = children_of(process.pid)
    kill(process)
    wait_gone(workers)

    assert not out.exists()
    assert count(Packet) == 0
    assert count(PacketCase) == 0
    assert count(CustodyEvent, CustodyEvent.action == "included_in_packet") == 0
    assert count(AuditEvent, AuditEvent.action == "packet.build") == 0
    # The killed build's working folder (it may hold decrypted thumbnails) goes with the sweep.
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    left = [folder for folder in temporary.iterdir() if folder.name.startswith("casefile-packet-")]
    assert left
    swept = invoke(app, ["evidence", "sweep", "--grace-minutes", "0"])
    assert f"Removed {len(left)} packet render folder(s)" in swept.output, swept.output
    assert not any(folder.exists() for folder in left)
    _store_and_trail_are_sound(app, blobs_before, orphans=0)

    built = invoke(app, build)
    assert built.exit_code == 0, built.output
    assert re.search(r"Packet PK-\d{4}-\d{5}: 40 cases", built.output), built.output
    assert count(Packet) == 1
    assert count(PacketCase) == 40
    _store_and_trail_are_sound(app, blob_files(app), orphans=0)
