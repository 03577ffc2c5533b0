"""The lease benchmark (benchmarks/lease.py) measures a real take-over: a holder process killed with
SIGKILL, another process holding the lease after it (one short SQLite trial here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_one_sqlite_trial_reports_a_take_over_after_the_kill():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lease.py"), "--backend", "sqlite", "--lease-seconds", "3",
         "--trials", "1"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    [result] = [json.loads(line) for line in out.splitlines()]
    assert result["backend"] == "sqlite" and result["trials"] == 1
    [seconds] = result["take_over_s"]
    assert 0 < seconds < 60  # taken over after the kill (bounded by the lease, far below a minute)
