"""``make bench``: the case list, name search, audit chain, evidence store and packets at scale, on both databases.

Prints the median and p95 per operation. Targets (DESIGN.md): median under 50 ms at 100,000 cases;
verifying 1,000,000 audit events under 10 s; ``record()`` under 2 ms at the median; uploading and
storing a 1 GiB file at least half as fast as ``sha256sum`` reads it, the server under 150 MB;
building a 2,000-case packet from the database to a finished PDF in under 5 s and under 500 MB;
importing a 10,000-row file into an instance of 100,000 people in under 20 s and 500 MB; the dashboard
over 100,000 cases in under 300 ms at the median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import audit, dashboard, dataset, evidence, imports, packets
from casefile.app import create_app
from casefile.config import load_settings
from casefile.extensions import db
from tests.databases import throwaway_postgres_database
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
    # The coordinator logs in with a password only: a second factor costs nothing in what is measured.
    settings = load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url,
                              "CASEFILE_TOTP_REQUIRED_ROLES": ""})
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

            def call(target: str = target, web: WebSession = web) -> None:
                response = web.get(target)
                assert response.status_code == 200, (target, response.status_code)

            median, p95 = _measure(call, repeat)
            rows.append((role, name, median, p95))
            print(f"  {label:<10} {role:<11} {name:<26} median {median:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def _postgres_database(server: str):  # type: ignore[no-untyped-def]
    """A fresh database on the server for one benchmark, dropped afterwards."""
    return throwaway_postgres_database(server, "casefile_bench")


@contextmanager
def _sqlite_database() -> Iterator[str]:
    """A fresh SQLite file for one benchmark, removed afterwards (a million events fill 300 MB)."""
    folder = Path(tempfile.mkdtemp(prefix="casefile-bench-db-"))
    try:
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_databases(use_sqlite: bool, use_postgres: bool, server: str | None) -> list[tuple[str, object]]:
    """(label, context manager giving a throwaway database URL) for each backend asked for."""
    databases: list[tuple[str, object]] = []
    if use_sqlite:
        databases.append(("SQLite", _sqlite_database()))
    if use_postgres and server:
        databases.append(("PostgreSQL", _postgres_database(server)))
    return databases


def _print_cases_table(results: dict[str, list[tuple[str, str, float, float]]], cases: int, repeat: int) -> None:
    print(f"\n{cases} cases, {repeat} requests each (milliseconds, through the Flask test client)\n")
    print("| backend | role | operation | median | p95 |\n|---|---|---|---:|---:|")
    failed = False
    for backend, rows in results.items():
        for role, name, median, p95 in rows:
            flag = "" if median < 50 else " ⚠"
            failed |= median >= 50
            print(f"| {backend} | {role} | {name} | {median:.1f}{flag} | {p95:.1f} |")
    print("\nall medians under 50 ms" if not failed else "\nsome medians are over the 50 ms target")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--audit-events", type=int, default=1_000_000, help="length of the generated audit chain")
    parser.add_argument("--evidence-mb", type=int, default=1024, help="size of the uploaded evidence file (MiB)")
    parser.add_argument("--evidence-uploads", type=int, default=3,
                        help="uploads of the evidence file per backend; the median rate is reported")
    parser.add_argument("--evidence-profile", action="store_true",
                        help="profile the upload request in the server with cProfile (slows it down)")
    parser.add_argument("--packet-cases", type=int, default=2000, help="cases in the benchmark packet")
    parser.add_argument("--packet-builds", type=int, default=3,
                        help="packet builds per backend, each in a fresh process; the median time is reported")
    parser.add_argument("--packet-profile", action="store_true",
                        help="profile one more (uncounted) packet build with cProfile and print where it spends time")
    parser.add_argument("--import-rows", type=int, default=10_000, help="rows of the benchmark import file")
    parser.add_argument("--import-people", type=int, default=100_000, help="people recorded before the import")
    parser.add_argument("--only", choices=("cases", "audit", "evidence", "packets", "imports", "dashboard", "all"), default="all")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()

    server = os.environ.get("CASEFILE_BENCH_POSTGRES_URL") or postgres_url()
    if args.backend == "postgresql" and not server:
        print("no PostgreSQL server answers; set CASEFILE_BENCH_POSTGRES_URL", file=sys.stderr)
        return 1
    use_sqlite = args.backend in ("sqlite", "both")
    use_postgres = args.backend in ("postgresql", "both") and bool(server)

    results: dict[str, list[tuple[str, str, float, float]]] = {}
    if args.only in ("cases", "all"):
        if use_sqlite:
            with _sqlite_database() as url:
                results["SQLite"] = _bench_backend("SQLite", url, args.cases, args.repeat)
        if use_postgres:
            with _postgres_database(server) as url:  # type: ignore[arg-type]
                results["PostgreSQL"] = _bench_backend("PostgreSQL", url, args.cases, args.repeat)
    audit_rows: list[tuple[str, str, float, float]] = []
    if args.only in ("audit", "all"):
        if use_sqlite:
            with _sqlite_database() as url:
                audit_rows += audit.run([(url, "SQLite")], events=args.audit_events)
        if use_postgres:
            with _postgres_database(server) as url:  # type: ignore[arg-type]
                audit_rows += audit.run([(url, "PostgreSQL")], events=args.audit_events)

    evidence_figures: tuple[float, list[evidence.Result]] | None = None
    if args.only in ("evidence", "all"):
        evidence_figures = evidence.run(_fresh_databases(use_sqlite, use_postgres, server), size_mb=args.evidence_mb, uploads=args.evidence_uploads,
                                         profile=args.evidence_profile)

    packet_results: list[packets.Result] = []
    if args.only in ("packets", "all"):
        packet_results = packets.run(_fresh_databases(use_sqlite, use_postgres, server), case_count=args.packet_cases, builds=args.packet_builds,
                                     profile=args.packet_profile)

    import_results: list[imports.Result] = []
    if args.only in ("imports", "all"):
        import_results = imports.run(_fresh_databases(use_sqlite, use_postgres, server), rows=args.import_rows, people=args.import_people)

    dashboard_rows: list[dashboard.Row] = []
    if args.only in ("dashboard", "all"):
        dashboard_rows = dashboard.run(_fresh_databases(use_sqlite, use_postgres, server), cases=args.cases,
                                       repeat=args.repeat, measure_call=_measure)

    if results:
        _print_cases_table(results, args.cases, args.repeat)
    if audit_rows:
        met = audit.print_table(audit_rows, args.audit_events)
        print("\naudit targets met" if met else "\nsome audit figures miss their target")
    if evidence_figures is not None:
        met = evidence.print_table(*evidence_figures, size_mb=args.evidence_mb)
        print("\nevidence targets met" if met else "\nsome evidence figures miss their target")
    if packet_results:
        met = packets.print_table(packet_results, args.packet_cases)
        print("\npacket targets met" if met else "\nsome packet figures miss their target")
    if import_results:
        met = imports.print_table(import_results)
        print("\nimport targets met" if met else "\nsome import figures miss their target")
    if dashboard_rows:
        met = dashboard.print_table(dashboard_rows, args.cases, args.repeat)
        print("\ndashboard target met" if met else "\nthe dashboard misses its target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
