"""Exchange adapters, one module per exchange family.

The registry (:mod:`exsdk.registry`) imports them lazily by name; importing this package
registers nothing.
"""
