"""The lazy public surfaces: every listed name resolves, and what type checkers see agrees.

``exsdk``, ``exsdk.adapter``, ``exsdk.broker`` and ``exsdk.models`` export their names lazily
(``exsdk._lazy``): a table for the runtime, ``TYPE_CHECKING`` imports for type checkers,
``__all__`` for readers. The three must name the same things, from the same modules.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import exsdk

PACKAGES = ["exsdk", "exsdk.adapter", "exsdk.broker", "exsdk.models"]


def _type_checking_imports(package: str) -> dict[str, str]:
    init = Path(importlib.import_module(package).__file__ or "")
    tree = ast.parse(init.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.dump(stmt)
                names.update({alias.name: stmt.module for alias in stmt.names})
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_table_all_and_type_checking_agree(package: str) -> None:
    module = importlib.import_module(package)
    table: dict[str, str] = module._EXPORTS
    assert _type_checking_imports(package) == table
    assert sorted(set(module.__all__) - {"__version__"}) == sorted(table)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_resolves_to_its_module_object(package: str) -> None:
    module = importlib.import_module(package)
    for name, source in module._EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = exsdk.no_such_name  # type: ignore[attr-defined]
    assert "Broker" in dir(exsdk)


def test_the_models_and_errors_callers_meet_are_top_level() -> None:
    # Issue 14: order books and tickers are typed models, and MalformedPayload is what
    # every venue-side model raises; a caller catching it needs no submodule import.
    import exsdk.models

    for name in ("OrderBook", "Ticker", "MalformedPayload"):
        assert name in exsdk.__all__, name
        assert getattr(exsdk, name) is getattr(exsdk.models, name)
    assert issubclass(exsdk.MalformedPayload, exsdk.VenueRejected)


def test_the_error_tables_names_resolve_from_exsdk_errors() -> None:
    # exsdk.errors holds the tree and resolves the tables' names (exsdk.error_tables) on
    # first use, so `from exsdk.errors import translate` keeps working.
    import exsdk.error_tables
    import exsdk.errors

    table: dict[str, str] = exsdk.errors._EXPORTS
    assert _type_checking_imports("exsdk.errors") == table
    assert set(table.values()) == {"exsdk.error_tables"}
    assert sorted(table) == sorted(exsdk.error_tables.__all__)
    for name in table:
        assert getattr(exsdk.errors, name) is getattr(exsdk.error_tables, name), name
    assert set(exsdk.errors.__all__) >= set(table)
