"""Petition packets at scale: a 2,000-case packet built from the database to a finished PDF.

Each backend gets a throwaway database and instance: migrated (the recipients are seeded by the
migration), ``dataset.generate(N)`` cases, then one reporter per case (a sister, no sealed
contact) with a current ``kz_mfa`` consent, 10% of them disclosing their identity so the
signature sheet has rows. Every case is made eligible (not restricted, verified at level 1 or
more), so the packet holds all N cases: list plus one section per case, no images (no evidence).

The build is measured the way the app does it, in a fresh child process per build (so the peak
memory is the build's own, fonts and all): create the app on that instance, load the coordinator
and the recipient ``kz-mfa``, then time ``services.build_packet(coordinator, recipient,
Criteria(min_verification=0), Letter(language="ru", ...))`` followed by ``db.session.commit()``.
The letter (default text, subject, requests, legal basis, three signatories) is prepared once
beforehand, as the form's preview would. Inside the child, ``select_cases``, ``freeze_inputs``,
``render_pdf`` and ``store_bytes`` are wrapped with timers (the benchmark's own instrumentation;
nothing in ``casefile`` changes) and the SQL statements are counted. The renderer may compile in
worker processes of its own, so the memory figure is the peak of the *sum* of the resident sizes of
the child and all its descendants, sampled by the parent every 20 ms from ``/proc`` (shared pages,
the interpreter and the Typst library, are counted once per process, so this errs high); beside it
the peak sum of their proportional set sizes (PSS: shared pages split between the processes
sharing them, what the build really takes; sampled every 100 ms, so it may miss a short peak) and
the largest single process
(``ru_maxrss`` from ``os.wait4``, which covers the child and its reaped descendants). The PDF's
pages are counted with pypdf (the dev extra) in the parent. The machine may be shared: the CPU
time that other processes used while a build's process ran (``/proc/stat`` busy time less the
build tree's own user + system time) is reported, as a warning when it is over 10% of the wall time.

Targets (issue 5): under 5 s wall time and under 500 MB peak memory on the 2-core machine.
The time figure is the median of the builds (3 by default), the memory figure the highest.

``python -m benchmarks.packets --child`` is the child process itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

TARGET_SECONDS = 5.0
TARGET_MB = 500.0
RECIPIENT = "kz-mfa"
CONSENT_KIND = "kz_mfa"
LANGUAGE = "ru"
IDENTITY_SHARE = 0.10  # reporters whose consent covers their identity: rows of the signature sheet
SIGNATORIES = 3  # of those, named as signatories of the cover letter
ROOT = Path(__file__).parent.parent


@dataclass
class Build:
    """The figures of one build, in one child process."""

    seconds: float  # build_packet + commit
    select_seconds: float
    freeze_seconds: float
    render_seconds: float
    store_seconds: float  # store_bytes: the PDF encrypted into the evidence store
    commit_seconds: float
    statements: int  # SQL statements sent during build_packet + commit
    rss_before_mb: float  # the child's RSS just before the build (interpreter, app, actor, recipient)
    peak_mb: float  # the highest sum of RSS over the child and its descendants (sampled)
    peak_pss_mb: float  # the highest sum of PSS over the same processes (sampled)
    largest_process_mb: float  # ru_maxrss from os.wait4: the largest single process of the tree
    process_seconds: float  # the child from spawn to exit
    cpu_seconds: float  # user + system time of the child and its workers, start-up included
    others_cpu_seconds: float  # CPU time other processes on the machine used meanwhile
    pdf_bytes: int
    pages: int | None
    cases: int
    left_out: dict[str, int]
    reference: str

    @property
    def rest_seconds(self) -> float:
        """Everything else in the build: letter checks, the packet row, sealing the inputs, records, audit."""
        return self.seconds - (self.select_seconds + self.freeze_seconds + self.render_seconds
                               + self.store_seconds + self.commit_seconds)


@dataclass
class Result:
    backend: str
    cases: int
    builds: list[Build] = field(default_factory=list)
    profile: str = ""  # the cProfile listing of an extra, untimed build
    notes: list[str] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(build, name) for build in self.builds)

    @property
    def peak_mb(self) -> float:
        return max(build.peak_mb for build in self.builds)


# --- the instance ---------------------------------------------------------------------------------

def _reporter_name(rng: random.Random) -> str:
    """A fictional woman's name (the reporter is a sister) in Kazakh Cyrillic."""
    from casefile.demo.namebank import fictional_person

    while True:
        person = fictional_person(rng)
        if person.sex == "F":
            return person.primary


