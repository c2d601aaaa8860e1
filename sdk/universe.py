"""Asset ids and the symbols they stand for.

Parent orders name assets by a numeric id, as kaizenflow did. The id of
``binance::ETH_USDT`` is the first 10 decimal digits of the MD5 of that string read as an
integer (:func:`asset_id_for`), so ids computed here match the seed's DEFAULT_ORDERS.
A :class:`Universe` resolves ids to :class:`Asset`\\ s and ccxt symbols back to assets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

from exsdk._value import Value
from exsdk.errors import InvalidOrderInput

__all__ = [
    "DEFAULT_UNIVERSE",
    "Asset",
    "Universe",
    "asset_id_for",
]


def asset_id_for(exchange: str, base: str, quote: str) -> int:
    """kaizenflow's asset id for ``exchange::BASE_QUOTE``.

    The first 10 decimal digits of ``int(md5("binance::ETH_USDT").hexdigest(), 16)``; for
    example ``asset_id_for("binance", "ETH", "USDT") == 1464553467``.
    """
    digest = hashlib.md5(f"{exchange}::{base}_{quote}".encode(), usedforsecurity=False)
    return int(str(int(digest.hexdigest(), 16))[:10])


@attrs.frozen(repr=False, eq=False)
class Asset(Value):
    """One tradable pair on one exchange, with its numeric id."""

    asset_id: int
    exchange: str
    base: str
    quote: str

    @property
    def spot_symbol(self) -> str:
        """The ccxt spot symbol, ``ETH/USDT``."""
        return f"{self.base}/{self.quote}"

    @property
    def futures_symbol(self) -> str:
        """The ccxt linear perpetual symbol, settled in the quote: ``ETH/USDT:USDT``."""
        return f"{self.base}/{self.quote}:{self.quote}"

    @property
    def full_symbol(self) -> str:
        """kaizenflow's full symbol, ``binance::ETH_USDT`` (what the id is hashed from)."""
        return f"{self.exchange}::{self.base}_{self.quote}"


def _split_pair(pair: str) -> tuple[str, str]:
    # Accept kaizenflow's ETH_USDT and ccxt's ETH/USDT (with or without the :settle part).
    text = pair.split(":", 1)[0]
    for sep in ("_", "/"):
        if sep in text:
            base, _, quote = text.partition(sep)
            if base and quote and sep not in quote:
                return base, quote
    raise ValueError(f"not a BASE_QUOTE pair: {pair!r}")


class Universe:
    """A set of assets, addressable by id and by ccxt symbol.

    Ids are unique within a universe; building one from two assets with the same id
    raises ``ValueError`` (an md5 prefix collision or a wrong explicit table).
    """

    def __init__(self, assets: Iterable[Asset]) -> None:
        self._by_id: dict[int, Asset] = {}
        for asset in assets:
            known = self._by_id.get(asset.asset_id)
            if known is not None and known != asset:
                raise ValueError(f"asset id {asset.asset_id} is both {known} and {asset}")
            self._by_id[asset.asset_id] = asset

    @classmethod
    def from_pairs(
        cls,
        exchange: str,
        pairs: Sequence[str],
        *,
        extra: Mapping[int, tuple[str, str]] | None = None,
    ) -> Universe:
        """Assets for ``pairs`` (``"ETH_USDT"`` or ``"ETH/USDT"``) with ids by the rule.

        ``extra`` maps ids that do not follow the rule to ``(base, quote)`` explicitly.
        """
        assets = []
        for pair in pairs:
            base, quote = _split_pair(pair)
            assets.append(Asset(asset_id_for(exchange, base, quote), exchange, base, quote))
        for asset_id, (base, quote) in (extra or {}).items():
            assets.append(Asset(asset_id, exchange, base, quote))
        return cls(assets)

    def resolve(self, asset_id: int) -> Asset:
        """The asset with ``asset_id``; an unknown id raises ``InvalidOrderInput``."""
        try:
            return self._by_id[asset_id]
        except KeyError:
            known = ", ".join(f"{a.asset_id} ({a.base}_{a.quote})" for a in self)
            raise InvalidOrderInput(
                f"unknown asset id {asset_id}; known: {known}", field="asset_id"
            ) from None

    def asset_for_symbol(self, symbol: str, *, exchange: str | None = None) -> Asset:
        """The asset for a ccxt symbol, spot (``ETH/USDT``) or futures (``ETH/USDT:USDT``).

        Raises ``InvalidOrderInput`` when no asset (on ``exchange``, if given) matches.
        """
        try:
            base, quote = _split_pair(symbol)
        except ValueError:
            raise InvalidOrderInput(f"not a ccxt symbol: {symbol!r}") from None
        for asset in self:
            if (
                asset.base == base
                and asset.quote == quote
                and (exchange is None or asset.exchange == exchange)
            ):
                return asset
        raise InvalidOrderInput(f"no asset in the universe for symbol {symbol!r}")

    def __contains__(self, asset_id: object) -> bool:
        return asset_id in self._by_id

    def __iter__(self) -> Iterator[Asset]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"Universe({list(self)!r})"


DEFAULT_UNIVERSE = Universe.from_pairs(
    "binance",
    [
        f"{base}_USDT"
        for base in ("ETH", "BTC", "EOS", "SOL", "LINK", "DOGE", "ADA", "AVAX", "BNB", "APE", "HNT")
    ],
)
"""kaizenflow's binance universe_v5 (the nine DEFAULT_ORDERS assets) plus APE and HNT."""
