"""Helpers shared by the tests that cross-check symcnn against torch."""

from __future__ import annotations

import inspect
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


# -- whole networks, node by node (for the property suite) ------------------------------------
def torch_layer(torch: Any, layer: Any) -> Any:
    """The ``torch.nn`` module for a symcnn layer with numeric hyperparameters.

    Layers mirror ``torch.nn`` names and constructor arguments, so the module is built from
    the layer's dataclass fields; merges, views and inputs have no module (None).
    """
    import dataclasses

    if isinstance(layer, (sc.Input, sc.Add, sc.Mul, sc.Concat, sc.View, *_FUNCTIONAL)):
        return None
    module = getattr(torch.nn, type(layer).__name__)
    accepted = inspect.signature(module).parameters  # Upsample's antialias is F.interpolate's
    kwargs = {
        f.name: _plain(getattr(layer, f.name))
        for f in dataclasses.fields(layer)
        if f.init and (f.name in accepted or getattr(layer, f.name) != f.default)
    }
    return module(**kwargs)


def _plain(value: Any) -> Any:
    """sympy Integers as ints, rationals as floats (a scale factor), tuples of them alike."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "is_Integer") and value.is_Integer:
        return int(value)
    if hasattr(value, "is_Rational") and value.is_Rational:
        return float(value)
    return value


#: Layers that are torch functions or operators, not modules: run by ``TorchRun._step``.
_FUNCTIONAL = (sc.Sub, sc.Div, sc.Scalar, sc.Mean, sc.Sum, sc.Amax, sc.Amin)

#: ``Scalar(op, value)`` as torch computes it on a tensor ``x``.
_SCALAR = {
    "add": lambda x, v: x + v,
    "sub": lambda x, v: x - v,
    "rsub": lambda x, v: v - x,
    "mul": lambda x, v: x * v,
    "div": lambda x, v: x / v,
    "rdiv": lambda x, v: v / x,
    "floordiv": lambda x, v: x // v,
    "rfloordiv": lambda x, v: v // x,
    "pow": lambda x, v: x**v,
    "rpow": lambda x, v: v**x,
    "neg": lambda x, v: -x,
}


class TorchRun:
    """A symcnn network's graph executed in torch on ``zeros(2, *input_shape)``.

    Two samples, not one: a ``BatchNorm2d`` without running statistics normalizes with the
    batch's own, and torch refuses one value per channel (batch 1, a 1×1 map) even in eval
    mode; that is a rule on the batch, which symcnn's per-sample shapes do not model.
    Every node must keep the two samples apart (a view that re-batches fails).

    ``shapes`` maps every node to its per-sample output shape; ``modules`` maps layer
    nodes to their torch modules. ``error`` is the exception torch raised (at construction
    or in the forward pass), else None. Hyperparameter symbols are substituted from
    ``point`` without symcnn's checks, so torch alone decides what it accepts.
    """

    def __init__(self, torch: Any, net: Any, point: dict[Any, int]) -> None:
        import networkx as nx

        graph = net.graph
        self.shapes: dict[Any, tuple[int, ...]] = {}
        self.inputs: dict[Any, tuple[int, ...]] = {}
        self.modules: dict[Any, Any] = {}
        self.error: BaseException | None = None
        self.nn = torch.nn
        values: dict[Any, Any] = {}
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                # torch's CPU oneDNN kernels hand back empty tensors where its native kernels
                # raise "Output size is too small" (see test_torch_nd); symcnn follows the
                # native kernels, so they are the referee here.
                with torch.backends.mkldnn.flags(enabled=False):
                    for node in nx.topological_sort(graph):
                        layer = graph.nodes[node]["layer"].substituted(point)
                        edges = sorted(graph.in_edges(node, data="port"), key=lambda e: e[2])
                        args = [values[u] for u, _, _ in edges]
                        values[node] = self._step(torch, node, layer, args)
                        out = values[node]
                        if out.shape[0] != 2:  # a view that re-batches: not one row per sample
                            raise RuntimeError(f"{node} re-batched to {tuple(out.shape)}")
                        self.shapes[node] = tuple(out.shape[1:])
                        if args:
                            self.inputs[node] = tuple(args[0].shape[1:])
        except TORCH_ERRORS as err:
            self.error = err

    def _step(self, torch: Any, node: Any, layer: Any, args: list[Any]) -> Any:
        if isinstance(layer, sc.Input):
            return torch.zeros(2, *(int(s) for s in layer.shape))
        if isinstance(layer, sc.Add):
            return sum(args[1:], args[0])
        if isinstance(layer, sc.Mul):
            out = args[0]
            for a in args[1:]:
                out = out * a
            return out
        if isinstance(layer, sc.Concat):
            return torch.cat(args, dim=layer.dim)
        if isinstance(layer, sc.View):
            return getattr(args[0], layer.method)(-1, *(int(s) for s in layer.shape))
        if isinstance(layer, sc.Sub):
            return args[0] - args[1]
        if isinstance(layer, sc.Div):
            return args[0] / args[1]
        if isinstance(layer, sc.Scalar):
            return _SCALAR[layer.op](args[0], layer.value)
        if isinstance(layer, (sc.Mean, sc.Sum, sc.Amax, sc.Amin)):
            reduce = getattr(args[0], type(layer).__name__.lower())
            return reduce(tuple(layer.dim), keepdim=layer.keepdim)
        module = torch_layer(torch, layer).eval()
        self.modules[node] = module
        return module(*args)

    @property
    def params(self) -> int:
        return sum(n_params(m) for m in self.modules.values())

    @property
    def buffers(self) -> int:
        return sum(b.numel() for m in self.modules.values() for b in m.buffers())

    @property
    def products(self) -> int:
        """Weight-times-activation products from torch's weights and the real shapes."""
        import math

        nn = self.nn
        total = 0
        for node, m in self.modules.items():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                total += m.weight.numel() * math.prod(self.shapes[node][1:])
            elif isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                total += m.weight.numel() * math.prod(self.inputs[node][1:])
            elif isinstance(m, nn.Linear):  # LazyLinear becomes a Linear once run
                total += m.weight.numel() * math.prod(self.shapes[node][:-1])
        return total
