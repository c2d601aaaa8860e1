"""What importing costs: ``import exsdk`` and the plugin load no heavy library, the
simulator none of the SDK's ccxt side, and a missing extra is one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("ccxt", "aiohttp", "pandas", "numpy", "matplotlib", "pytest", "vcr", "pytest_asyncio")


def _loaded_after(setup: str, code: str) -> set[str]:
    """Top-level modules that ``code`` imports in a fresh interpreter, after ``setup``."""
    script = (
        "import sys\n"
        f"{setup}\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return set(out.stdout.split())


def test_import_exsdk_loads_no_ccxt_aiohttp_or_pandas() -> None:
    loaded = _loaded_after("", "import exsdk\nfrom exsdk import Order, OmsFill, SdkError")
    assert "exsdk" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_the_typed_models_load_no_ccxt_aiohttp_pandas_attrs_or_tenacity() -> None:
    # Issue 18 goal 3 (bench/startup.py 4b): a user of the typed models pays for pydantic
    # and the SDK's own modules, nothing the models do not use.
    loaded = _loaded_after("", "from exsdk import CcxtOrder, ChildOrder, OmsFill, Order")
    assert {"exsdk", "pydantic"} <= loaded, loaded
    unwanted = loaded & {*HEAVY, "attr", "attrs", "tenacity"}
    assert not unwanted, unwanted


def test_the_typed_models_build_neither_the_venue_state_nor_the_error_tables() -> None:
    # Issue 18 goal 3b: the markets' and tickers' classes (exsdk.models.market), the error
    # tables (exsdk.error_tables) and pydantic's serializer module are not the typed
    # orders' business; the names still resolve when asked for.
    script = (
        "import sys\n"
        "from exsdk import CcxtOrder, ChildOrder, OmsFill, Order\n"
        "names = ('exsdk.models.market', 'exsdk.error_tables', 'pydantic.functional_serializers')\n"
        "print(sorted(m for m in names if m in sys.modules))\n"
        "from exsdk import Ticker\n"
        "from exsdk.errors import translate\n"
        "print(Ticker.__module__, translate.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "exsdk.models.market exsdk.error_tables"]


def test_the_model_modules_do_not_postpone_their_annotations() -> None:
    # Issue 18 goal 3: with ``from __future__ import annotations`` every field annotation
    # reaches pydantic as a string, compiled and evaluated as each model class is created.
    import __future__

    import exsdk.models.base
    import exsdk.models.ccxt
    import exsdk.models.market
    import exsdk.models.oms

    modules = (exsdk.models.base, exsdk.models.ccxt, exsdk.models.market, exsdk.models.oms)
    postponed = [
        m.__name__ for m in modules if vars(m).get("annotations") is __future__.annotations
    ]
    assert not postponed, postponed
    fields = exsdk.models.ccxt.CcxtOrder.__annotations__
    assert fields and not any(isinstance(a, str) for a in fields.values()), fields


def test_a_ready_broker_has_not_imported_the_retry_library() -> None:
    # tenacity builds the retry loop only after a retryable failure (Session.call).
    loaded = _loaded_after(
        "",
        "from exsdk.broker import Broker\n"
        "from exsdk.journal import Journal\n"
        "from exsdk.registry import get_adapter\n"
        "get_adapter('binance-futures', venue='testnet', markets_cache=False)",
    )
    assert {"exsdk", "ccxt", "aiohttp"} <= loaded, loaded
    unwanted = loaded & {"tenacity", "pandas", "numpy", "matplotlib", "typer", "rich"}
    assert not unwanted, unwanted


def test_a_ready_broker_builds_its_events_and_imports_the_fills_at_first_use() -> None:
    # Issue 18 goal 3a: the 12 event classes are built at the first wave, the fills module
    # imported at get_fills (exsdk._lazy.import_on_first_call); bench/startup.py prints
    # the first order's cost beside ready.
    script = (
        "import sys\n"
        "from exsdk.broker import Broker\n"
        "from exsdk.journal import Journal\n"
        "from exsdk.registry import get_adapter\n"
        "get_adapter('binance-futures', venue='testnet', markets_cache=False)\n"
        "print(sorted(m for m in ('exsdk.broker.events', 'exsdk.fills') if m in sys.modules))\n"
        "from exsdk.broker import broker, submission\n"
        "event = broker.WaveStarted('r1', 0, None, 1)\n"
        "from exsdk.broker.events import WaveStarted\n"
        "print(type(event) is WaveStarted, broker.WaveStarted is WaveStarted)\n"
        "print(type(submission.ChildSent).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert out.stdout.split("\n")[:3] == ["[]", "True True", "_StandIn"], out.stdout


def test_the_pytest_plugin_loads_only_pytest_and_the_standard_library() -> None:
    loaded = _loaded_after("import pytest", "import exsdk.contracts.plugin")
    third_party = {m for m in loaded - {"exsdk"} if m not in sys.stdlib_module_names}
    assert not third_party, third_party


def test_the_simulator_imports_none_of_the_sdks_ccxt_side() -> None:
    # Runs the simulator's entry module as `python -m exsdk.simulator` does, up to serving.
    loaded_modules = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys\n"
            "import exsdk.simulator.server as server\n"
            "server.run_forever = lambda *a, **k: None  # stop before serving forever\n"
            "runpy.run_module('exsdk.simulator', run_name='__main__')\n"
            "print('\\n'.join(sorted(sys.modules)))\n",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    sdk_side = [
        m
        for m in loaded_modules
        if m == "ccxt" or m.startswith(("ccxt.", "exsdk.adapter", "exsdk.broker", "exsdk.app"))
    ]
    assert "exsdk.simulator.venue" in loaded_modules
    assert not sdk_side, sdk_side


def _without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``module`` made unimportable (as if its extra were not installed)."""
    return subprocess.run(
        [sys.executable, "-c", f"import sys\nsys.modules[{module!r}] = None\n{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_report_without_its_extra_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _without(
        "pandas",
        "from exsdk.app.cli import main\n"
        f"sys.argv = ['exsdk', 'report', 'abc', '--journal', {str(tmp_path / 'x.sqlite')!r}]\n"
        "main()",
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: exsdk report needs pandas: pip install 'exsdk[report]'"]


def test_the_report_needs_no_plotting_library_and_no_ccxt(tmp_path: Path) -> None:
    # Issue 18 goal 4: the charts are written as SVG text (exsdk.app.svg), and reading a
    # journal needs nothing of ccxt (importing it costs more than folding 1M trades).
    from tests.broker.test_journal_schema import V1_RUN, v1_journal

    journal = v1_journal(tmp_path / "demo.sqlite")
    out = tmp_path / "r.html"
    result = _without(
        "matplotlib",
        "from exsdk.app.cli import main\n"
        f"sys.argv = ['exsdk', 'report', {V1_RUN!r}, '--journal', {str(journal)!r},"
        f" '--out', {str(out)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    names = {m.split('.')[0] for m, v in sys.modules.items() if v is not None}\n"
        "    print('LOADED', ' '.join(sorted(names)))\n",
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split("LOADED", 1)[1].split())
    assert {"exsdk", "pandas"} <= loaded
    unwanted = loaded & {"ccxt", "aiohttp", "matplotlib"}
    assert not unwanted, unwanted
    assert out.read_text().count("data:image/svg+xml;base64,") == 3


def test_journal_frames_without_pandas_name_the_extra(tmp_path: Path) -> None:
    result = _without(
        "pandas",
        "from exsdk.journal import Journal\n"
        f"j = Journal.open({str(tmp_path / 'j.sqlite')!r})\n"
        "try:\n"
        "    j.runs()\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "MissingExtra the journal's DataFrame readers needs pandas: pip install 'exsdk[report]'"
    )


def test_record_without_the_contracts_extra_is_one_line(tmp_path: Path) -> None:
    result = _without(
        "vcr", "from exsdk.app.cli import main\nsys.argv = ['exsdk', 'record']\nmain()"
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "error: exsdk record needs vcr: pip install 'exsdk[contracts]'"
    )


def test_new_adapter_outside_a_project_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exsdk", "new-adapter", "acme-spot", "--ccxt-id", "binance"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"no pyproject.toml in {tmp_path.resolve()}" in result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is written"
