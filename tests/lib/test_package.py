"""The `lib` package itself: its lazy submodule list is exact, and every public function or class says which
notebook introduces it."""

import importlib
import inspect
import pkgutil
import re

import pytest

import lib
from lib import paths

LIB = paths.ROOT / "lib"


def test_submodules_are_exactly_the_modules_and_packages_under_lib():
    on_disk = {p.stem for p in LIB.glob("*.py") if p.name != "__init__.py"}
    on_disk |= {p.name for p in LIB.iterdir() if (p / "__init__.py").exists()}
    assert lib._SUBMODULES == on_disk


def _modules():
    names = sorted(lib._SUBMODULES - {"exercises"})  # the exercise checks document themselves by key ("04.3")
    for name in names:
        module = importlib.import_module(f"lib.{name}")
        yield module
        if hasattr(module, "__path__"):
            for sub in pkgutil.iter_modules(module.__path__):
                yield importlib.import_module(f"lib.{name}.{sub.name}")


@pytest.mark.parametrize("module", list(_modules()), ids=lambda m: m.__name__)
def test_every_public_function_names_the_notebook_that_introduces_it(module):
    missing = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and inspect.getmodule(obj) is module:
            if not re.search(r"[Nn]otebook \d\d", inspect.getdoc(obj) or ""):
                missing.append(name)
    assert not missing, f"{module.__name__}: no 'Introduced in notebook NN' in the docstring of {missing}"
