"""``exsdk new-adapter NAME --ccxt-id ID``: write an adapter module and its contract tests.

The adapter module declares its capabilities from what ccxt says the exchange has (the
developer then corrects them: ``has`` is per exchange class, not per market type), the
package's entry point is added to ``pyproject.toml`` so the registry finds it, and the
contract module subclasses the suite. The suite runs on the new adapter at once and fails
with the command to record its cassettes until they exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import ccxt

from exsdk.adapter import Capabilities
from exsdk.contracts.cassettes import REPO_ROOT, rerecord_command
from exsdk.contracts.record import contract_module
from exsdk.errors import InvalidOrderInput

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
_ENTRY_HEADER = '[project.entry-points."exsdk.adapters"]'

ADAPTER_TEMPLATE = '''"""{name}: ccxt ``{ccxt_id}`` ({market_type} markets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities, CcxtAdapter


class {cls}(CcxtAdapter):
    """Adapter for {ccxt_id}. Capabilities start from ccxt's ``has``: check each one."""

    name: ClassVar[str] = "{name}"
    ccxt_id: ClassVar[str] = "{ccxt_id}"
    market_type: ClassVar[str] = "{market_type}"
    capabilities: ClassVar[Capabilities] = Capabilities(
{capabilities}
    )
    default_options: ClassVar[Mapping[str, Any]] = {{
        **CcxtAdapter.default_options,
        "defaultType": "{market_type}",
    }}
'''

TEST_TEMPLATE = '''"""{name} against the shared contract suite."""

from exsdk.contracts import AdapterContract


class Test{cls}(AdapterContract):
    """{name}: every contract, replayed from cassettes/{name}/."""

    adapter_name = "{name}"
    liquid_symbol = "{liquid}"  # a symbol that trades freely
    cheap_symbol = "{cheap}"  # one amount step of it is below the venue minimum
'''


@attrs.frozen
class Scaffolded:
    """What ``new_adapter`` wrote."""

    adapter_module: Path
    test_module: Path
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


def new_adapter(
    name: str, ccxt_id: str, *, market_type: str = "spot", root: Path = REPO_ROOT
) -> Scaffolded:
    """Write ``adapters/<name>.py``, its contract module and its entry point."""
    if not _NAME.match(name):
        raise InvalidOrderInput(
            f"adapter name {name!r} must be lower case letters, digits and dashes"
        )
    if ccxt_id not in ccxt.exchanges:
        raise InvalidOrderInput(f"ccxt knows no exchange {ccxt_id!r}")
    if market_type not in ("spot", "swap", "future"):
        raise InvalidOrderInput(f"market type {market_type!r} is not spot, swap or future")
    module_name = name.replace("-", "_")
    adapter_path = root / "adapters" / f"{module_name}.py"
    test_path = root / contract_module(name).relative_to(REPO_ROOT)
    for path in (adapter_path, test_path):
        if path.exists():
            raise InvalidOrderInput(f"{path} exists already; not overwriting it")
    cls = _class_name(name)
    has = dict(getattr(ccxt, ccxt_id)().has)
    caps = _capabilities(has, market_type)
    capability_lines = "\n".join(f"        {k}={v}," for k, v in caps.names().items())
    adapter_path.write_text(
        ADAPTER_TEMPLATE.format(
            name=name,
            ccxt_id=ccxt_id,
            market_type=market_type,
            cls=cls,
            capabilities=capability_lines,
        )
    )
    liquid, cheap = ("BTC/USDT", "DOGE/USDT")
    if market_type != "spot":
        liquid, cheap = ("BTC/USDT:USDT", "DOGE/USDT:USDT")
    test_path.parent.mkdir(parents=True, exist_ok=True)
    test_path.write_text(
        TEST_TEMPLATE.format(name=name, cls=cls.removesuffix("Adapter"), liquid=liquid, cheap=cheap)
    )
    entry = f'{name} = "exsdk.adapters.{module_name}:{cls}"'
    _add_entry_point(root / "pyproject.toml", entry)
    steps = (
        f"check the capabilities in {adapter_path.relative_to(root)} "
        "(ccxt's has is per exchange, not per market type)",
        f"set the symbols in {test_path.relative_to(root)}",
        "make setup   # reinstall, so the new entry point is seen",
        f"EXSDK_RECORD_VENUE=testnet {rerecord_command(name)}   # with "
        "EXSDK_TESTNET_API_KEY / EXSDK_TESTNET_SECRET set",
        "make test",
    )
    return Scaffolded(adapter_path, test_path, entry, steps)


def _add_entry_point(pyproject: Path, entry: str) -> None:
    text = pyproject.read_text()
    if _ENTRY_HEADER not in text:
        text = text.rstrip("\n") + f"\n\n{_ENTRY_HEADER}\n"
    head, _, tail = text.partition(_ENTRY_HEADER + "\n")
    pyproject.write_text(head + _ENTRY_HEADER + "\n" + entry + "\n" + tail)
