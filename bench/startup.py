"""Benchmark 4: start-up (issue 18 goal 3).

Two comparisons, each of fresh interpreters run in turn (A B C D A B C D ...), medians:

- **Broker ready** (4a): build a Broker on the ``binance-futures`` adapter (testnet) and
  load markets from the on-disk snapshot (a cache hit: any request would fail), against a
  raw ccxt script that imports ``ccxt.async_support``, builds the same exchange (testnet)
  and loads the same cached markets (``json`` + ``set_markets`` + ``load_markets``, which
  then makes no request either). Goal: at most 1.1x. ``import ccxt``, the reference of
  the earlier runs, is timed alongside. Beside it, the **first order** after ready: the
  same script then sends one TWAP child on the in-memory transport (``bench.transport``;
  the book request, sizing, the intent journaled, the create handed over) against the raw
  script sending the same two requests: whatever start-up defers to first use (a module
  imported, a class built when first needed) is paid there, so it is printed beside ready.
- **Typed models only** (4b): the import statement ``from exsdk import Order, ChildOrder,
  OmsFill, CcxtOrder`` in a fresh interpreter (the script checks that ccxt was not
  imported) against ``import ccxt`` in another, each timed inside the process; the whole
  processes are timed too. Goal: at most 0.3x.

``python -X importtime`` then names the imports that dominate, and a staged copy of the
ready script says where the rest goes (imports, building the adapter, opening the journal,
typing the markets).

Beside them, a **floor**: the raw script that also imports pydantic and validates one
market into a pydantic model (pydantic's import, its plugin scan and one schema: what any
SDK with pydantic-typed markets pays before its own code), and the modules the ready
script loads beyond the raw script's, counted by package. ``--instructions`` adds each
script's instruction count under ``valgrind --tool=callgrind`` (one run each, about a minute
apiece; steadier than time when the machine is shared, but blind to cache misses and I/O).

Bytecode: a wheel installed by pip has its modules compiled to ``__pycache__``; an editable
install run with ``PYTHONDONTWRITEBYTECODE=1`` (as on the project's VMs) never writes them,
so every run would compile the SDK's sources again while ccxt and aiohttp load theirs
compiled. The SDK's modules are compiled first (:func:`_compile_bytecode`), as an install does.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, emit, peak_rss_mib

GOAL = 1.1
MODELS_GOAL = 0.3
ROOT = Path(__file__).resolve().parents[1]

READY_SCRIPT = """
import asyncio, sys
from exsdk.broker import Broker
from exsdk.journal import Journal
from exsdk.registry import get_adapter

async def main() -> None:
    adapter = get_adapter("binance-futures", venue="testnet", markets_cache=sys.argv[1])

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the markets cache was not used")

    adapter.exchange.fetch = no_network
    broker = Broker(adapter, "preprod", Journal.open(sys.argv[2]))
    markets = await adapter.load_markets()
    assert markets and broker.adapter is adapter
    # Ready. No request was made, so there is no session to close (ccxt's close() would
    # also sleep 250 ms for SSL shutdown, which is not start-up).

asyncio.run(main())
"""

RAW_SCRIPT = """
import asyncio, json, sys
import ccxt.async_support as ccxt

async def main() -> None:
    exchange = ccxt.binanceusdm()
    exchange.set_sandbox_mode(True)

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the cached markets were not used")

    exchange.fetch = no_network
    with open(sys.argv[1], encoding="utf-8") as fh:
        exchange.set_markets(json.load(fh)["markets"])
    markets = await exchange.load_markets()
    assert markets

asyncio.run(main())
"""

# Broker ready, then the first order: what a cost moved off the ready path (a module imported
# or a class built at first use) is paid here, so the benchmark prints it beside "ready".
# One TWAP child (one wave) on the in-memory transport (bench.transport): the book request,
# sizing, the intent journaled (FULL), the create handed over; the run stops there (its clock
# raises at the wave's cancel time). The raw script sends the same two requests.
FIRST_SCRIPT = READY_SCRIPT.replace(
    """    # Ready. No request was made, so there is no session to close (ccxt's close() would
    # also sleep 250 ms for SSL shutdown, which is not start-up).
