"""The built wheel, as a new user installs it, in a fresh virtualenv.

Core first: one top-level name, foreign pytest runs untouched, ``import exsdk`` beside a
user's own ``adapters/`` and ``contracts/``, an experiment on the simulator without pandas.
Then the ``contracts`` extra and a third-party adapter package end to end: scaffolded in a
temporary directory, recorded against the bundled simulator, replayed with the network
blocked. The installs reach the package registry (from pip subprocesses, with pip's cache,
as ``make setup`` does); everything else stays on 127.0.0.1. The virtualenv is built once
per test session; the tests below run in file order, core before extras.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP_TIMEOUT = 300

# Under pytest-xdist the module runs on one worker, in file order: one virtualenv per run,
# and the extras are installed into it only after the core-only tests have run.
pytestmark = pytest.mark.xdist_group("wheel")

# A Binance spot scaffold: no positions, leverage, reduce-only or liquidity contracts.
SCAFFOLD_MATRIX = "acme-spot: 17 pass, 4 skip (capability), 0 xfail (declared gap), 0 fail or error"


@attrs.frozen
class Venv:
    """A virtualenv holding the wheel, and the commands run in it."""

    path: Path
    wheel: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def exsdk(self) -> Path:
        return self.path / "bin" / "exsdk"

    def run(
        self, *args: str | Path, cwd: Path, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        # No PYTHONPATH or virtualenv of the outer run leaks in.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str | Path, cwd: Path, timeout: float = 180) -> str:
        result = self.run(*args, cwd=cwd, timeout=timeout)
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result.stdout

    def pip(self, *args: str | Path, cwd: Path) -> None:
        self.ok(self.python, "-m", "pip", "install", "--quiet", *args, cwd=cwd, timeout=PIP_TIMEOUT)

    def has(self, module: str, cwd: Path) -> bool:
        probe = f"import importlib.util as u; raise SystemExit(u.find_spec({module!r}) is None)"
        return self.run(self.python, "-c", probe, cwd=cwd).returncode == 0


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """The wheel built from this checkout, installed core-only into a fresh virtualenv."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT), "-w", str(dist)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        check=True,
        capture_output=True,
        timeout=PIP_TIMEOUT,
    )
    [wheel] = dist.glob("exsdk-*.whl")
    subprocess.run(
        [sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=PIP_TIMEOUT
    )
    env = Venv(base / "venv", wheel)
    env.pip(wheel, cwd=base)
    yield env


def _site_packages(venv: Venv) -> Path:
    script = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = venv.ok(venv.python, "-c", script, cwd=venv.path)
    return Path(out.strip())


# -- core only ---------------------------------------------------------------------------


def test_the_wheel_installs_only_exsdk_at_the_top_level(venv: Venv, tmp_path: Path) -> None:
    site = _site_packages(venv)
    [record] = site.glob("exsdk-*.dist-info/RECORD")
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    scripts = {t for t in tops if t == ".."}  # the console script, in bin/
    assert tops - scripts == {"exsdk", record.parent.name}, tops
    for name in ("sdk", "adapters", "contracts", "simulator", "tests"):
        assert not (site / name).exists(), f"{name} installed at the top level"


def test_core_install_has_no_test_or_plotting_framework(venv: Venv, tmp_path: Path) -> None:
    for module in ("pytest", "pytest_asyncio", "vcr", "pytest_recording", "pandas"):
        assert not venv.has(module, tmp_path), f"{module} installed by the core"
    assert not venv.has("matplotlib", tmp_path)


def test_import_exsdk_beside_a_users_own_adapters_and_contracts(venv: Venv, tmp_path: Path) -> None:
    for folder in ("adapters", "contracts", "sdk", "simulator"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("raise ImportError('the user’s own')\n")
    out = venv.ok(
        venv.python,
        "-c",
        "import exsdk, exsdk.contracts, exsdk.simulator\n"
        "a = exsdk.get_adapter('binance-spot', venue='sim', base_url='http://127.0.0.1:9')\n"
        "print(type(a).__module__, exsdk.contracts.__file__)",
        cwd=tmp_path,
    )
    module, contracts_file = out.split()
    assert module == "exsdk.adapters.binance.spot"
    assert Path(contracts_file).is_relative_to(_site_packages(venv))


def test_a_foreign_pytest_project_still_passes(venv: Venv, tmp_path: Path) -> None:
    # The user's own pytest, without the contracts extra: the plugin loads and stays inert.
    venv.pip("pytest", cwd=tmp_path)
    assert not venv.has("pytest_asyncio", tmp_path)
    (tmp_path / "test_unrelated.py").write_text("def test_it():\n    assert 2 * 2 == 4\n")
    out = venv.ok(venv.python, "-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path)
    assert "1 passed" in out and "contract matrix" not in out
    trace = venv.ok(
        venv.python, "-m", "pytest", "-p", "no:cacheprovider", "--trace-config", cwd=tmp_path
    )
    assert "exsdk/contracts/plugin.py" in trace, "the plugin must be loaded to be inert"


def test_an_experiment_on_the_simulator_needs_no_pandas(venv: Venv, tmp_path: Path) -> None:
    out = venv.ok(
        venv.exsdk,
        "experiment",
        "--random",
        "2",
        "--seed",
        "1",
        "--twap-waves",
        "2",
        "--run-id",
        "core",
        cwd=tmp_path,
    )
    assert "OMS fills of run core" in out
    assert not venv.has("pandas", tmp_path)
    report = venv.run(venv.exsdk, "report", "core", cwd=tmp_path)
    assert report.returncode == 2
    assert report.stderr.strip() == "error: exsdk report needs pandas: pip install 'exsdk[report]'"


# -- the contracts extra and a third-party adapter package ------------------------------

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-adapters"
version = "0.1.0"
dependencies = ["exsdk"]

[tool.setuptools]
packages = ["acme_adapters"]
"""


def test_a_third_party_adapter_end_to_end(venv: Venv, tmp_path: Path) -> None:
    venv.pip(f"{venv.wheel}[contracts]", cwd=tmp_path)
    project = tmp_path / "acme"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)

    # A Binance-protocol ccxt id: the bundled simulator speaks it, no keys needed.
    out = venv.ok(venv.exsdk, "new-adapter", "acme-spot", "--ccxt-id", "binance", cwd=project)
    assert (project / "acme_adapters" / "acme_spot.py").is_file()
    assert (project / "tests" / "contracts" / "test_acme_spot.py").is_file()
    assert (
        'acme-spot = "acme_adapters.acme_spot:AcmeSpotAdapter"'
        in (project / "pyproject.toml").read_text()
    )
    assert "exsdk record --adapter acme-spot" in out
    site = _site_packages(venv)
    assert not any(site.glob("acme*")) and not (site / "tests").exists(), "written to site"

    # The project's own install, so that its entry point is seen.
    venv.pip("--no-deps", "-e", ".", cwd=project)
    out = venv.ok(venv.exsdk, "record", "--adapter", "acme-spot", cwd=project, timeout=300)
    assert SCAFFOLD_MATRIX in out, out
    cassettes = project / "cassettes" / "acme-spot"
    assert (cassettes / "markets.json").is_file()
    recorded = sorted(p.name for p in cassettes.glob("*.yaml"))
    # The same suite and capabilities as the built-in binance-spot: the same cassettes.
    assert recorded == sorted(p.name for p in (ROOT / "cassettes" / "binance-spot").glob("*.yaml"))
    assert (
        "| acme-spot | bundled simulator (seed 7"
        in (project / "cassettes" / "README.md").read_text()
    )

    # Replay as its CI would: no asyncio_mode set, record mode none, the network blocked.
    replay = ("-m", "pytest", "-p", "no:cacheprovider", "--record-mode=none", "--block-network")
    out = venv.ok(venv.python, *replay, cwd=project)
    assert re.search(r"\b17 passed, 4 skipped\b", out), out
    assert SCAFFOLD_MATRIX in out

    # A missing cassette fails (never skips) and names a command that works here.
    (cassettes / "test_login_with_good_keys.yaml").unlink()
    failed = venv.run(venv.python, *replay, "-k", "test_login_with_good_keys", cwd=project)
    assert failed.returncode == 1, failed.stdout
    assert "1 failed" in failed.stdout and "skipped" not in failed.stdout
    assert "Re-record it with: exsdk record --adapter acme-spot" in failed.stdout