def add_reporters(case_count: int, coordinator_id: int, seed: int = 17) -> int:
    """One reporter per case and one current consent for ``kz_mfa`` each; returns how many disclose identity."""
    from sqlalchemy import insert

    from casefile.cases.models import Consent, Reporter
    from casefile.db import utcnow
    from casefile.extensions import db

    rng = random.Random(seed)
    now = utcnow()
    identity = 0
    batch = 5000
    for start in range(1, case_count + 1, batch):
        reporters, consents = [], []
        for case_id in range(start, min(start + batch, case_count + 1)):
            discloses = rng.random() < IDENTITY_SHARE
            identity += discloses
            reporters.append({"id": case_id, "case_id": case_id, "full_name": _reporter_name(rng),
                              "relationship_kind": "sister", "relationship_detail": "", "contact_sealed": None,
                              "created_by_id": coordinator_id, "created_at": now})
            consents.append({"id": case_id, "reporter_id": case_id, "recipient_kind": CONSENT_KIND,
                             "disclose_identity": discloses,
                             "given_on": date(2024, 1, 1) + timedelta(days=rng.randrange(600)),
                             "recorded_by_id": coordinator_id, "recorded_at": now})
        db.session.execute(insert(Reporter), reporters)
        db.session.execute(insert(Consent), consents)
        db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        for table in ("reporters", "consents"):
            db.session.execute(db.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        db.session.commit()
    return identity


def prepare_instance(label: str, instance: Path, database_url: str, case_count: int) -> dict[str, Any]:
    """Migrate, generate the cases, reporters and consents; return the letter a coordinator would send."""
    from flask_migrate import upgrade
    from sqlalchemy import update

    from benchmarks import dataset
    from casefile import audit
    from casefile.app import create_app
    from casefile.auth.services import user_by_username
    from casefile.cases.models import Case
    from casefile.config import load_settings
    from casefile.extensions import db
    from casefile.packets import services

    app = create_app(load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url}))
    with app.app_context():
        audit.set_client("benchmark")
        upgrade()  # the real schema; the recipients come with migration 0004
        print(f"{label}: generating {case_count} cases with a reporter and a {CONSENT_KIND} consent each",
              flush=True)
        started = time.perf_counter()
        dataset.generate(case_count, progress=False)
        coordinator = user_by_username("bench.coordinator")
        assert coordinator is not None
        identity = add_reporters(case_count, coordinator.id)
        # Every case eligible, so the packet holds them all (the generator restricts ~5%).
        db.session.execute(update(Case).values(restricted=False))
        db.session.execute(update(Case).where(Case.verification_level < 1).values(verification_level=1))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")
        print(f"{label}: generated in {time.perf_counter() - started:.1f} s ({identity} reporters disclose "
              "their identity)", flush=True)

        # The letter, as the form's preview fills it in.
        recipient = services.recipient_by_code(RECIPIENT)
        selection = services.select_cases(coordinator, recipient, services.Criteria(min_verification=0))
        if len(selection.included) != case_count:
            raise RuntimeError(f"{len(selection.included)} of {case_count} cases may go into the packet; "
                               f"left out: {selection.left_out_counts()}")
        signatories = [reporter.id for _case, reporter in services.identity_reporters(selection, recipient)]
        letter = {
            "language": LANGUAGE, "organisation": "Benchmark volunteers", "contact": "Almaty\n+7 700 000 00 00",
            "outgoing_reference": "", "subject": services.DEFAULT_SUBJECT[LANGUAGE],
            "text": services.default_letter(selection, recipient, LANGUAGE), "requests": list(services.REQUESTS),
            "legal_basis": services.default_legal_basis(selection, recipient),
            "signatory_ids": signatories[:SIGNATORIES],
        }
        db.session.remove()
        db.engine.dispose()
    return letter


