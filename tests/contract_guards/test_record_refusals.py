"""`exsdk record` says in one line why an adapter cannot be recorded, before any request."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from exsdk.app.cli import app


def test_an_adapter_without_a_contract_dialect_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """okx, bybit or kraken through ccxt: the suite would not know the venue's protocol."""
    import exsdk.contracts.record

    recorded: list[object] = []
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "kraken-adapters"\n')
    module = tmp_path / "tests" / "contracts" / "test_ccxt_kraken.py"
    module.parent.mkdir(parents=True)
    module.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(exsdk.contracts.record, "record", recorded.append)
    result = CliRunner().invoke(app, ["record", "--adapter", "ccxt:kraken"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--adapter ccxt:kraken" in lines[0] and "names no contract_dialect" in lines[0]
    assert recorded == []
