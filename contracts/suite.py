"""The shared contract suite: every adapter, every scenario, written once.

An adapter's test module subclasses :class:`AdapterContract` and sets a few class
attributes (its registry name and symbols); it never overrides anything the suite
defines. A test skips only when the adapter does not declare a capability it needs, with
a readable reason; a contract the adapter is known to fail is declared in the adapter's
``known_gaps`` (with the reason) and runs as a strict xfail. Any other override, skip or
xfail is weakening: ``test_suite_not_weakened`` and the plugin fail it.
:class:`MethodContract` holds the contracts that need no venue (required methods), so
generic ccxt adapters run them without cassettes.

The suite names no exchange: what differs per venue (where its limits live, which
requests place orders, the codes of its rejections, how to script its bundled venue)
comes from the adapter's :class:`~exsdk.contracts.harness.VenueDialect`. Assertions are
in SDK terms (error classes, typed models, limits), compared with what the dialect says
the venue states.

Every venue-facing test runs against the adapter's own cassette under
``<cassettes>/<adapter-name>/`` (the project's ``exsdk_cassettes`` ini key, else
``cassettes/`` at its root); ``exsdk record`` re-records them against the bundled
simulator, the markets snapshot first. The async tests and fixtures are marked for
pytest-asyncio explicitly, so a project runs the suite in pytest-asyncio's default strict
mode without configuring anything.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

from exsdk.extras import MissingExtra

try:
    import pytest_asyncio
    import pytest_recording  # noqa: F401  (the vcr fixture and --record-mode)
except ModuleNotFoundError as exc:  # the contracts extra is not installed
    raise MissingExtra("the contract suite", exc.name or "pytest_asyncio", "contracts") from exc

from exsdk.adapter import Capabilities, CcxtAdapter
from exsdk.broker import Broker
from exsdk.broker.clock import VirtualClock
from exsdk.contracts.cassettes import (
    cassette_dir,
    cassettes_root,
    markets_snapshot,
    rerecord_command,
    vcr_config,
)
from exsdk.contracts.harness import (
    LIMIT_KEYS,
    VenueDialect,
    VenueHarness,
    build_adapter,
    dialect_for,
    load_markets_snapshot,
    venue_harness,
)
from exsdk.errors import (
    AuthenticationFailed,
    ClockSkew,
    InsufficientFunds,
    LiquidityRejected,
    RateLimited,
    SdkError,
    UnsupportedMethod,
    VenueRejected,
)
from exsdk.fills import fold_fill
from exsdk.journal import Journal
from exsdk.limits import Environment, minimal_order_amount, quantize_amount, quantize_price
from exsdk.models import BidAsk, ChildOrder, ChildStatus, MarketLimits, Order, OrderStatus, Side
from exsdk.registry import adapter_class, get_adapter
from exsdk.universe import DEFAULT_UNIVERSE

RECORD_MODES = ("once", "new_episodes", "all", "rewrite")
RUN_ID = "ct"  # fixed, so client order ids (and so request bodies) match on replay
_REQUIRES = "__exsdk_requires__"

_Test = TypeVar("_Test", bound=Callable[..., Any])


def _requires(*capabilities: str) -> Callable[[_Test], _Test]:
    """Declare the capabilities a contract test needs; the suite skips it without them.

    An attribute, not a marker: the plugin registers no marker in other projects' runs.
    """
    unknown = set(capabilities) - set(Capabilities().names())
    assert not unknown, f"no such capability: {unknown}"

    def mark(test: _Test) -> _Test:
        setattr(test, _REQUIRES, tuple(capabilities))
        return test

    return mark


def required_capabilities(test: Callable[..., Any]) -> tuple[str, ...]:
    """The capabilities a contract test is gated by (empty: it runs for every adapter)."""
    return tuple(getattr(test, _REQUIRES, ()))


# What a contract subclass may set; everything else the suite defines is not its to change.
CONFIGURATION = frozenset(
    {
        "adapter_name",
        "expected_missing",
        "liquid_symbol",
        "cheap_symbol",
        "thin_symbol",
    }
)
_WEAKENING_MARKS = frozenset({"xfail", "skip", "skipif"})


def _is_recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode", default="none") in RECORD_MODES


# Snapshots saved by this process: one per adapter and cassettes folder, however many
# contract classes share them.
_SNAPSHOTS_SAVED: set[Path] = set()


class MethodContract:
    """Contracts that need no venue: the unified methods the SDK relies on are present.

    ``expected_missing`` lists the ccxt methods the adapter is expected to lack; an empty
    tuple means construction must succeed.
    """

    __contract_suite__: ClassVar[bool] = True
    adapter_name: ClassVar[str]
    expected_missing: ClassVar[tuple[str, ...]] = ()

    def test_required_methods_present(self) -> None:
        """Building the adapter checks the methods before any request is made."""

        def build() -> object:
            # Port 9 (discard) is never listened on: a request would fail, not pass.
            return get_adapter(self.adapter_name, venue="sim", base_url="http://127.0.0.1:9")

        if not self.expected_missing:
            adapter = build()
            assert isinstance(adapter, CcxtAdapter) and adapter.exchange_id
            return
        with pytest.raises(UnsupportedMethod) as caught:
            build()
        assert set(self.expected_missing) <= set(caught.value.missing), caught.value.missing
        for method in self.expected_missing:
            assert method in str(caught.value)

    def test_suite_not_weakened(self, request: pytest.FixtureRequest) -> None:
        """Nothing the suite defines is deleted, overridden, skipped or xfailed by the
        subclass; known failures are the adapter's declared ``known_gaps``; the plugin that
        enforces this at run time is active."""
        problems = weakening(type(self))
        plugin = request.config.pluginmanager.get_plugin("exsdk_contracts")
        if plugin is None:
            problems.append(
                "the exsdk_contracts pytest plugin is disabled: it turns undeclared skips "
                "and xfails of contracts into failures"
            )
        assert not problems, "; ".join(problems)


def weakening(cls: type) -> list[str]:
    """Every way ``cls`` (a contract subclass) weakens the suite, as readable lines.

    Caught statically: a contract deleted or overridden (an xfail'd override included), a
    fixture or helper of the suite replaced, a skip or xfail mark on the class or its
    module, and ``known_gaps`` naming no contract or giving no reason. Marks added at run
    time (conftest hooks, ``pytest.xfail``) are caught by the plugin.
    """
    problems: list[str] = []
    name = cls.__name__
    defined = _suite_members(cls)
    for klass in cls.__mro__:
        if klass.__module__ == __name__ or klass is object:
            continue
        for attr in vars(klass):
            if attr in defined and attr not in CONFIGURATION:
                what = "contract" if attr.startswith("test_") else "suite member"
                problems.append(
                    f"{name} overrides {what} {attr}; declare a known failure in the "
                    f"adapter's known_gaps instead"
                )
    for attr in defined:
        if attr.startswith("test_") and getattr(cls, attr, None) is None:
            problems.append(f"{name} deletes contract {attr}")
    module = sys.modules.get(cls.__module__)
    for owner, marks in (
        (f"class {name}", getattr(cls, "pytestmark", [])),
        (f"module {cls.__module__}", getattr(module, "pytestmark", [])),
    ):
        for mark in marks if isinstance(marks, list) else [marks]:
            if getattr(mark, "name", None) in _WEAKENING_MARKS:
                problems.append(f"{owner} marks every contract {mark.name}")
    adapter_name = getattr(cls, "adapter_name", None)
    if adapter_name is not None:
        gaps = getattr(adapter_class(adapter_name), "known_gaps", {})
        contracts = _contract_tests(cls)
        for contract, reason in gaps.items():
            if contract not in contracts:
                problems.append(f"{adapter_name} declares a known gap for no contract: {contract}")
            if not str(reason or "").strip():
                problems.append(f"{adapter_name} declares known gap {contract} without a reason")
    return problems


def _contract_tests(cls: type) -> dict[str, Any]:
    """Every test defined by the suite's own classes, by name."""
    return {n: fn for n, fn in _suite_members(cls).items() if n.startswith("test_")}


def _suite_members(cls: type) -> dict[str, Any]:
    """Everything the suite's own classes define (tests, fixtures, helpers), by name."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ == __name__:
            for attr, value in vars(klass).items():
                if not (attr.startswith("__") and attr.endswith("__")):
                    members[attr] = value
    return members


class AdapterContract(MethodContract):
    """Every contract, run against an adapter's recorded cassettes.

    Subclasses set ``adapter_name``, ``liquid_symbol`` (trades freely), ``cheap_symbol``
    (one step of it is below the venue minimum) and, when the adapter declares
    ``liquidity_error``, ``thin_symbol`` (a market order on it is refused for liquidity;
    the bundled venue's book of it is made thin while recording). The adapter names its
    venue's :class:`~exsdk.contracts.harness.VenueDialect` in ``contract_dialect``.
    """

    liquid_symbol: ClassVar[str]
    cheap_symbol: ClassVar[str]
    thin_symbol: ClassVar[str | None] = None

    # -- fixtures ---------------------------------------------------------------------

    @pytest.fixture
    def dialect(self) -> VenueDialect:
        return dialect_for(self.adapter_name)

    @pytest.fixture
    def vcr_config(self, dialect: VenueDialect) -> dict[str, Any]:
        return vcr_config(dialect)

    @pytest.fixture
    def vcr_cassette_dir(self, request: pytest.FixtureRequest) -> str:
        return str(cassette_dir(cassettes_root(request.config), self.adapter_name))

    @pytest.fixture
    def default_cassette_name(self, request: pytest.FixtureRequest) -> str:
        return str(request.node.name)

    @pytest.fixture
    def recording(self, request: pytest.FixtureRequest) -> bool:
        return _is_recording(request.config)

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _markets_snapshot_saved(cls, request: pytest.FixtureRequest) -> None:
        """Recording: save the markets snapshot before the first contract test runs.

        Class-scoped, so it runs before any test's cassette is open (exchangeInfo stays
        out of the cassettes), in a thread of its own (no event loop of the tests').
        """
        if not _is_recording(request.config):
            return
        path = markets_snapshot(cassettes_root(request.config), cls.adapter_name)
        if path in _SNAPSHOTS_SAVED:
            return
        from exsdk.contracts.record import save_markets_snapshot

        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, save_markets_snapshot(cls.adapter_name, path)).result()
        _SNAPSHOTS_SAVED.add(path)

    @pytest.fixture(autouse=True)
    def _capability_gate(self, request: pytest.FixtureRequest) -> None:
        """Skip by a capability the adapter does not declare; xfail a declared known gap."""
        cls = adapter_class(self.adapter_name)
        declared = cls.capabilities.names()
        for capability in required_capabilities(request.function):
            if not declared.get(capability, False):
                pytest.skip(f"{self.adapter_name} does not declare capability '{capability}'")
        reason = cls.known_gaps.get(request.function.__name__)
        if reason:
            request.applymarker(
                pytest.mark.xfail(strict=True, reason=f"known gap of {self.adapter_name}: {reason}")
            )

    @pytest_asyncio.fixture
    async def harness(self, recording: bool) -> AsyncIterator[VenueHarness]:
        async with venue_harness(self.adapter_name, recording) as harness:
            yield harness

    @pytest.fixture
    def markets(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        root = cassettes_root(request.config)
        markets = load_markets_snapshot(markets_snapshot(root, self.adapter_name))
        for attr in ("liquid_symbol", "cheap_symbol", "thin_symbol"):
            symbol = getattr(self, attr, None)
            if symbol is not None and symbol not in markets:
                pytest.fail(
                    f"{type(self).__name__}.{attr} = {symbol!r} is not a market of "
                    f"{self.adapter_name} (its markets snapshot); set it in "
                    f"{type(self).__module__}",
                    pytrace=False,
                )
        return markets

    @pytest_asyncio.fixture
    async def adapter(
        self, harness: VenueHarness, markets: dict[str, Any]
    ) -> AsyncIterator[CcxtAdapter]:
        adapter = build_adapter(self.adapter_name, harness, markets)
        try:
            yield adapter
        finally:
            await adapter.close()

    @pytest.fixture
    def journal(self, tmp_path: Path) -> Iterator[Journal]:
        journal = Journal.open(tmp_path / "journal.sqlite")
        try:
            yield journal
        finally:
            journal.close()

    @pytest.fixture(autouse=True)
    def _every_recorded_request_replayed(
        self, request: pytest.FixtureRequest, recording: bool
    ) -> Iterator[None]:
        yield
        cassette = request.getfixturevalue("vcr") if "vcr" in request.fixturenames else None
        call_failed = getattr(request.node, "exsdk_call_failed", False)
        if cassette is None or recording or call_failed:
            return
        unplayed = [
            f"{r.method} {r.path}"
            for i, r in enumerate(cassette.requests)
            if not cassette.play_counts[i]
        ]
        assert not unplayed, (
            f"the adapter no longer makes {len(unplayed)} recorded request(s): {unplayed}; "
            f"re-record with: {rerecord_command(self.adapter_name)}"
        )

    # -- helpers ------------------------------------------------------------------------

    def broker(self, adapter: CcxtAdapter, journal: Journal, environment: Environment) -> Broker:
        """A broker on a virtual clock with the suite's fixed run id.

        The books the broker reads are kept in ``self.books``: a market order is sized at
        the mid of the book fetched just before it, and the tests check against that.
        """
        self.books: list[BidAsk] = []
        read_book = adapter.best_bid_ask

        async def remembering(symbol: str) -> BidAsk:
            book = await read_book(symbol)
            self.books.append(book)
            return book

        adapter.best_bid_ask = remembering  # type: ignore[method-assign]
        return Broker(adapter, environment, journal, VirtualClock(), run_id=RUN_ID)

    def arrival_mid(self, symbol: str) -> Decimal:
        """The mid of the last book the broker read for ``symbol``."""
        return [b for b in self.books if b.symbol == symbol][-1].mid

    @staticmethod
    def error_class(journal: Journal, child: ChildOrder) -> str:
        """The SDK error class journaled for a child."""
        mine = [
            e
            for e in journal.error_records(RUN_ID)
            if e["client_order_id"] == child.client_order_id
        ]
        assert mine, f"no error journaled for {child.client_order_id}"
        return str(mine[-1]["error_class"])

    def order(self, order_id: int, symbol: str, diff: Decimal, kind: str = "market") -> Order:
        """A parent order for ``symbol``, starting now for one minute."""
        now = VirtualClock().now()
        asset = DEFAULT_UNIVERSE.asset_for_symbol(symbol)
        return Order(
            order_id=order_id,
            creation_timestamp=now,
            asset_id=asset.asset_id,
            type_=kind,
            start_timestamp=now,
            end_timestamp=now + timedelta(minutes=1),
            curr_num_shares=Decimal(0),
            diff_num_shares=diff,
            tz="UTC",
            extra_params={"ccxt_symbol": symbol},
        )

    @staticmethod
    def order_posts(dialect: VenueDialect, cassette: Any) -> list[Any]:
        """The order placements a cassette holds, as the venue's dialect knows them."""
        return [r for r in cassette.requests if dialect.is_order_placement(r.method, r.path)]

    @staticmethod
    def assert_venue_code(dialect: VenueDialect, error: SdkError, as_class: type[SdkError]) -> None:
        """The error carries a code the venue sends for ``as_class`` (not a fallback)."""
        codes = dialect.rejection_codes(as_class.__name__)
        assert codes, f"dialect {dialect.name} names no code for {as_class.__name__}"
        assert str(error.code) in codes, (
            f"{as_class.__name__} carries code {error.code!r}; {dialect.name} sends "
            f"{sorted(codes)} for it"
        )

    async def sized(self, adapter: CcxtAdapter, symbol: str, multiple: int) -> Decimal:
        """``multiple`` times the minimal valid order at the current bid, on the grid."""
        limits = await self.limits(adapter, symbol)
        book = await adapter.best_bid_ask(symbol)
        return quantize_amount(limits, minimal_order_amount(limits, book.bid) * multiple)

    async def limits(self, adapter: CcxtAdapter, symbol: str) -> MarketLimits:
        markets = await adapter.load_markets()
        return markets[symbol]

    # -- 1. log in ------------------------------------------------------------------------

    @_requires("balances")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_login_with_good_keys(self, adapter: CcxtAdapter) -> None:
        balances = await adapter.fetch_balances()
        assert balances.by_currency, "a funded account reports balances"

    @_requires("balances")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_login_with_bad_keys_fails(
        self, harness: VenueHarness, markets: dict[str, Any], dialect: VenueDialect
    ) -> None:
        adapter = build_adapter(self.adapter_name, harness, markets, valid_credentials=False)
        try:
            with pytest.raises(AuthenticationFailed) as caught:
                await adapter.fetch_balances()
        finally:
            await adapter.close()
        self.assert_venue_code(dialect, caught.value, AuthenticationFailed)

    # -- 3. minimal-order limits ------------------------------------------------------------

    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_minimal_order_limits_match_the_venue(
        self, adapter: CcxtAdapter, dialect: VenueDialect
    ) -> None:
        markets = await adapter.load_markets()
        symbols = [self.liquid_symbol, self.cheap_symbol]
        if self.thin_symbol:
            symbols.append(self.thin_symbol)
        for symbol in symbols:
            limits = markets[symbol]
            venue = dialect.market_limits(limits.info)
            assert set(venue) == set(LIMIT_KEYS), f"{dialect.name} limits: {sorted(venue)}"
            assert venue["amount_step"] and venue["price_tick"], "the venue states its grids"
            for key in LIMIT_KEYS:
                assert getattr(limits, key) == venue[key], (
                    f"{symbol} {key}: the SDK reads {getattr(limits, key)}, "
                    f"{dialect.name} states {venue[key]}"
                )

    # -- 4 and 6. below the minimum; environment forcing ---------------------------------

    @_requires("market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_below_minimum_is_raised_and_placed_in_preprod(
        self, adapter: CcxtAdapter, journal: Journal
    ) -> None:
        limits = await self.limits(adapter, self.cheap_symbol)
        broker = self.broker(adapter, journal, Environment.PREPROD)
        [child] = await broker.submit_orders([self.order(1, self.cheap_symbol, limits.amount_step)])
        book_mid = self.arrival_mid(self.cheap_symbol)
        assert child.status == ChildStatus.CLOSED, child.reason
        assert child.amount == minimal_order_amount(limits, book_mid)
        assert child.amount * book_mid >= (limits.cost_min or 0)

    @_requires("market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_local_sends_the_minimal_valid_order(
        self, adapter: CcxtAdapter, journal: Journal
    ) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        broker = self.broker(adapter, journal, Environment.LOCAL)
        large = -await self.sized(adapter, self.liquid_symbol, 50)
        [child] = await broker.submit_orders([self.order(1, self.liquid_symbol, large)])
        mid = self.arrival_mid(self.liquid_symbol)
        assert child.status == ChildStatus.CLOSED, child.reason
        assert child.side == Side.SELL, "forcing keeps the parent's sign"
        assert child.amount == minimal_order_amount(limits, mid)

    @_requires("market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_preprod_sends_an_order_as_given(
        self, adapter: CcxtAdapter, journal: Journal, dialect: VenueDialect, vcr: Any
    ) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        broker = self.broker(adapter, journal, Environment.PREPROD)
        given = await self.sized(adapter, self.liquid_symbol, 7)
        [child] = await broker.submit_orders([self.order(1, self.liquid_symbol, given)])
        assert child.status == ChildStatus.CLOSED, child.reason
        assert child.amount == quantize_amount(limits, given)
        # The dialect recognises the placement it just made, so "nothing was placed"
        # elsewhere is a finding, not a blind spot.
        placed = self.order_posts(dialect, vcr)
        assert len(placed) == 1 and child.client_order_id in str(placed[0].body or placed[0].uri)

    @_requires("market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_prod_refuses_below_minimum_without_sending(
        self, adapter: CcxtAdapter, journal: Journal, dialect: VenueDialect, vcr: Any
    ) -> None:
        limits = await self.limits(adapter, self.cheap_symbol)
        broker = self.broker(adapter, journal, Environment.PROD)
        [child] = await broker.submit_orders([self.order(1, self.cheap_symbol, limits.amount_step)])
        assert child.status == ChildStatus.REJECTED
        assert child.reason and "below the venue minimum" in child.reason
        assert child.ccxt_order_id is None
        assert self.order_posts(dialect, vcr) == [], "nothing may reach the venue"

    # -- 5. liquidity rejection -------------------------------------------------------------

    @_requires("liquidity_error", "market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_liquidity_rejection_is_recorded_not_retried(
        self,
        adapter: CcxtAdapter,
        journal: Journal,
        harness: VenueHarness,
        dialect: VenueDialect,
        vcr: Any,
    ) -> None:
        assert self.thin_symbol, "an adapter declaring liquidity_error names a thin symbol"
        # While recording on the bundled venue its book is made thin; on replay the
        # cassette holds the venue's refusal.
        harness.make_thin((await self.limits(adapter, self.thin_symbol)).market_id)
        liquid = await self.limits(adapter, self.liquid_symbol)
        broker = self.broker(adapter, journal, Environment.LOCAL)
        orders = [
            self.order(1, self.thin_symbol, Decimal(5)),
            self.order(2, self.liquid_symbol, liquid.amount_min or liquid.amount_step),
        ]
        thin, ok = await broker.submit_orders(orders)
        assert thin.status == ChildStatus.REJECTED
        assert self.error_class(journal, thin) == LiquidityRejected.__name__
        [record] = [
            e for e in journal.error_records(RUN_ID) if e["client_order_id"] == thin.client_order_id
        ]
        codes = dialect.rejection_codes(LiquidityRejected.__name__)
        assert str(record["code"]) in codes, f"code {record['code']}; {dialect.name}: {codes}"
        assert ok.status == ChildStatus.CLOSED, "the other orders of the batch go through"
        thin_posts = [
            r
            for r in self.order_posts(dialect, vcr)
            if thin.client_order_id in str(r.body or r.uri)
        ]
        assert len(thin_posts) == 1, "a liquidity rejection is never retried"

    # -- 7. market order -> one OMS fill -------------------------------------------------------

    @_requires("market_orders", "order_trades")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_market_order_folds_into_one_oms_fill(
        self, adapter: CcxtAdapter, journal: Journal
    ) -> None:
        broker = self.broker(adapter, journal, Environment.PREPROD)
        amount = await self.sized(adapter, self.liquid_symbol, 20)
        [child] = await broker.submit_orders([self.order(1, self.liquid_symbol, amount)])
        [fill] = await broker.get_fills()
        assert child.ccxt_order_id is not None
        trades = await adapter.fetch_order_trades(self.liquid_symbol, order_id=child.ccxt_order_id)
        assert len(trades) >= 1
        total = sum((t.amount for t in trades), Decimal(0))
        assert fill.quantity == total == child.amount
        assert fill.price == sum((t.amount * t.price for t in trades), Decimal(0)) / total
        fees: dict[str, Decimal] = {}
        for trade in trades:
            for fee in trade.all_fees():
                fees[fee.currency or ""] = fees.get(fee.currency or "", Decimal(0)) + fee.cost
        assert fill.fees == fees
        assert fill.num_trades == len(trades)

    # -- 8. limit order partly filled, then cancelled ----------------------------------------

    @_requires("limit_orders", "cancel", "order_trades")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_partly_filled_limit_order_then_cancelled(
        self, adapter: CcxtAdapter, harness: VenueHarness
    ) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        book = await adapter.best_bid_ask(self.liquid_symbol)
        assert book.ask_size is not None
        price = quantize_price(limits, book.bid)
        amount = quantize_amount(limits, book.ask_size * 5)
        cid = f"x{RUN_ID}-partial"
        order = await adapter.create_order(
            self.liquid_symbol, "limit", Side.BUY, amount, price, client_order_id=cid
        )
        assert order.status == OrderStatus.OPEN
        # The price falls by one spread: the best ask reaches our bid, one level trades.
        harness.move_price(limits.market_id, book.mid - (book.ask - book.bid))
        canceled = await adapter.cancel_order(self.liquid_symbol, order_id=order.id)
        assert canceled.status == OrderStatus.CANCELED
        assert canceled.filled is not None and 0 < canceled.filled < amount
        trades = await adapter.fetch_order_trades(self.liquid_symbol, order_id=order.id)
        parent = self.order(1, self.liquid_symbol, amount, kind="limit")
        child = ChildOrder(
            parent_order_id=1,
            asset_id=parent.asset_id,
            wave=0,
            client_order_id=cid,
            symbol=self.liquid_symbol,
            side=Side.BUY,
            order_type="limit",
            amount=amount,
            limit_price=price,
            status=ChildStatus.CANCELED,
            ccxt_order_id=order.id,
        )
        fill = fold_fill(
            parent, symbol=self.liquid_symbol, quote=limits.quote, children=[child], trades=trades
        )
        assert fill.quantity == canceled.filled, "the fill holds the filled part only"
        assert fill.price == price, "a resting buy fills at its own price"

    # -- 9. positions and balances after trading -------------------------------------------

    @_requires("positions", "market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_open_position_after_trading(self, adapter: CcxtAdapter) -> None:
        amount = await self.sized(adapter, self.liquid_symbol, 3)
        order = await adapter.create_order(
            self.liquid_symbol, "market", Side.SELL, amount, client_order_id=f"x{RUN_ID}-pos"
        )
        positions = {p.symbol: p for p in await adapter.fetch_positions([self.liquid_symbol])}
        assert positions[self.liquid_symbol].amount == -(order.filled or 0) == -amount

    @_requires("balances", "market_orders", "order_trades")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_balances_move_with_a_trade(self, adapter: CcxtAdapter) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        before = await adapter.fetch_balances()
        amount = await self.sized(adapter, self.liquid_symbol, 3)
        order = await adapter.create_order(
            self.liquid_symbol, "market", Side.BUY, amount, client_order_id=f"x{RUN_ID}-bal"
        )
        trades = await adapter.fetch_order_trades(self.liquid_symbol, order_id=order.id)
        after = await adapter.fetch_balances()
        fees = {
            cur: sum(
                (f.cost for t in trades for f in t.all_fees() if f.currency == cur), Decimal(0)
            )
            for cur in (limits.base, limits.settle or limits.quote)
        }
        if limits.contract:
            # Futures: the wallet pays the fees; the position is not a balance.
            settle = limits.settle or limits.quote
            used_before = before.by_currency[settle].used
            used_after = after.by_currency[settle].used
            assert used_before is not None and used_after is not None, "used margin is reported"
            assert used_after > used_before, "margin is set aside"
        else:
            bought = sum((t.amount for t in trades), Decimal(0))
            delta = after.total(limits.base) - before.total(limits.base)
            assert delta == bought - fees[limits.base]
            spent = sum((t.amount * t.price for t in trades), Decimal(0))
            quote_delta = before.total(limits.quote) - after.total(limits.quote)
            assert quote_delta == spent + fees[limits.quote]

    # -- 10. fetch by client order id -------------------------------------------------------

    @_requires("fetch_by_client_order_id", "limit_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_fetch_order_by_client_order_id(self, adapter: CcxtAdapter) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        book = await adapter.best_bid_ask(self.liquid_symbol)
        cid = f"x{RUN_ID}-lookup"
        placed = await adapter.create_order(
            self.liquid_symbol,
            "limit",
            Side.BUY,
            await self.sized(adapter, self.liquid_symbol, 2),
            quantize_price(limits, book.bid * Decimal("0.98")),
            client_order_id=cid,
        )
        found = await adapter.fetch_order(self.liquid_symbol, client_order_id=cid)
        assert found.id == placed.id
        assert found.client_order_id == cid
        assert found.status == OrderStatus.OPEN

    # -- 10b. open orders, leverage, reduce-only ------------------------------------------

    @_requires("open_orders", "limit_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_open_orders_list_a_resting_order(self, adapter: CcxtAdapter) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        book = await adapter.best_bid_ask(self.liquid_symbol)
        cid = f"x{RUN_ID}-open"
        price = quantize_price(limits, book.bid * Decimal("0.97"))
        amount = await self.sized(adapter, self.liquid_symbol, 2)
        placed = await adapter.create_order(
            self.liquid_symbol, "limit", Side.BUY, amount, price, client_order_id=cid
        )
        [listed] = await adapter.fetch_open_orders(self.liquid_symbol)
        assert (listed.id, listed.client_order_id) == (placed.id, cid)
        assert listed.status == OrderStatus.OPEN
        assert (listed.price, listed.amount, listed.side) == (price, amount, Side.BUY)

    @_requires("leverage", "positions", "market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_leverage_sets_the_margin_of_a_position(self, adapter: CcxtAdapter) -> None:
        leverage = 2
        await adapter.set_leverage(self.liquid_symbol, leverage)
        amount = await self.sized(adapter, self.liquid_symbol, 3)
        await adapter.create_order(
            self.liquid_symbol, "market", Side.BUY, amount, client_order_id=f"x{RUN_ID}-lev"
        )
        [position] = await adapter.fetch_positions([self.liquid_symbol])
        assert position.amount == amount
        if position.leverage is not None:
            assert position.leverage == leverage
        # Venues that leave the leverage out of the position still charge by it.
        assert position.initial_margin is not None and position.notional is not None
        expected = abs(position.notional) / leverage
        assert abs(position.initial_margin - expected) <= expected * Decimal("1e-6"), (
            f"initial margin {position.initial_margin} is not notional/{leverage} = {expected}"
        )

    @_requires("reduce_only", "positions", "market_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_reduce_only_closes_and_never_opens(
        self, adapter: CcxtAdapter, dialect: VenueDialect
    ) -> None:
        amount = await self.sized(adapter, self.liquid_symbol, 3)
        with pytest.raises(VenueRejected) as caught:
            await adapter.create_order(
                self.liquid_symbol,
                "market",
                Side.BUY,
                amount,
                client_order_id=f"x{RUN_ID}-ro-flat",
                reduce_only=True,
            )
        self.assert_venue_code(dialect, caught.value, VenueRejected)
        assert await adapter.fetch_positions([self.liquid_symbol]) == [], "nothing opened"
        await adapter.create_order(
            self.liquid_symbol, "market", Side.SELL, amount, client_order_id=f"x{RUN_ID}-ro-open"
        )
        closing = await adapter.create_order(
            self.liquid_symbol,
            "market",
            Side.BUY,
            amount,
            client_order_id=f"x{RUN_ID}-ro-close",
            reduce_only=True,
        )
        assert closing.filled == amount
        assert await adapter.fetch_positions([self.liquid_symbol]) == [], "the short is closed"

    # -- 11. errors ---------------------------------------------------------------------------

    @_requires("limit_orders")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_insufficient_funds(self, adapter: CcxtAdapter, dialect: VenueDialect) -> None:
        limits = await self.limits(adapter, self.liquid_symbol)
        book = await adapter.best_bid_ask(self.liquid_symbol)
        price = quantize_price(limits, book.bid)
        # Worth more than any test account holds, yet inside the venue's own maximums:
        # a venue refuses an order above those before it looks at the balance.
        notional = Decimal(5_000_000)
        if limits.cost_max:
            notional = min(notional, limits.cost_max * Decimal("0.9"))
        wanted = notional / price
        if limits.amount_max:
            wanted = min(wanted, limits.amount_max * Decimal("0.9"))
        amount = quantize_amount(limits, wanted)
        with pytest.raises(InsufficientFunds) as caught:
            await adapter.create_order(
                self.liquid_symbol, "limit", Side.BUY, amount, price, client_order_id="xct-funds"
            )
        self.assert_venue_code(dialect, caught.value, InsufficientFunds)

    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_rate_limited(
        self, adapter: CcxtAdapter, harness: VenueHarness, dialect: VenueDialect
    ) -> None:
        # The venue asks for a short wait (about a second): the adapter holds its next
        # request that long (replayed too).
        harness.rate_limit_first("GET")
        with pytest.raises(RateLimited) as caught:
            await adapter.best_bid_ask(self.liquid_symbol)
        self.assert_venue_code(dialect, caught.value, RateLimited)
        book = await adapter.best_bid_ask(self.liquid_symbol)
        assert book.bid < book.ask

    @_requires("clock_sync", "balances")
    @pytest.mark.vcr
    @pytest.mark.asyncio
    async def test_clock_skew_then_success_after_sync(
        self, adapter: CcxtAdapter, harness: VenueHarness, dialect: VenueDialect
    ) -> None:
        harness.skew_clock(30_000)
        with pytest.raises(ClockSkew) as caught:
            await adapter.fetch_balances()
        self.assert_venue_code(dialect, caught.value, ClockSkew)
        # The adapter measured the venue's clock when it saw the skew: the retry is accepted.
        balances = await adapter.fetch_balances()
        assert balances.by_currency
