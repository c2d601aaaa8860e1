"""The contract suite's pytest plugin (registered as ``pytest11``).

Installed with ``exsdk`` whether or not the ``contracts`` extra is, so it is inert until a
run collects contract tests: at load time it imports nothing but pytest and the standard
library, it adds no command-line option and no marker, only the ``exsdk_cassettes`` ini
key (where a project keeps its cassettes), and its hooks return at once for any test that
is not a contract. For contract tests it prints the adapter x contract matrix at the end of
the run (pass, skip by a capability, xfail of a declared known gap), turns a missing or
stale cassette into a failure naming the command that re-records it, and fails any other
skip or xfail of a contract: however it was applied (a mark on the class or module, a
conftest hook, ``pytest.xfail``), it weakens the suite. Under pytest-xdist each worker
hands its part of the matrix to the controller, which prints the whole. The suite itself
lives in :mod:`exsdk.contracts.suite`.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import pytest

# Standard library only, like this module.
from exsdk.contracts.cassettes import CASSETTES_INI, rerecord_command

_MATRIX = pytest.StashKey[dict[tuple[str, str], str]]()
# The key of a pytest-xdist worker's output that carries its cells of the matrix.
_WORKER_OUTPUT = "exsdk_contract_matrix"
_CAPABILITY_SKIP = re.compile(r"does not declare capability '([a-z_]+)'")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini key a project names its cassettes folder with."""
    parser.addini(
        CASSETTES_INI,
        "exsdk contract suite: the folder holding cassettes/<adapter>/ (relative to the "
        "ini file; default: cassettes/ beside it)",
        default="",
    )


_SUITE_MODULE = "exsdk.contracts.suite"


def _contract_of(item: pytest.Item) -> tuple[str, str] | None:
    cls = getattr(item, "cls", None)
    adapter = getattr(cls, "adapter_name", None)
    # By ancestry, not by a flag a subclass could clear: every class built on the suite.
    if cls is None or adapter is None:
        return None
    if not any(k.__module__ == _SUITE_MODULE for k in getattr(cls, "__mro__", ())):
        return None
    return adapter, getattr(item, "originalname", item.name)


def _is_cassette_miss(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    if excinfo is None:
        return False
    seen: BaseException | None = excinfo.value
    while seen is not None:
        if type(seen).__name__ in ("CannotOverwriteExistingCassetteException", "CassetteMiss"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _skip_reason(report: pytest.TestReport) -> str:
    text = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return text.removeprefix("Skipped: ")


def _declared(adapter: str) -> tuple[dict[str, bool], dict[str, str]]:
    """The adapter's declared capabilities and known gaps (imported only for contracts)."""
    from exsdk.registry import adapter_class

    cls = adapter_class(adapter)
    return cls.capabilities.names(), dict(getattr(cls, "known_gaps", {}))


def _weakening(item: pytest.Item, key: tuple[str, str], report: pytest.TestReport) -> str | None:
    """Why this skip or xfail of a contract weakens the suite, or ``None`` when it is
    a skip by a capability the adapter does not declare (and the contract needs), or an
    xfail of a known gap the adapter declares."""
    adapter, contract = key
    capabilities, gaps = _declared(adapter)
    if hasattr(report, "wasxfail"):
        if gaps.get(contract) and report.wasxfail.startswith(f"known gap of {adapter}:"):
            return None
        return (
            f"contract {contract} of {adapter} is marked xfail ({report.wasxfail or 'no reason'})"
            f" but {adapter} declares no known gap for it; a known failure is declared in "
            "the adapter's known_gaps with its reason"
        )
    reason = _skip_reason(report)
    found = _CAPABILITY_SKIP.search(reason)
    needs = getattr(getattr(item, "function", None), "__exsdk_requires__", ())
    if found and found.group(1) in needs and not capabilities.get(found.group(1), True):
        return None
    return (
        f"contract {contract} of {adapter} was skipped ({reason}); a contract skips only by "
        "a capability the adapter does not declare"
    )


def _fail(report: pytest.TestReport, why: str) -> None:
    report.outcome = "failed"
    report.longrepr = f"suite weakened: {why}"
    if hasattr(report, "wasxfail"):
        del report.wasxfail


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Record each contract's outcome; fail undeclared skips and xfails; explain cassette
    misses."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    key = _contract_of(item)
    if key is None:
        return
    if report.skipped or hasattr(report, "wasxfail"):
        why = _weakening(item, key, report)
        if why is not None:
            _fail(report, why)
    if report.when == "call" and report.failed:
        # The unplayed-interactions check says nothing new after a failed test.
        item.exsdk_call_failed = True  # type: ignore[attr-defined]
    if report.failed and _is_cassette_miss(call.excinfo):
        report.sections.append(
            (
                "cassette",
                f"No recorded interaction matches this request: the cassette is missing or "
                f"stale. Re-record it with: {rerecord_command(key[0])}",
            )
        )
    matrix = item.config.stash.setdefault(_MATRIX, {})
    if report.when == "call" or report.outcome != "passed":
        # xfail first: pytest reports an xfailed test as skipped.
        if hasattr(report, "wasxfail"):
            matrix[key] = "xfail (declared gap)" if report.skipped else "FAIL (xpass)"
        elif report.skipped:
            capability = _CAPABILITY_SKIP.search(_skip_reason(report))
            matrix[key] = f"skip: no {capability.group(1)}" if capability else "skip"
        elif report.failed:
            text = str(report.longrepr)
            if text.startswith("suite weakened"):
                matrix[key] = "FAIL (weakened)"
            elif text.startswith("[XPASS(strict)]"):
                matrix[key] = "FAIL (xpass)"  # a declared gap that passes: remove it
            else:
                matrix[key] = "FAIL" if report.when == "call" else f"ERROR ({report.when})"
        elif key not in matrix:
            matrix[key] = "pass"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, send this worker's cells to the controller."""
    matrix = session.config.stash.get(_MATRIX, {})
    output = getattr(session.config, "workeroutput", None)
    if matrix and output is not None:
        output[_WORKER_OUTPUT] = [[a, c, v] for (a, c), v in matrix.items()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the pytest-xdist controller, merge the cells of a worker that finished."""
    cells = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if cells:
        matrix = node.config.stash.setdefault(_MATRIX, {})
        for adapter, contract, value in cells:
            matrix[(adapter, contract)] = value


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the adapter x contract matrix."""
    matrix = config.stash.get(_MATRIX, {})
    if not matrix:
        return
    adapters = sorted({a for a, _ in matrix})
    contracts = sorted({c for _, c in matrix})
    width = max(len(c) for c in contracts) + 2
    col = max(18, *(len(a) + 2 for a in adapters), *(len(v) + 2 for v in matrix.values()))
    terminalreporter.write_sep("=", "contract matrix (adapter x contract)")
    terminalreporter.write_line("".ljust(width) + "".join(a.ljust(col) for a in adapters))
    for contract in contracts:
        cells = [matrix.get((a, contract), "-") for a in adapters]
        terminalreporter.write_line(
            contract.ljust(width) + "".join(cell.ljust(col) for cell in cells)
        )
    for adapter in adapters:
        results = [v for (a, _), v in matrix.items() if a == adapter]
        passed = sum(v == "pass" for v in results)
        skipped = sum(v.startswith("skip") for v in results)
        xfailed = sum(v.startswith("xfail") for v in results)
        failed = len(results) - passed - skipped - xfailed
        terminalreporter.write_line(
            f"{adapter}: {passed} pass, {skipped} skip (capability), "
            f"{xfailed} xfail (declared gap), {failed} fail or error"
        )
