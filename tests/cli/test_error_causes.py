"""Errors name their cause: refused, TLS, and what the bundled venue serves."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app
from tests.reliability.crash_support import SimulatorProcess

from .conftest import DEFAULT_ORDERS


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess(seed=7)
    yield process
    process.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound and never listened on: a connection to it is refused.

    Held for the whole test, so no other process (another pytest-xdist worker's server)
    can take the port between choosing it and connecting to it.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def _error_line(args: list[str], tmp_path: Path) -> str:
    result = CliRunner().invoke(
        app,
        ["experiment", "--orders", str(DEFAULT_ORDERS), *args, "--journal", str(tmp_path / "j")],
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_connection_refused(closed_port: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    line = _error_line(["--base-url", url], tmp_path)
    assert f"GET {url}/fapi/v1/exchangeInfo: connection refused" in line


def test_tls_to_a_plain_http_venue(sim: SimulatorProcess, tmp_path: Path) -> None:
    line = _error_line(["--base-url", sim.base_url.replace("http://", "https://")], tmp_path)
    assert "TLS handshake failed" in line


def test_bundled_venue_says_what_it_serves(tmp_path: Path) -> None:
    line = _error_line(["--adapter", "ccxt:kraken"], tmp_path)
    assert "404 Not Found" in line  # Binance's answer to an unknown path: no JSON body
    assert "the bundled simulator speaks only binance_spot, binance_usdm, bybit_v5" in line
    assert "not the protocol adapter 'ccxt:kraken' uses" in line
