"""Shared fixtures: the seed network, and the optional tools that CI may not skip."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
from types import ModuleType

import pytest
from hypothesis import settings

import symcnn as sc

# CI runs every property test with a fixed budget; locally the default profile is quicker.
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

# --doctest-modules imports every module under tests/, helpers included. The torch-only
# helpers would fail that import where torch is missing; locally they are left out (the tests
# that use them skip through require()), under CI=true they are collected and fail.
TORCH_MISSING = importlib.util.find_spec("torch") is None
collect_ignore: list[str] = []
if TORCH_MISSING and os.environ.get("CI") != "true":
    collect_ignore += ["hookcount.py", "torchtrain.py", "torchzoo.py"]


def _doctest_imports_torch(item: pytest.Item) -> bool:
    test = getattr(item, "dtest", None)  # a DoctestItem's parsed docstring
    return test is not None and any(
        re.match(r"\s*(import|from) torch\b", example.source) for example in test.examples
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give doctests that import torch the ``torch`` marker; every ``torch`` test is ``slow``.

    Such a doctest (``symcnn.frontends.torch.from_torch``) skips locally where torch is missing, as
    ``require`` does, and fails under CI=true.
    """
    for item in items:
        if _doctest_imports_torch(item):
            item.add_marker(pytest.mark.torch)
            if TORCH_MISSING and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason="torch is not installed"))
        if item.get_closest_marker("torch") is not None:
            item.add_marker(pytest.mark.slow)


def require(module: str) -> ModuleType:
    """Import an optional tool for a test: skip when absent, but fail under CI=true.

    Also at a module's top level, where the skip covers the whole module.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is required under CI=true but cannot be imported")
        pytest.skip(f"{module} is not installed", allow_module_level=True)


def require_tool(program: str) -> str:
    """The path of an external program for a test: skip when absent, but fail under CI=true."""
    path = shutil.which(program)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is required under CI=true but is not on PATH")
        pytest.skip(f"{program} is not installed")
    return path


@pytest.fixture
def torch() -> ModuleType:
    return require("torch")


@pytest.fixture(scope="session")
def nk():
    return sc.symbols("n k")


def seed_layers(k):
    """The seed lecture's network with kernel size ``k``, layer for layer."""
    return (
        sc.Conv2d(1, 32, kernel_size=k),
        sc.MaxPool2d(kernel_size=3),
        sc.ReLU(),
        sc.Conv2d(32, 64, kernel_size=k),
        sc.MaxPool2d(kernel_size=2),
        sc.ReLU(),
        sc.View(-1, 256),
        sc.Linear(256, 200),
        sc.ReLU(),
        sc.Linear(200, 10),
    )


@pytest.fixture
def design_net(nk):
    """The seed network in its design form: Flatten and LazyLinear instead of view."""
    n, k = nk
    return sc.Sequential(
        *seed_layers(k)[:6],
        sc.Flatten(),
        sc.LazyLinear(200),
        sc.ReLU(),
        sc.Linear(200, 10),
        input_shape=(1, n, n),
    )


@pytest.fixture
def seed_net(nk):
    n, k = nk
    return sc.Sequential(*seed_layers(k), input_shape=(1, n, n))
