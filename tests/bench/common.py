"""Helpers for the benchmark scripts: timing, medians, result lines."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def wall(cmd: list[str], env: dict | None = None, runs: int = 15) -> list[float]:
    """Wall times of ``runs`` runs of ``cmd`` (stdout discarded)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        out.append(time.perf_counter() - t0)
    return out


def interleaved(cmds: dict[str, list[str]], env: dict | None = None, runs: int = 15) -> dict[str, float]:
    """Median wall time per command, runs interleaved so machine drift hits all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def result(pid: str, what: str, value: float, baseline: float, target_ratio: float | None, unit: str = "s",
           lower_is_better: bool = True, extra_ok: bool = True, target_text: str = "") -> None:
    """Print one RESULT line (see tests/bench/run.py)."""
    ratio = value / baseline if baseline else float("nan")
    ok = extra_ok
    if target_ratio is not None:
        ok = ok and (ratio <= target_ratio if lower_is_better else ratio >= target_ratio)
    fmt = (lambda v: f"{v:.3f} {unit}") if unit == "s" else (lambda v: f"{v:,.1f} {unit}")
    verdict = "—" if target_ratio is None and target_text.startswith("info") else "PASS" if ok else "FAIL"
    print(f"RESULT|{pid}|{what}|{fmt(value)}|{fmt(baseline)}|{ratio:.2f}×|{target_text}|{verdict}", flush=True)
