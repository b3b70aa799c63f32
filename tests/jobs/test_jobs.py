"""Background jobs in this process: a large import and a large packet run as jobs to the end, a
failing job changes nothing and shows its error, a job is seen only by who started it."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.audit.models import AuditEvent
from casefile.audit.verify import verify_chain
from casefile.cases import services as case_services
from casefile.core.errors import InvalidInput
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.imports import SAMPLE_PATH
from casefile.jobs import services as job_services
from casefile.jobs.models import Job
from casefile.packets.models import Packet
from casefile.people.services import PersonInput
from tests.cli.test_cli import invoke
from tests.imports.test_import import batch_id, counts, upload
from tests.jobs.helpers import job_id, wait_for
from tests.packets.test_build import organisation, packet_form  # noqa: F401  (a fixture)

SAMPLE_COLUMNS = SAMPLE_PATH.read_text("utf-8").splitlines()[0].split(",")


@pytest.fixture
def advocate(factory):  # type: ignore[no-untyped-def]
    return factory.user("advocate", teams=("Almaty",))


def actions() -> dict[str, int]:
    db.session.rollback()
    return dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())


def staged_sample(session, advocate) -> int:  # type: ignore[no-untyped-def]
    number = batch_id(upload(session, SAMPLE_PATH.read_bytes(), "sample_import.csv", advocate.teams[0].id))
    response = session.post(f"/imports/{number}", {f"column_{i}": c for i, c in enumerate(SAMPLE_COLUMNS)})
    assert response.status_code == 302
    return number


def test_a_large_import_commits_as_a_job_followed_to_its_result(app, advocate, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CASEFILE_IMPORT_JOB_ROWS", 3)  # the sample's 5 rows count as large
    session = login(advocate)
    number = staged_sample(session, advocate)
    response = session.post(f"/imports/{number}/commit", {})
    assert response.status_code == 302
    job = job_id(response)

    page = session.get(f"/jobs/{job}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<progress id="job-progress"' in html
    if 'data-state="done"' not in html:  # still going: the page refreshes itself and loads the script
        assert '<noscript><meta http-equiv="refresh"' in html and "/static/jobs.js" in html
    assert "<script>" not in html  # no inline script (CSP)

    status = wait_for(session, job)
    assert status["state"] == "done" and status["percent"] == 100 and status["error"] == ""
    assert status["link"] == f"/imports/{number}/review"
    assert counts() == {"cases": 5, "people": 5, "reporters": 4, "consents": 11}
    done_page = session.get(f"/jobs/{job}").get_data(as_text=True)
    assert f'href="/imports/{number}/review"' in done_page and "Import IM-" in done_page
    assert 'http-equiv="refresh"' not in done_page and "jobs.js" not in done_page
    assert "Imported from" not in done_page  # the label says how many, never what
    seen = actions()
    assert seen["job.start"] == 1 and seen["job.done"] == 1 and seen["import.commit"] == 1
    assert seen["case.create"] == 5
    assert verify_chain(db.session).ok
    row = db.session.get(Job, job)
    assert row.params_sealed == b"" and row.user_id == advocate.id and row.finished_at is not None
    listing = session.get("/jobs").get_data(as_text=True)
    assert f'href="/jobs/{job}"' in listing


def test_a_small_import_stays_in_the_request(advocate, login) -> None:  # type: ignore[no-untyped-def]
    session = login(advocate)
    number = staged_sample(session, advocate)
    response = session.post(f"/imports/{number}/commit", {})
    assert response.headers["Location"].endswith(f"/imports/{number}/review")
    assert counts()["cases"] == 5
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_failing_job_leaves_no_rows_and_shows_its_error(app, advocate, factory, login) -> None:  # type: ignore[no-untyped-def]
    def work(actor, params, progress):  # type: ignore[no-untyped-def]
        progress(1, 2, "half way")
        # A case, its person and their audit events, written in the job's transaction.
        case_services.open_case(actor, case_services.CaseInput(
            person=PersonInput(names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")]), team_id=actor.teams[0].id,
            detained_on=PartialDate(2018, 3)))
        db.session.flush()
        raise InvalidInput("The list names a prefecture that does not exist.")

    job_services.register("test_refuses", "Test", work)
    try:
        job = job_services.start(advocate, "test_refuses", {})
        db.session.commit()
        job_services.dispatch(job)
        session = login(advocate)
        status = wait_for(session, job.id)
    finally:
        job_services.KINDS.pop("test_refuses")
    assert status["state"] == "failed" and status["error"] == "The list names a prefecture that does not exist."
    assert status["link"] is None
    assert counts()["cases"] == 0 and counts()["people"] == 0
    seen = actions()
    assert seen["job.start"] == 1 and seen["job.failed"] == 1 and "case.create" not in seen
    page = session.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "The list names a prefecture that does not exist." in page and "Nothing was changed." in page
    assert verify_chain(db.session).ok


def test_an_unexpected_error_shows_no_trace(app, advocate, login) -> None:  # type: ignore[no-untyped-def]
    def work(actor, params, progress):  # type: ignore[no-untyped-def]
        raise RuntimeError("Traceback: secret detail of Нұрлан Тоқтарұлы")

    job_services.register("test_breaks", "Test", work)
    try:
        job = job_services.start(advocate, "test_breaks", {"note": "sealed"})
        db.session.commit()
        job_services.dispatch(job)
        status = wait_for(login(advocate), job.id)
    finally:
        job_services.KINDS.pop("test_breaks")
    assert status["state"] == "failed"
    assert "Нұрлан" not in status["error"] and "Traceback" not in status["error"]
    assert "nothing was changed" in status["error"]


def test_a_job_is_seen_only_by_who_started_it(app, advocate, factory, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CASEFILE_IMPORT_JOB_ROWS", 3)
    colleague = factory.user("advocate", teams=("Almaty",))
    coordinator = factory.user("coordinator", teams=("Almaty",))
    session = login(advocate)
    job = job_id(session.post(f"/imports/{staged_sample(session, advocate)}/commit", {}))
    wait_for(session, job)
    for other in (colleague, coordinator):
        web = login(other)
        assert web.get(f"/jobs/{job}").status_code == 404
        assert web.get(f"/jobs/{job}/status.json").status_code == 404
        assert f"/jobs/{job}" not in web.get("/jobs").get_data(as_text=True)
    anonymous = app.test_client().get(f"/jobs/{job}/status.json")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_large_packet_is_built_by_a_job(app, organisation, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setitem(app.config, "CASEFILE_PACKET_JOB_CASES", 1)  # the two cases that go in count as large
    web = login(organisation["coordinator"])
    response = web.post("/packets/new", packet_form(build="Build"))
    assert response.status_code == 302, response.get_data(as_text=True)
    status = wait_for(web, job_id(response))
    assert status["state"] == "done", status
    db.session.rollback()
    [packet] = db.session.scalars(select(Packet).execution_options(**unscoped("test"))).all()
    assert packet.case_count == 2
    assert status["link"] == f"/packets/{packet.reference}"
    assert web.get(status["link"]).status_code == 200
    seen = actions()
    assert seen["packet.build"] == 1 and seen["job.done"] == 1


def test_a_packet_job_that_fails_leaves_no_packet(app, organisation, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setitem(app.config, "CASEFILE_PACKET_JOB_CASES", 1)
    web = login(organisation["coordinator"])
    # A language the recipient does not take: the build refuses it in the job.
    response = web.post("/packets/new", packet_form(build="Build", language="en"))
    assert response.status_code == 302
    status = wait_for(web, job_id(response))
    assert status["state"] == "failed" and status["error"] == "This recipient takes packets in: kk, ru."
    db.session.rollback()
    assert db.session.scalars(select(Packet).execution_options(**unscoped("test"))).all() == []
    assert "packet.build" not in actions()


def test_auditors_verify_the_evidence_store_as_a_job(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    auditor = factory.user("auditor", teams=())
    advocate = factory.user("advocate", teams=("Almaty",))
    web = login(auditor)
    assert "Verify the evidence store now" in web.get("/jobs").get_data(as_text=True)
    response = web.post("/jobs/evidence-verify", {})
    status = wait_for(web, job_id(response))
    assert status["state"] == "done"
    page = web.get(f"/jobs/{job_id(response)}").get_data(as_text=True)
    assert "Evidence store intact" in page
    assert actions()["evidence.verify"] == 1
    assert login(advocate).post("/jobs/evidence-verify", {}).status_code == 404


def test_the_command_line_import_draws_a_bar_for_a_large_file(app, advocate, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CASEFILE_IMPORT_JOB_ROWS", 3)
    result = invoke(app, ["import", str(SAMPLE_PATH), "--team", "Almaty", "--as", advocate.username])
    assert result.exit_code == 0, result.output
    assert "Importing sample_import.csv" in result.output
    assert re.search(r"Import IM-\d+: 5 cases", result.output)
    assert counts()["cases"] == 5


def test_admins_back_up_as_a_job(app, factory, login) -> None:  # type: ignore[no-untyped-def]
    from casefile.backup.services import archive_key_source

    admin = factory.user("admin", teams=())
    advocate = factory.user("advocate", teams=("Almaty",))
    factory.case(advocate)
    web = login(admin)
    assert "Back up now" in web.get("/jobs").get_data(as_text=True)
    response = web.post("/jobs/backup", {})
    status = wait_for(web, job_id(response))
    assert status["state"] == "done", status
    [archive] = list((Path(app.instance_path) / "backups").glob("*.backup"))
    try:
        assert archive.stat().st_mode & 0o077 == 0 and archive.stat().st_size > 0
        assert archive_key_source(archive)  # it opens as one of casefile's archives
        assert str(archive) in web.get(f"/jobs/{job_id(response)}").get_data(as_text=True)
        assert actions()["backup.create"] == 1
    finally:
        archive.unlink()
    assert login(advocate).post("/jobs/backup", {}).status_code == 404


def test_a_job_whose_process_died_shows_as_failed(app, advocate, login) -> None:  # type: ignore[no-untyped-def]
    gone = subprocess.Popen(["true"])  # a process id that existed and is gone
    gone.wait()
    job = job_services.start(advocate, "evidence_verify", {})
    job.state, job.runner = "running", f"{socket.gethostname()}:{gone.pid}"
    alive = job_services.start(advocate, "evidence_verify", {})
    alive.state, alive.runner = "running", job_services.this_runner()  # this process: still running
    db.session.commit()
    web = login(advocate)
    status = web.get(f"/jobs/{job.id}/status.json").get_json()
    assert status["state"] == "failed" and "stopped before it finished" in status["error"]
    assert web.get(f"/jobs/{alive.id}/status.json").get_json()["state"] == "running"
    assert actions()["job.failed"] == 1


def test_the_command_line_packet_build_draws_a_bar_for_a_large_packet(app, organisation, tmp_path,  # noqa: F811
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CASEFILE_PACKET_JOB_CASES", 1)
    out = tmp_path / "packet.pdf"
    result = invoke(app, ["packets", "build", "--recipient", "kz-mfa", "--as", organisation["coordinator"].username,
                          "--lang", "kk", "--organisation", "Atajurt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Building a packet of 2 cases" in result.output and out.read_bytes().startswith(b"%PDF")
