"""Load: the app under gunicorn on PostgreSQL, many people using it at once.

``python -m benchmarks.load`` (or ``make load``) creates a throwaway PostgreSQL database and
instance, fills it with ``--cases`` fictional cases, starts gunicorn with ``--workers`` workers
on the loopback, and lets ``--advocates`` simulated advocates and ``--coordinators`` simulated
coordinators (one thread each, no pause between requests) work for ``--duration`` seconds or
until ``--max-requests`` requests were made. Advocates log in, list, search, view cases, open
new cases and add small evidence files; coordinators list, search and view, and each builds one
packet. Afterwards it prints requests per second, the median and p95 per kind of request and
every error, stops the server, runs ``casefile audit verify`` and ``casefile evidence verify`` on
the instance and checks that every case a simulated user was told it created is in the database.
Exit status 0 only when there was no error and every check passed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

from benchmarks import dataset
from benchmarks.run import _postgres_database
from tests.run import postgres_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: the benchmark never talks to another machine
PASSWORD = "load benchmark password 2026"
SEARCHES = ("Нұрлан", "Toktar", "努尔兰", "Серік Болат", "Айгүл", "Kairat", "Болат")
PACKET_CASES = 8  # cases with consent to the Kazakh MFA, in the coordinators' packet
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_CASE_LINK = re.compile(r'href="/cases/(KZ-\d{4}-\d{5,6})"')


# --- the instance ---------------------------------------------------------------------------------

@dataclass
class Instance:
    path: Path
    database_url: str
    advocates: list[str]
    coordinators: list[str]
    team_ids: dict[str, int]
    packet_references: list[str]

    def env(self, **extra: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("CASEFILE_")}
        env.update({"CASEFILE_INSTANCE": str(self.path), "CASEFILE_DATABASE_URL": self.database_url,
                    "CASEFILE_TOTP_REQUIRED_ROLES": "", "CASEFILE_LOGIN_RATE_LIMIT": "1000 per 15 minutes",
                    **extra})
        return env


def prepare(path: Path, database_url: str, cases: int, advocates: int, coordinators: int) -> Instance:
    """Migrate, generate the cases, create the simulated accounts and a few consenting reporters."""
    from datetime import date

    from flask_migrate import upgrade
    from sqlalchemy import select

    from casefile import access, audit
    from casefile.app import create_app
    from casefile.auth import services as auth_services
    from casefile.cases import services as case_services
    from casefile.cases.models import Case
    from casefile.config import load_settings
    from casefile.extensions import db

    settings = load_settings({"CASEFILE_INSTANCE": str(path), "CASEFILE_DATABASE_URL": database_url,
                              "CASEFILE_TOTP_REQUIRED_ROLES": ""})
    app = create_app(settings)
    with app.app_context():
        audit.set_client("benchmark")
        upgrade()
        dataset.generate(cases, progress=False, match_keys=True)
        team_ids = {name: auth_services.team_by_name(name).id for name in dataset.TEAMS}  # type: ignore[union-attr]
        advocate_names = [f"load.advocate{i}" for i in range(1, advocates + 1)]
        coordinator_names = [f"load.coordinator{i}" for i in range(1, coordinators + 1)]
        for i, username in enumerate(advocate_names):
            auth_services.create_user(None, username=username, role="advocate", password=PASSWORD,
                                      teams=(dataset.TEAMS[i % len(dataset.TEAMS)],))
        for username in coordinator_names:
            auth_services.create_user(None, username=username, role="coordinator", password=PASSWORD,
                                      teams=dataset.TEAMS)
        db.session.commit()
        coordinator = auth_services.user_by_username("bench.coordinator")
        assert coordinator is not None
        first_team = db.session.scalars(
            select(Case).where(Case.team_id == team_ids[dataset.TEAMS[0]], Case.restricted.is_(False))
            .order_by(Case.id).limit(PACKET_CASES).execution_options(**access.unscoped("benchmark set-up"))).all()
        for case in first_team:
            case_services.add_reporter(coordinator, case, case_services.ReporterInput(
                full_name="Гүлнар Сейтқызы", relationship_kind="sister", consents={"kz_mfa": "case"},
                consent_on=date(2025, 5, 1)))
        db.session.commit()
        references = [case.reference for case in first_team]
        db.session.remove()
        db.engine.dispose()
    return Instance(path, database_url, advocate_names, coordinator_names, team_ids, references)


# --- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Gunicorn:
    """gunicorn with the app factory, in a child process; its log goes to a file."""

    def __init__(self, instance: Instance, workers: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{self.port}",
                 "--timeout", "120", "--graceful-timeout", "30", "--no-control-socket", "casefile.app:create_app()"],
                env=instance.env(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/login")
                if connection.getresponse().status == 200:
                    connection.close()
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{self.tail()}")
            time.sleep(0.2)

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the arbiter stops its workers gracefully
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the simulated users --------------------------------------------------------------------------

@dataclass
class Figures:
    """What every thread measured, under one lock."""

    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # kind, status, body (short)
    created: list[str] = field(default_factory=list)
    uploads: int = 0
    packets: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Budget:
    """The run's bounds: a deadline and a number of requests, shared by every thread."""

    def __init__(self, seconds: float, requests: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.left = requests
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


class Stop(Exception):
    """The budget is spent."""


class User:
    """One simulated person: a cookie jar and a CSRF token, one request at a time."""

    def __init__(self, port: int, username: str, figures: Figures, budget: Budget) -> None:
        self.port = port
        self.username = username
        self.figures = figures
        self.budget = budget
        self.cookies: dict[str, str] = {}
        self.forced = False  # requests made whatever the budget says

    def call(self, kind: str, method: str, path: str, body: bytes | None = None, content_type: str = "",
             expect: int = 200) -> tuple[int, str, str]:
        """One request, timed under ``kind``; a status other than ``expect`` is an error."""
        if not self.budget.take() and not self.forced:
            raise Stop
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            connection.close()
        except OSError as error:
            with self.figures.lock:
                self.figures.requests += 1
                self.figures.errors.append((kind, "connection", str(error)))
            return 0, "", ""
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        with self.figures.lock:
            self.figures.requests += 1
            self.figures.timings[kind].append(elapsed)
            if response.status != expect:
                self.figures.errors.append((kind, str(response.status), _short(text)))
        return response.status, text, response.headers.get("Location", "")

    def form(self, kind: str, path: str) -> str:
        _status, page, _ = self.call(kind, "GET", path)
        match = _CSRF.search(page)
        if match is None:
            if page:  # a connection error is recorded already
                with self.figures.lock:
                    self.figures.errors.append((kind, "no form", _short(page)))
            raise Stop
        return match.group(1) or match.group(2)

    def post(self, kind: str, path: str, fields: list[tuple[str, str]], token: str) -> tuple[int, str, str]:
        body = urlencode([("csrf_token", token), *fields]).encode()
        return self.call(kind, "POST", path, body, "application/x-www-form-urlencoded", expect=302)

    def login(self) -> None:
        self.cookies.clear()
        token = self.form("login form", "/login")
        status, _, _ = self.post("login", "/login", [("username", self.username), ("password", PASSWORD)], token)
        if status != 302:
            raise Stop


def _short(text: str) -> str:
    """An error body in one short line: the form's error messages, or else the text without markup."""
    messages = re.findall(r'<p class="(?:error|flash error)"[^>]*>(.*?)</p>', text, re.S)
    if messages:
        return " | ".join(unescape(re.sub(r"<[^>]+>", "", message)).strip() for message in messages)[:300]
    plain = " ".join(unescape(re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|script|head).*?</\1>", "", text))).split())
    return plain[:200]


def _case_form(team_id: int, rng: random.Random, number: int) -> list[tuple[str, str]]:
    first = rng.choice(("Нұрлан", "Серік", "Айгүл", "Болат", "Гүлнар", "Ерлан", "Қайрат"))
    last = rng.choice(("Тоқтарұлы", "Бекұлы", "Сейтқызы", "Асқарұлы", "Серікқызы"))
    return [
        ("names-0-text", f"{first} {last}"), ("names-0-script", "auto"), ("names-0-kind", "primary"),
        ("names-1-text", ""), ("names-1-script", "auto"), ("names-1-kind", "alias"),
        ("names-2-text", ""), ("names-2-script", "auto"), ("names-2-kind", "alias"),
        ("sex", rng.choice("MF")), ("birth_date", f"{rng.randint(1950, 1999)}"), ("ethnicity", "Kazakh"),
        ("prc_id", ""), ("iin", ""), ("hometown_code", "654028"), ("hometown_village", ""), ("occupation", ""),
        ("citizenship", "residence_permit"), ("kz_documents", ""), ("kazakhstan_ties", ""),
        ("team_id", str(team_id)), ("status", "camp"), ("status_on", "2018-03"), ("status_source", "load benchmark"),
        ("verification_level", "1"), ("detained_on", "2018-03"), ("last_contact_on", ""), ("trial_on", ""),
        ("release_on", ""), ("detention_facility", ""), ("detention_city", ""), ("alleged_reason_other", ""),
        ("sentence", ""), ("narrative", f"Load benchmark case {number}."),
    ]


def _multipart(token: str, content: bytes) -> tuple[str, bytes]:
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"statement.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _browse(user: User, rng: random.Random, seen: list[str]) -> None:
    """List, search or view: what everyone does most."""
    choice = rng.random()
    if choice < 0.3:
        _status, page, _ = user.call("list", "GET", f"/cases?page={rng.randint(1, 5)}")
        seen.extend(_CASE_LINK.findall(page)[:5])
        del seen[:-50]
    elif choice < 0.65:
        _status, page, _ = user.call("search", "GET", "/cases?q=" + quote(rng.choice(SEARCHES)))
        seen.extend(_CASE_LINK.findall(page)[:5])
        del seen[:-50]
    elif seen:
        user.call("view case", "GET", f"/cases/{rng.choice(seen)}")
    else:
        user.call("list", "GET", "/cases")


def advocate(user: User, team_id: int, seed: int) -> None:
    rng = random.Random(seed)
    seen: list[str] = []
    mine: list[str] = []
    try:
        user.login()
        actions = 0
        while True:
            actions += 1
            if actions % 60 == 0:
                user.login()
            choice = rng.random()
            if choice < 0.12:
                token = user.form("new case form", "/cases/new")
                status, _, location = user.post("create case", "/cases/new",
                                                _case_form(team_id, rng, actions), token)
                if status == 302 and "/cases/" in location:
                    reference = location.rsplit("/", 1)[1]
                    mine.append(reference)
                    with user.figures.lock:
                        user.figures.created.append(reference)
            elif choice < 0.22 and mine:
                reference = rng.choice(mine)
                token = user.form("evidence form", f"/cases/{reference}/evidence/new")
                content_type, body = _multipart(token, b"%PDF-1.4\n" + secrets.token_bytes(rng.randint(2_000, 60_000)))
                status, _, _ = user.call("upload evidence", "POST", f"/cases/{reference}/evidence/new", body,
                                         content_type, expect=302)
                if status == 302:
                    with user.figures.lock:
                        user.figures.uploads += 1
            else:
                _browse(user, rng, seen)
    except Stop:
        return


def coordinator(user: User, instance: Instance, seed: int, build_after: float) -> None:
    """Browse, build one packet after ``build_after`` seconds (even when the run ends sooner), browse."""
    rng = random.Random(seed)
    seen: list[str] = []
    started = time.monotonic()
    try:
        user.login()
        while time.monotonic() - started < build_after:
            _browse(user, rng, seen)
    except Stop:
        pass
    user.forced = True  # the one build is part of every run, whatever the bounds
    try:
        user.login()  # the build needs a recent login
        token = user.form("packet form", "/packets/new")
    except Stop:
        return
    fields = [("recipient", "kz-mfa"), ("language", "ru"), ("min_verification", "0"),
              ("team", str(instance.team_ids[dataset.TEAMS[0]])),
              ("organisation", "Load benchmark volunteers"), ("contact", "Almaty"),
              ("subject", "Обращение"), ("text", "Просим установить местонахождение."),
              ("requests", "fate"), ("requests", "written_reply"), ("legal_basis", "humanitarian"),
              ("build", "Build the packet")]
    status, _, location = user.post("build packet", "/packets/new", fields, token)
    if status == 302 and "/packets/" in location:
        with user.figures.lock:
            user.figures.packets.append(location.rsplit("/", 1)[1])
    user.forced = False
    try:
        while True:
            _browse(user, rng, seen)
    except Stop:
        return


# --- the run ----------------------------------------------------------------------------------------

def run_load(instance: Instance, port: int, duration: float, max_requests: int) -> tuple[Figures, float]:
    figures = Figures()
    budget = Budget(duration, max_requests)
    threads = []
    teams = list(instance.team_ids.values())
    for i, username in enumerate(instance.advocates):
        user = User(port, username, figures, budget)
        threads.append(threading.Thread(target=advocate, args=(user, teams[i % len(teams)], 100 + i)))
    for i, username in enumerate(instance.coordinators):
        user = User(port, username, figures, budget)
        # Spread over the run: the builds do not start together, nor in the first log-in rush.
        build_after = duration * (i + 1) / (len(instance.coordinators) + 1)
        threads.append(threading.Thread(target=coordinator, args=(user, instance, 900 + i, build_after)))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered))) - 1))]


