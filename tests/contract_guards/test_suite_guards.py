"""The suite guards itself: overrides are caught, stale cassettes fail loudly, no secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exsdk.contracts import AdapterContract
from exsdk.simulator import DEFAULT_API_KEY, DEFAULT_SECRET

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


class _KnownBug(AdapterContract):
    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"

    @pytest.mark.xfail(strict=True, reason="venue answers 418 instead of 429")
    async def test_rate_limited(self) -> None:  # type: ignore[override]
        raise AssertionError


def test_an_overridden_contract_is_caught() -> None:
    with pytest.raises(AssertionError, match="overrides contract test_rate_limited"):
        _Weakened().test_suite_not_weakened()


def test_a_deleted_contract_is_caught() -> None:
    with pytest.raises(AssertionError, match="deletes contract test_insufficient_funds"):
        _Deleted().test_suite_not_weakened()


def test_a_strict_xfail_with_a_reason_is_allowed() -> None:
    _KnownBug().test_suite_not_weakened()


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
