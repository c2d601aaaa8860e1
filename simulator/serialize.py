"""JSON shapes of orders and trades, field for field as Binance returns them.

Ids and times are JSON integers, prices and quantities are strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exsdk.simulator.exchange_info import SymbolRules
from exsdk.simulator.models import Order, Trade

_SPOT_PLACES = Decimal("0.00000001")


def fixed(value: Decimal, places: int) -> str:
    """Format ``value`` with exactly ``places`` decimals."""
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def s8(value: Decimal) -> str:
    """Spot formatting: 8 decimals."""
    return format(value.quantize(_SPOT_PLACES), "f")


# ----- spot ---------------------------------------------------------------------


def spot_order_ack(o: Order) -> dict[str, Any]:
    """POST /api/v3/order with newOrderRespType=ACK."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "transactTime": o.time,
    }


def spot_order_result(o: Order) -> dict[str, Any]:
    """POST /api/v3/order with newOrderRespType=RESULT."""
    body = spot_order_ack(o)
    body.update(
        {
            "price": s8(o.price),
            "origQty": s8(o.orig_qty),
            "executedQty": s8(o.executed_qty),
            "origQuoteOrderQty": s8(o.orig_quote_qty),
            "cummulativeQuoteQty": s8(o.cum_quote),
            "status": o.status,
            "timeInForce": o.time_in_force,
            "type": o.type,
            "side": o.side,
            "workingTime": o.time,
            "selfTradePreventionMode": "NONE",
        }
    )
    return body


def spot_order_full(o: Order) -> dict[str, Any]:
    """POST /api/v3/order with newOrderRespType=FULL (adds ``fills``)."""
    body = spot_order_result(o)
    body["fills"] = [
        {
            "price": s8(t.price),
            "qty": s8(t.qty),
            "commission": s8(t.commission),
            "commissionAsset": t.commission_asset,
            "tradeId": t.trade_id,
        }
        for t in o.trades
    ]
    return body


def spot_order_query(o: Order) -> dict[str, Any]:
    """GET /api/v3/order, openOrders and allOrders entries."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": s8(o.price),
        "origQty": s8(o.orig_qty),
        "executedQty": s8(o.executed_qty),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "stopPrice": s8(Decimal(0)),
        "icebergQty": s8(Decimal(0)),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": True,
        "workingTime": o.time,
        "origQuoteOrderQty": s8(o.orig_quote_qty),
        "selfTradePreventionMode": "NONE",
    }


def spot_order_cancel(o: Order, cancel_client_id: str, now: int) -> dict[str, Any]:
    """DELETE /api/v3/order."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_order_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": now,
        "price": s8(o.price),
        "origQty": s8(o.orig_qty),
        "executedQty": s8(o.executed_qty),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "selfTradePreventionMode": "NONE",
    }


def spot_trade(t: Trade) -> dict[str, Any]:
    """GET /api/v3/myTrades entry."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": s8(t.price),
        "qty": s8(t.qty),
        "quoteQty": s8(t.quote_qty),
        "commission": s8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.side == "BUY",
        "isMaker": t.is_maker,
        "isBestMatch": True,
    }


# ----- futures ------------------------------------------------------------------


def _px(rules: SymbolRules, value: Decimal) -> str:
    return fixed(value, rules.price_precision)


def _qty(rules: SymbolRules, value: Decimal) -> str:
    return fixed(value, rules.qty_precision)


def _quote(rules: SymbolRules, value: Decimal) -> str:
    # price * qty is exact with price+qty decimals
    return fixed(value, rules.price_precision + rules.qty_precision)


def _futures_common(o: Order, rules: SymbolRules) -> dict[str, Any]:
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_order_id,
        "price": _px(rules, o.price),
        "avgPrice": fixed(o.avg_price, rules.price_precision + 3),
        "origQty": _qty(rules, o.orig_qty),
        "executedQty": _qty(rules, o.executed_qty),
    }


def _futures_tail(o: Order, rules: SymbolRules) -> dict[str, Any]:
    return {
        "timeInForce": o.time_in_force,
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": _px(rules, Decimal(0)),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    }


def futures_order_result(o: Order, rules: SymbolRules) -> dict[str, Any]:
    """POST /fapi/v1/order (RESULT) and DELETE /fapi/v1/order: ``cumQty``, no ``time``."""
    body = _futures_common(o, rules)
    body["cumQty"] = _qty(rules, o.executed_qty)
    body["cumQuote"] = _quote(rules, o.cum_quote)
    body.update(_futures_tail(o, rules))
    body["updateTime"] = o.update_time
    return body


def futures_order_ack(o: Order, rules: SymbolRules) -> dict[str, Any]:
    """POST /fapi/v1/order with newOrderRespType=ACK (Binance's default on USD-M).

    The RESULT field set, but the order as the venue accepted it: ``NEW`` with nothing
    executed, whatever matching did next. The fill is learnt by querying afterwards.
    """
    body = futures_order_result(o, rules)
    zero = Decimal(0)
    body.update(
        {
            "status": "NEW",
            "avgPrice": fixed(zero, rules.price_precision + 3),
            "executedQty": _qty(rules, zero),
            "cumQty": _qty(rules, zero),
            "cumQuote": _quote(rules, zero),
            "updateTime": o.time,
        }
    )
    return body


def futures_order_query(o: Order, rules: SymbolRules) -> dict[str, Any]:
    """GET /fapi/v1/order, openOrders, allOrders: ``time`` and no ``cumQty``."""
    body = _futures_common(o, rules)
    body["cumQuote"] = _quote(rules, o.cum_quote)
    body.update(_futures_tail(o, rules))
    body["time"] = o.time
    body["updateTime"] = o.update_time
    return body


def futures_trade(t: Trade, rules: SymbolRules) -> dict[str, Any]:
    """GET /fapi/v1/userTrades entry."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "side": t.side,
        "price": _px(rules, t.price),
        "qty": _qty(rules, t.qty),
        "realizedPnl": s8(t.realized_pnl),
        "marginAsset": "USDT",
        "quoteQty": _quote(rules, t.quote_qty),
        "commission": s8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "positionSide": "BOTH",
        "maker": t.is_maker,
        "buyer": t.side == "BUY",
    }
