"""Spot balances and the futures wallet with one-way (BOTH) positions."""

from __future__ import annotations

from decimal import Decimal

import attrs

from exsdk.simulator import errors

ZERO = Decimal(0)
DEFAULT_LEVERAGE = 20


@attrs.define
class Balance:
    """Spot balance of one asset."""

    free: Decimal = ZERO
    locked: Decimal = ZERO


@attrs.define
class SpotAccount:
    """Spot balances; resting orders lock what they may spend."""

    balances: dict[str, Balance] = attrs.field(factory=dict)
    update_time: int = 0

    def get(self, asset: str) -> Balance:
        """Balance of ``asset`` (created empty on first use)."""
        return self.balances.setdefault(asset, Balance())

    def set(self, asset: str, free: Decimal) -> None:
        """Set the free amount of ``asset`` (admin)."""
        self.get(asset).free = free

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked, or raise -2010."""
        bal = self.get(asset)
        if amount > bal.free:
            raise errors.insufficient_balance()
        bal.free -= amount
        bal.locked += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Return ``amount`` from locked to free."""
        bal = self.get(asset)
        bal.locked -= amount
        bal.free += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Remove ``amount`` from the locked part (it was paid away)."""
        self.get(asset).locked -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to free."""
        self.get(asset).free += amount


@attrs.define
class Position:
    """A one-way-mode futures position."""

    symbol: str
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    leverage: int = DEFAULT_LEVERAGE
    update_time: int = 0

    def notional(self, mark: Decimal) -> Decimal:
        """Signed notional at ``mark``."""
        return self.amount * mark

    def unrealized(self, mark: Decimal) -> Decimal:
        """Unrealized PnL at ``mark``."""
        return (mark - self.entry_price) * self.amount


@attrs.define
class FuturesAccount:
    """USDT-margined wallet plus positions (cross margin, one-way mode)."""

    wallet: Decimal = ZERO
    positions: dict[str, Position] = attrs.field(factory=dict)
    update_time: int = 0

    def position(self, symbol: str) -> Position:
        """Position of ``symbol`` (created flat on first use)."""
        return self.positions.setdefault(symbol, Position(symbol))

    def apply_fill(
        self, symbol: str, side: str, qty: Decimal, price: Decimal, fee: Decimal, now: int
    ) -> Decimal:
        """Update the position and wallet for one fill; return realized PnL."""
        pos = self.position(symbol)
        signed = qty if side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            # Increasing: entry becomes the size-weighted average.
            new_amt = pos.amount + signed
            pos.entry_price = (pos.entry_price * abs(pos.amount) + price * qty) / abs(new_amt)
            pos.amount = new_amt
        else:
            closing = min(abs(signed), abs(pos.amount))
            direction = Decimal(1) if pos.amount > 0 else Decimal(-1)
            realized = (price - pos.entry_price) * closing * direction
            new_amt = pos.amount + signed
            if new_amt == 0:
                pos.entry_price = ZERO
            elif (new_amt > 0) != (pos.amount > 0):
                pos.entry_price = price  # flipped: the remainder opens at the fill price
            pos.amount = new_amt
        pos.update_time = now
        self.wallet += realized - fee
        self.update_time = now
        return realized
