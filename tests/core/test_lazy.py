"""``exsdk._lazy.import_on_first_call``: a stand-in imports at its first call, then is gone."""

from __future__ import annotations

import decimal
import fractions
from typing import Any

import pytest

from exsdk._lazy import import_on_first_call


def test_the_first_call_rebinds_the_name_and_returns_the_result() -> None:
    namespace: dict[str, Any] = {}
    import_on_first_call(namespace, "fractions", ["Fraction"])
    stand_in = namespace["Fraction"]
    assert stand_in is not fractions.Fraction
    assert "fractions.Fraction" in repr(stand_in) and "first call" in repr(stand_in)
    value = stand_in(3, 6)
    assert value == fractions.Fraction(1, 2) and type(value) is fractions.Fraction
    assert namespace["Fraction"] is fractions.Fraction  # later calls reach the class itself


def test_any_first_call_rebinds_every_name_of_the_module() -> None:
    namespace: dict[str, Any] = {}
    import_on_first_call(namespace, "decimal", ["Decimal", "localcontext"])
    with namespace["localcontext"]() as context:
        assert isinstance(context, decimal.Context)
    assert namespace["Decimal"] is decimal.Decimal
    assert namespace["localcontext"] is decimal.localcontext


def test_a_missing_name_fails_at_the_first_call_with_attribute_error() -> None:
    namespace: dict[str, Any] = {}
    import_on_first_call(namespace, "decimal", ["NoSuchName"])
    with pytest.raises(AttributeError, match="NoSuchName"):
        namespace["NoSuchName"]()
