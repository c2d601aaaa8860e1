"""Malformed venue replies at the adapter boundary, and secrets in ccxt's DEBUG logs.

ccxt's parsers raise plain ``TypeError``/``ValueError``/... on a reply of the wrong types
and read some bodies of the wrong shape as an empty result; the adapter turns both into
SDK errors naming the exchange and the method, on one line. Nothing else it catches:
cancellation, interrupts and test machinery pass straight through.
"""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.adapter import (
    CCXT_LOGGERS,
    LIST_REPLY,
    ReplyShape,
    SecretRedactingFilter,
    Venue,
    redact_secrets,
)
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.replies import json_of
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.contracts.harness import CassetteMiss
from exsdk.errors import OrderOutcomeUnknown, TransientVenueError
from exsdk.models import Side

from .adapter_fakes import FakeVenue, sample

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

KEY = "malKEYmalKEYmalKEYmalKEYmalKEYmalKEYmalKEYmalKEYmalKEYmalKEY0001"
SECRET = "malSECRETmalSECRETmalSECRETmalSECRETmalSECRETmalSECRETmalSEC0002"
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
CREDS = Credentials(venue=Venue.DEMO, api_key=KEY, secret=SECRET)
TRADES = ("GET", "/fapi/v1/userTrades")


def _futures(venue: FakeVenue) -> BinanceFuturesAdapter:
    adapter = BinanceFuturesAdapter(
        Venue.DEMO, CREDS, markets_cache=False, ccxt_options={"enableRateLimit": False}
    )
    venue.install(adapter.exchange)
    return adapter


def _spot(venue: FakeVenue) -> BinanceSpotAdapter:
    adapter = BinanceSpotAdapter(
        Venue.DEMO, CREDS, markets_cache=False, ccxt_options={"enableRateLimit": False}
    )
    venue.install(adapter.exchange)
    return adapter


def _serve_raw(adapter: Any, path: str, text: str) -> None:
    """Answer ``path`` with the raw body ``text`` the way ccxt's fetch does: the parsed
    JSON when it is JSON, else the text itself."""
    inner = adapter.exchange.fetch

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if path not in url:
            return await inner(url, method, headers, body)
        adapter.exchange.on_rest_response(200, "OK", url, method, {}, text, headers, body)
        adapter.exchange.last_http_response = text
        parsed = adapter.exchange.parse_json(text)
        return text if parsed is None else parsed

    adapter.exchange.fetch = fetch


def _assert_clear(error: BaseException, method: str) -> None:
    message = str(error)
    assert getattr(error, "exchange", None) == "binanceusdm"
    assert f"binanceusdm {method}: " in message
    assert "\n" not in message


# ----- parser errors inside ccxt --------------------------------------------------------


@pytest.mark.parametrize(
    "raised", [TypeError("x\ny"), ValueError("NaN"), AttributeError("keys"), KeyError("a")]
)
async def test_a_parser_error_after_a_reply_is_transient(
    futures_venue: FakeVenue, raised: Exception
) -> None:
    # A read whose reply is not well-formed is retried (issue 13, defect 5), never final.
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()

        async def broken(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            reply = '{"orderId": {"a": 1}}'
            adapter.exchange.on_rest_response(200, "OK", url, method, {}, reply, headers, body)
            raise raised

        adapter.exchange.fetch = broken
        with pytest.raises(TransientVenueError) as info:
            await adapter.fetch_order("BTC/USDT:USDT", order_id="1")
    _assert_clear(info.value, "fetch_order")
    assert "malformed reply" in str(info.value)
    assert info.value.__cause__ is raised


async def test_a_parser_error_on_a_body_that_is_not_json_is_transient(
    futures_venue: FakeVenue,
) -> None:
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()

        async def broken(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            reply = "<html>502 Bad Gateway</html>"
            adapter.exchange.on_rest_response(502, "Bad", url, method, {}, reply, headers, body)
            raise TypeError("argument of type 'int' is not iterable")

        adapter.exchange.fetch = broken
        with pytest.raises(TransientVenueError) as info:
            await adapter.fetch_open_orders("BTC/USDT:USDT")
    _assert_clear(info.value, "fetch_open_orders")


async def test_a_garbled_create_reply_leaves_the_outcome_unknown(
    futures_venue: FakeVenue,
) -> None:
    # The venue answered: it may have placed the order; the broker must look it up.
    futures_venue.routes[("POST", "/fapi/v1/order")] = {
        "orderId": 1,
        "symbol": "BTCUSDT",
        "status": "NEW",
        "origQty": "NaN",
        "executedQty": "1",
        "side": "BUY",
    }
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        with pytest.raises(OrderOutcomeUnknown) as info:
            await adapter.create_order(
                "BTC/USDT:USDT", "market", Side.BUY, Decimal("0.01"), client_order_id="c-1"
            )
    _assert_clear(info.value, "create_order")


async def test_an_error_before_any_reply_is_not_disguised(futures_venue: FakeVenue) -> None:
    # No reply arrived: a TypeError is a bug in the request, not the venue's doing.
    async with _futures(futures_venue) as adapter:

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise TypeError("fetch_order() takes 2 positional arguments")

        adapter.exchange.fetch_order = broken
        with pytest.raises(TypeError):
            await adapter.fetch_order("BTC/USDT:USDT", order_id="1")


@pytest.mark.parametrize(
    "raised",
    [
        asyncio.CancelledError(),
        KeyboardInterrupt(),
        CassetteMiss("no recorded interaction"),
        RuntimeError("vcrpy: cannot overwrite existing cassette"),
    ],
    ids=["cancelled", "interrupt", "cassette-miss", "other-exception"],
)
async def test_other_exceptions_pass_through(
    futures_venue: FakeVenue, raised: BaseException
) -> None:
    async with _futures(futures_venue) as adapter:

        async def broken(*args: Any, **kwargs: Any) -> Any:
            adapter.exchange.last_http_response = "{}"
            raise raised

        adapter.exchange.fetch_open_orders = broken
        with pytest.raises(type(raised)) as info:
            await adapter.fetch_open_orders("BTC/USDT:USDT")
    assert info.value is raised


# ----- garbage read as an empty result ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", TransientVenueError),
        ("null", TransientVenueError),
        ('{"orderId": 1}', TransientVenueError),
        ("", TransientVenueError),
        ("<html>oops</html>", TransientVenueError),
        ('[{"id": 1, "orderId": 7', TransientVenueError),
    ],
)
async def test_a_trades_body_that_is_not_a_list_is_not_no_trades(
    futures_venue: FakeVenue, text: str, expected: type[Exception]
) -> None:
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        _serve_raw(adapter, "/fapi/v1/userTrades", text)
        with pytest.raises(expected) as info:
            await adapter.fetch_order_trades("BTC/USDT:USDT", order_id="7")
    _assert_clear(info.value, "fetch_my_trades")


