"""Jobs on RQ: with CASEFILE_REDIS_URL set, a job waits in Redis until ``casefile worker`` runs it.

Uses the Redis on 127.0.0.1:6379, database 14, flushed before and after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from casefile.db import utcnow
from casefile.extensions import db
from casefile.jobs import services as job_services
from casefile.jobs.models import Job
from tests.cli.test_cli import invoke
from tests.conftest import make_app
from tests.helpers import WebSession
from tests.imports.test_import import counts
from tests.jobs.helpers import job_id, wait_for
from tests.jobs.test_jobs import staged_sample

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis():  # type: ignore[no-untyped-def]
    from redis import Redis

    return Redis.from_url(REDIS_URL)


@pytest.fixture
def rq_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A second app on the test database whose jobs go to Redis (its own instance folder and store)."""
    from redis.exceptions import ConnectionError as RedisDown

    try:
        _redis().flushdb()
    except RedisDown:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queued = make_app(tmp_path / "rq-instance", database_url, env={"CASEFILE_REDIS_URL": REDIS_URL})
    try:
        yield queued
    finally:
        _redis().flushdb()
        with queued.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_job_waits_in_redis_until_the_worker_runs_it(rq_app, factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(rq_app.config, "CASEFILE_IMPORT_JOB_ROWS", 3)
    advocate = factory.user("advocate", teams=("Almaty",))
    session = WebSession(rq_app.test_client())
    session.login(advocate.username, factory.password)
    response = session.post(f"/imports/{staged_sample(session, advocate)}/commit", {})
    number = job_id(response)

    waiting = session.get(f"/jobs/{number}/status.json").get_json()
    assert waiting["state"] == "queued" and counts()["cases"] == 0  # no worker yet: nothing ran
    assert _redis().llen("rq:queue:casefile") == 1

    result = invoke(rq_app, ["worker", "--burst"])
    assert result.exit_code == 0, result.output

    status = wait_for(session, number)
    assert status["state"] == "done" and status["percent"] == 100
    assert counts() == {"cases": 5, "people": 5, "reporters": 4, "consents": 11}
    assert db.session.get(Job, number).state == "done"
    assert _redis().llen("rq:queue:casefile") == 0


def test_the_worker_refuses_to_start_without_redis(app) -> None:  # type: ignore[no-untyped-def]
    result = invoke(app, ["worker", "--burst"])
    assert result.exit_code != 0 and "CASEFILE_REDIS_URL is not set" in result.output


def test_the_worker_fails_a_job_whose_worker_died(rq_app, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate", teams=("Almaty",))
    with rq_app.app_context():
        job = job_services.start(advocate, "evidence_verify", {})
        job.state, job.created_at = "running", utcnow() - timedelta(hours=1)  # its worker was killed
        fresh = job_services.start(advocate, "evidence_verify", {})  # just made: may be on its way to the queue
        db.session.commit()
        dead, young = job.id, fresh.id
    result = invoke(rq_app, ["worker", "--burst"])
    assert result.exit_code == 0 and "1 job(s) whose worker stopped" in result.output
    db.session.rollback()
    row = db.session.get(Job, dead)
    assert row.state == "failed" and "stopped before it finished" in row.error
    assert db.session.get(Job, young).state == "queued"
