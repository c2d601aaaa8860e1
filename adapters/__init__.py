"""Exchange adapters, one module per exchange family.

The registry (:mod:`sdk.registry`) imports them lazily by name; importing this package
registers nothing.
"""