async def test_an_empty_trades_list_is_still_no_trades(futures_venue: FakeVenue) -> None:
    futures_venue.routes[TRADES] = []
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        assert await adapter.fetch_order_trades("BTC/USDT:USDT", order_id="7") == []
        futures_venue.routes[("GET", "/fapi/v1/openOrders")] = []
        assert await adapter.fetch_open_orders("BTC/USDT:USDT") == []


async def test_account_shapes_are_per_market_type(
    futures_venue: FakeVenue, spot_venue: FakeVenue
) -> None:
    futures_venue.routes[("GET", "/fapi/v3/account")] = sample(
        "futures_account_v3_real_with_position.json"
    )
    spot_venue.routes[("GET", "/api/v3/account")] = sample("spot_account_real.json")
    async with _futures(futures_venue) as futures, _spot(spot_venue) as spot:
        assert (await futures.fetch_balances()).by_currency
        assert (await spot.fetch_balances()).by_currency
        # Each venue's account body is garbage to the other.
        futures_venue.routes[("GET", "/fapi/v3/account")] = sample("spot_account_real.json")
        spot_venue.routes[("GET", "/api/v3/account")] = {"assets": "none", "balances": 3}
        with pytest.raises(TransientVenueError, match="'assets'") as info:
            await futures.fetch_balances()
        _assert_clear(info.value, "fetch_balance")
        with pytest.raises(TransientVenueError, match="'balances'"):
            await spot.fetch_balances()


