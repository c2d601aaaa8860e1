"""Async HTTP client for the admin API of a simulator running in another process."""

from __future__ import annotations

from typing import Any

import aiohttp

from exsdk.simulator.admin import ADMIN_PREFIX


class AdminError(Exception):
    """The admin endpoint rejected an operation."""


class AdminClient:
    """Drive a simulator at ``base_url`` through ``/__sim__/<op>``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AdminClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, op: str, **kwargs: Any) -> Any:
        """Invoke admin operation ``op`` with keyword arguments."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.base_url + ADMIN_PREFIX + op, json=kwargs) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise AdminError(body.get("error", str(body)))
            return body["result"]

    async def set_price(self, symbol: str, price: str, market: str | None = None) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.set_price`."""
        await self.call("set_price", symbol=symbol, price=price, market=market)

    async def tick(self, n: int = 1) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.tick`."""
        await self.call("tick", n=n)

    async def thin(self, symbol: str, market: str = "futures") -> None:
        """See :meth:`exsdk.simulator.admin.Admin.thin`."""
        await self.call("thin", symbol=symbol, market=market)

    async def unthin(self, symbol: str, market: str = "futures") -> None:
        """See :meth:`exsdk.simulator.admin.Admin.unthin`."""
        await self.call("unthin", symbol=symbol, market=market)

    async def set_balance(self, asset: str, amount: str, market: str = "spot") -> None:
        """See :meth:`exsdk.simulator.admin.Admin.set_balance`."""
        await self.call("set_balance", asset=asset, amount=amount, market=market)

    async def set_clock_skew(self, ms: int) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.set_clock_skew`."""
        await self.call("set_clock_skew", ms=ms)

    async def inject_fault(
        self,
        kind: str,
        method: str = "*",
        path: str = "*",
        calls: int | list[int] | None = None,
        seconds: float = 0.0,
        status: int = 500,
        body: str = "",
        content_type: str = "application/json",
    ) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.inject_fault`."""
        await self.call(
            "inject_fault",
            kind=kind,
            method=method,
            path=path,
            calls=calls,
            seconds=seconds,
            status=status,
            body=body,
            content_type=content_type,
        )

    async def clear_faults(self) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.clear_faults`."""
        await self.call("clear_faults")

    async def set_rate_limit(self, market: str, limit_type: str, interval: str, limit: int) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.set_rate_limit`."""
        await self.call(
            "set_rate_limit", market=market, limit_type=limit_type, interval=interval, limit=limit
        )

    async def orders(self, market: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`exsdk.simulator.admin.Admin.orders`."""
        result: list[dict[str, Any]] = await self.call("orders", market=market)
        return result

    async def trades(self, market: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`exsdk.simulator.admin.Admin.trades`."""
        result: list[dict[str, Any]] = await self.call("trades", market=market)
        return result

    async def balances(self) -> dict[str, Any]:
        """See :meth:`exsdk.simulator.admin.Admin.balances`."""
        result: dict[str, Any] = await self.call("balances")
        return result

    async def positions(self) -> list[dict[str, Any]]:
        """See :meth:`exsdk.simulator.admin.Admin.positions`."""
        result: list[dict[str, Any]] = await self.call("positions")
        return result

    async def book(self, symbol: str, market: str = "futures") -> dict[str, Any]:
        """See :meth:`exsdk.simulator.admin.Admin.book`."""
        result: dict[str, Any] = await self.call("book", symbol=symbol, market=market)
        return result

    async def request_log(self) -> list[dict[str, Any]]:
        """See :meth:`exsdk.simulator.admin.Admin.request_log`."""
        result: list[dict[str, Any]] = await self.call("request_log")
        return result

    async def clear_request_log(self) -> None:
        """See :meth:`exsdk.simulator.admin.Admin.clear_request_log`."""
        await self.call("clear_request_log")
