"""Package discovery for the one import namespace, ``exsdk``.

The repository keeps its top-level folders (``sdk/``, ``adapters/``, ``contracts/``,
``simulator/``); they install as ``exsdk``, ``exsdk.adapters``, ``exsdk.contracts`` and
``exsdk.simulator``. Static ``pyproject.toml`` cannot map folders to a prefix *and* find
their subpackages, so this file does only that; everything else is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "exsdk": "sdk",
    "exsdk.adapters": "adapters",
    "exsdk.contracts": "contracts",
    "exsdk.simulator": "simulator",
}

packages = []
for name, folder in FOLDERS.items():
    packages += [name, *(f"{name}.{sub}" for sub in find_packages(folder))]

setup(packages=packages, package_dir=FOLDERS)
