"""Where jobs run: an RQ queue on Redis (``casefile worker``) or a thread of this process.

Either way a job gets its own app context, hence its own database session, and outlives the
request that started it. Only the job's id travels; its parameters stay sealed in the table.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from casefile.extensions import db
from casefile.jobs import services

logger = logging.getLogger(__name__)
# Two at a time: jobs are heavy, and the requests of this process need the cores too.
THREADS = 2
# An RQ job that runs longer than this is stopped (and so rolled back).
JOB_TIMEOUT_SECONDS = 6 * 3600
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def submit(job_id: int) -> None:
    url = current_app.config.get(services.REDIS_URL)
    if url:
        queue(url).enqueue(perform, job_id, job_id=f"casefile-job-{job_id}", job_timeout=JOB_TIMEOUT_SECONDS,
                           result_ttl=3600, failure_ttl=24 * 3600)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _thread_pool().submit(_in_thread, app, job_id)


def queue(url: str):  # type: ignore[no-untyped-def]
    from rq import Queue

    return Queue(services.QUEUE_NAME, connection=services.redis_connection(url))


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:  # made on first use: a pool made before a fork (gunicorn --preload) has no threads
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="casefile-job")
        return _pool


def _in_thread(app: Flask, job_id: int) -> None:
    try:
        with app.app_context():
            services.run(job_id)
    except Exception:  # services.run records the job's failure; this is the database itself failing
        logger.exception("job %s could not be run", job_id)


def perform(job_id: int) -> str | None:
    """The function RQ runs: the job in a fresh app context of the worker's app."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        return services.run(job_id)


def reap_abandoned(url: str) -> int:
    """Mark failed the jobs whose RQ job is gone or failed without the job finishing (a worker
    killed mid-job: its transaction never committed, so nothing of it is left). Returns how many."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as QueuedJob
    from rq.job import JobStatus

    work_queue = queue(url)
    # Jobs of workers that stopped sending heartbeats move to the failed registry here.
    work_queue.started_job_registry.cleanup()
    reaped = 0
    for job in services.unfinished_jobs():
        try:
            status = QueuedJob.fetch(f"casefile-job-{job.id}", connection=work_queue.connection).get_status()
        except NoSuchJobError:
            status = None
        if status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            continue
        if services.abandon(job.id):
            reaped += 1
    db.session.rollback()  # hold nothing (SQLite's write lock) while the jobs run in sessions of their own
    return reaped
