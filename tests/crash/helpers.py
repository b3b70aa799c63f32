"""Running casefile in a child process on the test instance, waiting for a point in its work seen
from outside (a file appearing or growing, a table's storage growing), and killing it there."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text

from casefile.access import unscoped
from casefile.extensions import db

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.005
# Seconds allowed for the work to reach the point a test waits for; the machine is shared.
REACH = 120.0


def child_env(app: Flask, **extra: str) -> dict[str, str]:
    """The environment of a process that opens the test app's instance and database."""
    settings = app.config["CASEFILE_SETTINGS"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEFILE_")}
    env.update({"CASEFILE_INSTANCE": str(settings.instance_path), "CASEFILE_DATABASE_URL": settings.database_url,
                "CASEFILE_TOTP_REQUIRED_ROLES": "", **extra})
    return env


def start_cli(app: Flask, args: list[str], log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """``casefile ARGS`` as its own process; its output goes to ``log``."""
    db.session.remove()  # hold no transaction (SQLite's write lock) while the child works
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "casefile.cli", *args], env=child_env(app, **extra),
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[Any], what: str, log: Path | None = None,
               timeout: float = REACH) -> None:
    """Poll ``condition`` until it holds; fail if the process ended first or the time ran out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            output = log.read_text(errors="replace")[-2000:] if log else ""
            raise AssertionError(f"the process ended (status {process.returncode}) before {what}:\n{output}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(POLL)


def kill(process: subprocess.Popen[Any]) -> None:
    """SIGKILL, and check the process was still working when it came."""
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the process had already finished"


def children_of(pid: int) -> list[int]:
    """Direct children of a running process (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def wait_gone(pids: list[int], timeout: float = 120.0) -> None:
    """Wait until orphaned processes have ended (a zombie counts as ended)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while True:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                break
            if state in ("Z", "X"):
                break
            assert time.monotonic() < deadline, f"process {pid} is still running"
            time.sleep(0.05)


# --- what the database and the store hold --------------------------------------------------------

def count(model: Any, *where: Any) -> int:
    db.session.commit()  # a fresh snapshot
    return db.session.scalar(select(func.count()).select_from(model).where(*where)
                             .execution_options(**unscoped("crash test: counts"))) or 0


def table_bytes(table: str) -> int:
    """What PostgreSQL has allocated to a table: it grows with rows not yet committed."""
    db.session.commit()
    return int(db.session.scalar(text("SELECT pg_relation_size(:name)"), {"name": table}) or 0)


def wal_bytes(app: Flask) -> int:
    """The SQLite write-ahead log's size: it grows when a transaction spills rows before its commit."""
    path = Path(app.config["CASEFILE_SETTINGS"].database_url.removeprefix("sqlite:///") + "-wal")
    return path.stat().st_size if path.exists() else 0


def blob_files(app: Flask) -> list[Path]:
    return sorted((app.config["CASEFILE_SETTINGS"].evidence_dir / "blobs").glob("*/*"))


def upload_files(app: Flask) -> list[Path]:
    """Uploads being written (or left by a crash) in the store's temporary folder."""
    return sorted((app.config["CASEFILE_SETTINGS"].evidence_dir / "tmp").glob("*"))


# --- an import file --------------------------------------------------------------------------------

_SYLLABLES = ["на", "ур", "ла", "ер", "ма", "ту", "гүл", "сай", "бек", "жан", "ай", "да", "ке", "ну", "ра", "ди"]
_LATIN = {"на": "na", "ур": "ur", "ла": "la", "ер": "er", "ма": "ma", "ту": "tu", "гүл": "gul", "сай": "sai",
          "бек": "bek", "жан": "zhan", "ай": "ai", "да": "da", "ке": "ke", "ну": "nu", "ра": "ra", "ди": "di"}


def write_import(path: Path, rows: int, seed: int = 8) -> None:
    """A CSV of ``rows`` fictional cases, each with a reporter who consents to the Kazakh MFA."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source_ref", "name_cyrillic", "name_latin", "sex", "birth_date", "status", "detained_on",
                         "reporter_name", "reporter_relationship", "consent_kz_mfa", "narrative"])
        number = 0
        while number < rows:
            parts = [[rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))] for _ in range(2)]
            cyrillic = " ".join("".join(word).capitalize() for word in parts)
            if cyrillic in seen:
                continue
            seen.add(cyrillic)
            number += 1
            latin = " ".join("".join(_LATIN[s] for s in word).capitalize() for word in parts)
            writer.writerow([f"C-{number}", cyrillic, latin, rng.choice("MF"),
                             f"{rng.randint(1950, 1999)}-{rng.randint(1, 12):02d}", "camp",
                             f"{rng.randint(2017, 2019)}-{rng.randint(1, 12):02d}", "Айгүл Серікқызы", "sister",
                             "yes", "Taken from home at night."])
