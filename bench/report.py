"""Benchmark 6: ``exsdk report`` at scale (issue 18 goal 4).

A journal of 1,000,000 trades in 1,000 TWAP parents (10 waves, one child each, 100 trades
per child; :mod:`bench.journal_gen`, cached under ``.bench-cache/`` since writing it takes
minutes) is reported by the command a user runs, ``exsdk report RUN --journal FILE`` in a
fresh process: reading the journal, folding, the console table and the HTML report with its
charts. Figures:

* end to end: trades / wall seconds of that process (median of two), its CPU seconds and
  its peak RSS (``wait4``); with ``--baseline DIR``, another revision's command interleaved;
* where that time goes, in a fresh process of the same interpreter: start and imports
  (``exsdk.app.cli``, pandas, the quality module, the report), the journal's exact sums
  (``Journal.report_trade_sums``: version 4's ``trade_sums``, kept as trades are written),
  ``execution_quality`` (``trades="charts"``, as the
  command calls it; the sums again inside it), rendering the HTML, the console table; CPU
  and wall seconds each;
* bytecode: a wheel installed by pip has its modules compiled to ``__pycache__``; an editable
  install run with ``PYTHONDONTWRITEBYTECODE=1`` (as on the project's VMs) never writes them,
  so every run would compile the SDK's sources again while pandas and typer load theirs
  compiled. This revision's modules and the baseline's are compiled first
  (:func:`_compile_bytecode`), as an install does (as ``bench/startup.py`` does);
* reference: the row-by-row path :func:`exsdk.app.quality.execution_quality_rows` (the
  one ``exsdk report`` used before the vectorised paths) on a 20,000-trade journal of the
  same shape, as trades per second; the ratio is the end-to-end rate over it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result, emit
from bench.journal_gen import RUN_ID

GOAL_RATE = 500_000
GOAL_MIB = 1024
CACHE = Path(".bench-cache")


def _journal(parents: int) -> Path:
    from exsdk.journal import SCHEMA_VERSION

    path = CACHE / f"report-{parents}p-v{SCHEMA_VERSION}-g1.sqlite"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        # In a process of its own: a child forked from this one after it wrote 1M rows
        # would count this process's memory in its own peak RSS (Linux's ru_maxrss of a
        # forked child starts from the parent's), and `exsdk report` is measured so.
        subprocess.run(
            [sys.executable, "-m", "bench.journal_gen", str(partial), str(parents)], check=True
        )
        partial.rename(path)
    return path


def _compile_bytecode(package: Path | None = None) -> int:
    """Compile an ``exsdk`` package's modules (default: the one this interpreter imports) to
    ``__pycache__`` as a wheel install does, through symlinked directories too; their count."""
    if package is None:
        import exsdk

        package = Path(exsdk.__file__ or "").parent
    count = 0
    for folder, _, files in os.walk(package, followlinks=True):
        for name in files:
            if name.endswith(".py"):
                # py_compile writes the cache whatever PYTHONDONTWRITEBYTECODE says.
                compileall.compile_file(os.path.join(folder, name), quiet=1)
                count += 1
    return count


def _cli(path: Path, out: Path, baseline: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of ``exsdk report`` in
    its own process; with ``baseline``, the ``exsdk`` package found there (another
    revision's source tree, first on ``PYTHONPATH``) runs it instead."""
    args = ["report", RUN_ID, "--journal", str(path), "--out", str(out)]
    env = None
    if baseline is None:
        cmd = [str(Path(sys.executable).with_name("exsdk")), *args]
    else:
        cmd = [sys.executable, "-c", "import sys; from exsdk.app.cli import main; main()", *args]
        env = {**os.environ, "PYTHONPATH": str(baseline)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"exsdk report failed: {err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


_PHASES = """
import io, json, sys, time
marks = []
def mark(name, t=[time.process_time()], w=[time.perf_counter()]):
    now, wall = time.process_time(), time.perf_counter()
    marks.append((name, now - t[0], wall - w[0]))
    t[0], w[0] = now, wall
import exsdk.app.cli
mark("import exsdk.app.cli (typer, rich)")
# As the command runs its work: the cyclic collector paused (exsdk.app.cli._NoCycleCollector).
import gc
gc.disable()
import pandas
mark("import pandas")
from exsdk.app.quality import execution_quality, quality_table
mark("import exsdk.app.quality")
from exsdk.app import report
mark("import exsdk.app.report")
from exsdk.journal import Journal
journal = Journal.open(sys.argv[1])
journal.report_trade_sums(sys.argv[2])
mark("the journal's sums alone (trade_sums, version 4)")
quality = execution_quality(journal, sys.argv[2], trades="charts")
mark("execution_quality (charts; the sums again inside, one snapshot)")
html = report.render_report(quality, journal_path=journal.path)
mark("render the HTML")
from rich.console import Console
Console(file=io.StringIO(), width=100).print(quality_table(quality))
mark("console table")
print(json.dumps(marks))
"""


def _phases(path: Path) -> tuple[float, list[tuple[str, float, float]]]:
    """Interpreter start (``python -c pass``, wall) and the CPU and wall seconds of each
    phase of the command's work, in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - start
    out = subprocess.run(
        [sys.executable, "-c", _PHASES, str(path), RUN_ID],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    marks = [tuple(m) for m in json.loads(out.strip().splitlines()[-1])]
    return bare, marks  # type: ignore[return-value]


def _rows_rate(path: Path, trades: int) -> float:
    from exsdk.app.quality import execution_quality_rows
    from exsdk.journal import Journal

    with Journal.open(path) as journal:
        start = time.perf_counter()
        execution_quality_rows(journal, RUN_ID)
        return trades / (time.perf_counter() - start)


def run(
    quick: bool = False,
    baseline: Path | None = None,
    repeat: int | None = None,
    baseline_journal: Path | None = None,
) -> Result:
    parents = 100 if quick else 1000
    trades = parents * 1000
    path = _journal(parents)
    # A revision of an older schema refuses this journal (newer than it knows): it reads
    # the same run as its own version wrote it.
    base_path = baseline_journal or path
    small = _journal(20)
    out = CACHE / "report.html"
    _compile_bytecode()
    if baseline is not None:
        _compile_bytecode(baseline / "exsdk")
    # Several times, alternating with the phases (and the baseline's command): the machine
    # is shared, and a median is less bent by a neighbour's burst than one run.
    cli_runs = []
    base_runs = []
    phase_runs = []
    for _ in range(repeat or (1 if quick else 2)):
        if baseline is not None:
            base_runs.append(_cli(base_path, CACHE / "report-baseline.html", baseline))
        cli_runs.append(_cli(path, out))
        phase_runs.append(_phases(path))
    cli_wall = statistics.median(w for w, _, _ in cli_runs)
    cli_cpu = statistics.median(c for _, c, _ in cli_runs)
    cli_rss = max(r for _, _, r in cli_runs)
    bare = statistics.median(b for b, _ in phase_runs)
    marks = phase_runs[-1][1]
    rows_rate = _rows_rate(small, 20 * 1000)
    rate = trades / cli_wall
    passed = rate >= GOAL_RATE and cli_rss < GOAL_MIB
    cpu = sum(c for _, c, _ in marks)
    notes = [
        f"{trades:,} trades, {parents} parents: `exsdk report` {cli_wall:.2f} s end to end "
        f"(median of {', '.join(f'{w:.2f}' for w, _, _ in cli_runs)}; "
        f"{rate:,.0f} trades/s), {cli_cpu:.2f} CPU s (user + system; median of "
        f"{', '.join(f'{c:.2f}' for _, c, _ in cli_runs)}), peak RSS {cli_rss:.0f} MiB, "
        f"HTML {out.stat().st_size / 1e6:.1f} MB",
        f"where it goes (a fresh process; CPU s / wall s): interpreter start {bare:.2f} wall; "
        + "; ".join(f"{name} {c:.2f} / {w:.2f}" for name, c, w in marks)
        + f"; {cpu:.2f} CPU s in all (the sums counted twice)",
        f"row-by-row reference (execution_quality_rows, 20,000 trades): {rows_rate:,.0f} trades/s;"
        f" end to end is {rate / rows_rate:.1f}x that",
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores during the run",
    ]
    if base_runs:
        b_wall = statistics.median(w for w, _, _ in base_runs)
        b_cpu = statistics.median(c for _, c, _ in base_runs)
        notes.append(
            f"baseline {baseline} ({base_path.name}) interleaved: {b_wall:.2f} s wall (median of "
            f"{', '.join(f'{w:.2f}' for w, _, _ in base_runs)}), {b_cpu:.2f} CPU s (of "
            f"{', '.join(f'{c:.2f}' for _, c, _ in base_runs)}), peak RSS "
            f"{max(r for _, _, r in base_runs):.0f} MiB; this revision / baseline: "
            f"{cli_wall / b_wall:.2f}x wall, {cli_cpu / b_cpu:.2f}x CPU"
        )
    return Result(
        name="6 report at scale",
        sdk=cli_wall,
        reference=trades / rows_rate,
        ratio=rate / rows_rate,
        goal=f">= {GOAL_RATE:,} trades/s end to end, < 1 GiB",
        passed=passed,
        peak_rss_mib=max(cli_rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        notes=notes,
        display={
            "sdk": f"{cli_wall:.2f} s ({rate / 1000:,.0f}k trades/s)",
            "reference": f"{trades / rows_rate:.1f} s (row path, {rows_rate / 1000:,.1f}k/s)",
        },
        extra={
            "trades": trades,
            "trades_per_s": rate,
            "cli_peak_rss_mib": cli_rss,
            "cli_runs_s": [w for w, _, _ in cli_runs],
            "cli_runs_cpu_s": [c for _, c, _ in cli_runs],
            "baseline_runs_s_cpu_mib": base_runs,
            "interpreter_start_s": bare,
            "phases_cpu_wall_s": marks,
            "rows_trades_per_s": rows_rate,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory holding another revision's exsdk package: its `exsdk report` runs"
        " interleaved with this one's (before, after, ...), both timed",
    )
    parser.add_argument(
        "--baseline-journal",
        type=Path,
        help="the journal the baseline reports (default: this revision's), for a baseline of"
        " an older schema: the same run as bench.journal_gen of that revision wrote it",
    )
    parser.add_argument("--repeat", type=int, help="end-to-end runs of each (default 2)")
    args = parser.parse_args()
    emit(
        run(
            quick=args.quick,
            baseline=args.baseline,
            repeat=args.repeat,
            baseline_journal=args.baseline_journal,
        )
    )


if __name__ == "__main__":
    main()
