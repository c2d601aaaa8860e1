"""`exsdk new-adapter` writes a module the registry can load and a contract test module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exsdk.contracts.scaffold import new_adapter
from exsdk.errors import InvalidOrderInput

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "adapters").mkdir(parents=True)
    (root / "tests" / "contracts").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_scaffold_writes_adapter_tests_and_entry_point(repo: Path) -> None:
    done = new_adapter("kraken-spot", "kraken", root=repo)
    source = done.adapter_module.read_text()
    assert 'ccxt_id: ClassVar[str] = "kraken"' in source
    assert "class KrakenSpotAdapter(CcxtAdapter)" in source
    compile(source, str(done.adapter_module), "exec")
    tests = done.test_module.read_text()
    assert "class TestKrakenSpot(AdapterContract)" in tests
    assert 'adapter_name = "kraken-spot"' in tests
    pyproject = (repo / "pyproject.toml").read_text()
    assert 'kraken-spot = "exsdk.adapters.kraken_spot:KrakenSpotAdapter"' in pyproject
    assert any("exsdk record --adapter kraken-spot" in step for step in done.next_steps)


def test_scaffolded_adapter_declares_capabilities_from_ccxt(repo: Path) -> None:
    namespace: dict[str, object] = {}
    done = new_adapter("gemini-spot", "gemini", root=repo)
    exec(compile(done.adapter_module.read_text(), "gemini_spot", "exec"), namespace)
    cls = namespace["GeminiSpotAdapter"]
    caps = cls.capabilities  # type: ignore[attr-defined]
    assert caps.positions is False and caps.leverage is False
    assert caps.balances is True


@pytest.mark.parametrize(
    ("name", "ccxt_id", "message"),
    [
        ("Bad Name", "kraken", "lower case"),
        ("kraken-spot", "no-such-exchange", "ccxt knows no exchange"),
    ],
)
def test_scaffold_refuses_bad_input(repo: Path, name: str, ccxt_id: str, message: str) -> None:
    with pytest.raises(InvalidOrderInput, match=message):
        new_adapter(name, ccxt_id, root=repo)


def test_scaffold_never_overwrites(repo: Path) -> None:
    new_adapter("kraken-spot", "kraken", root=repo)
    with pytest.raises(InvalidOrderInput, match="exists already"):
        new_adapter("kraken-spot", "kraken", root=repo)
