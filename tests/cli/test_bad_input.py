"""Bad input: one line on stderr naming what and where, exit code 2, nothing sent."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app

from .conftest import DEFAULT_ORDERS


def bad(runner: CliRunner, args: list[str], env: dict[str, str] | None = None) -> str:
    """Run ``exsdk args``; assert exit 2 and exactly one ``error:`` line; return it."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert result.stdout == "", result.stdout
    return lines[0]


def test_missing_orders_file(runner: CliRunner, nothing_sent: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    line = bad(runner, ["experiment", "--orders", str(missing)])
    assert str(missing) in line and "No such file" in line


def test_malformed_line_names_file_line_and_field(
    runner: CliRunner, nothing_sent: list[str], tmp_path: Path
) -> None:
    text = DEFAULT_ORDERS.read_text().splitlines()
    text[2] = text[2].replace("diff_num_shares=169.063", "diff_num_shares=lots")
    path = tmp_path / "orders.txt"
    path.write_text("\n".join(text) + "\n")
    line = bad(runner, ["experiment", "--orders", str(path)])
    assert f"{path}:line 3" in line and "diff_num_shares" in line


def test_unknown_asset_names_the_order(
    runner: CliRunner, nothing_sent: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "orders.txt"
    path.write_text(DEFAULT_ORDERS.read_text().replace("asset_id=1464553467", "asset_id=42", 1))
    line = bad(runner, ["experiment", "--orders", str(path)])
    assert "order 0" in line and "unknown asset id 42" in line


def test_unknown_adapter(runner: CliRunner, nothing_sent: list[str]) -> None:
    line = bad(runner, ["experiment", "--orders", str(DEFAULT_ORDERS), "--adapter", "kraken-x"])
    assert "kraken-x" in line and "binance-futures" in line


def test_unknown_venue(runner: CliRunner, nothing_sent: list[str]) -> None:
    line = bad(runner, ["experiment", "--orders", str(DEFAULT_ORDERS), "--venue", "moon"])
    assert "unknown venue 'moon'" in line and "sim|testnet|demo|live" in line


def test_unknown_environment(runner: CliRunner, nothing_sent: list[str]) -> None:
    line = bad(runner, ["experiment", "--orders", str(DEFAULT_ORDERS), "--env", "staging"])
    assert "unknown environment 'staging'" in line


def test_live_without_allow_live(runner: CliRunner, nothing_sent: list[str]) -> None:
    line = bad(runner, ["experiment", "--orders", str(DEFAULT_ORDERS), "--venue", "live"])
    assert "--allow-live" in line


def test_live_outside_prod(runner: CliRunner, nothing_sent: list[str]) -> None:
    args = ["experiment", "--orders", str(DEFAULT_ORDERS), "--venue", "live", "--allow-live"]
    line = bad(runner, [*args, "--env", "local"])
    assert "--env prod" in line


def test_live_without_keys(
    runner: CliRunner, nothing_sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXSDK_LIVE_API_KEY", raising=False)
    monkeypatch.delenv("EXSDK_LIVE_SECRET", raising=False)
    args = ["experiment", "--orders", str(DEFAULT_ORDERS), "--venue", "live", "--allow-live"]
    line = bad(runner, args)
    assert "EXSDK_LIVE_API_KEY" in line


def test_testnet_secrets_file_open_to_others(
    runner: CliRunner, nothing_sent: list[str], tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[testnet]\napi_key = "k"\nsecret = "s"\n')
    os.chmod(secrets, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)
    args = ["experiment", "--orders", str(DEFAULT_ORDERS), "--venue", "testnet"]
    line = bad(runner, [*args, "--secrets-file", str(secrets)])
    assert "chmod 600" in line


def test_orders_and_random_together(runner: CliRunner, nothing_sent: list[str]) -> None:
    line = bad(runner, ["experiment", "--orders", str(DEFAULT_ORDERS), "--random", "3"])
    assert "not both" in line


def test_neither_orders_nor_random(runner: CliRunner, nothing_sent: list[str]) -> None:
    assert "--orders" in bad(runner, ["experiment"])


def test_bad_passivity(runner: CliRunner, nothing_sent: list[str]) -> None:
    args = ["experiment", "--orders", str(DEFAULT_ORDERS), "--passivity", "1.5"]
    assert "--passivity" in bad(runner, args)


def test_report_of_unknown_run(runner: CliRunner, tmp_path: Path) -> None:
    from exsdk.journal import Journal

    path = tmp_path / "j.sqlite"
    with Journal.open(path) as journal:
        journal.record_run("abc", adapter="a", exchange="binance", environment="local", params={})
    line = bad(runner, ["report", "zzz", "--journal", str(path)])
    assert "no run 'zzz'" in line and str(path) in line and "abc" in line


def test_a_failed_report_leaves_the_cycle_collector_as_it_was(
    runner: CliRunner, tmp_path: Path
) -> None:
    # `exsdk report` pauses the collector for its work (cli._NoCycleCollector); run in a
    # process of tests, it must hand it back as it found it, on the error path too.
    import gc

    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            bad(runner, ["report", "abc", "--journal", str(tmp_path / "none.sqlite")])
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_report_without_journal(runner: CliRunner, tmp_path: Path) -> None:
    line = bad(runner, ["report", "abc", "--journal", str(tmp_path / "none.sqlite")])
    assert "no journal" in line


def test_report_of_a_journal_newer_than_the_sdk(runner: CliRunner, tmp_path: Path) -> None:
    import sqlite3

    from exsdk.journal import SCHEMA_VERSION, Journal

    path = tmp_path / "j.sqlite"
    with Journal.open(path) as journal:
        journal.record_run("abc", adapter="a", exchange="binance", environment="local", params={})
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    line = bad(runner, ["report", "abc", "--journal", str(path)])
    assert f"schema version {SCHEMA_VERSION + 1}" in line and str(path) in line


def test_report_bad_run_id(runner: CliRunner) -> None:
    assert "run id" in bad(runner, ["report", "NOT A RUN"])


def test_resume_unknown_run(runner: CliRunner, tmp_path: Path) -> None:
    line = bad(runner, ["resume", "abc", "--journal", str(tmp_path / "none.sqlite")])
    assert "no journal" in line


def test_adapters_table(runner: CliRunner) -> None:
    # --json: what a script reads does not depend on the terminal's width.
    result = runner.invoke(app, ["adapters", "--json", "--exchange", "gemini"])
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    builtins = {"binance-futures", "binance-spot", "bybit-spot", "bybit-linear"}
    assert builtins | {"ccxt:gemini"} <= set(rows)
    gemini = rows["ccxt:gemini"]
    assert gemini["market_orders"] is False and "createMarketOrder" in gemini["missing"]
    assert "createMarketOrder: market orders" in gemini["needed_for"]
    assert "fetchTime: clock sync" in gemini["needed_for"] and gemini["clock_sync"] is False


def test_adapters_table_for_people(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import exsdk.app.cli as cli

    # A fixed width, wide enough that no adapter's name folds; the console was sized at
    # import, so COLUMNS in the runner's environment would come too late.
    monkeypatch.setattr(cli.console, "width", 250)
    result = runner.invoke(app, ["adapters"])
    assert result.exit_code == 0, result.stderr
    assert "binance-futures" in result.stdout and "binance-spot" in result.stdout
    assert "bybit-linear" in result.stdout and "per exchange" in result.stdout
