"""One row per background job: who started it, how far it is, and what came of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from casefile.db import utcnow
from casefile.extensions import db

STATES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")


class Job(db.Model):
    """A job and its progress. Its parameters are sealed (they may hold a letter's text) and
    dropped once it has finished; ``result`` names what it made (an endpoint and its values),
    never case content; ``error`` is the message shown to the user."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(200), default="")
    params_sealed: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(String(500), default="")
    # "host:pid" of the process running it: a job whose process is gone can be marked failed.
    runner: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if self.total <= 0:
            return 0
        return max(0, min(100, self.done * 100 // self.total))
