"""``make bench``: the case list and name search at scale, through the real app, on both databases.

Prints the median and p95 per operation. Target (DESIGN.md): median under 50 ms at 100,000 cases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks import dataset
from casefile.app import create_app
from casefile.config import load_settings
from casefile.extensions import db
from tests.helpers import WebSession
from tests.run import postgres_url

OPERATIONS: list[tuple[str, str]] = [
    ("list page 1", "/cases"),
    ("list deep page", "/cases?page={deep}"),
    ("list filtered", "/cases?status=camp&prefecture=654000&detained_from=2017&detained_to=2018"),
    ("list sorted by detention", "/cases?sort=detained_desc&page=3"),
    ("search Cyrillic", "/cases?q=Нұрлан"),
    ("search Latin", "/cases?q=Toktar"),
    ("search Chinese", "/cases?q=努尔兰"),
    ("search Arabic", "/cases?q=نۇرلان"),
    ("search two words", "/cases?q=Серік+Болат"),
]


def _measure(call: Callable[[], object], repeat: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def _bench_backend(label: str, database_url: str, cases: int, repeat: int) -> list[tuple[str, str, float, float]]:
    instance = Path(tempfile.mkdtemp(prefix="casefile-bench-"))
    settings = load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url})
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        print(f"{label}: generating {cases} cases", flush=True)
        started = time.perf_counter()
        dataset.generate(cases)
        print(f"{label}: generated in {time.perf_counter() - started:.1f} s; analysing", flush=True)
        db.session.commit()
        # What autovacuum does after a bulk load: statistics, and the visibility map that lets
        # PostgreSQL count from an index alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")
    rows = []
    for role in ("advocate", "coordinator"):
        web = WebSession(app.test_client())
        web.login(f"bench.{role}", dataset.PASSWORD)
        deep = max(1, (cases // 25) // (2 if role == "advocate" else 1) // 2)
        for name, url in OPERATIONS:
            target = url.format(deep=deep)

            def call(target: str = target) -> None:
                response = web.get(target)
                assert response.status_code == 200, (target, response.status_code)

            median, p95 = _measure(call, repeat)
            rows.append((role, name, median, p95))
            print(f"  {label:<10} {role:<11} {name:<26} median {median:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()

    results: dict[str, list[tuple[str, str, float, float]]] = {}
    if args.backend in ("sqlite", "both"):
        path = Path(tempfile.mkdtemp(prefix="casefile-bench-db-")) / "bench.sqlite3"
        results["SQLite"] = _bench_backend("SQLite", f"sqlite:///{path}", args.cases, args.repeat)
    server = os.environ.get("CASEFILE_BENCH_POSTGRES_URL") or postgres_url()
    if args.backend in ("postgresql", "both") and server:
        url = make_url(server).set(drivername="postgresql+psycopg")
        name = f"casefile_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results["PostgreSQL"] = _bench_backend(
                "PostgreSQL", url.set(database=name).render_as_string(hide_password=False), args.cases, args.repeat)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    elif args.backend == "postgresql":
        print("no PostgreSQL server answers; set CASEFILE_BENCH_POSTGRES_URL", file=sys.stderr)
        return 1

    print(f"\n{args.cases} cases, {args.repeat} requests each (milliseconds, through the Flask test client)\n")
    print(f"| backend | role | operation | median | p95 |\n|---|---|---|---:|---:|")
    failed = False
    for backend, rows in results.items():
        for role, name, median, p95 in rows:
            flag = "" if median < 50 else " ⚠"
            failed |= median >= 50
            print(f"| {backend} | {role} | {name} | {median:.1f}{flag} | {p95:.1f} |")
    print("\nall medians under 50 ms" if not failed else "\nsome medians are over the 50 ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
