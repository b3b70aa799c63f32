"""Starting, running and reading background jobs.

A job's work runs in one transaction of its own app context and database session: it
commits together with the job's "done" state, or is rolled back whole and the job marked
failed in a transaction after it. Live progress goes where the page that polls it can read
it: Redis when configured (the worker is another process), the jobs table on PostgreSQL
(written on a connection of its own), or this process's memory on SQLite, whose single
writer is busy with the job's transaction.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from casefile import audit
from casefile.auth.models import User
from casefile.core.crypto import seal, unseal
from casefile.core.errors import DomainError, NotAllowed
from casefile.db import utcnow
from casefile.extensions import db
from casefile.jobs.models import Job

logger = logging.getLogger(__name__)
REDIS_URL = "CASEFILE_JOBS_REDIS_URL"
QUEUE_NAME = "casefile"
# Redis keys of live progress outlive any job; a finished job's row holds its final figures.
PROGRESS_TTL_SECONDS = 24 * 3600
_WRITE_EVERY_SECONDS = 0.25


@dataclass(frozen=True)
class Kind:
    """What a kind of job does: ``work(actor, params, progress)`` returns the job's result."""

    label: Any
    work: Callable[[User, dict[str, Any], Progress], dict[str, Any]]


KINDS: dict[str, Kind] = {}


def register(name: str, label: Any, work: Callable[[User, dict[str, Any], Progress], dict[str, Any]]) -> None:
    KINDS[name] = Kind(label, work)


def kind_label(name: str) -> str:
    kind = KINDS.get(name)
    return str(kind.label) if kind is not None else name


def _params_context(job_id: int) -> str:
    return f"job:{job_id}:params"


# --- starting and reading ------------------------------------------------------------------------

def start(actor: User, kind: str, params: dict[str, Any], *, total: int = 0, message: str = "") -> Job:
    """A queued job of ``actor``'s in the current transaction. The caller commits, then calls ``dispatch``."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind}")
    job = Job(kind=kind, user_id=actor.id, state="queued", total=total, message=message[:200],
              params_sealed=b"", result={}, error="", runner="")
    db.session.add(job)
    db.session.flush()
    job.params_sealed = seal(json.dumps(params).encode(), _params_context(job.id))
    audit.record(actor, "job.start", object_type="job", object_id=job.id, details={"kind": kind})
    return job


def dispatch(job: Job) -> None:
    """Hand a committed job to RQ or to this process's job thread; a queue that does not answer fails the job."""
    from casefile.jobs import runner

    try:
        if not _redis_url():
            job.runner = this_runner()  # the thread of this process will run it
            db.session.commit()
        runner.submit(job.id)
    except Exception as error:  # Redis down or refusing: the job must not wait for ever
        logger.error("job %s could not be queued: %s", job.id, type(error).__name__)
        db.session.rollback()
        fresh = db.session.get(Job, job.id)
        if fresh is not None and fresh.state == "queued":
            user = db.session.get(User, fresh.user_id)
            _fail(fresh, user, str(_l("The job queue does not answer; nothing was changed. Try again later.")))
            db.session.commit()


