"""End to end on the bundled simulator: experiment, journal, final table, HTML report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app
from exsdk.journal import Journal

from .conftest import DEFAULT_ORDERS


@pytest.mark.parametrize(
    "adapter", ["binance-futures", "binance-spot", "bybit-linear", "bybit-spot"]
)
def test_experiment_then_report(
    runner: CliRunner, tmp_path: Path, adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three of the seed's orders (a sell among them), two waves, a fast clock.
    orders = tmp_path / "orders.txt"
    lines = DEFAULT_ORDERS.read_text().splitlines()
    orders.write_text("\n".join([lines[0], lines[1], lines[4]]) + "\n")
    journal_path = tmp_path / "runs" / "e2e.sqlite"
    run_id = "e2e" + adapter.replace("-", "")[:9]
    result = runner.invoke(
        app,
        [
            "experiment",
            "--orders",
            str(orders),
            "--adapter",
            adapter,
            "--twap-waves",
            "2",
            # 20x: the 2-minute window lasts 6 s (at 60x its 2 s left a loaded machine's
            # waves past their deadline, skipped, and the run without a trade).
            "--speed",
            "20",
            "--journal",
            str(journal_path),
            "--run-id",
            run_id,
            # Bybit at the far touch: its limit children cross at once, so a trade is
            # there however few price moves a loaded machine lets the window see.
            *(["--passivity", "0"] if adapter.startswith("bybit") else []),
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = result.stdout
    assert "Orders re-based" in out and "durations kept" in out
    assert "Clock accelerated 20x" in out
    assert f"OMS fills of run {run_id}" in out
    assert re.search(r"\bETH\s+0\.121", out)
    # The console wraps a long path (a pytest-xdist worker's tmp_path is one folder deeper).
    assert str(journal_path) in out.replace("\n", "") and run_id in out
    with Journal.open(journal_path) as journal:
        assert journal.run_ids() == [run_id]
        assert len(journal.parents(run_id)) == 3
        assert len(journal.children(run_id)) >= 3
        assert len(journal.trades(run_id)) >= 1
    html_path = tmp_path / "report.html"
    report = runner.invoke(
        app, ["report", run_id, "--journal", str(journal_path), "--out", str(html_path)]
    )
    assert report.exit_code == 0, (report.stdout, report.stderr)
    assert str(html_path) in report.stdout.replace("\n", "")
    assert f"Execution quality of run {run_id}" in report.stdout
    text = html_path.read_text()
    assert text.count("data:image/svg+xml;base64,") == 3
    assert "Prices, child orders and fills per asset" in text


def test_random_orders(runner: CliRunner, tmp_path: Path) -> None:
    journal_path = tmp_path / "rnd.sqlite"
    result = runner.invoke(
        app,
        [
            "experiment",
            "--random",
            "2",
            "--seed",
            "5",
            "--twap-waves",
            "2",
            "--speed",
            "120",
            "--journal",
            str(journal_path),
            "--run-id",
            "rnd",
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "2 random orders (seed 5)" in result.stdout
    with Journal.open(journal_path) as journal:
        parents = journal.parents("rnd")
    assert len(parents) == 2 and parents["symbol"].nunique() == 2


def test_bybit_price_band_rejection_is_recorded_not_retried(
    runner: CliRunner, tmp_path: Path
) -> None:
    # Market orders for ETH, HNT and BTC on bybit-linear: HNTUSDT's book is thin (best
    # prices 25% from the mark, outside its band), so Bybit answers 110003 for it alone.
    line = DEFAULT_ORDERS.read_text().splitlines()[0].replace("price@twap", "market")
    assets = [("1464553467", "0.05"), ("1331434822", "10"), ("1467591036", "0.002")]
    rows = [
        line.replace("order_id=0", f"order_id={i}")
        .replace("asset_id=1464553467", f"asset_id={asset}")
        .replace("diff_num_shares=0.121", f"diff_num_shares={qty}")
        for i, (asset, qty) in enumerate(assets)
    ]
    orders = tmp_path / "band.txt"
    orders.write_text("\n".join(rows) + "\n")
    journal_path = tmp_path / "band.sqlite"
    result = runner.invoke(
        app,
        [
            "experiment",
            "--orders",
            str(orders),
            "--adapter",
            "bybit-linear",
            "--speed",
            "60",
            "--journal",
            str(journal_path),
            "--run-id",
            "band",
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "110003" in result.stdout
    with Journal.open(journal_path) as journal:
        children = journal.children("band").set_index("parent_order_id")
        assert len(children) == 3  # one child each: the refused one was not resent
        assert children.loc[1, "status"] == "rejected"
        assert "110003" in children.loc[1, "reason"]
        assert children.loc[0, "status"] == children.loc[2, "status"] == "closed"
        assert list(journal.errors("band")["error_class"]) == ["LiquidityRejected"]
