"""A Binance-protocol venue (spot and USD-M futures) served over HTTP on 127.0.0.1.

Unmodified ccxt (``binance``, ``binanceusdm``) talks to it after
:func:`point_ccxt_at`. See :class:`SimulatedBinance` and :class:`Admin`.
"""

from simulator.admin import Admin
from simulator.admin_client import AdminClient
from simulator.ccxt_helper import point_ccxt_at
from simulator.faults import FAULT_KINDS, Fault
from simulator.server import run_forever
from simulator.state import DEFAULT_API_KEY, DEFAULT_SECRET
from simulator.venue import SimulatedBinance

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SECRET",
    "FAULT_KINDS",
    "Admin",
    "AdminClient",
    "Fault",
    "SimulatedBinance",
    "point_ccxt_at",
    "run_forever",
]