""",
    """    ready = time.perf_counter()
    sys.path.insert(0, sys.argv[3])
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal
    from bench.transport import install
    from exsdk.broker import LimitPriceComputer, TwapConfig, VirtualClock
    from exsdk.models import Order
    from exsdk.universe import asset_id_for

    t0 = datetime(2024, 1, 1, 12, tzinfo=UTC)

    class Sent(Exception):
        pass

    class StopAfterSend(VirtualClock):
        async def sleep_until(self, when):
            if when > t0:
                raise Sent
            await super().sleep_until(when)

    adapter.exchange.apiKey, adapter.exchange.secret = "k" * 64, "s" * 64
    transport = install(adapter.exchange)
    broker = Broker(
        adapter,
        "preprod",
        broker.journal,
        StopAfterSend(t0),
        limit_prices=LimitPriceComputer(Decimal("0.5"), max_age=None),
        twap=TwapConfig(waves=1),
    )
    order = Order(
        order_id=1,
        creation_timestamp=t0,
        asset_id=asset_id_for("binance", "BTC", "USDT"),
        type_="price@twap",
        start_timestamp=t0,
        end_timestamp=t0 + timedelta(minutes=5),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal("0.004"),
        tz="UTC",
    )
    try:
        await broker.submit_orders([order])
    except Sent:
        pass
    assert len(transport.sent) == 1, transport.sent
    print("FIRST", transport.sent[0] - ready)
""",
).replace("import asyncio, sys", "import asyncio, sys, time")

RAW_FIRST_SCRIPT = RAW_SCRIPT.replace(
    """    assert markets
""",
    """    assert markets
    ready = time.perf_counter()
    sys.path.insert(0, sys.argv[2])
    from bench.transport import install

    exchange.apiKey, exchange.secret = "k" * 64, "s" * 64
    exchange.options["disableFuturesSandboxWarning"] = True  # as the SDK's testnet adapter
    transport = install(exchange)
    book = await exchange.fetch_order_book("BTC/USDT:USDT", 5)
    await exchange.create_order(
        "BTC/USDT:USDT", "limit", "buy", 0.004, book["bids"][0][0], {"clientOrderId": "raw-1"}
    )
    assert len(transport.sent) == 1, transport.sent
    print("FIRST", transport.sent[0] - ready)
""",
).replace("import asyncio, json, sys", "import asyncio, json, sys, time")

FLOOR_SCRIPT = """
import asyncio, json, sys
from decimal import Decimal
import ccxt.async_support as ccxt
from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    symbol: str
    amount_step: Decimal
    price_tick: Decimal
    amount_min: Decimal | None = Field(default=None)


async def main() -> None:
    exchange = ccxt.binanceusdm()
    exchange.set_sandbox_mode(True)

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the cached markets were not used")

    exchange.fetch = no_network
    with open(sys.argv[1], encoding="utf-8") as fh:
        exchange.set_markets(json.load(fh)["markets"])
    markets = await exchange.load_markets()
    typed = [
        Limits(
            symbol=m["symbol"],
            amount_step=str(m["precision"]["amount"]),
            price_tick=str(m["precision"]["price"]),
            amount_min=m["limits"]["amount"]["min"],
        )
        for m in markets.values()
    ]
    assert typed

asyncio.run(main())
"""

MODULES_WRAPPER = """
import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("MODULES", " ".join(sorted(sys.modules)))
"""

MODELS_SCRIPT = """
import sys, time
start = time.perf_counter()
from exsdk import CcxtOrder, ChildOrder, OmsFill, Order
print(time.perf_counter() - start)
assert "ccxt" not in sys.modules, "typed models imported ccxt"
"""

PYDANTIC_SCRIPT = """
import sys, time
start = time.perf_counter()
from pydantic import BaseModel, ConfigDict, Field

