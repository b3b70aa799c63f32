"""Refuse ORM queries on case-owned models that did not come through ``casefile.access``.

The scoped selects carry an execution option; loads of relationships of rows already
fetched through access are allowed. Anything else is a bug that could leak a case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session

SCOPED = {"casefile_scope": "access"}
_GUARDED_TABLES = frozenset(
    {
        "cases",
        "persons",
        "person_names",
        "name_tokens",
        "case_status_events",
        "timeline_events",
        "reporters",
        "consents",
        "evidence_items",
        "evidence_custody",
        "packets",
        "packet_cases",
        "submissions",
        "responses",
        "response_outcomes",
        "person_match_keys",
        "duplicate_candidates",
        "person_merges",
        "person_distinctions",
    }
)


class UnscopedQuery(RuntimeError):
    """A query for case-owned rows bypassed the access module."""


def unscoped(reason: str) -> dict[str, str]:
    """Execution options for the few legitimate whole-database queries (CLI, demo, counters)."""
    return {"casefile_scope": f"unscoped: {reason}"}


def _guarded_tables(statement: Any) -> set[str]:
    """Case-owned tables the statement reads outside a scoped select: joins, subqueries, EXISTS.

    A select that came through ``casefile.access`` is not looked into (a count over a scoped
    subquery is fine); a select of case rows anywhere else is reported.
    """
    found: set[str] = set()
    stack = [statement]
    while stack:
        element = stack.pop()
        if isinstance(element, Table):
            if element.name in _GUARDED_TABLES:
                found.add(element.name)
            continue
        if getattr(element, "_execution_options", {}).get("casefile_scope"):
            continue
        stack.extend(element.get_children())
    return found


def install_tripwire(session_factory: Any = Session) -> None:
    """Listen on every ORM select; raise UnscopedQuery for an unscoped case-owned one."""

    @event.listens_for(session_factory, "do_orm_execute")
    def _check(state: ORMExecuteState) -> None:
        if not state.is_select or state.is_relationship_load or state.is_column_load:
            return
        if state.execution_options.get("casefile_scope"):
            return
        tables = _guarded_tables(state.statement)
        if tables:
            raise UnscopedQuery(f"unscoped query on {', '.join(sorted(tables))}")
