"""``make test``: the whole suite on SQLite, then again on PostgreSQL when one answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """The PostgreSQL server to test on: the configured one, or a local one that answers."""
    configured = os.environ.get("CASEFILE_TEST_POSTGRES_URL")
    if configured:
        return configured
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_POSTGRES
    except OSError:
        return None


def run(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    print(f"\n=== casefile tests on {label} ===", flush=True)
    env = {**os.environ, **extra_env}
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


STATIC_CHECKS = {
    "ruff": ["-m", "ruff", "check", "casefile", "tests", "benchmarks", "migrations"],
    # Medium and high findings fail; each waived one carries a `# nosec` with its reason beside it.
    "bandit": ["-m", "bandit", "--quiet", "--recursive", "--severity-level", "medium", "-c", "pyproject.toml",
               "casefile"],
}


def static_checks() -> dict[str, int]:
    results = {}
    for label, command in STATIC_CHECKS.items():
        print(f"\n=== {label} ===", flush=True)
        code = subprocess.call([sys.executable, *command])
        if code == 0:
            print("no findings")
        results[label] = code
    return results


def main() -> int:
    args = sys.argv[1:]
    results = static_checks()
    results["SQLite"] = run("SQLite", {"CASEFILE_TEST_DATABASE_URL": ""}, args)
    url = postgres_url()
    if url:
        results["PostgreSQL"] = run("PostgreSQL", {"CASEFILE_TEST_DATABASE_URL": url}, [*args, "-m", "not sqlite_only"])
    else:
        print("\nPostgreSQL: no server answers on 127.0.0.1:5432 and CASEFILE_TEST_POSTGRES_URL is unset; skipped.")
    print()
    for label, code in results.items():
        print(f"{label}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
