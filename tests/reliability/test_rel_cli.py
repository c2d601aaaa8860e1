"""Bad input at every CLI entry point: one ``error:`` line, exit code 2, nothing sent.

Each case runs against a simulator process (given as ``--base-url`` wherever the command
takes one), whose request log must stay empty; no adapter may be built and no in-process
simulator started. ``tests/cli/test_bad_input.py`` covers the orders-file, adapter, venue,
environment and live-consent cases of ``experiment``; these are the others, for every
command, parser errors (an unknown option, a value that is not a number) included. A few
cases also run through the real entry point in a child process.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app
from exsdk.journal import Journal

from .crash_support import ROOT, SimulatorProcess, child_env, exsdk_command

ORDERS_LINE = (ROOT / "examples" / "default_orders.txt").read_text().splitlines()[0]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess(seed=7)
    yield process
    process.stop()


@pytest.fixture
def files(tmp_path: Path, sim: SimulatorProcess) -> dict[str, str]:
    """What the cases' arguments refer to, by placeholder name."""
    orders = tmp_path / "orders.txt"
    orders.write_text(ORDERS_LINE + "\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    text = tmp_path / "notes.txt"
    text.write_text("not a journal, not orders\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    journal = tmp_path / "runs" / "abc.sqlite"
    with Journal.open(journal) as j:
        j.record_run(
            "abc", adapter="binance-futures", exchange="binanceusdm", environment="local", params={}
        )
    return {
        "url": sim.base_url,
        "port": sim.base_url.rsplit(":", 1)[1],
        "orders": str(orders),
        "empty": str(empty),
        "text": str(text),
        "dir": str(folder),
        "missing": str(tmp_path / "missing.txt"),
        "journal": str(journal),
    }


# (command line with {placeholders}, what the error line must mention)
CASES: dict[str, tuple[str, str]] = {
    # the command group itself
    "unknown-command": ("launch", "No such command 'launch'"),
    "unknown-global-option": ("--verbose adapters", "No such option: --verbose"),
    # experiment (its orders/adapter/venue/env/live cases are in tests/cli)
    "experiment-not-an-int": (
        "experiment --orders {orders} --base-url {url} --twap-waves many",
        "'--twap-waves'",
    ),
    "experiment-zero-waves": (
        "experiment --orders {orders} --base-url {url} --twap-waves 0",
        "--twap-waves",
    ),
    "experiment-random-zero": ("experiment --random 0 --base-url {url}", "'--random'"),
    "experiment-unknown-option": ("experiment --orders {orders} --fast", "No such option: --fast"),
    "experiment-negative-speed": (
        "experiment --orders {orders} --base-url {url} --speed -5",
        "--speed",
    ),
    "experiment-zero-wave-seconds": (
        "experiment --orders {orders} --base-url {url} --wave-seconds 0",
        "--wave-seconds",
    ),
    "experiment-passivity-nan": (
        "experiment --orders {orders} --base-url {url} --passivity nan",
        "--passivity",
    ),
    "experiment-passivity-text": (
        "experiment --orders {orders} --base-url {url} --passivity half",
        "not a number",
    ),
    "experiment-bad-run-id": (
        "experiment --orders {orders} --base-url {url} --run-id Run_1",
        "run id 'Run_1'",
    ),
    "experiment-recv-window-zero": (
        "experiment --orders {orders} --base-url {url} --recv-window-ms 0",
        "--recv-window-ms",
    ),
    "experiment-recv-window-too-big": (
        "experiment --orders {orders} --base-url {url} --recv-window-ms 60001",
        "--recv-window-ms",
    ),
    "experiment-unknown-events": (
        "experiment --orders {orders} --base-url {url} --events xml",
        "--events 'xml'",
    ),
    "experiment-base-url-port": (
        "experiment --orders {orders} --base-url http://127.0.0.1:70000",
        "--base-url",
    ),
    "experiment-base-url-no-scheme": (
        "experiment --orders {orders} --base-url localhost",
        "not an http(s) URL",
    ),
    "experiment-base-url-off-sim": (
        "experiment --orders {orders} --venue testnet --base-url {url}",
        "only for venue 'sim'",
    ),
    "experiment-speed-off-sim": (
        "experiment --orders {orders} --venue testnet --speed 2",
        "--speed is only for venue 'sim'",
    ),
    "experiment-missing-secrets-file": (
        "experiment --orders {orders} --base-url {url} --secrets-file {missing}",
        "cannot read secrets file",
    ),
    "experiment-orders-is-a-folder": (
        "experiment --orders {dir} --base-url {url}",
        "Is a directory",
    ),
    "experiment-no-orders-in-file": (
        "experiment --orders {empty} --base-url {url}",
        "no orders in the file",
    ),
    "experiment-journal-is-a-folder": (
        "experiment --orders {orders} --base-url {url} --journal {dir}",
        "not a file",
    ),
    "experiment-journal-not-sqlite": (
        "experiment --orders {orders} --base-url {url} --journal {text}",
        "not a journal",
    ),
    "experiment-run-already-journaled": (
        "experiment --orders {orders} --base-url {url} --journal {journal} --run-id abc",
        "exsdk resume abc",
    ),
    # report (unknown run, no journal, bad run id are in tests/cli)
    "report-missing-run-id": ("report", "Missing argument"),
    "report-not-a-journal": ("report abc --journal {text}", "not a journal"),
    "report-unknown-option": ("report abc --pdf", "No such option: --pdf"),
    # resume
    "resume-missing-run-id": ("resume --base-url {url}", "Missing argument"),
    "resume-bad-run-id": ("resume Run_1 --journal {journal} --base-url {url}", "run id"),
    "resume-unknown-run": (
        "resume zzz --journal {journal} --base-url {url}",
        "no run 'zzz'",
    ),
    "resume-not-a-journal": ("resume abc --journal {text} --base-url {url}", "not a journal"),
    "resume-journal-is-a-folder": ("resume abc --journal {dir} --base-url {url}", "no journal"),
    "resume-sim-without-url": ("resume abc --journal {journal}", "--base-url"),
    "resume-unknown-venue": (
        "resume abc --journal {journal} --venue moon",
        "unknown venue 'moon'",
    ),
    "resume-live-without-consent": (
        "resume abc --journal {journal} --venue live",
        "--allow-live",
    ),
    "resume-base-url-off-sim": (
        "resume abc --journal {journal} --venue testnet --base-url {url}",
        "only for venue 'sim'",
    ),
    "resume-recv-window-zero": (
        "resume abc --journal {journal} --base-url {url} --recv-window-ms 0",
        "--recv-window-ms",
    ),
    "resume-recv-window-not-an-int": (
        "resume abc --journal {journal} --base-url {url} --recv-window-ms soon",
        "'--recv-window-ms'",
    ),
    "resume-unknown-events": (
        "resume abc --journal {journal} --base-url {url} --events xml",
        "--events 'xml'",
    ),
    "resume-missing-secrets-file": (
        "resume abc --journal {journal} --base-url {url} --secrets-file {missing}",
        "cannot read secrets file",
    ),
    # orders
    "orders-missing-path": ("orders", "Missing argument"),
    "orders-missing-file": ("orders {missing}", "No such file"),
    "orders-folder": ("orders {dir}", "Is a directory"),
    "orders-not-orders": ("orders {text}", "line 1"),
    # demo
    "demo-unknown-adapter": ("demo --adapter kraken-x", "kraken-x"),
    "demo-unknown-option": ("demo --fast", "No such option: --fast"),
    # simulator
    "simulator-port-too-big": ("simulator --port 70000", "not a TCP port"),
    "simulator-port-negative": ("simulator --port -1", "not a TCP port"),
    "simulator-port-not-an-int": ("simulator --port http", "'--port'"),
    "simulator-port-in-use": ("simulator --port {port}", "cannot listen"),
    "simulator-tick-zero": ("simulator --tick-seconds 0", "--tick-seconds"),
    # adapters
    "adapters-unknown-exchange": ("adapters --exchange nosuchx", "'nosuchx'"),
    "adapters-unknown-option": ("adapters --yaml", "No such option: --yaml"),
    # record
    "record-unknown-adapter": ("record --adapter kraken-x", "no contract module"),
    "record-unknown-venue": ("record", "$EXSDK_RECORD_VENUE"),
    # new-adapter
    "new-adapter-missing-ccxt-id": ("new-adapter kraken-spot", "Missing option '--ccxt-id'"),
    "new-adapter-bad-name": ("new-adapter Kraken_Spot --ccxt-id kraken", "lower case"),
    "new-adapter-unknown-ccxt-id": ("new-adapter kraken-spot --ccxt-id nosuchx", "'nosuchx'"),
    "new-adapter-bad-market-type": (
        "new-adapter kraken-spot --ccxt-id kraken --market-type option",
        "market type 'option'",
    ),
}
ENV = {"record-unknown-venue": {"EXSDK_RECORD_VENUE": "moon"}}
# Commands that need the repository as the working directory to get as far as the check.
IN_ROOT = {"demo-unknown-adapter"}


@pytest.fixture
def nothing_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Any adapter built, in-process simulator started or scaffold written, recorded."""
    import exsdk.registry
    import exsdk.simulator

    calls: list[str] = []

    def no_adapter(*args: Any, **kwargs: Any) -> Any:
        calls.append("get_adapter")
        raise AssertionError("an adapter was built for bad input")

    async def no_sim(self: Any) -> None:
        calls.append("simulator")
        raise AssertionError("an in-process simulator was started for bad input")

    monkeypatch.setattr(exsdk.registry, "get_adapter", no_adapter)
    monkeypatch.setattr(exsdk.simulator.SimulatedBinance, "start", no_sim)
    # The commands work on the current directory's project: were a check to let a case
    # through, the scaffold writes into this one in tmp_path, not into the repo.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "bad-input-check"\n')
    yield calls
    assert calls == []


def _args(line: str, files: dict[str, str]) -> list[str]:
    return [part.format(**files) for part in line.split()]


def _assert_one_error_line(code: int, stdout: str, stderr: str, mention: str) -> str:
    assert code == 2, (code, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), lines
    assert mention in lines[0], lines[0]
    assert stdout == "", stdout
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_arguments(
    case: str,
    files: dict[str, str],
    sim: SimulatorProcess,
    nothing_built: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    line, mention = CASES[case]
    sim.admin.clear_request_log()
    monkeypatch.chdir(ROOT if case in IN_ROOT else tmp_path)
    if case == "simulator-port-in-use":
        # This one must really try to listen: let the in-process simulator start.
        monkeypatch.undo()
        monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, _args(line, files), env=ENV.get(case))
    _assert_one_error_line(result.exit_code, result.stdout, result.stderr, mention)
    assert sim.admin.request_log() == [], "a request reached the venue"


# Through the console entry point, in child processes: parser errors included.
PROCESS_CASES = (
    "unknown-command",
    "experiment-not-an-int",
    "experiment-journal-not-sqlite",
    "resume-unknown-run",
    "report-missing-run-id",
    "simulator-port-too-big",
    "new-adapter-missing-ccxt-id",
)


def test_bad_arguments_in_processes(
    files: dict[str, str], sim: SimulatorProcess, tmp_path: Path
) -> None:
    sim.admin.clear_request_log()
    procs = {
        case: subprocess.Popen(
            exsdk_command(*_args(CASES[case][0], files)),
            cwd=tmp_path,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for case in PROCESS_CASES
    }
    for case, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        _assert_one_error_line(proc.returncode, stdout, stderr, CASES[case][1])
    assert sim.admin.request_log() == [], "a request reached the venue"


@pytest.mark.parametrize("command", ["experiment", "resume"])
def test_help_documents_the_crash_options(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    for option in ("--base-url", "--recv-window-ms", "--events", "--secrets-file"):
        assert option in result.stdout, option
    assert "EXSDK_EVENTS" in result.stdout


def test_sim_keys_come_from_the_environment_or_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from exsdk.adapter import Venue
    from exsdk.adapter.credentials import CredentialsError
    from exsdk.app.experiment import sim_or_venue_credentials

    monkeypatch.delenv("EXSDK_SIM_API_KEY", raising=False)
    monkeypatch.delenv("EXSDK_SIM_SECRET", raising=False)
    # Nothing set: the caller falls back to the simulator's public test keys (sim only).
    assert sim_or_venue_credentials(Venue.SIM, None) is None
    monkeypatch.delenv("EXSDK_TESTNET_API_KEY", raising=False)
    with pytest.raises(CredentialsError, match="EXSDK_TESTNET_API_KEY"):
        sim_or_venue_credentials(Venue.TESTNET, None)
    monkeypatch.setenv("EXSDK_SIM_API_KEY", "env-key")
    monkeypatch.setenv("EXSDK_SIM_SECRET", "env-secret")
    from_env = sim_or_venue_credentials(Venue.SIM, None)
    assert from_env is not None and from_env.ccxt_config()["apiKey"] == "env-key"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[sim]\napi_key = "file-key"\nsecret = "file-secret"\n')
    secrets.chmod(0o600)
    from_file = sim_or_venue_credentials(Venue.SIM, secrets)
    assert from_file is not None and from_file.ccxt_config()["apiKey"] == "file-key"
