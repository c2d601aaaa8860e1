"""Where broker ready's start-up goes beyond the raw ccxt script's (issue 18 goal 3a).

Not one of ``make bench``'s benchmarks (it prints no ratio against a goal): a diagnosis.
Each script runs under a wrapper that gives every interval of the process one owner: the
module being executed (its own body, nested imports excluded), the garbage collector,
attrs building a class (``attrs-build``, its ``compile()`` of generated methods
``attrs-compile``), pydantic creating a model class (``pyd-class``) or completing a
deferred schema (``pyd-schema``), and the script's stages (``get_adapter``,
``journal_open``, ``Broker()``, ``load_markets``). The interpreter's exit is ``teardown``.

    python -m bench.startup_breakdown              # wall time, medians of 5 interleaved runs
    python -m bench.startup_breakdown --instructions   # exact counts under callgrind

``--instructions`` runs each script once under ``valgrind --tool=callgrind
--dump-before=os_getppid``: the wrapper calls ``os.getppid()`` at every change of owner,
so each dump holds exactly one interval's instructions (about 5 minutes a script). The
wrapper's own cost (a list append per change) is charged to the owners, about equally
on both sides. Wall figures include the wrapper's marks and move with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.startup import ROOT, _compile_bytecode, _write_cache

WRAPPER = r"""
import builtins, gc, os, runpy, sys, time
import _frozen_importlib as bootstrap

MODE = os.environ["BREAKDOWN_MODE"]
owners, stamps, stack = [], [], ["stage:interpreter"]
_ppid, _ns = os.getppid, time.perf_counter_ns

if MODE == "instructions":
    def mark():
        owners.append(stack[-1])
        _ppid()  # callgrind dumps the interval that ends here
else:
    def mark():
        stamps.append(_ns())
        owners.append(stack[-1])

def stage(name):
    mark()
    stack[0] = "stage:" + name

def push(name):
    mark()
    stack.append(name)

def pop():
    mark()
    stack.pop()

builtins.__stage__ = stage
gc.callbacks.append(lambda phase, info: push("gc") if phase == "start" else pop())

def wrap(owner, func):
    def wrapped(*args, **kwargs):
        push(owner)
        try:
            return func(*args, **kwargs)
        finally:
            pop()
    return wrapped

def patch(name):
    module = sys.modules[name]
    if name == "attr._make":
        builder = module._ClassBuilder
        builder.build_class = wrap("attrs-build", builder.build_class)
        module._compile_and_eval = wrap("attrs-compile", module._compile_and_eval)
    elif name == "pydantic._internal._model_construction":
        module.complete_model_class = wrap("pyd-schema", module.complete_model_class)
        meta = module.ModelMetaclass
        meta.__new__ = wrap("pyd-class", meta.__new__)

load = bootstrap._load_unlocked

def load_unlocked(spec):
    push("mod:" + spec.name)
    try:
        return load(spec)
    finally:
        pop()
        if spec.name in ("attr._make", "pydantic._internal._model_construction"):
            patch(spec.name)

bootstrap._load_unlocked = load_unlocked
out = sys.argv[1]
sys.argv = sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    stage("teardown")
    with open(out, "w") as fh:
        if MODE == "instructions":
            fh.write("\n".join(owners))
        else:
            stamps.append(_ns())
            owners.append("stage:teardown")
            fh.writelines(f"{o}\t{t}\n" for o, t in zip(owners, stamps))
"""

READY = """
import asyncio, sys
__stage__("import")
from exsdk.broker import Broker
from exsdk.journal import Journal
from exsdk.registry import get_adapter

async def main() -> None:
    __stage__("get_adapter")
    adapter = get_adapter("binance-futures", venue="testnet", markets_cache=sys.argv[1])

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the markets cache was not used")

    adapter.exchange.fetch = no_network
    __stage__("journal_open")
    journal = Journal.open(sys.argv[2])
    __stage__("Broker()")
    broker = Broker(adapter, "preprod", journal)
    __stage__("load_markets")
    markets = await adapter.load_markets()
    assert markets and broker.adapter is adapter
    __stage__("ready")

asyncio.run(main())
"""

RAW = """
import asyncio, json, sys
__stage__("import")
import ccxt.async_support as ccxt

async def main() -> None:
    __stage__("get_adapter")
    exchange = ccxt.binanceusdm()
    exchange.set_sandbox_mode(True)

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the cached markets were not used")

    exchange.fetch = no_network
    __stage__("load_markets")
    with open(sys.argv[1], encoding="utf-8") as fh:
        exchange.set_markets(json.load(fh)["markets"])
    markets = await exchange.load_markets()
    assert markets
    __stage__("ready")

