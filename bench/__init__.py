"""Benchmarks that print ratios against a reference measured in the same run.

Run all five with ``make bench`` (``python -m bench``) or one with
``python -m bench overhead`` (``ratelimit``, ``contracts``, ``startup``, ``fold``).
They are measurements, not tests: nothing here asserts on time.
"""
