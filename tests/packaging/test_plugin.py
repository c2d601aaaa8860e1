"""The pytest plugin is inert in a foreign test run, and the suite needs no asyncio_mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "exsdk_contracts"  # the pytest11 entry point's name


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The outer run's PYTEST_ADDOPTS (--durations, -n) is no part of the foreign project.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _normalised(output: str) -> str:
    # The header lists every installed plugin, this one included: the one line that may differ.
    lines = [line for line in output.splitlines() if not line.startswith("plugins: ")]
    # The closing line's "=" padding shrinks as its duration grows (a loaded machine: 10 s).
    return re.sub(r"=+", "=", re.sub(r"in [0-9.]+s", "in Ns", "\n".join(lines)))


def test_a_foreign_run_is_the_same_with_and_without_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "--strict-markers --strict-config"\n'
    )
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    with_plugin = _pytest(tmp_path, "-rA")
    without = _pytest(tmp_path, "-rA", "-p", f"no:{PLUGIN}")
    assert with_plugin.returncode == 0, with_plugin.stdout + with_plugin.stderr
    assert "1 passed" in with_plugin.stdout
    assert _normalised(with_plugin.stdout) == _normalised(without.stdout)
    assert with_plugin.stderr == without.stderr
    markers = _pytest(tmp_path, "--markers")
    assert markers.stdout == _pytest(tmp_path, "--markers", "-p", f"no:{PLUGIN}").stdout


def test_the_plugin_is_loaded_in_that_run(tmp_path: Path) -> None:
    # The comparison above means something only if the plugin was there to be inert.
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    result = _pytest(tmp_path, "--trace-config", "-q")
    assert "exsdk/contracts/plugin.py" in result.stdout, result.stdout


def test_the_suite_runs_in_pytest_asyncios_strict_mode() -> None:
    # This repository sets asyncio_mode = "auto"; a third-party project need not.
    result = _pytest(
        ROOT,
        "tests/contracts/test_binance_spot.py",
        "-q",
        "-o",
        "asyncio_mode=strict",
        "--record-mode=none",
        "--block-network",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "17 passed, 4 skipped" in result.stdout
    assert (
        "binance-spot: 17 pass, 4 skip (capability), 0 xfail (declared gap), 0 fail or error"
        in result.stdout
    )
