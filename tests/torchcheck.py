"""Helpers shared by the tests that cross-check symcnn against torch."""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import symcnn as sc

# The torch fixture is only a module import, so sharing it across examples is harmless; the
# example budget stays the active profile's (conftest: 'ci' 200 under CI=true, 'dev' 60).
torch_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# IndexError: torch.flatten with a dim out of range.
TORCH_ERRORS = (RuntimeError, ValueError, IndexError)


def run_torch(torch: Any, build: Any, input_shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """Build a torch module and run it on zeros(1, *input_shape).

    Returns ``(module, output, None)``, or ``(None, None, error)`` when torch refuses the
    configuration at construction or at forward time.
    """
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            module = build()
            out = module(torch.zeros(1, *input_shape))
    except TORCH_ERRORS as err:
        return None, None, err
    return module, out, None


def run_symcnn(build: Any, input_shape: tuple[int, ...]) -> tuple[Any, Any]:
    """Build the symcnn layers and the network: ``(net, None)`` or ``(None, ShapeError)``."""
    try:
        return sc.Sequential(*build(), input_shape=input_shape), None
    except sc.ShapeError as err:
        return None, err


def n_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def assert_same_verdict(net: Any, sc_err: Any, out: Any, torch_err: Any, what: str) -> None:
    assert (net is None) == (out is None), (
        f"{what}: symcnn {'raised ' + repr(sc_err) if net is None else 'accepted it'} "
        f"but torch {'raised ' + repr(torch_err) if out is None else 'accepted it'}"
        + ("" if out is None else f" with output {tuple(out.shape)}")
        + ("" if net is None else f" (symcnn output {net.output_shape})")
    )


def rarely(draw: Any) -> bool:
    """True about one draw in five: for the edge values that make both sides refuse."""
    return draw(st.integers(0, 4)) == 0


def per_axis(draw: Any, values: st.SearchStrategy[int], ndim: int = 2) -> Any:
    """An int, or a tuple of one value per spatial axis (often unequal)."""
    return draw(st.one_of(values, st.tuples(*[values] * ndim)))


def check_pool(torch: Any, name: str, cfg: dict[str, Any], input_shape: tuple[int, ...]) -> Any:
    """Pooling layer ``name`` in both: same verdict, same shape, nothing counted."""
    module, out, torch_err = run_torch(torch, lambda: getattr(torch.nn, name)(**cfg), input_shape)
    net, sc_err = run_symcnn(lambda: [getattr(sc, name)(**cfg)], input_shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"{name}(**{cfg}) on {input_shape}")
    if net is None:
        return None
    assert out.shape[0] == 1
    assert net.output_shape == tuple(out.shape[1:])
    assert net.params == n_params(module) == 0
    assert net.products == 0
    return net
