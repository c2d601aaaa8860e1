"""The operator's output explains its own figures (issue 17).

One experiment on the bundled simulator (three of the seed's orders, a sell among them,
two waves) and its journal are the material: the environment line comes first, every fill
rate column has one definition named in its header and in the legend (the same in the CLI
and the HTML), totals are the weighted sums of their rows, wave counts are disjoint and
agree between the live table and the journal, no ``-0.0%`` appears, and resuming the
finished run does nothing: no venue contact, the journal byte for byte the same.
"""

from __future__ import annotations

import gc
import hashlib
import html
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app
from exsdk.app.outcomes import (
    FILLED_OF_ASKED,
    FILLED_OF_SENT,
    OUTCOMES,
    RATE_LEGEND,
    WAVE_LEGEND,
    child_outcome,
    percent,
)
from exsdk.app.quality import ExecutionQuality, execution_quality
from exsdk.journal import Journal

from .conftest import DEFAULT_ORDERS

RUN = "outrules"


@dataclass
class Run:
    stdout: str
    journal: Path
    html: str
    report_stdout: str
    quality: ExecutionQuality


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("outrules")
    lines = DEFAULT_ORDERS.read_text().splitlines()
    orders = tmp / "orders.txt"
    orders.write_text("\n".join([lines[0], lines[1], lines[4]]) + "\n")
    journal = tmp / "runs" / f"{RUN}.sqlite"
    runner = CliRunner()
    args = ["--orders", str(orders), "--twap-waves", "2", "--speed", "60"]
    result = runner.invoke(
        app,
        ["experiment", *args, "--journal", str(journal), "--run-id", RUN],
        env={"COLUMNS": "120"},
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = tmp / "report.html"
    report = runner.invoke(app, ["report", RUN, "--journal", str(journal), "--out", str(out)])
    assert report.exit_code == 0, (report.stdout, report.stderr)
    assert gc.isenabled()  # paused for the report's work only (cli._NoCycleCollector)
    with Journal.open(journal) as j:
        quality = execution_quality(j, RUN)
    return Run(result.stdout, journal, out.read_text(), report.stdout, quality)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_environment_comes_first(run: Run) -> None:
    first = _flat(run.stdout.split("Bundled venue started")[0])
    assert first.startswith(
        "Environment local on venue sim (binance-futures): every child is forced to the "
        "venue's minimal order"
    ), first
    # `report` says it too, from the journal alone, and so does the HTML.
    assert _flat(run.report_stdout).startswith("Environment local (binance-futures): every")
    assert "Environment local (binance-futures): every child is forced" in html.unescape(run.html)


def test_each_rate_column_is_defined_once_and_the_same_everywhere(run: Run) -> None:
    legend = _flat(RATE_LEGEND)
    for text in (run.stdout, run.report_stdout):
        assert legend in _flat(text)
        assert FILLED_OF_ASKED in text and FILLED_OF_SENT in text
        # The three meanings "fill rate" used to have are gone.
        assert "fill rate" not in text
    page = html.unescape(run.html)
    assert legend in _flat(page)
    assert f"<th>{FILLED_OF_ASKED}</th>" in run.html and f"<th>{FILLED_OF_SENT}</th>" in run.html
    assert "fill rate" not in page


def test_sent_is_shown_beside_the_ask(run: Run) -> None:
    header = next(line for line in run.stdout.splitlines() if " asset " in line)
    assert re.search(r"asked\s+sent\s+filled", header), header
    parents = run.quality.parents
    for r in parents.to_dict("records"):
        # local forces every child to the minimal order: what was sent is not the ask.
        assert r["sent"] != r["asked"]
        assert (r["sent"] > 0) == (r["asked"] > 0)


def test_totals_are_weighted_sums_of_their_rows(run: Run) -> None:
    rows = run.quality.parents.to_dict("records")
    total = run.quality.total.iloc[0]
    for rate, base in (("filled_of_asked", "asked"), ("filled_of_sent", "sent")):
        weights = [abs(r[base]) * r["arrival_mid"] for r in rows]
        expected = sum((r[rate] * w for r, w in zip(rows, weights, strict=True)), Decimal(0)) / sum(
            weights, Decimal(0)
        )
        # The rows are shown to 4 places; the total is computed from the exact rates.
        assert abs(total[rate] - expected) <= Decimal("0.0002"), (rate, total[rate], expected)
    # The wave table's filled/sent, summed over waves, is the parents' total filled/sent.
    waves = run.quality.waves
    over_waves = sum(waves["filled_notional"], Decimal(0)) / sum(waves["sent_notional"], Decimal(0))
    assert abs(over_waves - total["filled_of_sent"]) <= Decimal("0.0002")


def test_wave_counts_are_disjoint_and_agree_with_the_live_table(run: Run) -> None:
    with Journal.open(run.journal) as j:
        children = j.latest_children(RUN)
    waves = run.quality.waves.to_dict("records")
    for w in waves:
        kids = [c for c in children if c.wave == w["wave"]]
        counts = {o: w[o.replace(" ", "_")] for o in OUTCOMES}
        assert sum(counts.values()) == len(kids), (w, kids)
        assert (
            w["sent"] == counts["filled"] + counts["partly"] + counts["unfilled"] + counts["open"]
        )
        assert w["sent"] >= counts["filled"]
        for outcome in OUTCOMES:
            assert counts[outcome] == sum(1 for c in kids if child_outcome(c) == outcome)
    # The live table printed during the run shows the same rows.
    live = {}
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 2 + len(OUTCOMES) and cells[0].isdigit():
            live[int(cells[0])] = [int(c) for c in cells[1:]]
    assert live == {
        w["wave"]: [w["sent"], *(w[o.replace(" ", "_")] for o in OUTCOMES)] for w in waves
    }
    assert _flat(WAVE_LEGEND) in _flat(run.stdout)
    assert html.escape(WAVE_LEGEND) in run.html


def test_progress_shows_elapsed_and_eta(run: Run) -> None:
    assert re.search(r"waves of 2 - elapsed \d+\.\d s, ETA \d+\.\d s", run.stdout), run.stdout


def test_no_negative_zero_and_the_currency_is_named(run: Run) -> None:
    for text in (run.stdout, run.report_stdout, run.html):
        assert "-0.0%" not in text and "-0.0 %" not in text
    assert "USDT</div>" in run.html and " quote</div>" not in run.html
    assert "fees USDT" in run.stdout
    assert percent(Decimal("-0")) == "0.0%"
    assert percent(Decimal("-0.00001")) == "0.0%"
    assert percent(Decimal("-0.5")) == "-50.0%"
    assert percent(None) == "-"


def test_resume_of_a_finished_run_does_nothing(run: Run, nothing_sent: list[str]) -> None:
    def digest() -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.journal.parent.iterdir())
        }

    before = digest()
    # No --base-url: a finished run needs no venue at all.
    result = CliRunner().invoke(app, ["resume", RUN, "--journal", str(run.journal)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    with Journal.open(run.journal) as j:
        count = len(j.latest_children(RUN))
    expected = f"run {RUN} finished already ({count} children final): nothing to do"
    assert _flat(result.stdout) == expected
    assert result.stderr == ""
    assert digest() == before


_ONCE_SCRIPT = """
import logging, sys
from decimal import Decimal
from rich.console import Console
from exsdk.app.experiment import ProgressDisplay
from exsdk.broker import ChildRejected
from exsdk.models import ChildOrder, ChildStatus

child = ChildOrder(parent_order_id=2, asset_id=0, wave=0, client_order_id="xrun-2-0",
    symbol="EOS/USDT:USDT", side="buy", order_type="limit", amount=Decimal(1),
    status=ChildStatus.REJECTED, reason="Market is closed.")
log = logging.getLogger("exsdk.broker.submission")
with ProgressDisplay(Console(width=100), title="run x") as display:
    # What the broker does for a rejection: log it, and emit the event.
    log.warning("%s rejected: %s", child.client_order_id, child.reason)
    display.observe(ChildRejected(child, "Market is closed."))
# Outside a display the broker's records reach Python's last-resort handler again.
log.warning("after the display")
"""


def test_broker_warnings_are_printed_once() -> None:
    """A rejection is one line above the live table, not also a last-resort log line.

    In a child process: pytest's own log handlers would hide the last-resort handler.
    """
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _ONCE_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Market is closed.") == 1, done.stdout
    assert done.stderr.strip() == "after the display", done.stderr
