"""Crashes: ``exsdk experiment`` killed with SIGKILL, then ``exsdk resume RUN``.

The simulator runs as its own process and outlives the experiment. The experiment runs a
small TWAP (two parents, three waves, the clock 20x) with ``--events jsonl``; the test
kills it at a chosen moment:

- ``intent``: on the first ``ChildIntent`` event, the intent journaled and its create
  about to leave (a latency fault on the create keeps any reply from coming back first);
- ``in_flight``: once the venue holds the first create (a latency fault shorter than
  ``recvWindow``): the venue executes it after the client died, the journal says intent;
- ``cancel``: once the venue holds a wave's first cancel (a latency fault on the cancel).

After each kill the journal passes SQLite's integrity check and opens; then ``exsdk
resume`` must finish the run, and the venue's own records must show no duplicate order
(one venue order per client order id at most), no lost fill (every venue trade of the
run journaled, each parent's OMS fill the sum of its venue trades) and nothing left open.
"""

from __future__ import annotations

import signal
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.broker import TERMINAL
from exsdk.journal import Journal
from exsdk.models import ChildStatus

from .crash_support import DEFAULT_ORDERS, ExsdkProcess, SimulatorProcess, run_exsdk
from .rel_support import (
    ADAPTERS,
    ORDER_PATH,
    RunResult,
    check_invariants,
    open_orders_left,
    venue_orders,
)

# Binance's recvWindow of the runs (ms): a lost create is waited for this long (+1 s).
# Process-heavy scenarios run on one xdist worker, one after another (with the fleet's).
pytestmark = pytest.mark.xdist_group("processes")
RECV_WINDOW_MS = "1500"
# How long the venue holds the faulted request: shorter than recvWindow, so it executes,
# and long enough that the test sees it held and kills before the reply even on a loaded
# machine (0.4 s was not: the admin poll and the kill took longer at load 9-22).
HOLD_SECONDS = 1.2
KILL_POINTS = ("intent", "in_flight", "cancel")


@pytest.fixture(scope="module")
def sim() -> Any:
    # Prices move every 0.1 s, so resting children fill partly now and then.
    process = SimulatorProcess(seed=7, tick_seconds=0.1)
    yield process
    process.stop()


def _orders(tmp_path: Path) -> Path:
    # The seed's first two orders (ETH and BTC buys over a 2-minute window).
    path = tmp_path / "orders.txt"
    path.write_text("\n".join(DEFAULT_ORDERS.read_text().splitlines()[:2]) + "\n")
    return path


