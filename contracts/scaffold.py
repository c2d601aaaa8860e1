"""``exsdk new-adapter NAME --ccxt-id ID``: write an adapter module and its contract tests.

Everything goes into the project of the current directory (:class:`Project`): this
repository (``adapters/<name>.py``, entry point ``exsdk.adapters.<name>``) or a package of
the user's own (``<package>/<name>.py``, entry point ``<package>.<name>``).

The adapter's capabilities come from ccxt's ``has`` through
:func:`~exsdk.adapter.requirements.derive_capabilities`, the function ``ccxt:<id>``
adapters use, so the scaffold and ``ccxt:<id>`` agree; the class runs the same
required-methods check at construction. An exchange the bundled simulator speaks (a
built-in adapter of the same ccxt id and market type names a dialect with a bundled
venue) builds on that adapter, records against the simulator with no keys, and gets
symbols picked from the simulator's markets (offline, on loopback). Any other exchange
builds on ``CcxtAdapter``; its symbols and its ``contract_dialect`` are placeholders the
developer fills (the suite says so until they are), and it records against a testnet.
The entry point is added to the project's ``pyproject.toml`` so the registry finds it.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import ccxt

from exsdk.adapter import Capabilities, CcxtAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.requirements import derive_capabilities
from exsdk.contracts.cassettes import rerecord_command
from exsdk.contracts.harness import RECORD_SEED, dialect_for
from exsdk.contracts.project import Project
from exsdk.errors import InvalidOrderInput, SdkError
from exsdk.registry import BUILTIN_ADAPTERS, adapter_class, get_adapter

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
{body}'''

_OWN_BODY = """    default_options: ClassVar[Mapping[str, Any]] = {{
        **{base_class}.default_options,
        "defaultType": "{market_type}",
    }}
    # The contract suite needs this venue's dialect: "module:attribute" of an object
    # implementing exsdk.contracts.harness.VenueDialect (where its limits live, which
    # requests place orders, its error codes, its hosts and secret headers).
    contract_dialect: ClassVar[str | None] = None  # set me
"""

_SIBLING_BODY = """    # Options, dialect, request costs and reply shapes: those of {base_class}.
    default_options: ClassVar[Mapping[str, Any]] = {base_class}.default_options
"""

TEST_TEMPLATE = '''"""{name} against the shared contract suite."""

from exsdk.contracts import AdapterContract


class Test{cls}(AdapterContract):
    """{name}: every contract, replayed from cassettes/{name}/."""

    adapter_name = "{name}"
    liquid_symbol = "{liquid}"  # a symbol that trades freely
    cheap_symbol = "{cheap}"  # one amount step of it is below the venue minimum
'''

PLACEHOLDER_PREFIX = "<set me:"
"""How a symbol the scaffold could not know starts; the suite refuses to run with one."""

_LIQUID_BASES = ("BTC", "ETH")
_CHEAP_BASES = ("DOGE", "XRP", "TRX", "ADA", "XLM", "SHIB", "1000SHIB", "PEPE", "1000PEPE")
_QUOTE = "USDT"


@attrs.frozen
class Scaffolded:
    """What ``new_adapter`` wrote."""

    adapter_module: Path
    test_module: Path
    pyproject: Path
    entry_point: str
    next_steps: tuple[str, ...]
    symbols_known: bool = True  # False: the contract module holds placeholders


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Adapter"


def _has(ccxt_id: str) -> dict[str, object]:
    return dict(getattr(ccxt, ccxt_id)().has)


def scaffold_capabilities(ccxt_id: str, market_type: str) -> Capabilities:
    """The capabilities ``new-adapter`` writes: ccxt's ``has`` through
    :func:`~exsdk.adapter.requirements.derive_capabilities`, as ``ccxt:<id>`` has them."""
    return derive_capabilities(_has(ccxt_id), market_type)


def bundled_sibling(ccxt_id: str, market_type: str) -> str | None:
    """The built-in adapter of ``ccxt_id`` and ``market_type`` whose dialect the bundled
    simulator speaks, if there is one (its name)."""
    for name in BUILTIN_ADAPTERS:
        cls = adapter_class(name)
        if (cls.ccxt_id, getattr(cls, "market_type", "spot")) != (ccxt_id, market_type):
            continue
        if cls.contract_dialect:
            return name
    return None


def speaks_sim(ccxt_id: str, market_type: str = "spot") -> bool:
    """Whether the bundled simulator speaks this exchange's protocol (records with no keys)."""
    return bundled_sibling(ccxt_id, market_type) is not None


def default_market_type(ccxt_id: str) -> str:
    """The market type of the one built-in adapter of ``ccxt_id``, else ``spot``."""
    types = {
        getattr(adapter_class(n), "market_type", "spot")
        for n in BUILTIN_ADAPTERS
        if adapter_class(n).ccxt_id == ccxt_id
    }
    return types.pop() if len(types) == 1 else "spot"


