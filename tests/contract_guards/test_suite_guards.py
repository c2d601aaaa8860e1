"""The suite guards itself: overrides are caught, stale cassettes fail loudly, no secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from exsdk.contracts import AdapterContract
from exsdk.contracts.suite import weakening
from exsdk.simulator import DEFAULT_API_KEY, DEFAULT_SECRET

# Modules, not classes: a Test* class imported here would be collected here too.
from tests.contracts import test_binance_futures, test_binance_spot

REPO = Path(__file__).resolve().parents[2]
CASSETTES_ROOT = REPO / "cassettes"


class _Weakened(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"

    async def test_rate_limited(self) -> None:  # type: ignore[override]
        """An adapter silencing a contract it fails."""


class _Deleted(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"
    test_insufficient_funds = None  # type: ignore[assignment]


class _XfailedOverride(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"

    @pytest.mark.xfail(strict=True, reason="venue answers 418 instead of 429")
    async def test_rate_limited(self) -> None:  # type: ignore[override]
        raise AssertionError


@pytest.mark.xfail(strict=True, reason="everything is flaky")
class _MarkedXfail(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"


class _FixtureSwapped(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"

    @staticmethod
    def order_posts(dialect: Any, cassette: Any) -> list[Any]:
        return []


def test_an_overridden_contract_is_caught() -> None:
    assert any("overrides contract test_rate_limited" in p for p in weakening(_Weakened))


def test_a_deleted_contract_is_caught() -> None:
    assert "_Deleted deletes contract test_insufficient_funds" in weakening(_Deleted)


def test_an_xfailed_override_is_caught() -> None:
    # A strict xfail with a reason used to be the sanctioned way out; now only the
    # adapter's known_gaps are.
    assert any("overrides contract test_rate_limited" in p for p in weakening(_XfailedOverride))


def test_a_class_wide_xfail_is_caught() -> None:
    assert "class _MarkedXfail marks every contract xfail" in weakening(_MarkedXfail)


def test_a_replaced_helper_is_caught() -> None:
    assert any("overrides suite member order_posts" in p for p in weakening(_FixtureSwapped))


def test_the_shipped_contract_classes_are_not_weakened() -> None:
    for cls in (test_binance_futures.TestBinanceFutures, test_binance_spot.TestBinanceSpot):
        assert weakening(cls) == [], cls


def test_known_gaps_must_name_a_contract_and_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from exsdk.adapters.binance.futures import BinanceFuturesAdapter

    monkeypatch.setattr(
        BinanceFuturesAdapter, "known_gaps", {"test_no_such_thing": "x", "test_rate_limited": " "}
    )
    problems = weakening(test_binance_futures.TestBinanceFutures)
    assert "binance-futures declares a known gap for no contract: test_no_such_thing" in problems
    assert "binance-futures declares known gap test_rate_limited without a reason" in problems


def _replay(cassettes: Path, test: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/contracts/test_binance_futures.py",
            "-k",
            test,
            "-p",
            "no:cacheprovider",
            "--record-mode=none",
            "--block-network",
            # The project's ini key, overridden for this run: replay a doctored copy.
            "-o",
            f"exsdk_cassettes={cassettes}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_stale_cassette_fails_and_names_the_rerecord_command(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES_ROOT, copy)
    cassette = copy / "binance-futures" / "test_preprod_sends_an_order_as_given.yaml"
    text = cassette.read_text()
    doctored = re.sub(r"quantity=([0-9.]+)", "quantity=999", text, count=1)
    assert doctored != text
    cassette.write_text(doctored)
    result = _replay(copy, "test_preprod_sends_an_order_as_given")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "exsdk record --adapter binance-futures" in result.stdout


def test_a_missing_cassette_fails_not_skips(tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES_ROOT, copy)
    (copy / "binance-futures" / "test_login_with_good_keys.yaml").unlink()
    result = _replay(copy, "test_login_with_good_keys")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "skipped" not in result.stdout
    assert "exsdk record --adapter binance-futures" in result.stdout


def test_cassettes_hold_no_secret() -> None:
    files = [p for p in CASSETTES_ROOT.rglob("*") if p.is_file()]
    assert files
    signature = re.compile(r"signature=[0-9a-f]{32,}")
    for path in files:
        text = path.read_text()
        assert DEFAULT_API_KEY not in text, path
        assert DEFAULT_SECRET not in text, path
        assert not signature.search(text), path
        for value in re.findall(r"X-MBX-APIKEY:\s*\n\s*-\s*(\S+)", text):
            assert value == "<redacted>", path


def test_a_recorded_request_no_longer_made_fails(tmp_path: Path) -> None:
    import yaml

    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES_ROOT, copy)
    cassette = copy / "binance-futures" / "test_login_with_good_keys.yaml"
    data = yaml.safe_load(cassette.read_text())
    data["interactions"].append(data["interactions"][0])
    cassette.write_text(yaml.safe_dump(data))
    result = _replay(copy, "test_login_with_good_keys")
    assert result.returncode == 1, result.stdout
    assert "no longer makes 1 recorded request" in result.stdout


def test_every_capability_gates_a_contract() -> None:
    """A capability no contract needs is a promise nothing checks: gate one or remove it."""
    from exsdk.adapter import Capabilities
    from exsdk.contracts.suite import _contract_tests, required_capabilities

    gated = {
        capability
        for test in _contract_tests(AdapterContract).values()
        for capability in required_capabilities(test)
    }
    assert set(Capabilities().names()) == gated
