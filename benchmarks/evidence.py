"""Evidence at scale: uploading and storing one large file over HTTP, and ``evidence verify``.

The app runs as its own server process (werkzeug's threaded server) on a temporary instance.
A client logs in as an advocate and posts a file of ``size_mb`` MiB to the add-evidence form,
streamed from disk in 1 MiB pieces, ``uploads`` times (16 bytes changed each time, so each is
stored); the time runs from the first byte sent to the response, and the median is reported.
``sha256sum`` of the same file in the same run is the yardstick. The server's memory is read
from ``/proc/<pid>/status``: its resident size before the uploads, its peak while they ran
(VmHWM, reset through ``/proc/<pid>/clear_refs`` before each upload; VmRSS sampled every 5 ms
where that reset is not allowed), and its peak before them (start-up and the login, whose
argon2 hash takes 64 MiB for a moment). Targets (issue): upload-and-store at least half of ``sha256sum``'s
throughput; the server under 150 MB for a 1 GiB file. ``evidence verify`` then runs as a
command on the same instance.

``python -m benchmarks.evidence --serve`` is the server process itself; with
``CASEFILE_BENCH_PROFILE=<file>`` it profiles each upload request with cProfile into that file.
"""

from __future__ import annotations

import cProfile
import http.client
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

PIECE = 1024 * 1024
PDF_MAGIC = b"%PDF-1.4\n"
TARGET_RATIO = 0.5
TARGET_MEMORY_MB = 150
USERNAME = "bench.evidence"
TEAM = "Evidence bench team"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_VERIFY_LINE = re.compile(r"Evidence store intact: .*?([\d,]+) bytes in ([\d.]+) s \((\d+) MiB/s\)")


@dataclass
class Result:
    backend: str
    size: int  # of each uploaded file
    upload_seconds: list[float] = field(default_factory=list)
    tail_seconds: list[float] = field(default_factory=list)  # last byte sent → response: fsync, promotion, commit
    rss_before_mb: float = 0.0
    upload_peak_mb: float = 0.0  # the highest peak during any of the uploads
    login_peak_mb: float = 0.0  # VmHWM before the first upload: start-up and the login's argon2
    verify_seconds: float = 0.0
    verify_line: str = ""
    verify_internal_rate: float | None = None
    profiled: bool = False
    notes: list[str] = field(default_factory=list)

    def rates(self) -> list[float]:
        return sorted(self.size / 2**20 / seconds for seconds in self.upload_seconds)

    @property
    def upload_rate(self) -> float:
        return statistics.median(self.rates())

    @property
    def verify_rate(self) -> float:
        return self.size * len(self.upload_seconds) / 2**20 / self.verify_seconds


# --- the test file and the yardstick ----------------------------------------------------------

def write_test_file(path: Path, size_mb: int) -> int:
    """``size_mb`` MiB that the sniffer takes for a PDF: the magic, then a repeated 16 MiB random block.

    The repetition only saves generating 1 GiB of randomness: nothing on the way compresses or
    deduplicates below the whole file.
    """
    size = size_mb * 2**20
    block = os.urandom(16 * 2**20)
    with open(path, "wb") as out:
        out.write(PDF_MAGIC)
        written = len(PDF_MAGIC)
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)
        out.flush()
        os.fsync(out.fileno())
    return size


def vary_test_file(path: Path) -> None:
    """Make the file a different one (16 random bytes after the magic) so the next upload is stored anew."""
    descriptor = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(descriptor, os.urandom(16), len(PDF_MAGIC))
    finally:
        os.close(descriptor)


def time_sha256sum(path: Path, runs: int = 2) -> tuple[float, str]:
    """The fastest of ``runs`` runs of ``sha256sum FILE`` (seconds) and its digest."""
    best, digest = float("inf"), ""
    for _ in range(runs):
        started = time.perf_counter()
        output = subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True).stdout
        best = min(best, time.perf_counter() - started)
        digest = output.split()[0]
    return best, digest


# --- the instance -----------------------------------------------------------------------------

