"""``benchmarks/load.py`` end to end at a tiny size: gunicorn, simulated users, the checks after."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.crash.helpers import ROOT


@pytest.mark.postgres_only
def test_load_script_runs_clean_at_a_tiny_size(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the load benchmark runs on PostgreSQL only")
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEFILE_")}
    env["CASEFILE_BENCH_POSTGRES_URL"] = os.environ["CASEFILE_TEST_DATABASE_URL"]
    done = subprocess.run([sys.executable, "-m", "benchmarks.load", "--duration", "3", "--advocates", "2",
                           "--coordinators", "1", "--workers", "2", "--cases", "60"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "errors: 0" in output
    assert "casefile audit verify: exit 0" in output
    assert "casefile evidence verify: exit 0" in output
    assert "packets in the database: 1 (1 coordinators, one build each)" in output
    assert "load: no errors, every check passed" in output