def _integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def _create_of(entry: dict[str, Any], path: str) -> bool:
    return entry["method"] == "POST" and entry["path"] == path


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_then_resume(sim: SimulatorProcess, tmp_path: Path, point: str, adapter: str) -> None:
    # One simulator serves the module: each scenario has its own run (and client ids).
    run_id = f"kill{KILL_POINTS.index(point)}{adapter.removeprefix('binance-')}"
    journal_path = tmp_path / "runs" / f"{run_id}.sqlite"
    order_path = ORDER_PATH[adapter]
    admin = sim.admin
    admin.clear_faults()  # also restarts the per-path call counters
    admin.clear_request_log()
    method = "DELETE" if point == "cancel" else "POST"
    admin.inject_fault("latency", method, order_path, calls=[1], seconds=HOLD_SECONDS)

    experiment = ExsdkProcess(
        [
            "experiment",
            "--orders",
            str(_orders(tmp_path)),
            "--adapter",
            adapter,
            "--base-url",
            sim.base_url,
            "--twap-waves",
            "3",
            # Children rest at the near touch (the venue's book is one tick wide, so a
            # limit at the mid would often cross): a wave ends with a cancel to kill at.
            "--passivity",
            "1",
            "--speed",
            "20",
            "--run-id",
            run_id,
            "--journal",
            str(journal_path),
            "--recv-window-ms",
            RECV_WINDOW_MS,
            "--events",
            "jsonl",
        ],
        cwd=tmp_path,
    )
    try:
        held: str | None = None
        if point == "intent":
            event = experiment.wait_event(lambda e: e["event"] == "ChildIntent")
            code = experiment.kill()
            killed_cid = event["client_order_id"]
        elif point == "in_flight":
            experiment.wait_event(lambda e: e["event"] == "ChildIntent")
            log = admin.wait_until(lambda log: any(_create_of(r, order_path) for r in log))
            code = experiment.kill()
            first = next(r for r in log if _create_of(r, order_path))
            killed_cid = held = first["params"]["newClientOrderId"]
            # Still held by the venue: the client died before any reply could exist.
            assert held not in {o["clientOrderId"] for o in venue_orders(sim.venue_view, run_id)}
        else:
            experiment.wait_event(lambda e: e["event"] == "CancelStarted")
            admin.wait_until(
                lambda log: any(r["method"] == "DELETE" and r["path"] == order_path for r in log)
            )
            code = experiment.kill()
            killed_cid = None
        assert code == -signal.SIGKILL
    finally:
        experiment.close()

    # The journal survives every kill: intact, and it opens with the run in it.
    assert _integrity(journal_path) == "ok"
    with Journal.open(journal_path) as journal:
        assert run_id in journal.run_ids()
        at_kill = {c.client_order_id: c.status for c in journal.latest_children(run_id)}
    if killed_cid is not None:
        # No reply can have reached the journal: the latency fault holds the create.
        assert at_kill[killed_cid] == ChildStatus.INTENT, at_kill
    if point == "cancel":
        assert ChildStatus.OPEN in at_kill.values(), at_kill
    creates_before_resume = [
        r["params"].get("newClientOrderId")
        for r in admin.request_log()
        if _create_of(r, order_path)
    ]

    resumed = run_exsdk(
        [
            "resume",
            run_id,
            "--journal",
            str(journal_path),
            "--base-url",
            sim.base_url,
            "--recv-window-ms",
            RECV_WINDOW_MS,
            "--events",
            "jsonl",
        ],
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, (resumed.stdout, resumed.stderr)
    assert f"run {run_id} resumed" in resumed.stdout
    assert "Traceback" not in resumed.stderr, resumed.stderr

    assert _integrity(journal_path) == "ok"
    with Journal.open(journal_path) as journal:
        children = {c.client_order_id: c for c in journal.latest_children(run_id)}
        assert all(c.status in TERMINAL for c in children.values()), children
        fills: dict[int, Decimal] = {}
        for parent, quantity in zip(
            journal.fills(run_id)["parent_order_id"], journal.fills(run_id)["quantity"], strict=True
        ):
            fills[int(parent)] = fills.get(int(parent), Decimal(0)) + Decimal(quantity)
        events = set(journal.run_events(run_id)["event"])
        assert {"resumed", "finished"} <= events
        result = RunResult(run_id, True, None, 0, 0, fills)
        assert check_invariants(sim.venue_view, journal, result) == []
    assert open_orders_left(sim.venue_view, run_id) == 0
    on_venue = {o["clientOrderId"]: o for o in venue_orders(sim.venue_view, run_id)}
    # Every child the journal says reached the venue is there, and nothing else is.
    sent = {cid for cid, c in children.items() if c.ccxt_order_id is not None}
    assert sent == set(on_venue), (sent, set(on_venue))

    resume_events = [line for line in resumed.stdout.splitlines() if line.startswith('{"event"')]
    print(
        f"\n{point}/{adapter}: at kill {sorted((k, str(v)) for k, v in at_kill.items())}; "
        f"creates on the venue before resume {creates_before_resume}; resume: "
        f"{sum('ChildAdopted' in e for e in resume_events)} adopted, "
        f"{sum('ChildRejected' in e for e in resume_events)} rejected, "
        f"{sum('WaveSkipped' in e for e in resume_events)} waves skipped, "
        f"{sum('WaveStarted' in e for e in resume_events)} waves run, "
        f"{sum('CancelStarted' in e for e in resume_events)} cancels; venue orders "
        f"{sorted((c, o['status'], o['executedQty']) for c, o in on_venue.items())}; "
        f"fills {fills}"
    )
    if held is not None:
        # Executed by the venue after the client died; the resume adopted it, not resent it.
        assert held in on_venue and children[held].ccxt_order_id == str(on_venue[held]["orderId"])
    if point == "intent":
        # The kill races the sends that follow the first intent: in practice the first
        # child's create is out (held by the venue) and the second child's intent is
        # journaled but never sent. Either way one child is at most one venue order:
        # adopted when its create got out before the kill, recorded as never sent when not.
        creates = [r["params"].get("newClientOrderId") for r in admin.request_log()]
        for cid, status in at_kill.items():
            if status != ChildStatus.INTENT:
                continue
            if cid in creates:
                assert cid in on_venue and children[cid].ccxt_order_id is not None
            else:
                assert children[cid].status == ChildStatus.REJECTED and cid not in on_venue


def test_event_lines_and_the_run_clock(tmp_path: Path) -> None:
    """The two pieces a resume of an accelerated run and a kill at an event stand on."""
    import io
    import json
    from datetime import UTC, datetime, timedelta

    from exsdk.app.experiment import CLOCK_EVENT, EventLines, clock_for_run
    from exsdk.broker import AcceleratedClock, CancelStarted, ChildIntent, WallClock
    from exsdk.models import ChildOrder

    child = ChildOrder(
        parent_order_id=1,
        asset_id=1,
        wave=2,
        client_order_id="xabc-1-2",
        symbol="ETH/USDT:USDT",
        side="buy",
        order_type="limit",
        amount=Decimal("0.01"),
        created_at=datetime.now(UTC),
    )
    out = io.StringIO()
    lines = EventLines(out)
    lines.observe(ChildIntent(child, 2))
    lines.observe(CancelStarted(child))
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "ChildIntent" and first["attempt"] == 2
    assert first["client_order_id"] == "xabc-1-2" and first["wave"] == 2
    assert second["event"] == "CancelStarted" and second["status"] == "intent"

    with Journal.open(tmp_path / "j.sqlite") as journal:
        assert isinstance(clock_for_run(journal, "none"), WallClock)
        wall_origin = datetime.now(UTC) - timedelta(seconds=2)
        clock_origin = datetime(2030, 1, 1, tzinfo=UTC)
        journal.record_run_event(
            "fast",
            CLOCK_EVENT,
            {"speed": 20.0, "wall_origin": wall_origin, "clock_origin": clock_origin},
        )
        clock = clock_for_run(journal, "fast")
    # Two wall seconds after the run's start, its clock is 40 s past its origin.
    assert isinstance(clock, AcceleratedClock) and clock.speed == 20.0
    assert abs((clock.now() - clock_origin).total_seconds() - 40) < 2


# -- issue 13: resumed twice, concurrent resumes, two experiments with one run id ----------


def _experiment_args(
    tmp_path: Path, sim: SimulatorProcess, run_id: str, journal: Path
) -> list[str]:
    return [
        "experiment",
        "--orders",
        str(_orders(tmp_path)),
        "--adapter",
        "binance-futures",
        "--base-url",
        sim.base_url,
        "--twap-waves",
        "3",
        "--speed",
        "20",
        "--passivity",
        "0",  # crossing: children fill, so there are trades and fills to report
        "--run-id",
        run_id,
        "--journal",
        str(journal),
        "--recv-window-ms",
        RECV_WINDOW_MS,
        "--events",
        "jsonl",
    ]


def _resume_args(sim: SimulatorProcess, run_id: str, journal: Path) -> list[str]:
    return [
        "resume",
        run_id,
        "--journal",
        str(journal),
        "--base-url",
        sim.base_url,
        "--recv-window-ms",
        RECV_WINDOW_MS,
    ]


def _journal_fills(journal: Journal, run_id: str) -> dict[int, Decimal]:
    fills: dict[int, Decimal] = {}
    frame = journal.fills(run_id)
    for parent, quantity in zip(frame["parent_order_id"], frame["quantity"], strict=True):
        fills[int(parent)] = fills.get(int(parent), Decimal(0)) + Decimal(quantity)
    return fills


def _judge(sim: SimulatorProcess, journal_path: Path, run_id: str) -> None:
    with Journal.open(journal_path) as journal:
        result = RunResult(run_id, True, None, 0, 0, _journal_fills(journal, run_id))
        assert check_invariants(sim.venue_view, journal, result) == []
    assert open_orders_left(sim.venue_view, run_id) == 0


def _kill_after_a_fill(tmp_path: Path, sim: SimulatorProcess, run_id: str, path: Path) -> None:
    sim.admin.clear_faults()
    experiment = ExsdkProcess(_experiment_args(tmp_path, sim, run_id, path), cwd=tmp_path)
    try:
        # ChildFilled comes once the child's trades are in the journal.
        experiment.wait_event(lambda e: e["event"] == "ChildFilled")
        assert experiment.kill() == -signal.SIGKILL
    finally:
        experiment.close()
    with Journal.open(path) as journal:
        assert len(journal.trades(run_id)) > 0


def test_kill_after_fills_then_resume_twice(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_id, path = "twice1", tmp_path / "twice1.sqlite"
    _kill_after_a_fill(tmp_path, sim, run_id, path)
    for _ in range(2):
        resumed = run_exsdk(_resume_args(sim, run_id, path), cwd=tmp_path)
        assert resumed.returncode == 0, (resumed.stdout, resumed.stderr)
        # Each resume reports only what was not reported: the journal's fills stay
        # equal to the venue's trades, never a multiple of them.
        _judge(sim, path, run_id)


def race_two_resumes(sim: SimulatorProcess, tmp_path: Path, run_id: str, path: Path | str) -> str:
    """Kill a run after a fill, start two resumes of it at once; the loser's stderr.

    Exactly one must finish the run (exit 0) and the other refuse (exit 2)."""
    _kill_after_a_fill(tmp_path, sim, run_id, path)  # type: ignore[arg-type]
    # The first request a resume makes inside its lease is exchangeInfo: held by the venue
    # for 5 s, the lease is surely held while the other resume starts (no race on timing).
    sim.admin.clear_faults()
    sim.admin.inject_fault("latency", "GET", "/fapi/v1/exchangeInfo", calls=[1], seconds=5)
    args = _resume_args(sim, run_id, path)  # type: ignore[arg-type]
    procs = [ExsdkProcess(args, cwd=tmp_path) for _ in range(2)]
    try:
        codes = [p.wait(180) for p in procs]
        errors = [p.stderr() for p in procs]
    finally:
        for p in procs:
            p.close()
    assert sorted(codes) == [0, 2], (codes, errors)
    return errors[codes.index(2)].strip()


def test_two_concurrent_resumes(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_id, path = "conc1", tmp_path / "conc1.sqlite"
    refused = race_two_resumes(sim, tmp_path, run_id, path)
    assert len(refused.splitlines()) == 1 and "already being driven by pid" in refused
    _judge(sim, path, run_id)


def test_two_experiments_with_one_run_id(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_id, path = "same1", tmp_path / "same1.sqlite"
    sim.admin.clear_faults()
    args = _experiment_args(tmp_path, sim, run_id, path)
    procs = [ExsdkProcess(args, cwd=tmp_path) for _ in range(2)]
    try:
        codes = [p.wait(120) for p in procs]
        errors = [p.stderr() for p in procs]
    finally:
        for p in procs:
            p.close()
    assert sorted(codes) == [0, 2], (codes, errors)
    refused = errors[codes.index(2)].strip()
    assert len(refused.splitlines()) == 1, refused
    assert "already being driven by pid" in refused or "already in journal" in refused
    _judge(sim, path, run_id)
