"""symcnn.strategies: every strategy prints as the call that made it.

Hypothesis shows strategies in failure notes and health checks; ``conv_layers(ndim=1)``
says where a value came from, ``build()`` does not. The wrapper that sets the repr must
not change what is drawn, nor when arguments are checked.
"""

from __future__ import annotations

import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import symcnn as sc
import symcnn.strategies as scst

n, k = sc.symbols("n k")
NET = sc.Sequential(sc.Conv2d(1, 2, k), sc.MaxPool2d(2), input_shape=(1, n, n))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: scst.conv_layers(), "conv_layers()"),
        # an argument given is shown even when it equals the default (5)
        (lambda: scst.conv_layers(max_kernel_size=5), "conv_layers(max_kernel_size=5)"),
        (
            lambda: scst.conv_layers(input_shape=(3, 8, 8), max_out_channels=4),
            "conv_layers(input_shape=(3, 8, 8), max_out_channels=4)",
        ),
        (lambda: scst.conv_transpose_layers(), "conv_transpose_layers()"),
        (
            lambda: scst.conv_transpose_layers(ndim=1, in_channels=2),
            "conv_transpose_layers(ndim=1, in_channels=2)",
        ),
        (lambda: scst.pool_layers(), "pool_layers()"),
        (
            lambda: scst.pool_layers(kinds=["max"], ceil_mode=False),
            "pool_layers(kinds=['max'], ceil_mode=False)",
        ),
        (lambda: scst.adaptive_pool_layers(), "adaptive_pool_layers()"),
        (
            lambda: scst.adaptive_pool_layers(max_output_size=2),
            "adaptive_pool_layers(max_output_size=2)",
        ),
        (lambda: scst.linear_layers(), "linear_layers()"),
        (
            lambda: scst.linear_layers(in_features=256, lazy=False),
            "linear_layers(in_features=256, lazy=False)",
        ),
        (lambda: scst.activation_layers(), "activation_layers()"),
        (lambda: scst.batch_norm_layers(num_features=16), "batch_norm_layers(num_features=16)"),
        (lambda: scst.sequential_networks(), "sequential_networks()"),
        (
            lambda: scst.sequential_networks(input_shape=(1, 12, 12), kinds=["conv", "pool"]),
            "sequential_networks(input_shape=(1, 12, 12), kinds=['conv', 'pool'])",
        ),
        (lambda: scst.symbolic_networks(), "symbolic_networks()"),
        (
            lambda: scst.symbolic_networks(square=True, symbolic_kernels=True),
            "symbolic_networks(square=True, symbolic_kernels=True)",
        ),
        (lambda: scst.branching_networks(), "branching_networks()"),
        (
            lambda: scst.branching_networks(symbolic=True, max_blocks=2),
            "branching_networks(symbolic=True, max_blocks=2)",
        ),
        (lambda: scst.inputs_in_domain(NET), f"inputs_in_domain({NET!r})"),
        (
            lambda: scst.inputs_in_domain(NET, max_size=40, fixed={"k": 5}),
            f"inputs_in_domain({NET!r}, max_size=40, fixed={{'k': 5}})",
        ),
        (lambda: scst.inputs_outside_domain(NET), f"inputs_outside_domain({NET!r})"),
        (
            lambda: scst.inputs_outside_domain(NET, fixed={k: 3}),
            f"inputs_outside_domain({NET!r}, fixed={{k: 3}})",
        ),
    ],
)
def test_repr_is_the_call(make, expected):
    assert repr(make()) == expected


def test_repr_keeps_the_order_and_style_given():
    assert repr(scst.conv_layers(max_stride=2, ndim=1)) == "conv_layers(max_stride=2, ndim=1)"
    assert repr(scst.inputs_in_domain(net=NET)) == f"inputs_in_domain(net={NET!r})"


def test_repr_composes_with_hypothesis_reprs():
    assert repr(scst.linear_layers(lazy=True).map(str)) == "linear_layers(lazy=True).map(str)"
    assert repr(st.lists(scst.activation_layers())) == "lists(activation_layers())"


def test_every_public_strategy_is_covered():
    strategy_functions = {name for name in scst.__all__ if callable(getattr(scst, name))}
    covered = {
        "conv_layers",
        "conv_transpose_layers",
        "pool_layers",
        "adaptive_pool_layers",
        "linear_layers",
        "activation_layers",
        "batch_norm_layers",
        "sequential_networks",
        "symbolic_networks",
        "branching_networks",
        "inputs_in_domain",
        "inputs_outside_domain",
    }
    assert strategy_functions == covered


def test_signatures_and_docstrings_are_the_functions_own():
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for name in scst.__all__:
        function = getattr(scst, name)
        if callable(function):
            parameters = inspect.signature(function).parameters.values()
            assert not any(p.kind in variadic for p in parameters), name
            assert function.__name__ == name
            assert function.__doc__ == function.__wrapped__.__doc__


def test_arguments_are_still_checked_at_the_call():
    with pytest.raises(InvalidArgument, match="max_kernel_size must be at least 1"):
        scst.conv_layers(max_kernel_size=0)


def _drawn(strategy: st.SearchStrategy, count: int = 20) -> list[str]:
    seen: list[str] = []

    @settings(
        derandomize=True,
        database=None,
        max_examples=count,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def record(value):
        seen.append(repr(value))

    record()
    return seen


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("conv_layers", {"input_shape": (3, 9, 9)}),
        ("pool_layers", {"ndim": 1}),
        ("activation_layers", {}),
        ("sequential_networks", {"max_layers": 3, "max_size": 8}),
    ],
)
def test_the_repr_does_not_change_what_is_drawn(name, kwargs):
    function = getattr(scst, name)
    assert _drawn(function(**kwargs)) == _drawn(function.__wrapped__(**kwargs))
