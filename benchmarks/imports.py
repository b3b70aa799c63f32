"""Spreadsheet import at scale: a 10,000-row file into an instance that already holds 100,000 people.

Each backend gets a throwaway database and instance, migrated, with ``dataset.generate(N)`` cases
(one person each, with their blocking keys, as a migrated instance keeps them). The file is a CSV
with every canonical column: nine rows in ten are new fictional cases (names in up to four scripts,
a reporter with a phone and consents, a narrative), one in ten is a person already recorded as
another list would write them (one of their names, in one script, sometimes with the birth date).

The import is measured the way ``casefile import`` does it, in a fresh child process (so the peak
memory is the import's own): read and check the file, map its columns, check every row, find the
recorded people and the other rows each row may be (the duplicates flagged), stage the file in the
encrypted store and commit every row in one transaction. Peak memory is the child's ``ru_maxrss``.

Targets (issue 6): under 20 s and under 500 MB, on SQLite and on PostgreSQL. The matcher's
precision and recall on the labelled set (``tests/data/matching_labelled.json``) are printed too.

``python -m benchmarks.imports --child ...`` is the child process itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_SECONDS = 20.0
TARGET_MB = 500.0
ROOT = Path(__file__).parent.parent
RECORDED_SHARE = 0.1  # rows that are people already recorded, written another way
HEADER = ["source_ref", "name_cyrillic", "name_latin", "name_chinese", "name_arabic", "sex", "birth_date", "prc_id",
          "iin", "hometown", "status", "detained_on", "detention_place", "reporter_name", "reporter_relationship",
          "reporter_phone", "consent_kz_mfa", "consent_prc_embassy", "consent_kz_parliament", "consent_un",
          "consent_public", "narrative"]
_SCRIPT_COLUMN = {"cyrillic": "name_cyrillic", "latin": "name_latin", "chinese": "name_chinese",
                  "arabic": "name_arabic"}


@dataclass
class Result:
    backend: str
    seconds: float
    phases: dict[str, float]
    peak_mb: float
    rows: int
    people_before: int
    flagged: int
    planted: int
    planted_found: int
    report: dict[str, Any]


def write_file(path: Path, rows: int, recorded: int, seed: int = 11) -> dict[str, int]:
    """The import file; returns source_ref -> recorded person id for the planted rows."""
    from benchmarks import dataset
    from casefile.demo.records import fictional_case
    from casefile.places.gazetteer import get_place

    # The recorded people as dataset.generate made them: the same generator, the same seed.
    made = random.Random(dataset.SEED)
    people = [fictional_case(made, dataset.PREFECTURES) for _ in range(recorded)]
    rng = random.Random(seed)
    planted: dict[str, int] = {}
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            ref = f"B-{number}"
            row = dict.fromkeys(HEADER, "")
            row["source_ref"] = ref
            if rng.random() < RECORDED_SHARE:
                index = rng.randrange(recorded)
                person = people[index]
                planted[ref] = index + 1  # dataset ids start at 1
                script, _kind, text = rng.choice(person.names)
                row[_SCRIPT_COLUMN[script]] = text
                if rng.random() < 0.6:
                    row["birth_date"] = person.birth_date.isoformat()
                if rng.random() < 0.5:
                    row["sex"] = person.sex
                row["status"] = person.status
            else:
                record = fictional_case(rng, dataset.PREFECTURES)
                for script, _kind, text in record.names:
                    if not row[_SCRIPT_COLUMN[script]]:
                        row[_SCRIPT_COLUMN[script]] = text
                place = get_place(record.hometown_code)
                row.update({
                    "sex": record.sex, "birth_date": record.birth_date.isoformat(), "prc_id": record.prc_id or "",
                    "iin": record.iin or "", "hometown": place.name_kk if place else "", "status": record.status,
                    "detained_on": record.detained_on.isoformat() if record.detained_on else "",
                    "detention_place": record.detention_facility, "narrative": record.narrative,
                })
                reporter = record.reporters[0]
                row.update({"reporter_name": reporter["full_name"], "reporter_relationship": reporter["relationship"],
                            "reporter_phone": reporter["phone"]})
                for kind, choice in reporter["consents"].items():
                    row[f"consent_{kind}"] = "yes" if choice != "none" else "no"
            writer.writerow([row[column] for column in HEADER])
    return planted


def prepare_instance(label: str, url: str, instance: Path, people: int) -> None:
    from flask_migrate import upgrade

    from benchmarks import dataset
    from casefile.app import create_app
    from casefile.config import load_settings
    from casefile.extensions import db

    settings = load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": url})
    app = create_app(settings)
    with app.app_context():
        upgrade()
        print(f"{label}: generating {people} people with their cases and blocking keys", flush=True)
        started = time.perf_counter()
        dataset.generate(people, progress=False, match_keys=True)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")
        print(f"{label}: ready in {time.perf_counter() - started:.0f} s", flush=True)
        db.session.remove()
        db.engine.dispose()


def child(url: str, instance: str, path: str) -> None:
    """Import ``path`` as the benchmark coordinator, the way ``casefile import`` does; print figures as JSON."""
    from benchmarks import dataset
    from casefile.app import create_app
    from casefile.auth.services import user_by_username
    from casefile.config import load_settings
    from casefile.extensions import db
    from casefile.imports import services

    app = create_app(load_settings({"CASEFILE_INSTANCE": instance, "CASEFILE_DATABASE_URL": url}))
    with app.app_context():
        actor = user_by_username("bench.coordinator")
        phases: dict[str, float] = {}
        started = mark = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            phases[name] = round(now - mark, 3)
            mark = now

        data = Path(path).read_bytes()
        team = services.team_named(actor, dataset.TEAMS[0])
        table = services.read(data, Path(path).name)
        mapping = services.proposed_mapping(table)
        lap("read and map")
        result = services.review(actor, table, mapping, Path(path).name)
        lap("check rows and find duplicates")
        assert not result.errors, result.errors[:5]
        batch = services.stage_bytes(actor, team.id, Path(path).name, data, table)
        report = services.commit(actor, batch, result, result.defaults)
        lap("insert")
        db.session.commit()
        lap("commit")
        seconds = time.perf_counter() - started
        found = {row.source_ref: [f.person_id for f in result.existing.get(row.number, [])] for row in result.rows}
        print(json.dumps({"seconds": seconds, "phases": phases, "rows": len(result.rows),
                          "flagged": len(result.flagged), "found": found, "report": report.as_dict()}))


def run(databases: list[tuple[str, Any]], rows: int = 10_000, people: int = 100_000) -> list[Result]:
    results = []
    for label, database in databases:
        with database as url, tempfile.TemporaryDirectory(prefix="casefile-bench-import-") as folder:
            instance = Path(folder) / "instance"
            prepare_instance(label, url, instance, people)
            path = Path(folder) / "list.csv"
            planted = write_file(path, rows, people)
            process = subprocess.Popen([sys.executable, "-m", "benchmarks.imports", "--child", "--database", url,
                                        "--instance", str(instance), "--file", str(path)],
                                       cwd=ROOT, stdout=subprocess.PIPE, text=True)
            output = process.stdout.read()  # type: ignore[union-attr]
            _pid, status, usage = os.wait4(process.pid, 0)
            if status != 0:
                raise SystemExit(f"{label}: the import failed")
            figures = json.loads(output.strip().splitlines()[-1])
            found = sum(1 for ref, person in planted.items() if person in figures["found"].get(ref, []))
            result = Result(label, figures["seconds"], figures["phases"], usage.ru_maxrss / 1024, figures["rows"],
                            people, figures["flagged"], len(planted), found, figures["report"])
            print(f"{label}: {result.rows} rows in {result.seconds:.1f} s ({result.phases}); peak {result.peak_mb:.0f} MB; "
                  f"{result.flagged} rows flagged; planted duplicates found {found}/{len(planted)}", flush=True)
            results.append(result)
    return results


def print_table(results: list[Result]) -> bool:
    from benchmarks.matching import quality_figures

    met = True
    print("\nimport: a 10,000-row CSV into an instance holding 100,000 people (seconds; memory in MB)\n")
    print("| backend | measure | figure | target | |\n|---|---|---:|---:|---|")
    for r in results:
        ok_time, ok_memory = r.seconds < TARGET_SECONDS, r.peak_mb < TARGET_MB
        met &= ok_time and ok_memory
        print(f"| {r.backend} | import {r.rows} rows against {r.people_before} people (s) | {r.seconds:.1f} | "
              f"< {TARGET_SECONDS:.0f} | {'PASS' if ok_time else 'MISS'} |")
        for name, seconds in r.phases.items():
            print(f"| {r.backend} | … {name} (s) | {seconds:.1f} |  |  |")
        print(f"| {r.backend} | peak memory of the import process (MB) | {r.peak_mb:.0f} | < {TARGET_MB:.0f} | "
              f"{'PASS' if ok_memory else 'MISS'} |")
        print(f"| {r.backend} | rows flagged as possible duplicates | {r.flagged} |  |  |")
        print(f"| {r.backend} | planted duplicates (recorded people written another way) found | "
              f"{r.planted_found} / {r.planted} |  |  |")
        print(f"| {r.backend} | cases / new people / linked rows / pairs queued | {r.report['cases']} / "
              f"{r.report['people']} / {len(r.report['linked'])} / {r.report['queued']} |  |  |")
    precision, recall = quality_figures()
    print(f"\nmatcher on the labelled set at the default threshold: precision {precision:.3f} (target 0.95), "
          f"recall {recall:.3f} (target 0.90)")
    return met and precision >= 0.95 and recall >= 0.90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--database")
    parser.add_argument("--instance")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.child:
        child(args.database, args.instance, args.file)


if __name__ == "__main__":
    main()