# --- the child process ----------------------------------------------------------------------------

def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(letter_file: Path, pdf_out: Path, profile_to: Path | None) -> dict[str, Any]:
    """One build in this process: the app on the CASEFILE_* instance, build_packet + commit, timed."""
    import resource

    from sqlalchemy import event

    from casefile import audit
    from casefile.app import create_app
    from casefile.auth.services import user_by_username
    from casefile.config import load_settings
    from casefile.evidence import services as evidence_services
    from casefile.extensions import db
    from casefile.packets import services

    timings: dict[str, float] = {}
    captured: dict[str, bytes] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    def render(*args: Any, **kwargs: Any) -> bytes:
        pdf = original_render(*args, **kwargs)
        captured["pdf"] = pdf
        return pdf

    # The benchmark's own instrumentation of this process: timers around the build's steps.
    original_render = services.render_pdf
    services.select_cases = timed("select", services.select_cases)  # type: ignore[assignment]
    services.freeze_inputs = timed("freeze", services.freeze_inputs)  # type: ignore[assignment]
    services.render_pdf = timed("render", render)  # type: ignore[assignment]
    evidence_services.store_bytes = timed("store", evidence_services.store_bytes)  # type: ignore[assignment]

    app = create_app(load_settings({"CASEFILE_INSTANCE": os.environ["CASEFILE_INSTANCE"],
                                    "CASEFILE_DATABASE_URL": os.environ["CASEFILE_DATABASE_URL"]}))
    letter_fields = json.loads(letter_file.read_text())
    with app.app_context():
        audit.set_client("benchmark")
        statements = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_args: Any) -> None:
            statements[0] += 1

        actor = user_by_username("bench.coordinator")
        assert actor is not None
        recipient = services.recipient_by_code(RECIPIENT)
        letter = services.Letter(**letter_fields)
        criteria = services.Criteria(min_verification=0)
        rss_before = _rss_mb()
        statements[0] = 0

        def build() -> Any:
            packet = services.build_packet(actor, recipient, criteria, letter)
            commit_started = time.perf_counter()
            db.session.commit()
            timings["commit"] = time.perf_counter() - commit_started
            return packet

        started = time.perf_counter()
        if profile_to is not None:
            import cProfile

            profile = cProfile.Profile()
            packet = profile.runcall(build)
            seconds = time.perf_counter() - started
            profile.dump_stats(str(profile_to))
        else:
            packet = build()
            seconds = time.perf_counter() - started
        figures = {
            "seconds": seconds, "select_seconds": timings.get("select", 0.0),
            "freeze_seconds": timings.get("freeze", 0.0), "render_seconds": timings.get("render", 0.0),
            "store_seconds": timings.get("store", 0.0), "commit_seconds": timings.get("commit", 0.0),
            "statements": statements[0], "rss_before_mb": rss_before,
            "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "pdf_bytes": len(captured["pdf"]), "cases": packet.case_count, "left_out": dict(packet.left_out),
            "reference": packet.reference,
        }
        db.session.remove()
        db.engine.dispose()
    pdf_out.write_bytes(captured["pdf"])
    return figures


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_seconds() -> float:
    """CPU time all processors have spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


class TreeSampler(threading.Thread):
    """The highest sum of resident sizes over a process and all its descendants, sampled.

    RSS from ``/proc/<pid>/statm`` every ``interval`` s (cheap); PSS from ``smaps_rollup``, which
    costs the kernel a walk of the page tables, every ``pss_every``-th sample; the process tree
    (found by parent id from ``/proc/*/stat``: ``/proc/<pid>/task/<tid>/children`` is not always
    there) every ``tree_every``-th. The sampler's own CPU time is reported by the caller.
    """

    def __init__(self, pid: int, interval: float = 0.02, pss_every: int = 5, tree_every: int = 2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.pss_every, self.tree_every = pid, interval, pss_every, tree_every
        self.peak_mb, self.peak_pss_mb, self.most_processes = 0.0, 0.0, 0
        self.own_cpu_seconds = 0.0  # the parent's CPU time while it ran (this sampler, mostly): set by the caller
        self._pids: list[int] = [pid]
        self._stop_event = threading.Event()

    def _tree(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
        tree, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            tree.append(pid)
            queue.extend(parents.get(pid, []))
        return tree

    @staticmethod
    def _pss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except FileNotFoundError:
            pass
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE // 1024

    def sample(self, number: int = 0) -> None:
        if number % self.tree_every == 0:
            self._pids = self._tree()
        total, count = 0, 0
        for pid in self._pids:
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE
                count += 1
            except (OSError, IndexError, ValueError):
                continue
        self.peak_mb = max(self.peak_mb, total / 2**20)
        self.most_processes = max(self.most_processes, count)
        if number % self.pss_every == 0:
            pss = 0
            for pid in self._pids:
                try:
                    pss += self._pss_kib(pid)
                except (OSError, IndexError, ValueError):
                    continue
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)

    def run(self) -> None:
        number = 0
        while not self._stop_event.is_set():
            self.sample(number)
            number += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_mb


def count_pages(pdf: Path) -> int | None:
    """The number of pages in the page tree, read with pypdf; None when pypdf is not installed."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(str(pdf)).pages)


def _run_child(env: dict[str, str], letter_file: Path, pdf_out: Path, log: Path,
               profile_to: Path | None = None) -> tuple[dict[str, Any], float, TreeSampler, Any, float]:
    """Spawn one build; returns (its figures, the process's wall seconds, the memory sampler, its rusage
    (the child and its workers), the CPU seconds the whole machine was busy meanwhile)."""
    command = [sys.executable, "-m", "benchmarks.packets", "--child", "--letter", str(letter_file),
               "--pdf-out", str(pdf_out)]
    if profile_to is not None:
        command += ["--profile", str(profile_to)]
    busy = _busy_seconds()
    own = _own_cpu_seconds()
    started = time.perf_counter()
    with open(log, "wb") as errors:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors)
        sampler = TreeSampler(process.pid)
        sampler.start()
        assert process.stdout is not None
        try:
            output = process.stdout.read().decode()
            process.stdout.close()
        finally:
            sampler.stop()
        # wait4 rather than wait: the rusage of this child (and its reaped descendants) alone;
        # RUSAGE_CHILDREN is the maximum over every child this process ever had.
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    own = _own_cpu_seconds() - own  # this process: the memory sampler, mostly
    busy = _busy_seconds() - busy - own
    sampler.own_cpu_seconds = own
    if process.returncode != 0 or not output.strip():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"the packet build failed (exit {process.returncode}):\n{tail}")
    return json.loads(output.strip().splitlines()[-1]), seconds, sampler, usage, busy


# --- one backend ----------------------------------------------------------------------------------

def _env(instance: Path, database_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEFILE_")}
    env.update({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url})
    return env


def run_backend(label: str, database_url: str, case_count: int, builds: int, workdir: Path,
                profile: bool = False) -> Result:
    instance = workdir / f"instance-{label.lower()}"
    letter = prepare_instance(label, instance, database_url, case_count)
    letter_file = workdir / f"letter-{label.lower()}.json"
    letter_file.write_text(json.dumps(letter, ensure_ascii=False))
    env = _env(instance, database_url)
    result = Result(label, case_count)
    for number in range(1, builds + 1):
        pdf_out = workdir / f"packet-{label.lower()}-{number}.pdf"
        figures, process_seconds, sampler, usage, busy = _run_child(env, letter_file, pdf_out,
                                                       workdir / f"build-{label.lower()}-{number}.log")
        largest_mb = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime
        build = Build(
            seconds=figures["seconds"], select_seconds=figures["select_seconds"],
            freeze_seconds=figures["freeze_seconds"], render_seconds=figures["render_seconds"],
            store_seconds=figures["store_seconds"], commit_seconds=figures["commit_seconds"],
            statements=figures["statements"], rss_before_mb=figures["rss_before_mb"],
            peak_mb=max(sampler.peak_mb, largest_mb, figures["self_peak_mb"]), peak_pss_mb=sampler.peak_pss_mb,
            largest_process_mb=max(largest_mb, figures["self_peak_mb"]), process_seconds=process_seconds,
            cpu_seconds=cpu, others_cpu_seconds=max(0.0, busy - cpu),
            pdf_bytes=figures["pdf_bytes"], pages=count_pages(pdf_out), cases=figures["cases"],
            left_out=figures["left_out"], reference=figures["reference"])
        pdf_out.unlink(missing_ok=True)
        if build.cases != case_count:
            result.notes.append(f"{build.reference} holds {build.cases} cases, not {case_count}; "
                                f"left out: {build.left_out}")
        result.builds.append(build)
        pages = f"{build.pages} pages" if build.pages is not None else "pages not counted (no pypdf)"
        print(f"{label}: build {number}/{builds}: {build.reference}, {build.cases} cases in {build.seconds:.2f} s "
              f"(select {build.select_seconds:.2f}, freeze {build.freeze_seconds:.2f}, "
              f"render {build.render_seconds:.2f}, store {build.store_seconds:.2f}, "
              f"commit {build.commit_seconds:.2f}, rest {build.rest_seconds:.2f}; {build.statements} SQL statements); "
              f"peak RSS {build.peak_mb:.0f} MiB, PSS {build.peak_pss_mb:.0f}, in up to {sampler.most_processes} "
              f"processes (largest one "
              f"{build.largest_process_mb:.0f}; before the build {build.rss_before_mb:.0f}); "
              f"PDF {build.pdf_bytes / 1e6:.1f} MB, {pages}; CPU {build.cpu_seconds:.1f} s in "
              f"{build.process_seconds:.1f} s of process wall, other processes {build.others_cpu_seconds:.1f} s, "
              f"this one (the sampler) {sampler.own_cpu_seconds:.1f} s",
              flush=True)
        if build.others_cpu_seconds > 0.1 * build.process_seconds:
            result.notes.append(f"build {number} ({build.reference}): other processes used "
                                f"{build.others_cpu_seconds:.1f} CPU-seconds during its {build.process_seconds:.1f} s; "
                                "its time is not a clean measurement")
    if profile:
        stats_file = workdir / f"build-{label.lower()}.prof"
        print(f"{label}: one more build under cProfile (not counted)", flush=True)
        figures, _seconds, _sampler, _usage, _busy = _run_child(env, letter_file, workdir / "profiled.pdf",
                                              workdir / f"build-{label.lower()}-profiled.log", stats_file)
        result.profile = _profile_listing(stats_file, figures["seconds"])
    shutil.rmtree(instance, ignore_errors=True)
    return result


def _profile_listing(stats_file: Path, seconds: float, lines: int = 30) -> str:
    import io
    import pstats

    out = io.StringIO()
    out.write(f"build_packet + commit under cProfile: {seconds:.2f} s\n")
    stats = pstats.Stats(str(stats_file), stream=out)
    stats.strip_dirs()
    out.write("\n-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(lines)
    out.write("\n-- by own time --\n")
    stats.sort_stats("tottime").print_stats(lines)
    return re.sub(r"\n{3,}", "\n\n", out.getvalue())


def run(backends: list[tuple[str, Any]], case_count: int = 2000, builds: int = 3,
        profile: bool = False) -> list[Result]:
    """``backends``: (label, context manager yielding a database URL). One Result per backend."""
    workdir = Path(tempfile.mkdtemp(prefix="casefile-bench-packets-"))
    results: list[Result] = []
    try:
        for label, database in backends:
            with database as url:
                result = run_backend(label, url, case_count, builds, workdir, profile)
                results.append(result)
                if result.profile:
                    print(f"\n{label}: where the profiled build spent its time\n\n{result.profile}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def print_table(results: list[Result], case_count: int) -> bool:
    """The packets table in Markdown; True when the time and memory targets are met."""
    builds = len(results[0].builds) if results else 0
    print(f"\npackets: a {case_count}-case packet (list + per-case sections, no images) for {RECIPIENT} in "
          f"{LANGUAGE}, built from the database to a stored PDF, {builds} time(s), each in a fresh process "
          "(seconds; memory in MiB)\n")
    print("| backend | measure | figure | target | |\n|---|---|---:|---:|---|")
    met = True
    for result in results:
        seconds = result.median("seconds")
        time_ok = seconds < TARGET_SECONDS
        memory_ok = result.peak_mb < TARGET_MB
        met &= time_ok and memory_ok
        fastest = min(build.seconds for build in result.builds)
        slowest = max(build.seconds for build in result.builds)
        last = result.builds[-1]
        pages = str(last.pages) if last.pages is not None else "n/a"
        rows = [
            (f"build_packet + commit, median of {len(result.builds)} (s)", f"{seconds:.2f}",
             f"< {TARGET_SECONDS:.0f}", "PASS" if time_ok else "MISS"),
            ("… fastest / slowest (s)", f"{fastest:.2f} / {slowest:.2f}", "", ""),
            ("… select_cases, median (s)", f"{result.median('select_seconds'):.2f}", "", ""),
            ("… freeze_inputs, median (s)", f"{result.median('freeze_seconds'):.2f}", "", ""),
            ("… render_pdf, median (s)", f"{result.median('render_seconds'):.2f}", "", ""),
            ("… store_bytes (PDF into the store), median (s)", f"{result.median('store_seconds'):.2f}", "", ""),
            ("… commit, median (s)", f"{result.median('commit_seconds'):.2f}", "", ""),
            ("… the rest (seal inputs, rows, audit), median (s)", f"{result.median('rest_seconds'):.2f}", "", ""),
            ("SQL statements in the build", str(last.statements), "", ""),
            ("peak RSS, build process + its workers together, highest", f"{result.peak_mb:.0f}",
             f"< {TARGET_MB:.0f}", "PASS" if memory_ok else "MISS"),
            ("… the same as PSS (shared pages split), highest",
             f"{max(build.peak_pss_mb for build in result.builds):.0f}", "", ""),
            ("… largest single process (ru_maxrss), highest",
             f"{max(build.largest_process_mb for build in result.builds):.0f}", "", ""),
            ("… RSS before the build (interpreter, app), median", f"{result.median('rss_before_mb'):.0f}", "", ""),
            ("whole process incl. start-up, median (s)", f"{result.median('process_seconds'):.2f}", "", ""),
            ("… CPU time of the process and its workers, median (s)", f"{result.median('cpu_seconds'):.2f}", "", ""),
            ("… CPU time of other processes meanwhile, highest (s)",
             f"{max(build.others_cpu_seconds for build in result.builds):.2f}", "", ""),
            ("cases in the packet", str(last.cases), "", ""),
            ("PDF size (MB) / pages", f"{last.pdf_bytes / 1e6:.1f} / {pages}", "", ""),
        ]
        for measure, figure, target, mark in rows:
            print(f"| {result.backend} | {measure} | {figure} | {target} | {mark} |")
        for note in result.notes:
            print(f"\n{result.backend}: {note}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The child process of the packets benchmark; run the benchmark with "
                    "python -m benchmarks.run --only packets")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--letter", type=Path)
    parser.add_argument("--pdf-out", type=Path)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    if not args.child or args.letter is None or args.pdf_out is None:
        parser.print_usage(sys.stderr)
        print("usage: python -m benchmarks.run --only packets [--packet-cases N] "
              "(this module's own entry point is --child)", file=sys.stderr)
        return 2
    print(json.dumps(child(args.letter, args.pdf_out, args.profile)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