asyncio.run(main())
"""

PYDANTIC = {
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "zoneinfo",
    "_zoneinfo",
    "fractions",
    "secrets",
    "sysconfig",
    "_sysconfigdata__linux_x86_64-linux-gnu",
}

CATEGORIES = (
    ("pydantic's import (and what it loads)", lambda o: _top(o) in PYDANTIC),
    ("pydantic model classes created", lambda o: o == "pyd-class"),
    ("pydantic schemas completed (deferred, at first use)", lambda o: o == "pyd-schema"),
    ("attrs classes: compile() of generated methods", lambda o: o == "attrs-compile"),
    ("attrs classes: the rest of build_class", lambda o: o == "attrs-build"),
    ("exsdk module bodies (enums, regexes, attrs field collection)", lambda o: _top(o) == "exsdk"),
    ("sqlite3 and the attrs namespace", lambda o: _top(o) in {"sqlite3", "_sqlite3", "attrs"}),
    ("garbage collection", lambda o: o == "gc"),
    ("interpreter exit", lambda o: o == "stage:teardown"),
    ("journal open", lambda o: o == "stage:journal_open"),
    ("adapter / exchange built", lambda o: o == "stage:get_adapter"),
    ("Broker()", lambda o: o == "stage:Broker()"),
    ("markets loaded from the cache", lambda o: o == "stage:load_markets"),
)


def _top(owner: str) -> str:
    return owner[4:].split(".")[0] if owner.startswith("mod:") else ""


def _wall_owners(path: Path) -> collections.Counter[str]:
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines()]
    out: collections.Counter[str] = collections.Counter()
    for (owner, t), (_, before) in zip(rows[1:], rows[:-1], strict=False):
        out[owner] += (int(t) - int(before)) / 1e6
    return out


def _callgrind_owners(folder: Path) -> collections.Counter[str]:
    owners = (folder / "owners").read_text().split("\n")
    out: collections.Counter[str] = collections.Counter()
    for dump in folder.glob("cg*"):
        suffix = dump.name.rsplit(".", 1)[-1]
        n = int(suffix) if suffix.isdigit() else len(owners) + 1
        found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        out[owners[n - 1] if n <= len(owners) else "stage:teardown"] += (
            int(found.group(1)) / 1e6 if found else 0.0
        )
    return out


def _run(script: Path, args: list[str], out: Path, instructions: bool) -> None:
    cmd = [sys.executable, "-c", WRAPPER, str(out), str(script), *args]
    env = {**os.environ, "BREAKDOWN_MODE": "instructions" if instructions else "wall"}
    if instructions:
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise SystemExit("--instructions needs valgrind")
        # The dumps go to a folder of their own: in the script's folder (sys.path[0]) every
        # new file would make the import system list that folder again on the next import.
        out.mkdir()
        cmd = [
            valgrind,
            "--tool=callgrind",
            "--dump-before=os_getppid",
            "--dump-instr=no",
            f"--callgrind-out-file={out / 'cg'}",
            *cmd[:3],
            str(out / "owners"),
            *cmd[4:],
        ]
        env["PYTHONHASHSEED"] = "0"
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=instructions)


def _table(ready: dict[str, float], raw: dict[str, float], unit: str) -> list[str]:
    lines = [f"{'part':62s} {'ready':>9s} {'raw':>9s} {'beyond':>9s}  ({unit})"]
    seen: set[str] = set()
    for name, test in CATEGORIES:
        keys = {k for k in {*ready, *raw} if test(k)} - seen
        seen |= keys
        a, b = sum(ready.get(k, 0.0) for k in keys), sum(raw.get(k, 0.0) for k in keys)
        lines.append(f"{name:62s} {a:9.1f} {b:9.1f} {a - b:9.1f}")
    rest = {*ready, *raw} - seen
    a, b = sum(ready.get(k, 0.0) for k in rest), sum(raw.get(k, 0.0) for k in rest)
    lines.append(
        f"{'the rest (ccxt, aiohttp, stdlib: the same modules)':62s} {a:9.1f} {b:9.1f} {a - b:9.1f}"
    )
    a, b = sum(ready.values()), sum(raw.values())
    lines.append(f"{'whole process':62s} {a:9.1f} {b:9.1f} {a - b:9.1f}  ({a / b:.3f}x)")
    exsdk = sorted(((v, k) for k, v in ready.items() if _top(k) == "exsdk"), reverse=True)
    lines.append(
        "largest exsdk module bodies: " + ", ".join(f"{k[4:]} {v:.1f}" for v, k in exsdk[:12])
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="wall runs of each script")
    args = parser.parse_args()
    _compile_bytecode()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-", dir=ROOT) as tmp:
        folder = Path(tmp)
        cache = folder / "markets.json"
        asyncio.run(_write_cache(cache))
        journal = str(folder / "journal.sqlite")
        scripts = {"ready": (READY, [str(cache), journal]), "raw": (RAW, [str(cache)])}
        for name, (text, _) in scripts.items():
            (folder / f"{name}.py").write_text(text, encoding="utf-8")
        # One run first: the journal exists afterwards, as for a broker started again.
        _run(folder / "ready.py", scripts["ready"][1], folder / "warm", False)
        results: dict[str, dict[str, float]] = {}
        if args.instructions:
            for name, (_, argv) in scripts.items():
                out = folder / f"cg-{name}"
                _run(folder / f"{name}.py", argv, out, True)
                results[name] = dict(_callgrind_owners(out))
            unit = "M instructions, one run each"
        else:
            runs: dict[str, list[collections.Counter[str]]] = {k: [] for k in scripts}
            for i in range(args.repeat):
                for name, (_, argv) in scripts.items():
                    out = folder / f"wall-{name}-{i}"
                    _run(folder / f"{name}.py", argv, out, False)
                    runs[name].append(_wall_owners(out))
            for name, counters in runs.items():
                keys = set().union(*counters)
                results[name] = {
                    k: statistics.median(c.get(k, 0.0) for c in counters) for k in keys
                }
            unit = f"ms, medians of {args.repeat} interleaved runs, per part"
    print(f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print("\n".join(_table(results["ready"], results["raw"], unit)))


if __name__ == "__main__":
    main()
