"""The reference-price process of a book, defined in the venue's clock time.

Venue-generic (no protocol in here): each symbol's fair price follows a geometric
Brownian motion without drift whose volatility is a documented annualised figure, so a
price moves as much per *clock* minute whatever the clock speed and however often the
venue samples it. The quoted book around the fair price (spread, depth) is built in
:mod:`exsdk.simulator.book`.

Where the figures come from (read 2026; re-check before relying on them):

* BTC 40 %, ETH 64 %, SOL 92 %: 90-day realised volatility (annualised standard deviation
  of daily log returns, x sqrt(365)) on https://trdesk.com/volatility, which also gives
  the usual ranges "BTC 40-80 %, ETH 50-100 %, alts 80-200 %+".
* The other altcoins (DOGE, ADA, AVAX, LINK, BNB, EOS, APE, HNT, MATIC, LTC): 100 %, the
  low end of that page's altcoin range, and the figure behind issue 15's "DOGE's typical
  two-minute move is about 0.2 %" (1.00 x sqrt(120 s / 1 year) = 0.195 %). XRP's one-year
  annualised volatility on https://statility.com (99.9 %) is of the same size. BNB is
  usually calmer than that; 100 % is an upper figure for it, kept for simplicity.

A symbol without an entry gets :data:`DEFAULT_ANNUAL_VOLATILITY`.
"""

from __future__ import annotations

import math
import random

import attrs

SECONDS_PER_YEAR = 365 * 24 * 3600  # crypto trades every day, so volatility annualises by 365
DEFAULT_ANNUAL_VOLATILITY = 1.00

ANNUAL_VOLATILITY: dict[str, float] = {
    "BTC": 0.40,
    "ETH": 0.64,
    "SOL": 0.92,
    "BNB": 1.00,
    "AVAX": 1.00,
    "LINK": 1.00,
    "EOS": 1.00,
    "ADA": 1.00,
    "DOGE": 1.00,
    "APE": 1.00,
    "HNT": 1.00,
    "MATIC": 1.00,
    "LTC": 1.00,
}


def annual_volatility(base: str) -> float:
    """The configured annualised volatility of ``base`` (a fraction: 0.40 is 40 %)."""
    return ANNUAL_VOLATILITY.get(base, DEFAULT_ANNUAL_VOLATILITY)


@attrs.define
class PriceProcess:
    """Driftless geometric Brownian motion of one fair price, stepped in clock seconds.

    ``advance(dt)`` draws one exact GBM increment for ``dt`` seconds, so a sequence of
    steps has the same distribution however the elapsed time is cut up.
    """

    price: float
    annual_volatility: float
    rng: random.Random

    @property
    def volatility_per_second(self) -> float:
        """Standard deviation of the log price over one second of clock time."""
        return self.annual_volatility / math.sqrt(SECONDS_PER_YEAR)

    def advance(self, seconds: float) -> float:
        """Move the price by ``seconds`` of clock time; return the new price."""
        if seconds <= 0:
            return self.price
        sigma = self.volatility_per_second * math.sqrt(seconds)
        # -sigma^2/2 keeps the price a martingale (no drift in expectation).
        self.price *= math.exp(self.rng.gauss(0.0, sigma) - sigma * sigma / 2)
        return self.price
