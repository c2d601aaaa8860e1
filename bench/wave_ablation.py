"""Where a wave's time beyond raw ccxt goes (issue 18 goal 1): an analysis, not a goal.

    python -m bench.wave_ablation            # N=100 and 300, 15 rounds
    python -m bench.wave_ablation --rounds 25 --sizes 300

The wave benchmark (:mod:`bench.wave`, same harness, same journal on the working disk)
with parts of the SDK switched off, for measurement only, each variant alternating with
raw ccxt round by round in one process:

* ``shipped``: as the SDK runs;
* ``no request hooks``: the exchange's ``fetch2``, ``sign`` and ``on_rest_response``
  without the SDK's hooks (no pacing, no request records; the adapter's boundary, the
  session and the journal still run);
* ``no journal writes``: every group commit (the wave's intents, the replies and states)
  discarded instead of written (nothing is durable: never a way to run);
* ``neither``: both off.

Each line gives the median, over the rounds, of the variant's last request divided by the
mean of the two raw waves run just before and just after it (the machine's speed drifts
within seconds; a ratio of two medians taken over the whole run does not cancel that),
the range of those ratios, the same for the CPU time (``thread_time``) until the last
request, and the first request (what the wave does before the wire: books, sizing,
intents). One wave's ratio moves a lot (0.7-2.5 at N=100 here), hence 15 rounds or more.
What is left in ``neither`` is the per-child path itself: sizing, the session's send,
the adapter's checks and boundary, the loop turns, beyond ccxt's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from bench.wave import Waves
from exsdk.broker.group_commit import GroupCommit
from exsdk.journal import Journal

_HOOKS = ("fetch2", "sign", "on_rest_response")


def _discard(self: GroupCommit) -> None:
    """A commit that writes nothing (the rows and states queued are dropped)."""
    self._rows, self._children = [], []
    self.commits += 1


@contextlib.contextmanager
def _variant(waves: Waves, hooks: bool, journal: bool) -> Iterator[None]:
    exchange = waves.adapter.exchange
    missing = [name for name in _HOOKS if name not in exchange.__dict__]
    # Without this, "no request hooks" would silently measure the shipped path.
    assert not missing, f"the SDK's hooks are no longer where this expects: {missing}"
    saved = {name: exchange.__dict__[name] for name in _HOOKS}
    write = GroupCommit._write_queued
    try:
        if not hooks:
            for name in saved:
                del exchange.__dict__[name]
        if not journal:
            GroupCommit._write_queued = _discard  # type: ignore[method-assign]
        yield
    finally:
        exchange.__dict__.update(saved)
        GroupCommit._write_queued = write  # type: ignore[method-assign]


VARIANTS: dict[str, tuple[bool, bool]] = {
    "shipped": (True, True),
    "no request hooks": (False, True),
    "no journal writes": (True, False),
    "neither": (False, False),
}


class _Run(NamedTuple):
    """One timed wave: when its last and first requests left, its CPU time to the last."""

    name: str
    last: float
    first: float
    cpu: float


async def _measure(path: str, sizes: list[int], rounds: int) -> dict[int, dict[str, Any]]:
    """Per size: raw ccxt's medians, and per variant the medians of its paired ratios."""
    journal = Journal.open(path)
    waves = Waves(journal)
    try:
        await waves.setup()
        out: dict[int, dict[str, Any]] = {}
        for n in sizes:
            for hooks, writes in VARIANTS.values():  # warm every path once
                with _variant(waves, hooks, writes):
                    await waves.sdk(n)
            await waves.raw(n)
            # Raw ccxt before and after every variant, round after round: each variant's
            # wave is divided by the mean of the raw waves on either side of it, so the
            # machine's drift (its speed moves by tens of percent within seconds here)
            # cancels out of the ratio instead of landing in one variant's median.
            order = ["raw", *(x for name in VARIANTS for x in (name, "raw"))]
            runs: list[_Run] = []
            for _ in range(rounds):
                for name in order:
                    gc.collect()  # each wave starts even, as in bench.wave
                    if name == "raw":
                        sent = await waves.raw(n)
                    else:
                        with _variant(waves, *VARIANTS[name]):
                            sent = await waves.sdk(n)
                    runs.append(_Run(name, max(sent), min(sent), waves.cpu_last))
            raws = [r for r in runs if r.name == "raw"]
            figures: dict[str, Any] = {
                "raw": tuple(
                    statistics.median(getattr(r, field) for r in raws)
                    for field in ("last", "first", "cpu")
                )
            }
            for name in VARIANTS:
                ratios, cpus, firsts = [], [], []
                for at, run in enumerate(runs):
                    if run.name != name:
                        continue
                    before, after = runs[at - 1], runs[at + 1]  # both raw, by the order
                    ratios.append(run.last / ((before.last + after.last) / 2))
                    cpus.append(run.cpu / ((before.cpu + after.cpu) / 2))
                    firsts.append(run.first)
                figures[name] = (
                    statistics.median(ratios),
                    statistics.median(firsts),
                    statistics.median(cpus),
                    (min(ratios), max(ratios)),
                )
            out[n] = figures
        return out
    finally:
        journal.close()
        await waves.adapter.close()
        await waves.raw_exchange.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    args = parser.parse_args()
    # On the working disk, as bench.wave's journal (a tmpfs would hide the sync).
    with tempfile.TemporaryDirectory(prefix="bench-ablation-", dir=Path.cwd()) as folder:
        figures = asyncio.run(_measure(str(Path(folder) / "w.sqlite"), args.sizes, args.rounds))
    print(f"medians of {args.rounds} rounds; each ratio against the raw waves beside it")
    for n, rows in figures.items():
        raw_last, raw_first, raw_cpu = rows["raw"]
        print(
            f"N={n}: raw ccxt last request {raw_last * 1e3:.1f} ms (CPU {raw_cpu * 1e3:.1f} ms),"
            f" first {raw_first * 1e3:.2f} ms"
        )
        for name in VARIANTS:
            ratio, first, cpu, (low, high) = rows[name]
            print(
                f"  {name:18} ratio {ratio:.2f} (rounds {low:.2f}-{high:.2f})"
                f"  CPU ratio {cpu:.2f}  first request {first * 1e3:5.2f} ms"
            )


if __name__ == "__main__":
    main()
