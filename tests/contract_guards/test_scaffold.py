"""`exsdk new-adapter` writes a module the registry can load and a contract test module."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from exsdk.adapter import Venue
from exsdk.adapters.generic import GenericCcxtAdapter
from exsdk.contracts.project import NoProject, Project
from exsdk.contracts.scaffold import PLACEHOLDER_PREFIX, Scaffolded, new_adapter
from exsdk.errors import InvalidOrderInput, UnsupportedMethod
from exsdk.registry import adapter_class, get_adapter

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
    # The bundled venue does not speak kraken: the dialect is the developer's to write.
    assert "contract_dialect: ClassVar[str | None] = None" in source
    compile(source, str(done.adapter_module), "exec")
    tests = done.test_module.read_text()
    assert "class TestKrakenSpot(AdapterContract)" in tests
    assert 'adapter_name = "kraken-spot"' in tests
    # ccxt ships no kraken markets: no guessed symbol, a placeholder the suite refuses.
    assert not done.symbols_known
    assert f'liquid_symbol = "{PLACEHOLDER_PREFIX} a liquid kraken spot symbol>"' in tests
    pyproject = repo.pyproject.read_text()
    assert 'kraken-spot = "exsdk.adapters.kraken_spot:KrakenSpotAdapter"' in pyproject
    steps = " | ".join(done.next_steps)
    assert "exsdk record --adapter kraken-spot" in steps
    assert "set contract_dialect" in steps and "set the symbols" in steps


def _load(done: Scaffolded, class_name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(done.adapter_module.read_text(), str(done.adapter_module), "exec"), namespace)
    return namespace[class_name]


def test_scaffold_and_ccxt_id_agree(repo: Project) -> None:
    """gemini: ccxt says createMarketOrder is False; the scaffold says so too, and its
    class refuses the exchange at construction exactly as ccxt:gemini does."""
    done = new_adapter("gemini-spot", "gemini", project=repo)
    cls = _load(done, "GeminiSpotAdapter")
    generic = GenericCcxtAdapter.for_exchange("gemini")
    assert cls.capabilities == generic.capabilities
    assert cls.capabilities.market_orders is False
    assert cls.capabilities.positions is False and cls.capabilities.leverage is False
    assert cls.capabilities.balances is True
    with pytest.raises(UnsupportedMethod) as scaffolded:
        cls(Venue.LIVE, allow_live=True, markets_cache=False)
    with pytest.raises(UnsupportedMethod) as ccxt_id:
        get_adapter("ccxt:gemini", venue="live", allow_live=True, markets_cache=False)
    assert scaffolded.value.missing == ccxt_id.value.missing
    assert set(scaffolded.value.missing) == {"createMarketOrder", "fetchOrders"}


def _snapshot_symbols(adapter: str) -> set[str]:
    """Markets of a built-in adapter as its cassettes recorded them (not the scaffold's read)."""
    data = json.loads((REPO / "cassettes" / adapter / "markets.json").read_text())
    return set(data["markets"])


@pytest.mark.parametrize(
    ("ccxt_id", "base_class", "sibling"),
    [
        ("binance", "BinanceSpotAdapter", "binance-spot"),
        ("binanceusdm", "BinanceFuturesAdapter", "binance-futures"),
    ],
)
def test_scaffold_on_the_bundled_venue_picks_existing_symbols(
    third_party: Project, ccxt_id: str, base_class: str, sibling: str
) -> None:
    done = new_adapter("acme-x", ccxt_id, project=third_party)
    source = done.adapter_module.read_text()
    assert f"class AcmeXAdapter({base_class})" in source
    cls = _load(done, "AcmeXAdapter")
    assert cls.contract_dialect == adapter_class(sibling).contract_dialect
    assert cls.market_type == adapter_class(sibling).market_type
    tests = done.test_module.read_text()
    assert done.symbols_known and PLACEHOLDER_PREFIX not in tests
    liquid = re.search(r'liquid_symbol = "([^"]+)"', tests)
    cheap = re.search(r'cheap_symbol = "([^"]+)"', tests)
    assert liquid and cheap
    assert {liquid.group(1), cheap.group(1)} <= _snapshot_symbols(sibling)


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
    # An id the bundled venue speaks builds on the built-in adapter of that market type.
    assert "class AcmeSpotAdapter(BinanceSpotAdapter)" in source
    assert _load(done, "AcmeSpotAdapter").default_options["fetchMarkets"] == {"types": ["spot"]}
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
