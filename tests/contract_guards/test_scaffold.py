"""`exsdk new-adapter` writes a module the registry can load and a contract test module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exsdk.contracts.project import NoProject, Project
from exsdk.contracts.scaffold import new_adapter
from exsdk.errors import InvalidOrderInput

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Project:
    """A copy of this repository's layout: adapters go to adapters/, as exsdk.adapters."""
    root = tmp_path / "repo"
    (root / "adapters").mkdir(parents=True)
    (root / "adapters" / "__init__.py").write_text("")
    (root / "tests" / "contracts").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return Project.here(root)


def test_scaffold_writes_adapter_tests_and_entry_point(repo: Project) -> None:
    done = new_adapter("kraken-spot", "kraken", project=repo)
    source = done.adapter_module.read_text()
    assert 'ccxt_id: ClassVar[str] = "kraken"' in source
    assert "class KrakenSpotAdapter(CcxtAdapter)" in source
    compile(source, str(done.adapter_module), "exec")
    tests = done.test_module.read_text()
    assert "class TestKrakenSpot(AdapterContract)" in tests
    assert 'adapter_name = "kraken-spot"' in tests
    pyproject = repo.pyproject.read_text()
    assert 'kraken-spot = "exsdk.adapters.kraken_spot:KrakenSpotAdapter"' in pyproject
    assert any("exsdk record --adapter kraken-spot" in step for step in done.next_steps)


def test_scaffolded_adapter_declares_capabilities_from_ccxt(repo: Project) -> None:
    namespace: dict[str, object] = {}
    done = new_adapter("gemini-spot", "gemini", project=repo)
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
def test_scaffold_refuses_bad_input(repo: Project, name: str, ccxt_id: str, message: str) -> None:
    with pytest.raises(InvalidOrderInput, match=message):
        new_adapter(name, ccxt_id, project=repo)


def test_scaffold_never_overwrites(repo: Project) -> None:
    new_adapter("kraken-spot", "kraken", project=repo)
    with pytest.raises(InvalidOrderInput, match="exists already"):
        new_adapter("kraken-spot", "kraken", project=repo)


@pytest.fixture
def third_party(tmp_path: Path) -> Project:
    """A package of a user's own, outside this repository."""
    root = tmp_path / "acme-adapters"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "acme-adapters"\nversion = "0.1"\n')
    return Project.here(root)


def test_scaffold_writes_into_a_third_party_project(third_party: Project) -> None:
    done = new_adapter("acme-spot", "binance", project=third_party)
    root = third_party.root
    assert done.adapter_module == root / "acme_adapters" / "acme_spot.py"
    assert (root / "acme_adapters" / "__init__.py").exists()
    assert done.test_module == root / "tests" / "contracts" / "test_acme_spot.py"
    pyproject = third_party.pyproject.read_text()
    assert '[project.entry-points."exsdk.adapters"]' in pyproject
    assert 'acme-spot = "acme_adapters.acme_spot:AcmeSpotAdapter"' in pyproject
    source = done.adapter_module.read_text()
    # Binance-protocol ids build on the Binance base and keep ccxt to spot markets.
    assert "class AcmeSpotAdapter(BinanceAdapter)" in source
    assert '"fetchMarkets": {"types": ["spot"]}' in source
    compile(source, str(done.adapter_module), "exec")
    assert "pip install -e ." in " ".join(done.next_steps)
    assert not any("EXSDK_RECORD_VENUE" in step for step in done.next_steps)


def test_scaffold_uses_a_src_layout_when_there_is_one(third_party: Project) -> None:
    (third_party.root / "src" / "acme_adapters").mkdir(parents=True)
    done = new_adapter("acme-spot", "kraken", project=third_party)
    assert done.adapter_module == third_party.root / "src" / "acme_adapters" / "acme_spot.py"


def test_a_directory_without_pyproject_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NoProject, match=r"no pyproject\.toml in"):
        Project.here(tmp_path)


def test_cassettes_folder_comes_from_the_pytest_ini(third_party: Project) -> None:
    assert third_party.cassettes_root == third_party.root / "cassettes"
    with third_party.pyproject.open("a") as f:
        f.write('\n[tool.pytest.ini_options]\nexsdk_cassettes = "tests/cassettes"\n')
    assert third_party.cassettes_root == third_party.root / "tests" / "cassettes"