def _instance_env(instance: Path, database_url: str, size_mb: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEFILE_")}
    env.update({
        "CASEFILE_INSTANCE": str(instance),
        "CASEFILE_DATABASE_URL": database_url,
        "CASEFILE_EVIDENCE_MAX_MB": str(max(2048, size_mb * 2)),
    })
    return env


def prepare_instance(instance: Path, database_url: str) -> tuple[str, str]:
    """Migrate, then one advocate in a team with one case; returns (reference, password)."""
    from flask_migrate import upgrade

    from casefile import audit
    from casefile.app import create_app
    from casefile.auth import services as auth_services
    from casefile.cases import services as case_services
    from casefile.config import load_settings
    from casefile.core.partial_dates import PartialDate
    from casefile.extensions import db
    from casefile.people.services import PersonInput

    password = f"bench {secrets.token_hex(8)}"
    app = create_app(load_settings({"CASEFILE_INSTANCE": str(instance), "CASEFILE_DATABASE_URL": database_url}))
    with app.app_context():
        audit.set_client("benchmark")
        upgrade()
        user = auth_services.create_user(None, username=USERNAME, role="advocate", password=password, teams=(TEAM,))
        db.session.commit()
        team = auth_services.team_by_name(TEAM)
        assert team is not None
        case = case_services.open_case(user, case_services.CaseInput(
            person=PersonInput(names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")]), team_id=team.id,
            detained_on=PartialDate(2018, 3)))
        db.session.commit()
        reference = case.reference
        db.session.remove()
        db.engine.dispose()
    return reference, password


# --- the server process -----------------------------------------------------------------------

def _profiled(app: Any, target: str) -> Any:
    """WSGI middleware: each POST is run under cProfile; the stats of the last one go to ``target``."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        profile = cProfile.Profile()
        try:
            return list(profile.runcall(app, environ, start_response))
        finally:
            profile.dump_stats(target)

    return middleware


def serve() -> None:
    """The server process: the app from the CASEFILE_* environment on 127.0.0.1, a free port printed."""
    from werkzeug.serving import make_server

    from casefile.app import create_app

    app: Any = create_app()
    profile_target = os.environ.get("CASEFILE_BENCH_PROFILE")
    if profile_target:
        app = _profiled(app, profile_target)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.port}", flush=True)
    server.serve_forever()


class Server:
    """The app in a child process; ``pid`` is the Python process that serves (no wrapper)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.evidence", "--serve"], env=env, cwd=Path(__file__).parent.parent,
                stdout=subprocess.PIPE, stderr=errors, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the benchmark server did not start: {self.log_tail()}")
        self.port = int(line.split()[1])
        self.pid = self.process.pid

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux ≥ 4.0); False when not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def status(self, name: str) -> float:
        """A ``/proc/<pid>/status`` figure (VmRSS, VmHWM) in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
        raise KeyError(name)

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's standard error (request log, tracebacks)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RssSampler(threading.Thread):
    """The highest VmRSS of a process, sampled every few milliseconds until stopped."""

    def __init__(self, server: Server, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.server, self.interval, self.peak = server, interval, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak = max(self.peak, self.server.status("VmRSS"))
            except (OSError, KeyError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak


# --- the client ---------------------------------------------------------------------------------

class Browser:
    """http.client with a cookie jar of one site, enough for the login and the form."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=Thu, 01 Jan 1970" in header or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """One request, redirects followed for GET-able answers; (status, location, body) of the last."""
        for _ in range(5):
            connection = self._connection()
            all_headers = {"Cookie": self.cookie_header(), **(headers or {})}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            self._keep_cookies(response)
            connection.close()
            location = response.headers.get("Location", "")
            if response.status in (301, 302, 303) and method == "GET":
                path = urlsplit(location).path or "/"
                continue
            return response.status, location, text
        raise RuntimeError(f"too many redirects from {path}")

    def csrf_token(self, path: str) -> str:
        status, _location, html = self.request("GET", path)
        match = _CSRF.search(html)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token at {path} (HTTP {status})")
        return match.group(1) or match.group(2)

    def login(self, username: str, password: str) -> None:
        token = self.csrf_token("/login")
        status, _location, _text = self.request(
            "POST", "/login", urlencode({"csrf_token": token, "username": username, "password": password}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login failed (HTTP {status})")

    def upload(self, path: str, token: str, file: Path, size: int) -> tuple[float, float, int, str]:
        """POST the file as multipart, streamed in 1 MiB pieces.

        Returns (seconds in all, seconds from the last byte sent to the response, status, Location).
        """
        boundary = f"----casefile-bench-{uuid.uuid4().hex}"
        fields = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in (("csrf_token", token), ("kind", "other"), ("description", "benchmark upload")))
        preamble = (fields + f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                    f'filename="{file.name}"\r\nContent-Type: application/pdf\r\n\r\n').encode()
        epilogue = f"\r\n--{boundary}--\r\n".encode()
        connection = self._connection()
        buffer = bytearray(PIECE)
        view = memoryview(buffer)
        started = time.perf_counter()
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(preamble) + size + len(epilogue)))
        connection.putheader("Cookie", self.cookie_header())
        connection.endheaders()
        connection.send(preamble)
        sent = 0
        with open(file, "rb", buffering=0) as stream:
            while True:
                count = stream.readinto(buffer)
                if not count:
                    break
                connection.send(view[:count])
                sent += count
        connection.send(epilogue)
        last_byte = time.perf_counter()
        response = connection.getresponse()
        response.read()
        finished = time.perf_counter()
        seconds, tail = finished - started, finished - last_byte
        self._keep_cookies(response)
        connection.close()
        if sent != size:
            raise RuntimeError(f"sent {sent} bytes of {size}")
        return seconds, tail, response.status, response.headers.get("Location", "")


