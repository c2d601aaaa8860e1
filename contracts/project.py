"""The project ``exsdk new-adapter`` and ``exsdk record`` work on: the current directory.

A project is a folder with a ``pyproject.toml``: this repository, or a package of the
user's own that ships adapters through the ``exsdk.adapters`` entry-point group. It says
where an adapter module goes and under which import name, where its contract module is
(``tests/contracts/test_<name>.py``) and where its cassettes are (the ``exsdk_cassettes``
key of its pytest configuration, else ``cassettes/`` at its root), so that the commands
never assume they run from exsdk's own checkout.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path
from typing import Any

import attrs

from exsdk.contracts.cassettes import CASSETTES_INI, resolve_cassettes_root
from exsdk.errors import SdkError

__all__ = ["NoProject", "Project", "contract_module_name"]

_OWN_NAME = "exsdk"


class NoProject(SdkError):
    """The current directory is not the root of a Python project (no ``pyproject.toml``)."""


def contract_module_name(adapter_name: str) -> str:
    """``test_<name>.py`` for an adapter name like ``binance-futures``."""
    safe = "".join(c if c.isalnum() else "_" for c in adapter_name).strip("_")
    return f"test_{safe}.py"


def _ini_value(root: Path) -> tuple[str | None, Path]:
    """``exsdk_cassettes`` from the first pytest configuration file pytest would read."""
    for name in ("pytest.ini", ".pytest.ini"):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            parser.read(path, encoding="utf-8")
            return parser.get("pytest", CASSETTES_INI, fallback=None), root
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        tool = _toml(pyproject).get("tool", {}).get("pytest", {})
        table = tool.get("ini_options", tool)
        if tool:
            value = table.get(CASSETTES_INI)
            return (None if value is None else str(value)), root
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            parser.read(path, encoding="utf-8")
            if parser.has_section(section):
                return parser.get(section, CASSETTES_INI, fallback=None), root
    return None, root


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NoProject(f"{path}: not valid TOML ({exc})") from None


@attrs.frozen
class Project:
    """A project folder and the places the contract workflow reads and writes in it."""

    root: Path
    distribution: str
    """The ``[project] name`` of its ``pyproject.toml``."""

    @classmethod
    def here(cls, directory: Path | None = None) -> Project:
        """The project whose root is ``directory`` (default: the current directory)."""
        root = (directory or Path.cwd()).resolve()
        pyproject = root / "pyproject.toml"
        if not pyproject.is_file():
            raise NoProject(
                f"no pyproject.toml in {root}: run this from the root of the Python project "
                "that will ship the adapter (a package of your own, see "
                "docs/adding-an-adapter.md)"
            )
        name = _toml(pyproject).get("project", {}).get("name")
        if not isinstance(name, str) or not name:
            raise NoProject(f"{pyproject} has no [project] name; the entry point needs one")
        return cls(root, name)

    @property
    def pyproject(self) -> Path:
        """Its ``pyproject.toml``."""
        return self.root / "pyproject.toml"

    @property
    def is_exsdk(self) -> bool:
        """Whether this is exsdk's own checkout (adapters go to ``adapters/``)."""
        return self.distribution == _OWN_NAME and (self.root / "adapters" / "__init__.py").exists()

    @property
    def package(self) -> str:
        """The import name adapter modules go under: ``exsdk.adapters`` or its own package."""
        if self.is_exsdk:
            return "exsdk.adapters"
        return re.sub(r"[-_.]+", "_", self.distribution).lower()

    @property
    def package_dir(self) -> Path:
        """The folder of :attr:`package` (``src/<pkg>/`` when the project uses a src layout)."""
        if self.is_exsdk:
            return self.root / "adapters"
        src = self.root / "src" / self.package
        return src if src.is_dir() else self.root / self.package

    @property
    def cassettes_root(self) -> Path:
        """Where its cassettes are: ``exsdk_cassettes`` in its pytest ini, else ``cassettes/``."""
        value, base = _ini_value(self.root)
        return resolve_cassettes_root(value, base)

    def contract_module(self, adapter_name: str) -> Path:
        """``tests/contracts/test_<name>.py``: the adapter's contract test module."""
        return self.root / "tests" / "contracts" / contract_module_name(adapter_name)

    def recorded_adapters(self) -> list[str]:
        """Adapters with a markets snapshot in the cassettes folder (each was recorded once)."""
        root = self.cassettes_root
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "markets.json").is_file())

    def install_command(self) -> str:
        """What re-installs the project so that a new entry point is seen."""
        return "make setup" if self.is_exsdk else "pip install -e ."
