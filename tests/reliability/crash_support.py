"""Processes for the crash and CLI tests: a simulator that outlives its clients, ``exsdk``
commands run as child processes, their event lines, and a blocking admin view.

Every process listens or connects on 127.0.0.1 only. The simulator is driven through
:class:`exsdk.simulator.admin_client.AdminClient`, wrapped so that plain (non-async) tests can
call it while a child process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from exsdk.simulator.admin_client import AdminClient

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ORDERS = ROOT / "examples" / "default_orders.txt"


def child_env() -> dict[str, str]:
    """The environment of the child processes: no keys, no event setting of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXSDK_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "160"
    # The child imports sdk from the checkout even where the package is not installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def exsdk_command(*args: str) -> list[str]:
    """``exsdk ARGS`` through the interpreter running the tests (the same ``main()``)."""
    return [sys.executable, "-m", "exsdk.app.cli", *args]


class Admin:
    """Blocking calls to the admin API of a simulator process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _run(self, op: Callable[[AdminClient], Any]) -> Any:
        async def go() -> Any:
            async with AdminClient(self.base_url) as client:
                return await op(client)

        return asyncio.run(go())

    def inject_fault(self, kind: str, method: str, path: str, **kwargs: Any) -> None:
        self._run(lambda c: c.inject_fault(kind, method, path, **kwargs))

    def clear_faults(self) -> None:
        self._run(lambda c: c.clear_faults())

    def clear_request_log(self) -> None:
        self._run(lambda c: c.clear_request_log())

    def request_log(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._run(lambda c: c.request_log())
        return result

    def orders(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._run(lambda c: c.orders())
        return result

    def trades(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._run(lambda c: c.trades())
        return result

    def wait_until(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Poll the request log until ``predicate(log)`` holds; the log."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.request_log()
            if predicate(log):
                return log
            if time.monotonic() > deadline:
                raise AssertionError(f"venue never saw the awaited request: {log[-5:]}")
            time.sleep(0.01)


class SimulatorProcess:
    """``python -m exsdk.simulator --port 0 --seed 7``: it survives the clients killed under it."""

    def __init__(self, *, seed: int = 7, tick_seconds: float | None = None) -> None:
        args = [sys.executable, "-m", "simulator", "--port", "0", "--seed", str(seed)]
        if tick_seconds is not None:
            args += ["--tick-seconds", str(tick_seconds)]
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        prefix = "simulator listening on "
        if not line.startswith(prefix):
            self.stop()
            raise AssertionError(f"simulator did not start: {line!r}")
        self.base_url = line.removeprefix(prefix)
        self.admin = Admin(self.base_url)
        # As a SimulatedBinance has it, for rel_support's checks.
        self.venue_view = SimpleNamespace(admin=self.admin)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def simulator_process(**kwargs: Any) -> Iterator[SimulatorProcess]:
    """A simulator process for the duration of the block."""
    sim = SimulatorProcess(**kwargs)
    try:
        yield sim
    finally:
        sim.stop()


class ExsdkProcess:
    """``exsdk ARGS`` in a child process; its ``--events jsonl`` lines read as they come."""

    def __init__(self, args: Sequence[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            exsdk_command(*args),
            cwd=cwd,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith('{"event"'):
                self.events.put(json.loads(line))
        self.events.put(None)

    def wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0
    ) -> dict[str, Any]:
        """The first (not yet consumed) event matching ``predicate``.

        The timeout only bounds a hang: a child process on a loaded machine (both cores
        busy under pytest-xdist, other runs beside it) took over 20 s to its first event.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(0.0, left))
            except queue.Empty:
                raise AssertionError(f"no such event in time; saw {self.seen}") from None
            if event is None:
                self.events.put(None)
                raise AssertionError(f"exsdk exited first: {self.output()}")
            self.seen.append(event)
            if predicate(event):
                return event

    def kill(self) -> int:
        """SIGKILL the process: no handler, no finally, no flush runs."""
        os.kill(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(10)
        self._reader.join(10)
        return code

    def wait(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def output(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def run_exsdk(
    args: Sequence[str], cwd: Path, timeout: float = 150.0
) -> subprocess.CompletedProcess[str]:
    """``exsdk ARGS`` to its end (``timeout`` catches a hang; a resume on PostgreSQL
    at load 12 took over 60 s)."""
    return subprocess.run(
        exsdk_command(*args),
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