# --- one backend --------------------------------------------------------------------------------

def _casefile_command() -> list[str]:
    script = Path(sys.executable).parent / "casefile"
    return [str(script)] if script.exists() else [sys.executable, "-m", "casefile.cli"]


def run_backend(label: str, database_url: str, file: Path, size: int, workdir: Path, uploads: int = 3,
                profile_to: Path | None = None) -> Result:
    instance = workdir / f"instance-{label.lower()}"
    size_mb = size // 2**20
    print(f"{label}: preparing an instance", flush=True)
    reference, password = prepare_instance(instance, database_url)
    env = _instance_env(instance, database_url, size_mb)
    if profile_to is not None:
        env["CASEFILE_BENCH_PROFILE"] = str(profile_to)
    server = Server(env, workdir / f"server-{label.lower()}.log")
    result = Result(label, size, profiled=profile_to is not None)
    try:
        browser = Browser(server.port)
        browser.login(USERNAME, password)
        form = f"/cases/{reference}/evidence/new"
        token = browser.csrf_token(form)
        time.sleep(0.5)  # let the allocator settle after the login's argon2
        result.rss_before_mb = server.status("VmRSS")
        result.login_peak_mb = server.status("VmHWM")
        for number in range(1, uploads + 1):
            if number > 1:
                vary_test_file(file)
            exact = server.reset_peak()
            sampler = RssSampler(server)
            sampler.start()
            print(f"{label}: upload {number}/{uploads}: {size_mb} MiB to {form}", flush=True)
            seconds, tail, status, location = browser.upload(form, token, file, size)
            peak = max(sampler.stop(), server.status("VmHWM") if exact else 0.0)
            if status != 302 or "/evidence/" not in location:
                raise RuntimeError(f"the upload was not stored (HTTP {status}, Location {location!r}); "
                                   f"the server said: {server.log_tail()}")
            result.upload_seconds.append(seconds)
            result.tail_seconds.append(tail)
            result.upload_peak_mb = max(result.upload_peak_mb, peak)
            print(f"{label}: stored in {seconds:.2f} s ({size / 2**20 / seconds:.0f} MiB/s; {tail:.2f} s of it after "
                  f"the last byte was sent); server RSS at most {peak:.0f} MiB", flush=True)
    finally:
        server.stop()

    print(f"{label}: casefile evidence verify", flush=True)
    env.pop("CASEFILE_BENCH_PROFILE", None)
    started = time.perf_counter()
    verified = subprocess.run([*_casefile_command(), "evidence", "verify"], env=env, capture_output=True, text=True,
                              cwd=Path(__file__).parent.parent)
    result.verify_seconds = time.perf_counter() - started
    result.verify_line = line = (verified.stdout.strip().splitlines() or [""])[-1]
    if verified.returncode != 0:
        raise RuntimeError(f"evidence verify failed: {verified.stdout} {verified.stderr}")
    match = _VERIFY_LINE.search(line)
    if match and int(match.group(1).replace(",", "")) == size * uploads:
        result.verify_internal_rate = float(match.group(3))  # the command's own rate, from its unrounded time
    else:
        result.notes.append(f"verify did not check the {size * uploads:,} bytes uploaded: {line}")
    print(f"{label}: {line} (wall {result.verify_seconds:.2f} s)", flush=True)
    shutil.rmtree(instance, ignore_errors=True)  # the stored blobs: uploads × size on disk
    return result


