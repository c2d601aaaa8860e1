"""``exsdk new-adapter NAME --ccxt-id ID``: write an adapter module and its contract tests.

Everything goes into the project of the current directory (:class:`Project`): this
repository (``adapters/<name>.py``, entry point ``exsdk.adapters.<name>``) or a package of
the user's own (``<package>/<name>.py``, entry point ``<package>.<name>``). The adapter
module declares its capabilities from what ccxt says the exchange has (the developer then
corrects them: ``has`` is per exchange class, not per market type), the entry point is added
to the project's ``pyproject.toml`` so the registry finds it, and the contract module
(``tests/contracts/test_<name>.py``) subclasses the suite. The suite runs on the new adapter
at once and fails with the command to record its cassettes until they exist. Exchanges the
bundled simulator speaks (Binance spot and USD-M) build on the Binance base and record
against the simulator with no keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import ccxt

from exsdk.adapter import Capabilities
from exsdk.contracts.cassettes import rerecord_command
from exsdk.contracts.project import Project
from exsdk.errors import InvalidOrderInput

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
_ENTRY_HEADER = '[project.entry-points."exsdk.adapters"]'

ADAPTER_TEMPLATE = '''"""{name}: ccxt ``{ccxt_id}`` ({market_type} markets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities
from {base_module} import {base_class}


class {cls}({base_class}):
    """Adapter for {ccxt_id}. Capabilities start from ccxt's ``has``: check each one."""

    name: ClassVar[str] = "{name}"
    ccxt_id: ClassVar[str] = "{ccxt_id}"
    market_type: ClassVar[str] = "{market_type}"
    capabilities: ClassVar[Capabilities] = Capabilities(
{capabilities}
    )
    default_options: ClassVar[Mapping[str, Any]] = {{
        **{base_class}.default_options,
{options}
    }}
'''

TEST_TEMPLATE = '''"""{name} against the shared contract suite."""

from exsdk.contracts import AdapterContract


class Test{cls}(AdapterContract):
    """{name}: every contract, replayed from cassettes/{name}/."""

    adapter_name = "{name}"
    liquid_symbol = "{liquid}"  # a symbol that trades freely
    cheap_symbol = "{cheap}"  # one amount step of it is below the venue minimum
    market_kind = "{market_kind}"  # the simulator's book the venue controls act on
'''

# ccxt ids the bundled simulator speaks: the Binance base class and the options that keep
# ccxt to the one market family the simulator serves (spot, or USD-M futures).
_SIM_PROTOCOL: dict[str, tuple[str, dict[str, object]]] = {
    "binance": ("spot", {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}),
    "binanceusdm": ("futures", {"defaultType": "future", "fetchMarkets": {"types": ["linear"]}}),
}
_BINANCE_BASE = ("exsdk.adapters.binance.common", "BinanceAdapter")
_CCXT_BASE = ("exsdk.adapter", "CcxtAdapter")


@attrs.frozen
class Scaffolded:
    """What ``new_adapter`` wrote."""

    adapter_module: Path
    test_module: Path
    pyproject: Path
    entry_point: str
    next_steps: tuple[str, ...]


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Adapter"


def _capabilities(has: dict[str, object], market_type: str) -> Capabilities:
    def yes(method: str) -> bool:
        return bool(has.get(method))

    contract = market_type != "spot"
    return Capabilities(
        market_orders=yes("createMarketOrder") or yes("createOrder"),
        limit_orders=yes("createLimitOrder") or yes("createOrder"),
        cancel=yes("cancelOrder"),
        fetch_by_client_order_id=yes("fetchOrders") or yes("fetchOpenOrders"),
        open_orders=yes("fetchOpenOrders"),
        order_trades=yes("fetchMyTrades"),
        balances=yes("fetchBalance"),
        positions=contract and yes("fetchPositions"),
        leverage=contract and yes("setLeverage"),
        reduce_only=contract,
        liquidity_error=False,
    )


def speaks_sim(ccxt_id: str) -> bool:
    """Whether the bundled simulator speaks this exchange's protocol (records with no keys)."""
    return ccxt_id in _SIM_PROTOCOL


def new_adapter(
    name: str, ccxt_id: str, *, market_type: str | None = None, project: Project | None = None
) -> Scaffolded:
    """Write the adapter module, its contract module and its entry point into ``project``.

    ``project`` defaults to the current directory's (:meth:`Project.here`, which refuses a
    directory without ``pyproject.toml``). ``market_type`` defaults to ``swap`` for
    ``binanceusdm`` and ``spot`` otherwise.
    """
    if market_type is None:
        market_type = "swap" if ccxt_id == "binanceusdm" else "spot"
    if not _NAME.match(name):
        raise InvalidOrderInput(
            f"adapter name {name!r} must be lower case letters, digits and dashes"
        )
    if ccxt_id not in ccxt.exchanges:
        raise InvalidOrderInput(f"ccxt knows no exchange {ccxt_id!r}")
    if market_type not in ("spot", "swap", "future"):
        raise InvalidOrderInput(f"market type {market_type!r} is not spot, swap or future")
    # The arguments first, the directory then: a bad name is reported as such anywhere.
    project = project or Project.here()
    module_name = name.replace("-", "_")
    root = project.root
    package_dir = project.package_dir
    adapter_path = package_dir / f"{module_name}.py"
    test_path = project.contract_module(name)
    for path in (adapter_path, test_path):
        if path.exists():
            raise InvalidOrderInput(f"{path} exists already; not overwriting it")
    cls = _class_name(name)
    has = dict(getattr(ccxt, ccxt_id)().has)
    caps = _capabilities(has, market_type)
    capability_lines = "\n".join(f"        {k}={v}," for k, v in caps.names().items())
    market_kind, options = _SIM_PROTOCOL.get(ccxt_id, ("spot", {"defaultType": market_type}))
    base_module, base_class = _BINANCE_BASE if speaks_sim(ccxt_id) else _CCXT_BASE
    option_lines = "\n".join(f"        {k!r}: {v!r},".replace("'", '"') for k, v in options.items())
    if not package_dir.exists():
        package_dir.mkdir(parents=True)
        (package_dir / "__init__.py").write_text(f'"""{project.distribution}."""\n')
    adapter_path.write_text(
        ADAPTER_TEMPLATE.format(
            name=name,
            ccxt_id=ccxt_id,
            market_type=market_type,
            cls=cls,
            capabilities=capability_lines,
            base_module=base_module,
            base_class=base_class,
            options=option_lines,
        )
    )
    liquid, cheap = ("BTC/USDT", "DOGE/USDT")
    if market_type != "spot":
        liquid, cheap = ("BTC/USDT:USDT", "DOGE/USDT:USDT")
    test_path.parent.mkdir(parents=True, exist_ok=True)
    test_path.write_text(
        TEST_TEMPLATE.format(
            name=name,
            cls=cls.removesuffix("Adapter"),
            liquid=liquid,
            cheap=cheap,
            market_kind=market_kind,
        )
    )
    entry = f'{name} = "{project.package}.{module_name}:{cls}"'
    _add_entry_point(project.pyproject, entry)
    if speaks_sim(ccxt_id):
        record_step = f"{rerecord_command(name)}   # against the bundled simulator, no keys"
    else:
        record_step = (
            f"EXSDK_RECORD_VENUE=testnet {rerecord_command(name)}   # with "
            "EXSDK_TESTNET_API_KEY / EXSDK_TESTNET_SECRET set"
        )
    steps = (
        f"check the capabilities in {adapter_path.relative_to(root)} "
        "(ccxt's has is per exchange, not per market type)",
        f"set the symbols in {test_path.relative_to(root)}",
        f"{project.install_command()}   # reinstall, so the new entry point is seen",
        record_step,
        "make test" if project.is_exsdk else "pytest   # replays the cassettes offline",
    )
    return Scaffolded(adapter_path, test_path, project.pyproject, entry, steps)


def _add_entry_point(pyproject: Path, entry: str) -> None:
    text = pyproject.read_text()
    if _ENTRY_HEADER not in text:
        text = text.rstrip("\n") + f"\n\n{_ENTRY_HEADER}\n"
    head, _, tail = text.partition(_ENTRY_HEADER + "\n")
    pyproject.write_text(head + _ENTRY_HEADER + "\n" + entry + "\n" + tail)