def report(figures: Figures, seconds: float) -> None:
    print(f"\n{figures.requests} requests in {seconds:.1f} s: {figures.requests / seconds:.1f} requests/s\n")
    print("| request | count | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    for kind in sorted(figures.timings, key=lambda k: -len(figures.timings[k])):
        values = figures.timings[kind]
        print(f"| {kind} | {len(values)} | {statistics.median(values):.0f} | {percentile(values, 0.95):.0f} |")
    print(f"\ncases created: {len(figures.created)}; evidence files uploaded: {figures.uploads}; "
          f"packets built: {len(figures.packets)} {' '.join(figures.packets)}")
    print(f"errors: {len(figures.errors)}")
    for kind, status, body in figures.errors[:20]:
        print(f"  {kind}: {status}: {body}")


def check(instance: Instance, figures: Figures, coordinators: int) -> bool:
    """``audit verify``, ``evidence verify``, and every created case, upload and packet is there."""
    from sqlalchemy import create_engine, text

    ok = True
    for command in (["audit", "verify"], ["evidence", "verify"]):
        done = subprocess.run([sys.executable, "-m", "casefile.cli", *command], env=instance.env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        line = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:]
        print(f"casefile {' '.join(command)}: exit {done.returncode}: {' '.join(line)}")
        ok &= done.returncode == 0
    engine = create_engine(instance.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM cases WHERE reference = ANY(:refs)"),
                                   {"refs": figures.created}).scalar_one()
        uploads = connection.execute(text(
            "SELECT count(*) FROM evidence_items e JOIN cases c ON c.id = e.case_id "
            "WHERE c.reference = ANY(:refs) AND e.entry = 'file'"), {"refs": figures.created}).scalar_one()
        packets = connection.execute(text("SELECT count(*) FROM packets")).scalar_one()
    engine.dispose()
    distinct = len(set(figures.created))
    print(f"created cases in the database: {found} of {distinct} references the users got back"
          + ("" if distinct == len(figures.created) else f" ({len(figures.created) - distinct} given twice!)"))
    print(f"evidence files in the database: {uploads} of {figures.uploads} uploads answered as stored")
    print(f"packets in the database: {packets} ({coordinators} coordinators, one build each)")
    ok &= found == distinct == len(figures.created) and uploads == figures.uploads
    ok &= packets == len(figures.packets) == coordinators
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--advocates", type=int, default=20)
    parser.add_argument("--coordinators", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--cases", type=int, default=2000, help="fictional cases in the instance before the run")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop after this many requests")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 3600 or args.advocates < 1 or args.coordinators < 0 or args.max_requests < 1:
        parser.error("duration must be in (0, 3600] s, advocates at least 1, max-requests at least 1")

    server = os.environ.get("CASEFILE_BENCH_POSTGRES_URL") or postgres_url()
    if not server:
        print("no PostgreSQL server answers; set CASEFILE_BENCH_POSTGRES_URL", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="casefile-load-"))
    try:
        with _postgres_database(server) as database_url:
            print(f"preparing: {args.cases} cases, {args.advocates} advocates, {args.coordinators} coordinators",
                  flush=True)
            instance = prepare(folder / "instance", database_url, args.cases, args.advocates, args.coordinators)
            gunicorn = Gunicorn(instance, args.workers, folder / "gunicorn.log")
            try:
                print(f"gunicorn: {args.workers} workers on {HOST}:{gunicorn.port}; "
                      f"{args.duration:.0f} s of load", flush=True)
                figures, seconds = run_load(instance, gunicorn.port, args.duration, args.max_requests)
            finally:
                gunicorn.stop()
            report(figures, seconds)
            if figures.errors:
                print(f"\ngunicorn log (end):\n{gunicorn.tail()}")
            print()
            ok = check(instance, figures, args.coordinators) and not figures.errors
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\nload: no errors, every check passed" if ok else "\nload: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
