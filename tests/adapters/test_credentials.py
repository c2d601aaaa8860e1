"""Credentials: held as secrets, bound to one venue, loaded from env or a private file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials, CredentialsError
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.errors import SdkError

KEY, SECRET = "k3y-Abc123", "s3cr3t-Xyz789"


def test_repr_and_str_hide_key_and_secret() -> None:
    creds = Credentials(venue=Venue.DEMO, api_key=KEY, secret=SECRET, password="pw-123")
    for text in (repr(creds), str(creds), f"{creds}"):
        assert KEY not in text and SECRET not in text and "pw-123" not in text
        assert "demo" in text


def test_ccxt_config_reveals_only_for_ccxt() -> None:
    creds = Credentials(venue="testnet", api_key=KEY, secret=SECRET)
    assert creds.venue is Venue.TESTNET
    assert creds.ccxt_config() == {"apiKey": KEY, "secret": SECRET}


def test_empty_key_refused() -> None:
    with pytest.raises(CredentialsError, match="empty key"):
        Credentials(venue=Venue.DEMO, api_key="", secret=SECRET)


def test_from_env_reads_the_venues_variables() -> None:
    env = {"EXSDK_DEMO_API_KEY": KEY, "EXSDK_DEMO_SECRET": SECRET, "EXSDK_LIVE_API_KEY": "x"}
    creds = Credentials.from_env(Venue.DEMO, environ=env)
    assert creds.api_key.get_secret_value() == KEY
    assert creds.venue is Venue.DEMO


def test_from_env_missing_names_the_variables() -> None:
    with pytest.raises(CredentialsError, match="BINANCE_LIVE_API_KEY and BINANCE_LIVE_SECRET"):
        Credentials.from_env("live", prefix="BINANCE", environ={})


def test_from_env_uses_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXSDK_TESTNET_API_KEY", KEY)
    monkeypatch.setenv("EXSDK_TESTNET_SECRET", SECRET)
    assert Credentials.from_env(Venue.TESTNET).secret.get_secret_value() == SECRET


def _write(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_from_file_toml(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "secrets.toml",
        f'[demo]\napi_key = "{KEY}"\nsecret = "{SECRET}"\n[live]\napi_key = "a"\nsecret = "b"\n',
        0o600,
    )
    creds = Credentials.from_file(path, Venue.DEMO)
    assert creds.api_key.get_secret_value() == KEY and creds.venue is Venue.DEMO


def test_from_file_json(tmp_path: Path) -> None:
    body = json.dumps({"testnet": {"api_key": KEY, "secret": SECRET}})
    path = _write(tmp_path / "secrets.json", body, 0o400)
    assert Credentials.from_file(path, "testnet").secret.get_secret_value() == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660])
def test_from_file_refuses_a_file_others_can_open(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path / "secrets.toml", f'[demo]\napi_key="{KEY}"\nsecret="{SECRET}"\n', mode)
    with pytest.raises(CredentialsError) as info:
        Credentials.from_file(path, Venue.DEMO)
    message = str(info.value)
    assert "\n" not in message
    assert f"{mode:04o}" in message and "chmod 600" in message
    assert KEY not in message


def test_from_file_missing_section_and_bad_syntax(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.toml", f'[live]\napi_key="{KEY}"\nsecret="{SECRET}"\n', 0o600)
    with pytest.raises(CredentialsError, match=r"no \[demo\] table"):
        Credentials.from_file(path, Venue.DEMO)
    bad = _write(tmp_path / "bad.toml", f'[demo]\napi_key = "{KEY}\n', 0o600)
    with pytest.raises(CredentialsError, match="not valid TOML") as info:
        Credentials.from_file(bad, Venue.DEMO)
    assert KEY not in str(info.value)
    with pytest.raises(CredentialsError, match="cannot read"):
        Credentials.from_file(tmp_path / "absent.toml", Venue.DEMO)


def test_adapter_refuses_credentials_of_another_venue() -> None:
    creds = Credentials(venue=Venue.LIVE, api_key=KEY, secret=SECRET)
    with pytest.raises(CredentialsError, match=r"issued for venue 'live'.*venue 'demo'"):
        BinanceFuturesAdapter(Venue.DEMO, creds, markets_cache=False)


async def test_adapter_repr_hides_credentials() -> None:
    creds = Credentials(venue=Venue.DEMO, api_key=KEY, secret=SECRET)
    async with BinanceFuturesAdapter(Venue.DEMO, creds, markets_cache=False) as adapter:
        assert KEY not in repr(adapter) and SECRET not in repr(adapter)
        assert adapter.exchange.apiKey == KEY  # handed to ccxt, and only to ccxt


def test_keys_cannot_bypass_credentials() -> None:
    with pytest.raises(SdkError, match="not ccxt_options\\['apiKey'\\]"):
        BinanceFuturesAdapter(
            Venue.DEMO, markets_cache=False, ccxt_options={"apiKey": KEY, "secret": SECRET}
        )
