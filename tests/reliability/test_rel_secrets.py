"""No secret is ever written anywhere, and the venue checks every credential.

A full TWAP runs against a simulator holding a known fake key and secret, with faults
that make errors (and their bodies) land in the journal; then the journal's bytes (its
-wal and -shm too), every log record (ccxt's included, at DEBUG), everything printed,
every exception message and every file under ``cassettes/`` are scanned for the key,
the secret and anything shaped like an HMAC-SHA256 signature (64 hex characters).

Covered elsewhere, not repeated here: a secrets file others can read is refused, keys
of one venue are refused by an adapter for another, keys cannot be smuggled through
``ccxt_options`` (tests/adapters/test_credentials.py); the simulator's own -1022,
-2015 and -1021 bodies through raw ccxt (tests/simulator/test_sim_ccxt.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

import exsdk.simulator
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials, CredentialsError
from exsdk.errors import AuthenticationFailed, ClockSkew, SdkError
from exsdk.journal import Journal
from exsdk.registry import get_adapter

from .rel_support import ADAPTERS, ORDER_PATH, build_adapter, journal_files, run_twap

KEY = "relKEYrelKEYrelKEYrelKEYrelKEYrelKEYrelKEYrelKEYrelKEYrelKEY0001"
SECRET = "relSECRETrelSECRETrelSECRETrelSECRETrelSECRETrelSECRETrelSEC0002"
SIGNATURE = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def leaks(data: bytes) -> list[str]:
    """What in ``data`` looks like a credential."""
    found = [name for name, s in (("key", KEY), ("secret", SECRET)) if s.encode() in data]
    found += [f"signature-like {m.group(0)[:12].decode()}..." for m in SIGNATURE.finditer(data)]
    return found


async def _full_run(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> dict[str, bytes]:
    caplog.set_level(logging.DEBUG)  # the root logger: sdk, ccxt, aiohttp, asyncio
    messages: list[str] = []
    async with exsdk.simulator.SimulatedBinance(seed=7, api_key=KEY, secret=SECRET) as venue:
        order = ORDER_PATH[name]
        # Errors with venue bodies, retried and journaled; a clock rejection; a lost reply.
        venue.admin.inject_fault("http_error", "POST", order, calls=[1], status=500)
        venue.admin.inject_fault("clock_skew", "DELETE", order, calls=[1])
        venue.admin.inject_fault("timeout_unknown", "POST", order, calls=[3])
        path = tmp_path / "journal.sqlite"
        with Journal.open(path) as journal:
            async with build_adapter(name, venue, api_key=KEY, secret=SECRET) as adapter:
                result = await run_twap(adapter, journal, "sec1")
                messages += [repr(adapter), str(adapter)]
                # A refused request: its error message and body must not carry the key.
                adapter.exchange.secret = "not-the-secret"
                with pytest.raises(AuthenticationFailed) as info:
                    await adapter.fetch_balances()
                messages += [str(info.value), repr(info.value), str(info.value.body)]
            assert result.finished and result.retried >= 3
            messages += list(journal.errors("sec1")["message"])
            journal_bytes = b"".join(p.read_bytes() for p in journal_files(path))
    out, err = capsys.readouterr()
    written = {
        "journal": journal_bytes,
        "logs": "\n".join(r.getMessage() for r in caplog.records).encode(),
        "log text": caplog.text.encode(),
        "stdout/stderr": (out + err).encode(),
        "exception messages": "\n".join(messages).encode(),
    }
    assert len(written["journal"]) > 10_000  # the run really wrote its journal
    return written


@pytest.mark.parametrize("name", ADAPTERS)
async def test_a_full_run_writes_no_secret(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    written = await _full_run(name, tmp_path, caplog, capsys)
    for where in ("journal", "stdout/stderr", "exception messages"):
        assert leaks(written[where]) == [], where


@pytest.mark.parametrize("name", ADAPTERS)
async def test_debug_logs_hold_no_secret(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    written = await _full_run(name, tmp_path, caplog, capsys)
    for where in ("logs", "log text"):
        assert leaks(written[where]) == [], where


def test_no_cassette_holds_a_secret() -> None:
    files = [p for p in CASSETTES.rglob("*") if p.is_file()] if CASSETTES.exists() else []
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and SECRET.encode() not in data, path
        assert SIGNATURE.search(data) is None, f"{path}: something shaped like a signature"
        for default in (exsdk.simulator.DEFAULT_API_KEY, exsdk.simulator.DEFAULT_SECRET):
            assert default.encode() not in data, f"{path}: the simulator's key"


async def test_bad_credentials_are_clear_sdk_errors() -> None:
    """Through the adapter (real ccxt signing): a bad signature (-1022), an unknown key
    (-2015) and a stale timestamp (-1021) become typed errors without the secret."""
    async with exsdk.simulator.SimulatedBinance(seed=7, api_key=KEY, secret=SECRET) as venue:
        cases: list[tuple[dict[str, str], type[SdkError], str]] = [
            ({"api_key": KEY, "secret": "x" * 64}, AuthenticationFailed, "-1022"),
            ({"api_key": "nobody" * 10, "secret": SECRET}, AuthenticationFailed, "-2015"),
        ]
        for creds, cls, code in cases:
            async with build_adapter("binance-futures", venue, **creds) as adapter:
                with pytest.raises(cls) as info:
                    await adapter.fetch_balances()
                assert code in f"{info.value} {info.value.body}"
                assert info.value.code == int(code)
                assert leaks(f"{info.value} {info.value.body!r}".encode()) == []
        venue.admin.set_clock_skew(30_000)  # the venue's clock is ahead: stale timestamps
        async with build_adapter("binance-futures", venue, api_key=KEY, secret=SECRET) as adapter:
            adapter.exchange.options["timeDifference"] = 0
            with pytest.raises(ClockSkew) as skew:
                await adapter.fetch_balances()
            assert skew.value.code == -1021
            # The adapter resynced on the way out: the next request is accepted.
            await adapter.fetch_balances()


def test_live_needs_the_explicit_flag() -> None:
    with pytest.raises(SdkError, match="allow_live=True"):
        get_adapter("binance-spot", venue=Venue.LIVE, markets_cache=False)


@pytest.mark.parametrize("issued", [Venue.LIVE, Venue.TESTNET, Venue.DEMO])
def test_keys_for_one_venue_never_go_to_another(issued: Venue) -> None:
    creds = Credentials(venue=issued, api_key=KEY, secret=SECRET)
    with pytest.raises(CredentialsError) as info:
        get_adapter(
            "binance-futures", venue=Venue.SIM, base_url="http://127.0.0.1:1", credentials=creds
        )
    assert KEY not in str(info.value) and SECRET not in str(info.value)


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(f'[sim]\napi_key = "{KEY}"\nsecret = "{SECRET}"\n')
    path.chmod(0o644)
    with pytest.raises(CredentialsError) as info:
        Credentials.from_file(path, Venue.SIM)
    assert SECRET not in str(info.value) and KEY not in str(info.value)