async def test_overlapping_calls_judge_their_own_bodies(futures_venue: FakeVenue) -> None:
    # Two calls in flight share last_http_response: each judges its own reply only.
    futures_venue.routes[TRADES] = []
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        inner = adapter.exchange.fetch

        async def slow(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            result = await inner(url, method, headers, body)
            await asyncio.sleep(0.01)
            if "userTrades" not in url:
                adapter.exchange.last_http_response = "{}"  # the other call's reply lands
            return result

        adapter.exchange.fetch = slow
        futures_venue.routes[("GET", "/fapi/v1/openOrders")] = []
        trades, orders = await asyncio.gather(
            adapter.fetch_order_trades("BTC/USDT:USDT", order_id="7"),
            adapter.fetch_open_orders("BTC/USDT:USDT"),
        )
    assert trades == [] and orders == []


def test_reply_shapes() -> None:
    assert LIST_REPLY.mismatch([]) is None
    assert LIST_REPLY.mismatch({}) == "expected a list, got an object"
    account = ReplyShape(dict, {"balances": list})
    assert account.mismatch({"balances": []}) is None
    assert account.mismatch({}) == "expected 'balances' to be a list, got nothing"
    assert account.mismatch({"balances": 3}) == "expected 'balances' to be a list, got an int"
    assert account.mismatch([1]) == "expected an object, got a list"


_EDGE_BODIES = [
    "",
    " ",
    "null",
    "[]",
    "{}",
    '{"a": NaN, "b": Infinity, "c": -Infinity}',  # the standard library's extensions
    '{"id": 123456789012345678901234567890}',  # past 64 bits: orjson reads a float
    '{"orderId": 18446744073709551616}',  # 2**64
    '{"orderId": -9223372036854775809}',  # below a signed 64-bit integer, 19 digits
    '{"orderId": 9223372036854775807, "t": 1.0}',  # the largest signed 64-bit integer
    "1e400",
    '"\\ud800"',  # a lone surrogate escape
    "[" * 2000 + "]" * 2000,  # nested past orjson's limit (and the stdlib's recursion)
    "[1,]",
    "{'a': 1}",
    '{"a": 1} trailing',
    "<html>502 Bad Gateway</html>",
    '{"a": 1, "a": 2}',
    "\ufeff{}",
]


def _stdlib_json_of(body: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


@pytest.mark.parametrize("body", _EDGE_BODIES)
def test_json_of_reads_as_the_standard_library_does(body: str) -> None:
    # The fast parser must not change what counts as JSON (a reply it refused that the
    # standard library reads would turn a placed order's outcome into "unknown").
    got, want = json_of(body), _stdlib_json_of(body)
    assert got[0] == want[0]
    assert repr(got[1]) == repr(want[1])  # NaN compares unequal to itself; repr does not


def test_json_of_reads_real_venue_bodies_as_the_standard_library_does() -> None:
    bodies = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.rglob("*.json"))]
    assert len(bodies) > 20
    for body in bodies:
        assert json_of(body) == _stdlib_json_of(body)


# ----- model validation at the boundary --------------------------------------------------


async def test_model_validation_errors_name_the_exchange(futures_venue: FakeVenue) -> None:
    futures_venue.routes[("GET", "/fapi/v1/openOrders")] = [{"symbol": "BTCUSDT"}]
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        with pytest.raises(TransientVenueError) as info:
            await adapter.fetch_open_orders("BTC/USDT:USDT")
    _assert_clear(info.value, "fetch_open_orders")
    assert "CcxtOrder" in str(info.value)


async def test_a_malformed_book_is_one_line(futures_venue: FakeVenue) -> None:
    futures_venue.routes[("GET", "/fapi/v1/depth")] = {
        "lastUpdateId": 1,
        "bids": [["1e400", "1"]],
        "asks": [["-1", "NaN"]],
    }
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        with pytest.raises(TransientVenueError) as info:
            await adapter.best_bid_ask("BTC/USDT:USDT")
    _assert_clear(info.value, "fetch_order_book")


# ----- secrets in DEBUG logs -------------------------------------------------------------


def test_redact_secrets_masks_keys_signatures_and_secrets() -> None:
    url = f"https://fapi.binance.com/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature={SIGNATURE}"
    headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    body = f"symbol=BTCUSDT&apiKey={KEY}&signature={SIGNATURE}"
    as_json = json.dumps({"apiKey": KEY, "secret": SECRET, "symbol": "BTCUSDT"})
    header_line = f"X-MBX-APIKEY: {KEY}"
    for text in (url, repr(headers), body, as_json, header_line, f"{url} {headers} {body}"):
        redacted = redact_secrets(text)
        assert KEY not in redacted and SECRET not in redacted and SIGNATURE not in redacted
        assert "***" in redacted
    # What is not a secret stays readable.
    assert "symbol=BTCUSDT" in redact_secrets(body)
    assert "'Content-Type': 'application/x-www-form-urlencoded'" in redact_secrets(repr(headers))
    assert redact_secrets('{"orderId": 1, "status": "NEW"}') == '{"orderId": 1, "status": "NEW"}'


def test_the_filter_is_installed_once_on_ccxt_loggers(futures_venue: FakeVenue) -> None:
    _futures(futures_venue)
    _futures(futures_venue)
    for name in CCXT_LOGGERS:
        found = [f for f in logging.getLogger(name).filters if isinstance(f, SecretRedactingFilter)]
        assert len(found) == 1, name


async def test_ccxt_debug_records_hold_no_secret(
    futures_venue: FakeVenue, caplog: pytest.LogCaptureFixture
) -> None:
    async with _futures(futures_venue) as adapter:
        caplog.set_level(logging.DEBUG)
        url = f"https://demo-fapi.binance.com/fapi/v1/order?timestamp=1&signature={SIGNATURE}"
        # ccxt's own request and response lines, as its fetch writes them.
        adapter.exchange.logger.debug(
            "%s %s, Request: %s %s", "POST", url, {"X-MBX-APIKEY": KEY}, f"signature={SIGNATURE}"
        )
        try:
            raise ValueError(f"while sending {url}")
        except ValueError:
            adapter.exchange.logger.debug("failed", exc_info=True)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert KEY not in text and SIGNATURE not in text
    assert "X-MBX-APIKEY" in text and "signature=***" in text