async def _symbols_on_bundled_venue(sibling: str) -> tuple[str, str] | None:
    """A liquid symbol and one whose amount step is below the minimum order, from the
    markets and books the bundled venue serves (on loopback, no network)."""
    bundled = dialect_for(sibling).bundled_venue(RECORD_SEED)
    if bundled is None:
        return None
    async with bundled as venue:
        adapter = get_adapter(
            sibling,
            venue=Venue.SIM,
            base_url=venue.base_url,
            credentials=Credentials(venue=Venue.SIM, api_key=venue.api_key, secret=venue.secret),
            markets_cache=False,
            ccxt_options={"enableRateLimit": False},
        )
        assert isinstance(adapter, CcxtAdapter)
        async with adapter:
            markets = await adapter.load_markets()

            def symbol(base: str) -> str | None:
                candidate = adapter.symbol_for(base, _QUOTE)
                return candidate if candidate in markets else None

            liquid = next((s for b in _LIQUID_BASES if (s := symbol(b))), None)
            for base in _CHEAP_BASES:
                cheap = symbol(base)
                if liquid is None or cheap is None:
                    continue
                limits = markets[cheap]
                book = await adapter.best_bid_ask(cheap)
                if limits.cost_min and limits.amount_step * book.bid < limits.cost_min:
                    return liquid, cheap
    return None


def pick_symbols(ccxt_id: str, market_type: str) -> tuple[str, str] | None:
    """``(liquid, cheap)`` symbols that exist on the exchange, when knowable offline."""
    sibling = bundled_sibling(ccxt_id, market_type)
    if sibling is None:
        return None
    # A thread of its own: the caller may be inside an event loop (a test, a notebook).
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _symbols_on_bundled_venue(sibling)).result()


def new_adapter(
    name: str, ccxt_id: str, *, market_type: str | None = None, project: Project | None = None
) -> Scaffolded:
    """Write the adapter module, its contract module and its entry point into ``project``.

    ``project`` defaults to the current directory's (:meth:`Project.here`, which refuses a
    directory without ``pyproject.toml``). ``market_type`` defaults to the market type of
    the one built-in adapter of ``ccxt_id``, else ``spot``.
    """
    if not _NAME.match(name):
        raise InvalidOrderInput(
            f"adapter name {name!r} must be lower case letters, digits and dashes"
        )
    if ccxt_id not in ccxt.exchanges:
        raise InvalidOrderInput(f"ccxt knows no exchange {ccxt_id!r}")
    if market_type is None:
        market_type = default_market_type(ccxt_id)
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
    caps = scaffold_capabilities(ccxt_id, market_type)
    capability_lines = "\n".join(f"        {k}={v}," for k, v in caps.names().items())
    sibling = bundled_sibling(ccxt_id, market_type)
    if sibling is not None:
        base = adapter_class(sibling)
        base_module, base_class = base.__module__, base.__name__
        body = _SIBLING_BODY.format(base_class=base_class)
    else:
        base_module, base_class = "exsdk.adapter", CcxtAdapter.__name__
        body = _OWN_BODY.format(base_class=base_class, market_type=market_type)
    try:
        picked = pick_symbols(ccxt_id, market_type)
    except (SdkError, OSError):  # the bundled venue could not start: say so in the file
        picked = None
    kind = f"{ccxt_id} {market_type}"
    liquid, cheap = picked or (
        f"{PLACEHOLDER_PREFIX} a liquid {kind} symbol>",
        f"{PLACEHOLDER_PREFIX} a {kind} symbol whose amount step is below the minimum order>",
    )
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
            body=body,
        )
    )
    test_path.parent.mkdir(parents=True, exist_ok=True)
    test_path.write_text(
        TEST_TEMPLATE.format(name=name, cls=cls.removesuffix("Adapter"), liquid=liquid, cheap=cheap)
    )
    entry = f'{name} = "{project.package}.{module_name}:{cls}"'
    _add_entry_point(project.pyproject, entry)
    steps = [
        f"check the capabilities in {adapter_path.relative_to(root)} "
        "(ccxt's has is per exchange, not per market type)",
    ]
    if sibling is None:
        steps.append(
            f"set contract_dialect in {adapter_path.relative_to(root)} "
            "(an exsdk.contracts.harness.VenueDialect for this venue)"
        )
    if picked is None:
        steps.append(f"set the symbols in {test_path.relative_to(root)} (placeholders now)")
    steps.append(f"{project.install_command()}   # reinstall, so the new entry point is seen")
    if sibling is not None:
        steps.append(f"{rerecord_command(name)}   # against the bundled simulator, no keys")
    else:
        steps.append(
            f"EXSDK_RECORD_VENUE=testnet {rerecord_command(name)}   # with "
            "EXSDK_TESTNET_API_KEY / EXSDK_TESTNET_SECRET set"
        )
    steps.append("make test" if project.is_exsdk else "pytest   # replays the cassettes offline")
    return Scaffolded(
        adapter_path, test_path, project.pyproject, entry, tuple(steps), picked is not None
    )


def _add_entry_point(pyproject: Path, entry: str) -> None:
    text = pyproject.read_text()
    if _ENTRY_HEADER not in text:
        text = text.rstrip("\n") + f"\n\n{_ENTRY_HEADER}\n"
    head, _, tail = text.partition(_ENTRY_HEADER + "\n")
    pyproject.write_text(head + _ENTRY_HEADER + "\n" + entry + "\n" + tail)
