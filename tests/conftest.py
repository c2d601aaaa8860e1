"""Hooks of the whole suite, for runs on several pytest-xdist workers.

The reliability tests add up figures (the fault matrix, chaos totals, fuzz counts) in
module-level tables that live in the process that ran them. A worker sends its tables to
the controller when it finishes; the controller merges them and prints the report that a
serial run prints. This conftest is the one the controller loads (it collects no tests).

xdist's own ``worker_id`` fixture ("gw0", "gw1", ..., "master" in a serial run) names
per-worker resources (databases, ports, folders) where ``tmp_path`` is not enough.

``pg_cluster`` is a throwaway PostgreSQL server (tests/pg_server.py), started on first use
once per test process, so once per xdist worker, each on its own port and folder; every
test that asks for ``pg_url`` gets a database of its own.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import Cluster, cluster

_SUPPORT = "tests.reliability.rel_support"
_WORKER_OUTPUT = "exsdk_reliability_figures"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a worker, send the figures its reliability tests added up."""
    output = getattr(session.config, "workeroutput", None)
    support = sys.modules.get(_SUPPORT)
    if output is None or support is None:
        return
    output[_WORKER_OUTPUT] = {
        "matrix": [[*key, outcome] for key, outcome in support.MATRIX.items()],
        "totals": dict(support.TOTALS),
        "fuzz": dict(support.FUZZ_COUNTS),
        "fleet": list(support.FLEET),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller, add a finished worker's figures to this process's tables."""
    figures = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if not figures:
        return
    support = importlib.import_module(_SUPPORT)
    for fault, operation, adapter, outcome in figures["matrix"]:
        support.MATRIX[(fault, operation, adapter)] = outcome
    for name, count in figures["totals"].items():
        support.TOTALS[name] = support.TOTALS.get(name, 0) + count
    for name, count in figures["fuzz"].items():
        support.FUZZ_COUNTS[name] = support.FUZZ_COUNTS.get(name, 0) + count
    support.FLEET.extend(figures.get("fleet", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability report: fault matrix, chaos totals, fuzz counts."""
    support = sys.modules.get(_SUPPORT)
    if support is None:
        return
    if support.MATRIX:
        terminalreporter.section("fault matrix (fault x operation x adapter -> outcome)")
        for line in support.render_matrix().splitlines():
            terminalreporter.write_line(line)
    if support.TOTALS:
        terminalreporter.section("chaos through the fault proxy (all runs of the session)")
        terminalreporter.write_line(", ".join(f"{k} {v}" for k, v in support.TOTALS.items()))
    if support.FUZZ_COUNTS:
        terminalreporter.section("fuzz examples run")
        for name, count in sorted(support.FUZZ_COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
    if support.FLEET:
        terminalreporter.section("many brokers, one PostgreSQL journal")
        for line in support.FLEET:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    with cluster() as running:
        yield running


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty PostgreSQL database: its ``postgresql://`` URL."""
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh journal's location on each backend: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite")
    url: str = request.getfixturevalue("pg_url")
    return url
