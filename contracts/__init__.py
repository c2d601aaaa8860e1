"""The shared contract suite every adapter runs against its recorded cassettes.

An adapter's test module subclasses :class:`AdapterContract` (or, for an adapter with no
cassettes, :class:`MethodContract`) and sets its name and symbols.
"""

from exsdk.contracts.suite import AdapterContract, MethodContract

__all__ = ["AdapterContract", "MethodContract"]
