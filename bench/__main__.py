"""Run the benchmarks, each in its own process, and print one table.

    python -m bench                 # all eight (``make bench``)
    python -m bench overhead fold   # some of them
    python -m bench --quick         # smaller sizes, for a smoke run

Names: ``overhead``, ``wave``, ``ratelimit``, ``contracts``, ``startup``, ``fold``,
``report``, ``journal``. Each figure is a ratio against a reference measured in the same
run; peak RSS is the benchmark process's own (or its children's, for the ones that time
subprocesses).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULT_PREFIX

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = {
    "overhead": "bench.overhead",
    "wave": "bench.wave",
    "ratelimit": "bench.ratelimit",
    "contracts": "bench.contracts",
    "startup": "bench.startup",
    "fold": "bench.fold",
    "report": "bench.report",
    "journal": "bench.journal",
}


def _run_one(module: str, quick: bool) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", module, *(["--quick"] if quick else [])]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    found: list[dict[str, Any]] = []
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            result["peak_rss_mib"] = max(result.get("peak_rss_mib") or 0.0, usage.ru_maxrss / 1024)
            result["wall_s"] = wall if not found else 0.0
            found.append(result)
    if found:
        return found
    failed = {
        "name": module,
        "sdk": None,
        "reference": None,
        "ratio": None,
        "goal": "",
        "passed": None,
        "unit": "",
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "notes": [f"failed (exit {proc.returncode}); run python -m {module} to see why"],
        "wall_s": wall,
    }
    return [failed]


def _num(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1e6:.0f} us" if value < 0.01 else f"{value:.3f} s"
    return f"{value:.2f} {unit}"


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    head = ["benchmark", "SDK", "reference", "ratio", "goal", "result", "peak RSS"]
    rows = []
    for r in results:
        verdict = {True: "pass", False: "MISS", None: "n/a"}[r["passed"]]
        rows.append(
            [
                r["name"],
                (r.get("display") or {}).get("sdk") or _num(r["sdk"], r.get("unit", "s")),
                (r.get("display") or {}).get("reference")
                or _num(r["reference"], r.get("unit", "s")),
                "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
                r["goal"],
                verdict,
                f"{r['peak_rss_mib']:.0f} MiB",
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    import ccxt

    print(
        f"# exsdk benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, ccxt {ccxt.__version__}",
        flush=True,
    )
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(_run_one(BENCHMARKS[name], args.quick))
    print()
    print(table(results))
    print()
    for r in results:
        for note in r.get("notes", []):
            print(f"- {r['name']}: {note}")
    total = sum(r["wall_s"] for r in results)
    print(f"\n(benchmarks took {total:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
