"""Database helpers shared by every domain: column types, time, dialect quirks."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from casefile.core.partial_dates import PartialDate


def code_point_string(length: int) -> String:
    """A string column compared in code-point order on PostgreSQL too (prefix range scans)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")  # type: ignore[return-value]


def utcnow() -> datetime:
    """Naive UTC now: both backends store it the same way, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


class PartialDateType(TypeDecorator[PartialDate]):
    """A partial date stored as its ISO text ("2017", "2017-08", "2017-08-14").

    ISO text sorts like the dates it names, so range filters compare strings in SQL.
    """

    impl = String(10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        # Byte order, whatever the server's locale: the comparisons rely on it.
        if dialect.name == "postgresql":
            return dialect.type_descriptor(String(10, collation="C"))
        return dialect.type_descriptor(String(10))

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = PartialDate.from_iso(value)
        return value.isoformat()

    def process_result_value(self, value: Any, dialect: Any) -> PartialDate | None:
        return None if value is None else PartialDate.from_iso(value)


_sqlite_write_lock_on_begin: ContextVar[bool] = ContextVar("casefile_sqlite_immediate", default=True)


def defer_sqlite_write_lock() -> None:
    """Let transactions in the current context begin as plain readers.

    For a context that only reads: a test that inspects the database between requests (it must
    not hold the single write lock that its next request waits for), and a read-only query that
    runs in a worker thread beside a request (the dashboard), which must not wait for that request.
    """
    _sqlite_write_lock_on_begin.set(False)


def install_sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys and a single writer per transaction on SQLite.

    Every transaction starts with BEGIN IMMEDIATE: nearly every request appends an audit
    event, and taking the write lock up front means a writer waits its turn instead of
    failing halfway (the audit chain relies on that serialisation).
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # maintenance (ANALYZE, VACUUM) runs outside any transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _sqlite_write_lock_on_begin.get() else "BEGIN")