class Model(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    x: int = Field(default=0)
print(time.perf_counter() - start)
"""

CCXT_SCRIPT = """
import time
start = time.perf_counter()
import ccxt
print(time.perf_counter() - start)
"""


STAGES_SCRIPT = """
import time
marks = [("start", time.perf_counter())]
import asyncio, sys
import ccxt.async_support, aiohttp
marks.append(("import ccxt.async_support and aiohttp", time.perf_counter()))
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
marks.append(("import pydantic (what the models import)", time.perf_counter()))
from exsdk.broker import Broker
from exsdk.journal import Journal
from exsdk.registry import get_adapter
marks.append(("import the SDK (beyond ccxt)", time.perf_counter()))

async def main() -> None:
    adapter = get_adapter("binance-futures", venue="testnet", markets_cache=sys.argv[1])
    marks.append(("get_adapter (adapter import, exchange built)", time.perf_counter()))

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the markets cache was not used")

    adapter.exchange.fetch = no_network
    journal = Journal.open(sys.argv[2])
    marks.append(("Journal.open", time.perf_counter()))
    broker = Broker(adapter, "preprod", journal)
    marks.append(("Broker()", time.perf_counter()))
    markets = await adapter.load_markets()
    assert markets and broker.adapter is adapter
    marks.append(("load_markets (cache, typed limits)", time.perf_counter()))

asyncio.run(main())
for (name, t), (_, before) in zip(marks[1:], marks[:-1]):
    print(f"{name}\t{t - before}")
"""


def _compile_bytecode() -> int:
    """Compile the SDK's modules to ``__pycache__`` as a wheel install does; their count."""
    import exsdk

    package = Path(exsdk.__file__ or "").parent
    # py_compile writes the cache whatever PYTHONDONTWRITEBYTECODE says; quiet=1: errors only.
    compileall.compile_dir(package, quiet=1)
    return sum(1 for _ in package.rglob("*.py"))


def _stages(cmd: list[str], repeats: int) -> dict[str, float]:
    """Median seconds of each stage of the staged ready script, over ``repeats`` runs."""
    runs: dict[str, list[float]] = {}
    for _ in range(repeats):
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            name, _, seconds = line.rpartition("\t")
            runs.setdefault(name, []).append(float(seconds))
    return {name: statistics.median(values) for name, values in runs.items()}


def _import_seconds(script: str) -> float:
    """Seconds the script's own import statement took, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


async def _write_cache(path: Path) -> int:
    from bench.transport import install
    from exsdk.registry import get_adapter

    adapter: Any = get_adapter("binance-futures", venue="testnet", markets_cache=str(path))
    install(adapter.exchange)
    markets = await adapter.load_markets()
    await adapter.close()
    return len(markets)


def _wall(cmd: list[str]) -> tuple[float, float, float, str]:
    """Seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process, and
    what it printed (a line or two: the pipe's buffer holds it until the process ends)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed with {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out


def _importtime(cmd: list[str], runs: int = 3, top: int = 8) -> list[tuple[str, float]]:
    """The packages whose modules take the most import time of their own (ms, median of
    ``runs``; a garbage collection is charged to the import it interrupts, so one run's
    figures move by whole collections)."""
    pattern = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        proc = subprocess.run(
            [cmd[0], "-X", "importtime", *cmd[1:]], cwd=ROOT, capture_output=True, text=True
        )
        totals: dict[str, float] = {}
        for line in proc.stderr.splitlines():
            found = pattern.match(line)
            if found:
                parts = found.group(2).split(".")
                # ccxt's sync and async trees are told apart: the SDK needs only the latter.
                name = ".".join(parts[:2]) if parts[:2] == ["ccxt", "async_support"] else parts[0]
                totals[name] = totals.get(name, 0.0) + int(found.group(1)) / 1000.0
        per_run.append(totals)
    names = {name for totals in per_run for name in totals}
    median = {name: statistics.median(t.get(name, 0.0) for t in per_run) for name in names}
    return sorted(median.items(), key=lambda kv: -kv[1])[:top]


GC_WRAPPER = """
import gc, runpy, sys, time
spent = [0.0, 0, 0.0]
def _timed(phase, info):
    if phase == "start":
        spent[2] = time.perf_counter()
    else:
        spent[0] += time.perf_counter() - spent[2]
        spent[1] += 1
gc.callbacks.append(_timed)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print(f"GC\t{spent[0]}\t{spent[1]}")
"""


def _gc_seconds(cmd: list[str], runs: int) -> tuple[float, int]:
    """Median seconds the garbage collector ran in a script, and its collections."""
    seconds: list[float] = []
    count = 0
    for _ in range(runs):
        out = subprocess.run(
            [cmd[0], "-c", GC_WRAPPER, *cmd[1:]], cwd=ROOT, capture_output=True, text=True
        )
        line = [x for x in out.stdout.splitlines() if x.startswith("GC\t")][-1]
        _, spent, collections = line.split("\t")
        seconds.append(float(spent))
        count = int(collections)
    return statistics.median(seconds), count


def _modules(cmd: list[str]) -> set[str]:
    """The modules a script has imported when it ends."""
    out = subprocess.run(
        [cmd[0], "-c", MODULES_WRAPPER, *cmd[1:]], cwd=ROOT, capture_output=True, text=True
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("MODULES ")][-1]
    return set(line.split()[1:])


def _by_package(modules: set[str]) -> str:
    """``package count`` for each top-level package, most modules first."""
    counts: dict[str, int] = {}
    for name in modules:
        top = name.split(".")[0]
        counts[top] = counts.get(top, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _instructions(cmd: list[str]) -> int | None:
    """Instructions the whole process executes under callgrind (hash seed fixed), if
    valgrind is installed."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    out = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    return int(found.group(1)) if found else None


def _interleave(
    cmds: dict[str, list[str]], repeats: int
) -> tuple[
    dict[str, list[float]], dict[str, list[float]], dict[str, float], dict[str, list[float]]
]:
    """Wall and CPU seconds of each command, run in turn ``repeats`` times, peak RSS, and
    the seconds each printed after ``FIRST`` (the first-order scripts: ready to first send)."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, float] = {k: 0.0 for k in cmds}
    first: dict[str, list[float]] = {k: [] for k in cmds}
    for cmd in cmds.values():  # warm the OS page cache for all
        _wall(cmd)
    for _ in range(repeats):
        for name, cmd in cmds.items():
            t, used, peak, out = _wall(cmd)
            times[name].append(t)
            cpu[name].append(used)
            rss[name] = max(rss[name], peak)
            first[name].extend(float(x.split()[1]) for x in out.splitlines() if x[:6] == "FIRST ")
    return times, cpu, rss, first


def run(quick: bool = False, instructions: bool = False) -> list[Result]:
    repeats = 3 if quick else 9
    compiled = _compile_bytecode()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-startup-", dir=ROOT) as tmp:
        cache = Path(tmp) / "markets.json"
        count = asyncio.run(_write_cache(cache))
        scripts = {
            "ready": READY_SCRIPT,
            "raw": RAW_SCRIPT,
            "floor": FLOOR_SCRIPT,
            "stages": STAGES_SCRIPT,
            "first": FIRST_SCRIPT,
            "raw_first": RAW_FIRST_SCRIPT,
        }
        for name, text in scripts.items():
            (Path(tmp) / f"{name}.py").write_text(text, encoding="utf-8")
        journal = str(Path(tmp) / "j.sqlite")
        cmds = {
            "ready": [sys.executable, str(Path(tmp) / "ready.py"), str(cache), journal],
            "raw": [sys.executable, str(Path(tmp) / "raw.py"), str(cache)],
            "first": [sys.executable, str(Path(tmp) / "first.py"), str(cache), journal, str(ROOT)],
            "raw_first": [sys.executable, str(Path(tmp) / "raw_first.py"), str(cache), str(ROOT)],
            "floor": [sys.executable, str(Path(tmp) / "floor.py"), str(cache)],
            "models": [sys.executable, "-c", MODELS_SCRIPT],
            "pydantic": [sys.executable, "-c", PYDANTIC_SCRIPT],
            "ccxt": [sys.executable, "-c", CCXT_SCRIPT],
        }
        times, cpu, rss, first = _interleave(cmds, repeats)
        imports: dict[str, list[float]] = {"models": [], "pydantic": [], "ccxt": []}
        for _ in range(repeats):
            imports["models"].append(_import_seconds(MODELS_SCRIPT))
            imports["pydantic"].append(_import_seconds(PYDANTIC_SCRIPT))
            imports["ccxt"].append(_import_seconds(CCXT_SCRIPT))
        beyond = _modules(cmds["ready"]) - _modules(cmds["raw"])
        counted = {k: _instructions(cmds[k]) for k in cmds} if instructions else {}
        few = 1 if quick else 3
        stages = _stages([sys.executable, str(Path(tmp) / "stages.py"), str(cache), journal], few)
        gc_ready = _gc_seconds(cmds["ready"], few)
        gc_raw = _gc_seconds(cmds["raw"], few)
        sdk_top = _importtime(cmds["ready"], few)
        raw_top = _importtime(cmds["raw"], few)
        models_top = _importtime(cmds["models"], few)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    first_med = {k: statistics.median(v) for k, v in first.items() if v}
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    ready_ratio = med["ready"] / med["raw"]
    imp = {k: statistics.median(v) for k, v in imports.items()}
    models_ratio = imp["models"] / imp["ccxt"]
    ready_notes = [
        f"{count} markets from the cache; medians of {repeats}, interleaved; {load}",
        f"broker ready {med['ready'] * 1e3:.0f} ms (peak RSS {rss['ready']:.0f} MiB), raw ccxt"
        f" script {med['raw'] * 1e3:.0f} ms (peak RSS {rss['raw']:.0f} MiB), import ccxt"
        f" {med['ccxt'] * 1e3:.0f} ms: broker ready is {med['ready'] / med['ccxt']:.2f}x"
        " import ccxt",
        f"CPU time (user + system, medians; less moved by other load than wall time): broker"
        f" ready {cpu_med['ready'] * 1e3:.0f} ms, raw ccxt script {cpu_med['raw'] * 1e3:.0f} ms:"
        f" {cpu_med['ready'] / cpu_med['raw']:.2f}x",
        f"floor, the raw script that also imports pydantic and types the markets into one"
        f" pydantic model: {med['floor'] * 1e3:.0f} ms wall, {cpu_med['floor'] * 1e3:.0f} ms CPU:"
        f" {med['floor'] / med['raw']:.2f}x wall, {cpu_med['floor'] / cpu_med['raw']:.2f}x CPU"
        f" of the raw script; broker ready is {med['ready'] / med['floor']:.2f}x wall,"
        f" {cpu_med['ready'] / cpu_med['floor']:.2f}x CPU of the floor",
        f"then the first order (one TWAP child on the in-memory transport: book, sizing,"
        f" intent journaled, create handed over; the raw script the same two requests), from"
        f" ready to its request: broker {first_med['first'] * 1e3:.1f} ms, raw ccxt"
        f" {first_med['raw_first'] * 1e3:.1f} ms; whole process to the first order: broker"
        f" {med['first'] * 1e3:.0f} ms, raw {med['raw_first'] * 1e3:.0f} ms:"
        f" {med['first'] / med['raw_first']:.2f}x wall,"
        f" {cpu_med['first'] / cpu_med['raw_first']:.2f}x CPU (what start-up moves to first use"
        " is paid here)",
        f"the SDK's {compiled} modules compiled to bytecode first, as a wheel install does",
        f"modules broker ready imports beyond the raw script's ({len(beyond)}): "
        + _by_package(beyond),
        "broker ready by stage (ms, median of the staged script): "
        + ", ".join(f"{name} {seconds * 1e3:.0f}" for name, seconds in stages.items()),
        f"garbage collection (ms, in the whole run): broker ready {gc_ready[0] * 1e3:.0f}"
        f" in {gc_ready[1]} collections, raw ccxt script {gc_raw[0] * 1e3:.0f} in {gc_raw[1]}",
        "largest imports, broker ready (own ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in sdk_top),
        "largest imports, raw ccxt script (own ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in raw_top),
    ]
    models_notes = [
        f"the import statement alone, medians of {repeats}, interleaved: typed models"
        f" {imp['models'] * 1e3:.0f} ms, import ccxt {imp['ccxt'] * 1e3:.0f} ms; {load}",
        f"whole interpreter (start, import, exit): typed models {med['models'] * 1e3:.0f} ms"
        f" (peak RSS {rss['models']:.0f} MiB), import ccxt {med['ccxt'] * 1e3:.0f} ms (peak"
        f" RSS {rss['ccxt']:.0f} MiB): {med['models'] / med['ccxt']:.2f}x",
        f"whole interpreter CPU time: typed models {cpu_med['models'] * 1e3:.0f} ms, import"
        f" ccxt {cpu_med['ccxt'] * 1e3:.0f} ms: {cpu_med['models'] / cpu_med['ccxt']:.2f}x",
        f"pydantic alone (its import and one model class, the floor of any pydantic-typed"
        f" package): import statement {imp['pydantic'] * 1e3:.0f} ms,"
        f" {imp['pydantic'] / imp['ccxt']:.2f}x import ccxt; whole interpreter"
        f" {med['pydantic'] / med['ccxt']:.2f}x wall, {cpu_med['pydantic'] / cpu_med['ccxt']:.2f}x"
        " CPU",
        "largest imports, typed models (own ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in models_top),
    ]
    if counted and None not in counted.values():
        n = {k: v or 0 for k, v in counted.items()}
        ready_notes.append(
            f"instructions (callgrind, one run each): broker ready {n['ready'] / 1e6:.0f} M,"
            f" raw ccxt script {n['raw'] / 1e6:.0f} M, floor {n['floor'] / 1e6:.0f} M:"
            f" {n['ready'] / n['raw']:.3f}x raw, floor {n['floor'] / n['raw']:.3f}x raw;"
            f" to the first order: broker {n['first'] / 1e6:.0f} M, raw {n['raw_first'] / 1e6:.0f}"
            f" M: {n['first'] / n['raw_first']:.3f}x"
        )
        models_notes.append(
            f"instructions (callgrind, whole processes): typed models {n['models'] / 1e6:.0f} M,"
            f" pydantic alone {n['pydantic'] / 1e6:.0f} M, import ccxt {n['ccxt'] / 1e6:.0f} M:"
            f" {n['models'] / n['ccxt']:.3f}x, pydantic alone {n['pydantic'] / n['ccxt']:.3f}x"
        )
    elif instructions:
        ready_notes.append("instructions: valgrind not found, or a run failed")
    return [
        Result(
            name="4a start-up: broker ready",
            sdk=med["ready"],
            reference=med["raw"],
            ratio=ready_ratio,
            goal=f"<= {GOAL}x raw ccxt script (cached markets)",
            passed=ready_ratio <= GOAL,
            peak_rss_mib=max(rss["ready"], peak_rss_mib()),
            notes=ready_notes,
            extra={
                "times": times,
                "cpu": cpu,
                "rss_mib": rss,
                "instructions": counted,
                "first_order_seconds": first,
                "modules_beyond_raw": sorted(beyond),
            },
        ),
        Result(
            name="4b start-up: import exsdk (typed models)",
            sdk=imp["models"],
            reference=imp["ccxt"],
            ratio=models_ratio,
            goal=f"<= {MODELS_GOAL}x import ccxt",
            passed=models_ratio <= MODELS_GOAL,
            peak_rss_mib=rss["models"],
            notes=models_notes,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind too"
    )
    args = parser.parse_args()
    for result in run(quick=args.quick, instructions=args.instructions):
        emit(result)


if __name__ == "__main__":
    main()
