"""Binance adapters: spot (``binance-spot``) and USD-M futures (``binance-futures``).

Import the modules directly (``exsdk.adapters.binance.spot``); nothing registers on import.
"""
