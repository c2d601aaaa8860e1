"""Bybit v5 adapters: spot (``bybit-spot``) and USDT perpetuals (``bybit-linear``).

Import the modules directly (``exsdk.adapters.bybit.spot``); nothing registers on import.
"""
