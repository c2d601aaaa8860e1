"""A simulated venue served over HTTP on 127.0.0.1: Binance spot and USD-M, and Bybit v5.

Unmodified ccxt (``binance``, ``binanceusdm``) talks to it after
:func:`point_ccxt_at`. See :class:`SimulatedBinance` and :class:`Admin`; a program embeds a
moving market with ``async with exsdk.simulator.embedded() as venue:``.
"""

from exsdk.simulator.admin import Admin
from exsdk.simulator.admin_client import AdminClient
from exsdk.simulator.ccxt_helper import point_ccxt_at
from exsdk.simulator.faults import FAULT_KINDS, Fault
from exsdk.simulator.server import run_forever
from exsdk.simulator.state import DEFAULT_API_KEY, DEFAULT_SECRET
from exsdk.simulator.venue import EMBEDDED_TICK_SECONDS, SimulatedBinance, embedded

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SECRET",
    "EMBEDDED_TICK_SECONDS",
    "FAULT_KINDS",
    "Admin",
    "AdminClient",
    "Fault",
    "SimulatedBinance",
    "embedded",
    "point_ccxt_at",
    "run_forever",
]
