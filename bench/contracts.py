"""Benchmark 3: contract suite replay.

Wall time of the whole offline contract suite (``tests/contracts``, cassettes replayed,
network blocked) against the wall time pytest needs to collect the same tests, both in
fresh processes. "Adds" is (run - collect) / collect. Replayed interactions per second
is the number of recorded interactions in ``cassettes/`` over (run - collect) of the
suite's run.

The suite's own guard tests (which start inner pytest sessions) live in
``tests/contract_guards`` and are not part of this figure.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result, emit, peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "tests" / "contracts"
CASSETTES = ROOT / "cassettes"
GOAL = 2.0
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
REPLAY = ["--record-mode=none", "--block-network"]


def _wall(args: list[str]) -> tuple[float, str]:
    """Seconds and the last output line of one pytest process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    lines = [line for line in out.strip().splitlines() if line.strip()]
    tail = lines[-1] if lines else ""
    if proc.returncode not in (0, 5):
        tail = f"exit {proc.returncode}: {tail}"
    return elapsed, tail


def count_interactions(root: Path = CASSETTES) -> tuple[int, int]:
    """(cassette files, recorded interactions) under ``root`` (YAML and JSON)."""
    files = interactions = 0
    for path in sorted(root.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            text = path.read_text(encoding="utf-8")
            found = len(re.findall(r"^- request:", text, flags=re.MULTILINE))
        elif path.suffix == ".json" and path.name != "markets.json":
            text = path.read_text(encoding="utf-8")
            found = text.count('"request"')
        else:
            continue
        files += 1
        interactions += found
    return files, interactions


def _median(args: list[str], repeats: int) -> tuple[float, str]:
    runs = [_wall(args) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def run(quick: bool = False) -> Result:
    if not SUITE.is_dir() or not any(SUITE.glob("test_*.py")):
        return Result(
            name="3 contract suite replay",
            sdk=None,
            reference=None,
            ratio=None,
            goal=f"adds <= {GOAL}x collection",
            passed=None,
            notes=["not available: tests/contracts has no tests yet"],
        )
    files, interactions = count_interactions()
    repeats = 1 if quick else 3
    collect, collected = _median([*PYTEST, "tests/contracts", "--collect-only", "-q"], repeats)
    total, outcome = _median([*PYTEST, "tests/contracts", "-q", *REPLAY], 1)
    adds = (total - collect) / collect
    rate = interactions / max(total - collect, 1e-9)
    notes = [
        f"collect {collect:.2f} s ({collected}); run {total:.2f} s ({outcome}); "
        f"total/collect {total / collect:.2f}x, adds {adds:.2f}x collection",
        f"{interactions} recorded interactions in {files} cassette files replayed at "
        f"{rate:.1f} interactions/s",
    ]
    return Result(
        name="3 contract suite replay",
        sdk=total,
        reference=collect,
        ratio=adds,
        goal=f"adds <= {GOAL}x collection",
        passed=adds <= GOAL,
        peak_rss_mib=peak_rss_mib(children=True),
        notes=notes,
        extra={
            "collect_s": collect,
            "run_s": total,
            "interactions": interactions,
            "cassette_files": files,
            "interactions_per_s": rate,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
