"""A TWAP run in its own process, for the kill-and-resume test.

Usage: python -m ... BASE_URL JOURNAL RUN_ID. Prints one line per broker event, flushed,
so the parent process can kill it at a chosen moment.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.broker import Broker, BrokerEvent, ChildSent, LimitPriceComputer, TwapConfig
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import Order
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

# A wave's child rests for WAVE_SECONDS - cancel_lead before its own cancel: the parent
# must see it journaled open and kill within that, on a loaded machine too (1.2 s was not
# always enough at load 10: the venue showed the wave's own cancel).
WAVE_SECONDS = 3.0
WAVES = 3


def on_event(event: BrokerEvent) -> None:
    if isinstance(event, ChildSent):
        print(f"sent {event.child.client_order_id}", flush=True)
    else:
        print(type(event).__name__, flush=True)


async def main(base_url: str, journal_path: str, run_id: str, key: str, secret: str) -> None:
    adapter = get_adapter(
        "binance-futures",
        venue=Venue.SIM,
        base_url=base_url,
        credentials=Credentials(venue=Venue.SIM, api_key=key, secret=secret),
        markets_cache=False,
        ccxt_options={"enableRateLimit": False},
    )
    await adapter.load_markets()  # before the window starts: a slow start skips no wave
    start = datetime.now(UTC)
    order = Order(
        order_id=1,
        creation_timestamp=start,
        asset_id=asset_id_for("binance", "ETH", "USDT"),
        type_="price@twap",
        start_timestamp=start,
        end_timestamp=start + timedelta(seconds=WAVE_SECONDS * WAVES),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal("0.03"),
        tz="UTC",
    )
    async with adapter:
        broker = Broker(
            adapter,
            Environment.PROD,
            Journal.open(journal_path),
            run_id=run_id,
            twap=TwapConfig(waves=WAVES, cancel_lead=0.3),
            limit_prices=LimitPriceComputer(Decimal(1), max_age=None),  # rest; no fills
            observer=on_event,
        )
        print("ready", flush=True)
        await broker.submit_orders([order])
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