def get_job(actor: User, job_id: int) -> Job:
    """One of the actor's own jobs, or NotAllowed (a job is seen only by who started it)."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != actor.id:
        raise NotAllowed(str(_l("No such job.")))
    return job


def my_jobs(actor: User, limit: int = 50) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.user_id == actor.id).order_by(Job.id.desc()).limit(limit)))


def status(job: Job) -> dict[str, Any]:
    """What the progress bar shows: the row, with the live figures of a running job laid over it."""
    done, total, message = job.done, job.total, job.message
    if job.state == "running":
        live = _read_live(job.id)
        if live is not None:
            done, total, message = live
    percent = 100 if job.state == "done" else (max(0, min(100, done * 100 // total)) if total > 0 else 0)
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": done, "total": total, "percent": percent,
            "message": message, "error": job.error, "finished": job.finished}


def unfinished_jobs(started_before: timedelta = timedelta(minutes=1)) -> list[Job]:
    """Every queued or running job of every user made before ``started_before`` ago (for the
    worker's clean-up, never shown): a younger one may be on its way into the queue."""
    return list(db.session.scalars(select(Job).where(Job.state.in_(("queued", "running")),
                                                     Job.created_at < utcnow() - started_before).order_by(Job.id)))


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _process_gone(runner: str) -> bool:
    """Whether ``host:pid`` names a process of this host that no longer exists."""
    host, _sep, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: its own clean-up (``casefile worker``) sees to it
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_if_orphaned(job: Job) -> bool:
    """Mark failed a queued or running job whose process died (a server restarted or killed
    mid-job); its transaction never committed, so nothing of it is left. True when it did."""
    if job.finished or not job.runner or not _process_gone(job.runner):
        return False
    return abandon(job.id)


def abandon(job_id: int) -> bool:
    """Mark a job failed whose runner is gone; False when it finished meanwhile."""
    job = db.session.get(Job, job_id)
    if job is None or job.finished:
        db.session.rollback()
        return False
    _fail(job, db.session.get(User, job.user_id),
          str(_l("The process running this job stopped before it finished; nothing was changed. Start it again.")))
    db.session.commit()
    return True


# --- live progress -------------------------------------------------------------------------------

_memory: dict[int, tuple[int, int, str]] = {}
_memory_lock = threading.Lock()


def _redis_url() -> str | None:
    return current_app.config.get(REDIS_URL) or None


def redis_connection(url: str | None = None) -> Any:
    from redis import Redis

    return Redis.from_url(url or _redis_url() or "")


def _progress_key(job_id: int) -> str:
    return f"casefile:job:{job_id}:progress"


def _read_live(job_id: int) -> tuple[int, int, str] | None:
    url = _redis_url()
    if url:
        try:
            raw = redis_connection(url).get(_progress_key(job_id))
        except Exception:  # Redis gone: the row's figures are shown instead
            return None
        if raw:
            value = json.loads(raw)
            return int(value[0]), int(value[1]), str(value[2])
        return None
    with _memory_lock:
        return _memory.get(job_id)


class Progress:
    """``progress(done, total, message)`` from a job's work: kept where the polling page reads it.

    Writes at most four times a second (a loop may call it for every row)."""

    def __init__(self, job_id: int, total: int = 0, message: str = "") -> None:
        self.job_id = job_id
        self.done = 0
        self.total = total
        self.message = message
        self._written = 0.0
        self._redis = redis_connection() if _redis_url() else None
        self._postgres = db.engine.dialect.name == "postgresql"

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if message is not None and message != self.message:
            self.message = message
            self._written = 0.0  # a new phase shows at once
        now = time.monotonic()
        if now - self._written >= _WRITE_EVERY_SECONDS or (self.total and self.done >= self.total):
            self._written = now
            self.write()

    def advance(self, count: int = 1) -> None:
        self(self.done + count)

    def write(self) -> None:
        figures = (self.done, self.total, str(self.message)[:200])
        if self._redis is not None:
            try:
                self._redis.set(_progress_key(self.job_id), json.dumps(figures), ex=PROGRESS_TTL_SECONDS)
            except Exception as error:  # the work goes on; the page shows the row's figures
                logger.warning("job %s: progress not written to Redis: %s", self.job_id, type(error).__name__)
            return
        if self._postgres:
            # Its own connection and transaction, beside the job's: the page sees it at once.
            with db.engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == self.job_id)
                                   .values(done=figures[0], total=figures[1], message=figures[2]))
            return
        with _memory_lock:
            _memory[self.job_id] = figures

    def forget(self) -> None:
        with _memory_lock:
            _memory.pop(self.job_id, None)
        if self._redis is not None:
            try:
                self._redis.delete(_progress_key(self.job_id))
            except Exception:  # the key expires by itself
                logger.warning("job %s: progress key left to expire", self.job_id)


# --- running -------------------------------------------------------------------------------------

def _begin(job_id: int) -> tuple[Job, User, dict[str, Any]] | None:
    """Mark a queued job running (its own short transaction); None when it is not queued any more."""
    job = db.session.get(Job, job_id, with_for_update=True)  # two workers never both take it
    if job is None or job.state != "queued":
        db.session.rollback()
        return None
    job.state, job.started_at, job.runner = "running", utcnow(), this_runner()
    user = db.session.get(User, job.user_id)
    params = json.loads(unseal(job.params_sealed, _params_context(job.id)))
    db.session.commit()
    return job, user, params  # type: ignore[return-value]


def _fail(job: Job, user: User | None, message: str) -> None:
    job.state, job.finished_at, job.error = "failed", utcnow(), message[:500]
    job.params_sealed = b""
    audit.record(user, "job.failed", object_type="job", object_id=job.id, outcome="failure",
                 details={"kind": job.kind, "error": job.error})


def run(job_id: int) -> str | None:
    """Run one job to its end in the current app context; returns its final state (None: not queued)."""
    audit.set_client(f"job {job_id}")
    g.casefile_job = job_id  # Flask-Babel only forces a locale on a non-empty ``g``
    begun = _begin(job_id)
    if begun is None:
        return None
    job, user, params = begun
    kind, locale = job.kind, (user.locale or "en")
    progress = Progress(job_id, job.total, job.message)
    error: str | None = None
    with force_locale(locale):
        try:
            if not user.active:
                raise NotAllowed(str(_l("The account that started this job is not active any more.")))
            result = KINDS[kind].work(user, params, progress)
            job = db.session.get(Job, job_id)  # type: ignore[assignment]
            job.state, job.finished_at, job.result = "done", utcnow(), result
            job.done = job.total = max(progress.total, progress.done, 1)
            job.message, job.params_sealed = str(progress.message)[:200], b""
            audit.record(user, "job.done", object_type="job", object_id=job_id, details={"kind": kind})
            db.session.commit()
        except DomainError as refused:
            error = str(refused)
        except Exception:
            logger.exception("job %s (%s) failed", job_id, kind)
            error = str(_l("The job failed and nothing was changed. The error was logged."))
        if error is not None:
            db.session.rollback()  # everything the work did goes
            job = db.session.get(Job, job_id)  # type: ignore[assignment]
            user = db.session.get(User, job.user_id)  # type: ignore[assignment]
            job.done, job.total, job.message = progress.done, progress.total, str(progress.message)[:200]
            _fail(job, user, error)
            db.session.commit()
    progress.forget()
    return "failed" if error is not None else "done"
