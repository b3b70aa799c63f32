"""Following a job through its JSON status, as the page's script does."""

from __future__ import annotations

import re
import threading
from typing import Any

POLLS = 1200  # at most this many polls, a short wait apart: a bound, not a timing assertion
_pause = threading.Event()


def job_id(response: Any) -> int:
    match = re.search(r"/jobs/(\d+)$", response.headers.get("Location", ""))
    assert match, response.headers.get("Location")
    return int(match.group(1))


def wait_for(session: Any, number: int) -> dict[str, Any]:
    """The job's status once it has finished (done or failed)."""
    seen = []
    for _ in range(POLLS):
        response = session.get(f"/jobs/{number}/status.json")
        assert response.status_code == 200
        status = response.get_json()
        seen.append(status["state"])
        if status["finished"]:
            status["seen"] = seen
            return status
        _pause.wait(0.05)
    raise AssertionError(f"job {number} did not finish: states seen {sorted(set(seen))}")
