"""``newOrderRespType`` as Binance answers it: spot FULL by default for MARKET and LIMIT
(ACK otherwise), USD-M ACK by default (the order as accepted), RESULT when asked."""

from __future__ import annotations

from typing import Any

import pytest

from exsdk.simulator import SimulatedBinance

from .conftest import Raw

SPOT = "/api/v3/order"
FUT = "/fapi/v1/order"
SPOT_MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
SPOT_LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "0.01",
    "price": "50000",
    "timeInForce": "GTC",
}
SPOT_MAKER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.01"}
FUT_MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
ACK_FIELDS = {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}


async def post(raw: Raw, path: str, params: dict[str, Any]) -> Any:
    status, body, _ = await raw.call("POST", path, params)
    assert status == 200, body
    return body


@pytest.mark.parametrize(
    ("params", "resp_type", "shape"),
    [
        (SPOT_MARKET, None, "FULL"),
        (SPOT_LIMIT, None, "FULL"),
        ({**SPOT_MAKER, "price": "50000"}, None, "ACK"),
        (SPOT_MARKET, "ACK", "ACK"),
        (SPOT_MARKET, "RESULT", "RESULT"),
        (SPOT_MARKET, "FULL", "FULL"),
        ({**SPOT_MAKER, "price": "50000"}, "FULL", "FULL"),
    ],
)
async def test_spot_response_types(
    raw: Raw, params: dict[str, Any], resp_type: str | None, shape: str
) -> None:
    sent = dict(params) if resp_type is None else {**params, "newOrderRespType": resp_type}
    body = await post(raw, SPOT, sent)
    if shape == "ACK":
        assert set(body) == ACK_FIELDS
        return
    assert body["status"] == ("FILLED" if params["type"] == "MARKET" else "NEW")
    if shape == "RESULT":
        assert "fills" not in body and body["executedQty"] == "0.10000000"
        return
    fills = body["fills"]
    if params["type"] == "MARKET":
        assert len(fills) >= 2, "a 0.1 BTC market order walks more than one level"
        assert sum(float(f["qty"]) for f in fills) == pytest.approx(0.1)
        assert {f["commissionAsset"] for f in fills} == {"BTC"}
    else:
        assert fills == []


async def test_futures_default_is_ack_with_the_order_as_accepted(
    raw: Raw, venue: SimulatedBinance
) -> None:
    body = await post(raw, FUT, FUT_MARKET)
    assert body["status"] == "NEW"
    assert body["executedQty"] == body["cumQty"] == "0.000"
    assert float(body["avgPrice"]) == 0 and float(body["cumQuote"]) == 0
    # The venue filled it all the same: the client learns that by asking.
    status, queried, _ = await raw.call(
        "GET", FUT, {"symbol": "BTCUSDT", "orderId": body["orderId"]}
    )
    assert status == 200 and queried["status"] == "FILLED"
    assert queried["executedQty"] == "0.100"
    assert [o["status"] for o in venue.admin.orders("futures")] == ["FILLED"]


async def test_futures_explicit_ack(raw: Raw) -> None:
    body = await post(raw, FUT, {**FUT_MARKET, "newOrderRespType": "ACK"})
    assert body["status"] == "NEW" and body["executedQty"] == "0.000"


async def test_futures_result_is_the_order_after_matching(raw: Raw) -> None:
    body = await post(raw, FUT, {**FUT_MARKET, "newOrderRespType": "RESULT"})
    assert body["status"] == "FILLED"
    assert body["executedQty"] == body["cumQty"] == "0.100"
    assert float(body["avgPrice"]) > 0 and float(body["cumQuote"]) > 0


@pytest.mark.parametrize(("path", "params"), [(FUT, FUT_MARKET), (SPOT, SPOT_MARKET)])
async def test_unknown_response_type_is_refused_before_placing(
    raw: Raw, venue: SimulatedBinance, path: str, params: dict[str, Any]
) -> None:
    # USD-M knows only ACK and RESULT; FULL is spot's.
    bad = "FULL" if path == FUT else "EVERYTHING"
    status, body, _ = await raw.call("POST", path, {**params, "newOrderRespType": bad})
    assert (status, body["code"]) == (400, -1136)
    assert venue.admin.orders() == []