def run(backends: list[tuple[str, Any]], size_mb: int = 1024, uploads: int = 3,
        profile: bool = False) -> tuple[float, list[Result]]:
    """``backends``: (label, context manager yielding a database URL). Returns sha256sum's MiB/s and the results.

    Each backend gets its own instance and ``uploads`` uploads of the file (varied each time, so
    every one is stored); its rate is their median, its memory the highest seen during any.
    """
    workdir = Path(tempfile.mkdtemp(prefix="casefile-bench-evidence-"))
    results: list[Result] = []
    try:
        file = workdir / "bench-evidence.pdf"
        print(f"evidence: writing a {size_mb} MiB test file in {workdir}", flush=True)
        size = write_test_file(file, size_mb)
        sha_seconds, digest = time_sha256sum(file)
        sha_rate = size / 2**20 / sha_seconds
        print(f"evidence: sha256sum {sha_seconds:.2f} s ({sha_rate:.0f} MiB/s), {digest[:16]}…", flush=True)
        for label, database in backends:
            with database as url:
                profile_to = workdir / f"upload-{label.lower()}.prof" if profile else None
                result = run_backend(label, url, file, size, workdir, uploads, profile_to)
                results.append(result)
                if profile_to is not None and profile_to.exists():
                    _print_profile(label, profile_to)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return sha_rate, results


def _print_profile(label: str, stats_file: Path, lines: int = 25) -> None:
    import pstats

    print(f"\n{label}: where the last upload request spent its time (cProfile, by own time)\n", flush=True)
    stats = pstats.Stats(str(stats_file))
    stats.sort_stats("tottime").print_stats(lines)


def print_table(sha_rate: float, results: list[Result], size_mb: int) -> bool:
    """The evidence table in Markdown; True when the throughput and memory targets are met."""
    uploads = len(results[0].upload_seconds) if results else 0
    print(f"\nevidence: a {size_mb} MiB file uploaded {uploads} time(s) over HTTP to the app's own server process, "
          "then all verified (MiB/s; memory in MiB)\n")
    print("| backend | measure | figure | target | |\n|---|---|---:|---:|---|")
    met = True
    print(f"| - | sha256sum of the file (MiB/s) | {sha_rate:.0f} | | |")
    for result in results:
        ratio = result.upload_rate / sha_rate
        ratio_ok = ratio >= TARGET_RATIO
        memory_ok = result.upload_peak_mb < TARGET_MEMORY_MB
        met &= ratio_ok and memory_ok
        profiled = " (under cProfile)" if result.profiled else ""
        rows = [
            (f"upload and store, median (MiB/s){profiled}", f"{result.upload_rate:.0f}", "", ""),
            ("… slowest / fastest upload (MiB/s)", " / ".join(f"{rate:.0f}" for rate in
                                                          (result.rates()[0], result.rates()[-1])), "", ""),
            ("… of which last byte sent → response, median (s)",
             f"{statistics.median(result.tail_seconds):.2f}", "", ""),
            ("upload ÷ sha256sum", f"{ratio:.2f}", f"≥ {TARGET_RATIO}", "PASS" if ratio_ok else "MISS"),
            ("server RSS before the uploads", f"{result.rss_before_mb:.0f}", "", ""),
            ("server peak RSS during the uploads", f"{result.upload_peak_mb:.0f}", f"< {TARGET_MEMORY_MB}",
             "PASS" if memory_ok else "MISS"),
            ("server peak before the uploads (start-up, login's argon2)", f"{result.login_peak_mb:.0f}", "", ""),
            ("evidence verify, wall incl. start-up (MiB/s)", f"{result.verify_rate:.0f}", "", ""),
        ]
        if result.verify_internal_rate is not None:
            rows.append(("evidence verify, its own timing (MiB/s)", f"{result.verify_internal_rate:.0f}", "", ""))
        for measure, figure, target, mark in rows:
            print(f"| {result.backend} | {measure} | {figure} | {target} | {mark} |")
        for note in result.notes:
            print(f"\n{result.backend}: {note}")
    return met


def main() -> int:
    if sys.argv[1:] == ["--serve"]:
        serve()
        return 0
    print("usage: python -m benchmarks.run --only evidence  (this module's own entry point is --serve)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
