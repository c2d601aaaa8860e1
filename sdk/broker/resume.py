"""Resume a run after a crash: rebuild its broker from the journal and finish it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from exsdk.adapter import ExchangeAdapter
from exsdk.broker.broker import Broker
from exsdk.broker.clock import Clock
from exsdk.broker.events import Observer
from exsdk.broker.limit_price import LimitPriceComputer
from exsdk.broker.twap import TwapConfig
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildOrder
from exsdk.universe import DEFAULT_UNIVERSE, Universe

__all__ = ["broker_for_run", "resume_run"]


def broker_for_run(
    run_id: str,
    adapter: ExchangeAdapter,
    journal: Journal,
    clock: Clock | None = None,
    *,
    universe: Universe = DEFAULT_UNIVERSE,
    observer: Observer | None = None,
) -> Broker:
    """A broker configured as the journaled run was (environment, TWAP, pricing)."""
    run = journal.run(run_id)
    if run.exchange != adapter.exchange_id:
        raise ValueError(f"run {run_id} ran on {run.exchange}, not on {adapter.exchange_id}")
    params: Mapping[str, Any] = run.params
    twap: Mapping[str, Any] = params.get("twap") or {}
    max_age = params.get("max_age")
    return Broker(
        adapter,
        Environment(run.environment),
        journal,
        clock,
        run_id=run_id,
        universe=universe,
        limit_prices=LimitPriceComputer(
            Decimal(str(params.get("passivity", "0.5"))),
            None if max_age is None else timedelta(seconds=float(max_age)),
        ),
        twap=TwapConfig(
            waves=twap.get("waves"),
            wave_seconds=twap.get("wave_seconds"),
            cancel_lead=float(twap.get("cancel_lead", 0.5)),
            submit_window=twap.get("submit_window"),
        ),
        observer=observer,
        quote=str(params.get("quote", "USDT")),
    )


async def resume_run(
    run_id: str,
    adapter: ExchangeAdapter,
    journal: Journal,
    clock: Clock | None = None,
    *,
    universe: Universe = DEFAULT_UNIVERSE,
    observer: Observer | None = None,
) -> list[ChildOrder]:
    """Reconcile a crashed run's pending children with the venue and finish the run.

    Returns every child of the run in its final state. What ``exsdk resume RUN`` calls.
    """
    broker = broker_for_run(run_id, adapter, journal, clock, universe=universe, observer=observer)
    return await broker.resume()
