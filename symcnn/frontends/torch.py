"""``from_torch``: a ``torch.nn.Module`` traced with ``torch.fx`` and mapped onto symcnn layers.

The module is traced once, symbolically (no forward pass, no weights read), in inference
mode: dropout is the identity, BatchNorm uses its running statistics, training-only
branches (GoogLeNet's auxiliary heads) are left out. Every module and call the outputs
depend on becomes one symcnn node named after it (``layer1.0.conv1``, ``add_3``); anything
symcnn has no rule for raises :class:`~symcnn.errors.UnsupportedLayerError` naming it,
never a silent zero. The user's module is left as it was: its train/eval flags are restored
and nothing is attached to it.

torch is imported only here, and only when :func:`from_torch` is called.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any

import sympy

from .. import layers as sl
from ..errors import ShapeError, UnsupportedLayerError
from ..graph.derive import Builder
from ..graph.network import Network, Sequential
from ..graph.trace import trace
from ..layers.base import Layer, derive
from ..layers.registry import torch_twin
from ..layers.tensor import Tensor
from ..symbolic.shape import Shape

__all__ = ["from_torch"]


def _torch() -> ModuleType:
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError as err:  # pragma: no cover - the test extra installs torch
        raise ImportError("symcnn.from_torch needs PyTorch: pip install 'symcnn[torch]'") from err
    return torch


def from_torch(module: Any, input_shape: Sequence[Any] | Sequence[Sequence[Any]]) -> Network:
    """The symcnn network of a ``torch.nn.Module``, with sizes that may be symbols.

    Parameters
    ----------
    module : torch.nn.Module
        Any module ``torch.fx`` can trace. Its train/eval flags are restored afterwards.
    input_shape : sequence
        The per-sample input shape, e.g. ``(3, H, W)`` with ``H, W = sc.symbols("H W")``;
        for a module with several inputs, one shape per input.

    Returns
    -------
    Network
        One node per module call and per supported function call, named after the module
        (``layer1.0.conv1``) or the traced call (``add_3``).

    Raises
    ------
    UnsupportedLayerError
        For a module or call without a symcnn rule, or a module ``torch.fx`` cannot trace;
        the message names it and its node.
    ShapeError
        When a layer cannot take its input, as a forward pass would fail (or, for
        ``x.view(-1, m)``, silently re-batch).
    TypeError
        When ``module`` is not a ``torch.nn.Module``.

    Warns
    -----
    UserWarning
        When some parameters are not reached by the eval-mode forward (GoogLeNet's
        auxiliary heads): the totals leave them out.

    Examples
    --------
    >>> import torch.nn as nn
    >>> import symcnn as sc
    >>> H, W = sc.symbols("H W")
    >>> net = sc.from_torch(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU()), (3, H, W))
    >>> [r.name for r in net.layers]
    ['0', '1']
    >>> print(net.output_shape)
    8×⌊(H - 1)/2⌋×⌊(W - 1)/2⌋
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    shapes = _input_shapes(input_shape)
    kind = _module_kind(module)
    if kind is not None:  # a bare layer: torch.fx would trace into its forward
        layer = _layer_from_module(module, kind)
        return Sequential(layer, input_shape=shapes[0])
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        try:
            traced = torch.fx.GraphModule(module, _tracer(torch).trace(module))
        except UnsupportedLayerError:
            raise
        except Exception as err:
            raise UnsupportedLayerError(
                f"torch.fx cannot trace {type(module).__name__}: {type(err).__name__}: {err}"
            ) from err
    finally:
        for m, training in modes:
            m.training = training
    net = _Converter(torch, traced).network(shapes)
    _warn_unused(module, traced)
    return net


def _warn_unused(module: Any, traced: Any) -> None:
    """Warn about parameters the traced forward never reaches, which symcnn cannot count.

    GoogLeNet's auxiliary classifiers run only in training: in eval mode their parameters
    are in ``module.parameters()`` but in no node, so the totals leave them out.
    """
    used = {id(p) for p in traced.parameters()}
    unused: dict[str, int] = {}
    for name, p in module.named_parameters():
        if id(p) not in used:
            owner = name.rpartition(".")[0] or name
            top = owner.split(".")[0]
            unused[top] = unused.get(top, 0) + p.numel()
    if unused:
        total = sum(unused.values())
        where = ", ".join(f"{name} ({count})" for name, count in unused.items())
        warnings.warn(
            f"from_torch: {total} parameters are not used by the traced forward (eval "
            f"mode) and are not counted: {where}",
            stacklevel=3,
        )


def _input_shapes(input_shape: Any) -> list[tuple[Any, ...]]:
    items = list(input_shape)
    if items and all(isinstance(s, (tuple, list)) for s in items):
        return [tuple(s) for s in items]
    return [tuple(items)]


def _tracer(torch: ModuleType) -> Any:
    """A ``torch.fx.Tracer`` that keeps every module symcnn maps as one leaf call.

    torch.fx's default keeps only modules defined in ``torch.nn``; a user's subclass of
    ``nn.Conv2d`` that does not change ``forward`` is a convolution too.
    """

    class Tracer(torch.fx.Tracer):  # type: ignore[name-defined]
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return _module_kind(m) is not None or bool(super().is_leaf_module(m, qualname))

    return Tracer()


# -- values flowing through the traced graph ---------------------------------------------
@dataclass(frozen=True)
class _Value:
    """A symbolic tensor with its per-sample shape, as the walk knows it."""

    tensor: Tensor
    shape: Shape


class _Batch:
    """``x.size(0)``: the batch size, known only to be the batch size."""

    def __repr__(self) -> str:
        return "x.size(0)"


BATCH = _Batch()


# -- modules: symcnn layers of the same name read their fields off the module -------------
def _module_kind(m: Any) -> type[Layer] | None:
    """The symcnn class for module ``m``: its torch class, or a subclass keeping its forward."""
    for cls in type(m).__mro__:
        if not cls.__module__.startswith("torch.nn"):
            continue
        kind = torch_twin(cls.__name__)
        if kind is not None:
            return kind if getattr(type(m), "forward", None) is getattr(cls, "forward") else None  # noqa: B009
    return None


def _layer_from_module(m: Any, kind: type[Layer]) -> Layer:
    """The symcnn layer holding module ``m``'s hyperparameters, field by field."""
    kwargs: dict[str, Any] = {}
    for f in fields(kind):  # type: ignore[arg-type]
        if not f.init or not hasattr(m, f.name):
            continue
        value = getattr(m, f.name)
        if f.name == "bias":
            value = value is not None
        elif f.name == "scale_factor" and value is not None:
            value = _integral(value, m)
        kwargs[f.name] = value
    if getattr(m, "return_indices", False):
        raise UnsupportedLayerError(f"{m!r}: return_indices=True returns a tuple of tensors")
    return kind(**kwargs)


def _integral(value: Any, what: Any) -> Any:
    values = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for v in values:
        if isinstance(v, float) and not v.is_integer():
            raise UnsupportedLayerError(
                f"{what!r}: symcnn's Upsample takes integer scale factors (got {v})"
            )
        out.append(int(v))
    return tuple(out) if isinstance(value, (tuple, list)) else out[0]


# -- functions and methods: a signature to bind, a layer to make -------------------------
@dataclass(frozen=True)
class _Call:
    """A function (or Tensor method) symcnn maps: its parameters and the layer it makes."""

    params: tuple[tuple[str, Any], ...]  # (name, default); the first is the tensor
    make: Callable[..., Layer | None]  # None: pass the tensor on unchanged

    def bind(self, where: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        names = [n for n, _ in self.params]
        if len(args) > len(names):
            raise UnsupportedLayerError(f"{where}: too many arguments {tuple(args)!r}")
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise UnsupportedLayerError(f"{where}: argument {key!r} has no symcnn rule")
            bound[key] = value
        for name, default in self.params:
            bound.setdefault(name, default)
            if bound[name] is _REQUIRED:
                raise UnsupportedLayerError(f"{where}: argument {name!r} is missing")
        return bound


_REQUIRED = object()


#: The non-numeric defaults the signatures below spell.
_LITERALS: dict[str, Any] = {
    "None": None,
    "True": True,
    "False": False,
    "'nearest'": "nearest",
    "'constant'": "constant",
    "'none'": "none",
}


def _sig(spec: str) -> tuple[tuple[str, Any], ...]:
    """``"input, kernel_size, stride=None"`` → parameters with their defaults (literals)."""
    out: list[tuple[str, Any]] = []
    for item in spec.split(","):
        name, _, default = item.strip().partition("=")
        if not default:
            value: Any = _REQUIRED
        elif default in _LITERALS:
            value = _LITERALS[default]
        else:
            value = float(default) if "." in default else int(default)
        out.append((name, value))
    return tuple(out)


def _pool(kind: Any) -> Callable[..., Layer]:
    def make(kernel_size: Any, stride: Any = None, **kw: Any) -> Layer:
        if kw.pop("return_indices", False):
            raise UnsupportedLayerError("return_indices=True returns a tuple of tensors")
        return kind(kernel_size, stride=kernel_size if stride is None else stride, **kw)

    return make


def _interpolate(size: Any, scale_factor: Any, mode: str, align_corners: Any, **_: Any) -> Layer:
    if scale_factor is not None:
        scale_factor = _integral(scale_factor, "F.interpolate")
    return sl.Upsample(size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners)


def _pad(pad: Any, mode: str, value: Any) -> Layer:
    if mode != "constant" or value not in (None, 0) or len(pad) != 4:
        raise UnsupportedLayerError(
            f"F.pad(x, {tuple(pad)}, mode={mode!r}, value={value}): symcnn maps only zero "
            "padding of the last two axes, (left, right, top, bottom)"
        )
    return sl.ZeroPad2d(tuple(pad))


@functools.lru_cache(maxsize=2)
def _calls(torch: ModuleType) -> tuple[dict[Any, _Call], dict[str, _Call]]:
    """The functions, and the Tensor methods, that symcnn maps onto layers."""
    F = torch.nn.functional  # noqa: N806 - PyTorch's own alias
    same = _Call(_sig("input"), lambda: None)
    act = {
        "relu": (sl.ReLU, "input, inplace=False"),
        "relu6": (sl.ReLU6, "input, inplace=False"),
        "sigmoid": (sl.Sigmoid, "input"),
        "tanh": (sl.Tanh, "input"),
        "silu": (sl.SiLU, "input, inplace=False"),
        "hardswish": (sl.Hardswish, "input, inplace=False"),
        "gelu": (sl.GELU, "input, approximate='none'"),
        "leaky_relu": (sl.LeakyReLU, "input, negative_slope=0.01, inplace=False"),
    }
    functions: dict[Any, _Call] = {}
    methods: dict[str, _Call] = {}
    for name, (kind, spec) in act.items():
        call = _Call(_sig(spec), kind)
        for owner in (F, torch):
            if hasattr(owner, name):
                functions[getattr(owner, name)] = call
            if hasattr(owner, name + "_"):
                functions[getattr(owner, name + "_")] = call
        methods[name] = methods[name + "_"] = call
    pool_spec = "input, kernel_size, stride=None, padding=0"
    for d in (1, 2, 3):
        maxpool = _Call(
            _sig(f"{pool_spec}, dilation=1, ceil_mode=False, return_indices=False"),
            _pool(getattr(sl, f"MaxPool{d}d")),
        )
        avg_extra = ", divisor_override=None" if d > 1 else ""
        avgpool = _Call(
            _sig(f"{pool_spec}, ceil_mode=False, count_include_pad=True{avg_extra}"),
            _pool(getattr(sl, f"AvgPool{d}d")),
        )
        functions[getattr(F, f"max_pool{d}d")] = functions[getattr(torch, f"max_pool{d}d")] = (
            maxpool
        )
        functions[getattr(F, f"avg_pool{d}d")] = avgpool
    functions[F.adaptive_avg_pool2d] = _Call(_sig("input, output_size"), sl.AdaptiveAvgPool2d)
    functions[F.adaptive_max_pool2d] = _Call(
        _sig("input, output_size, return_indices=False"),
        lambda output_size, return_indices: (
            _pool_indices() if return_indices else sl.AdaptiveMaxPool2d(output_size)
        ),
    )
    functions[F.interpolate] = _Call(
        _sig(
            "input, size=None, scale_factor=None, mode='nearest', align_corners=None, "
            "recompute_scale_factor=None, antialias=False"
        ),
        _interpolate,
    )
    functions[F.pad] = _Call(_sig("input, pad, mode='constant', value=None"), _pad)
    dropout = _Call(_sig("input, p=0.5, training=True, inplace=False"), lambda **_: None)
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"):
        if hasattr(F, name):
            functions[getattr(F, name)] = dropout
    flatten = _Call(_sig("input, start_dim=0, end_dim=-1"), sl.Flatten)
    functions[torch.flatten] = methods["flatten"] = flatten
    mean = _Call(
        _sig("input, dim, keepdim=False, dtype=None"),
        lambda dim, keepdim, dtype: sl.Mean(dim, keepdim),
    )
    functions[torch.mean] = methods["mean"] = mean
    for name in ("contiguous", "clone", "detach"):
        methods[name] = same
    return functions, methods


def _pool_indices() -> Layer:
    raise UnsupportedLayerError("return_indices=True returns a tuple of tensors")


# -- the walk ------------------------------------------------------------------------------
class _Converter:
    """Walks a traced graph in order, turning each node into a symcnn tensor or a size."""

    def __init__(self, torch: ModuleType, traced: Any):
        self.torch = torch
        self.traced = traced
        self.functions, self.methods = _calls(torch)
        self.env: dict[Any, Any] = {}
        self.inputs: list[sl.Input] = []
        self.layers_by_module: dict[int, Layer] = {}
        self.owner_of_param: dict[int, str] = {}
        self.calls: dict[str, int] = {}

    def network(self, shapes: list[tuple[Any, ...]]) -> Network:
        graph = self.traced.graph
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(shapes):
            raise ShapeError(
                f"{type(self.traced).__name__} takes {len(placeholders)} input(s) "
                f"({', '.join(p.name for p in placeholders)}); input_shape gives {len(shapes)}"
            )
        needed = self._needed(graph)
        outputs: list[Tensor] = []
        shapes_left = iter(shapes)
        for node in graph.nodes:
            if node.op == "placeholder":
                layer = sl.Input(next(shapes_left))
                self.inputs.append(layer)
                self.env[node] = _Value(Tensor(layer), layer.shape)
            elif node.op == "output":
                outputs = [self._tensor(node, v) for v in _leaves(self._arg(node.args[0]))]
            elif node in needed:
                self.env[node] = self._convert(node)
        wiring, names = trace(self.inputs, outputs)
        builder = Builder()
        for node in wiring:
            builder.add(node.name, node.layer, node.inputs)
        # tables show torch's node names by default
        return builder.network(names, source="torch")

    @staticmethod
    def _needed(graph: Any) -> set[Any]:
        """The nodes the outputs depend on; dead code is not converted."""
        out = next(n for n in reversed(graph.nodes) if n.op == "output")
        seen: set[Any] = set()
        stack = [out]
        while stack:
            node = stack.pop()
            for parent in node.all_input_nodes:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    # -- one node ------------------------------------------------------------------------
    def _convert(self, node: Any) -> Any:
        args = self._arg(node.args)
        kwargs = self._arg(dict(node.kwargs))
        if node.op == "call_module":
            return self._module(node, args, kwargs)
        if node.op == "get_attr":
            raise UnsupportedLayerError(
                f"node {node.name!r} reads the parameter or buffer {node.target!r} directly "
                "(a functional layer such as F.conv2d(x, self.weight)); symcnn maps modules "
                "and parameter-free calls only"
            )
        target = node.target
        if node.op == "call_method":
            if target in ("size", "dim"):
                return self._size_query(node, target, args)
            call = self.methods.get(target)
            what = f"Tensor.{target}"
            if target in ("view", "reshape"):
                return self._view(node, target, args)
            if target in ("add", "add_", "mul", "mul_"):
                return self._arith(node, target.rstrip("_"), args)
        else:
            what = _name_of(target)
            if target is getattr and len(args) == 2 and args[1] == "shape":
                return self._size_query(node, "shape", args[:1])
            if target is operator.getitem:
                return self._getitem(node, args)
            if target in (operator.add, operator.iadd, self.torch.add):
                return self._arith(node, "add", args)
            if target in (operator.mul, operator.imul, self.torch.mul):
                return self._arith(node, "mul", args)
            if target in (operator.floordiv, operator.sub, operator.truediv):
                return self._size_arith(node, target, args)
            if target in (self.torch.cat, getattr(self.torch, "concat", None)):
                return self._cat(node, args, kwargs)
            if target is self.torch.reshape:
                return self._view(node, "reshape", args)
            call = self.functions.get(target) or _BY_NAME.get(_qualified(target))
        if call is None:
            raise UnsupportedLayerError(
                f"{what} at node {node.name!r} has no symcnn rule; "
                f"{self._shapes_of(args)}supported calls are listed in symcnn.frontends.torch"
            )
        where = f"{what} at node {node.name!r}"
        bound = call.bind(where, args, kwargs)
        x = bound.pop(call.params[0][0])
        try:
            layer = call.make(**bound)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(f"{where}: {err}") from None
        except (ShapeError, TypeError) as err:
            raise ShapeError(f"{where}: {err}") from None
        if layer is None:
            return self._value(node, x)
        return self._apply(node, layer, [x], node.name)

    def _module(self, node: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        m = self.traced.get_submodule(node.target)
        kind = _module_kind(m)
        if kind is None:
            raise UnsupportedLayerError(
                f"module {node.target!r} ({type(m).__module__}.{type(m).__name__}) at node "
                f"{node.name!r} has no symcnn rule"
            )
        if kwargs or len(args) != 1:
            raise UnsupportedLayerError(
                f"module {node.target!r} at node {node.name!r} is called with "
                f"{len(args)} positional and {len(kwargs)} keyword arguments; symcnn maps "
                "single-input calls"
            )
        layer = self.layers_by_module.get(id(m))
        if layer is None:
            try:
                layer = _layer_from_module(m, kind)
            except UnsupportedLayerError as err:
                raise UnsupportedLayerError(
                    f"module {node.target!r} at node {node.name!r}: {err}"
                ) from None
            layer = self._shared_with(node.target, m, layer)
            self.layers_by_module[id(m)] = layer
        count = self.calls[node.target] = self.calls.get(node.target, 0) + 1
        name = node.target if count == 1 else f"{node.target}:{count}"
        value = self._apply(node, layer, list(args), name)
        self._check_params(node, m, layer, args[0].shape)
        return value

    def _shared_with(self, target: str, m: Any, layer: Layer) -> Layer:
        """The layer of an earlier module whose parameters ``m`` shares, or ``layer``."""
        params = list(m.parameters(recurse=False))
        owners = {self.owner_of_param.get(id(p)) for p in params}
        if owners <= {None}:
            for p in params:
                self.owner_of_param[id(p)] = target
            return layer
        if len(owners) == 1:
            (owner,) = owners
            earlier = self.layers_by_module[id(self.traced.get_submodule(owner))]
            if earlier == layer:
                return earlier
        raise UnsupportedLayerError(
            f"module {target!r} shares some of its parameters with "
            f"{', '.join(sorted(o for o in owners if o))} but not all of them, or with "
            "different hyperparameters; symcnn counts a shared layer once, as a whole"
        )

    def _check_params(self, node: Any, m: Any, layer: Layer, shape: Shape) -> None:
        """Guard: the parameter count symcnn derives equals the module's own, when known."""
        try:
            torch_count = sum(p.numel() for p in m.parameters(recurse=False))
        except ValueError:  # an uninitialized lazy parameter
            return
        derived = derive(layer, "params", (shape,)).value
        if derived.is_Integer and int(derived) != torch_count:
            raise UnsupportedLayerError(
                f"module {node.target!r} ({type(m).__name__}) holds {torch_count} parameters "
                f"but symcnn's rule for {layer!r} gives {derived}: a subclass with extra "
                "parameters has no symcnn rule"
            )

    # -- tensors -------------------------------------------------------------------------
    def _apply(self, node: Any, layer: Layer, inputs: list[Any], name: str) -> _Value:
        tensor = layer(*(self._tensor(node, x) for x in inputs), name=name)
        try:
            shape = derive(layer, "output_shape", tuple(x.shape for x in inputs))
        except ShapeError as err:
            raise ShapeError(f"{layer!r} at node {name!r}: {err}") from None
        return _Value(tensor, shape)

    def _tensor(self, node: Any, x: Any) -> Tensor:
        if not isinstance(x, _Value):
            raise UnsupportedLayerError(
                f"node {node.name!r} uses {x!r} where symcnn expects a tensor"
            )
        return x.tensor

    def _value(self, node: Any, x: Any) -> _Value:
        self._tensor(node, x)
        value: _Value = x
        return value

    def _arith(self, node: Any, op: str, args: Sequence[Any]) -> Any:
        if not any(isinstance(a, _Value) for a in args):
            return self._size_arith(node, operator.add if op == "add" else operator.mul, args)
        if len(args) != 2 or not all(isinstance(a, _Value) for a in args):
            raise UnsupportedLayerError(
                f"{op} at node {node.name!r} of a tensor and a number ({args[0]!r}, "
                f"{args[-1]!r}) has no symcnn rule; symcnn maps tensor {op} tensor"
            )
        a, b = args
        if a.tensor is b.tensor:
            b = self._apply(node, sl.Identity(), [b], f"{node.name}.copy")
        layer = sl.Add() if op == "add" else sl.Mul()
        return self._apply(node, layer, [a, b], node.name)

    def _cat(self, node: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> _Value:
        tensors = list(args[0])
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if len(tensors) == 1:
            return self._value(node, tensors[0])
        seen: set[int] = set()
        for i, t in enumerate(tensors):
            if isinstance(t, _Value) and id(t.tensor) in seen:
                tensors[i] = self._apply(node, sl.Identity(), [t], f"{node.name}.copy{i}")
            elif isinstance(t, _Value):
                seen.add(id(t.tensor))
        try:
            layer = sl.Concat(dim)
        except ShapeError as err:
            raise ShapeError(f"torch.cat at node {node.name!r}: {err}") from None
        return self._apply(node, layer, tensors, node.name)

    def _view(self, node: Any, method: str, args: Sequence[Any]) -> _Value:
        x, *sizes = args
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = list(sizes[0])
        shape = self._value(node, x).shape
        where = f"x.{method} at node {node.name!r}"
        if not sizes or sizes[0] is not BATCH and sizes[0] != -1:
            raise UnsupportedLayerError(
                f"{where}: the first size must be -1 or x.size(0), the batch axis "
                f"(got {sizes[0] if sizes else 'none'}); symcnn shapes are per sample"
            )
        rest = list(sizes[1:])
        if sizes[0] is BATCH:
            if rest == [-1]:
                return self._apply(node, sl.Flatten(), [x], node.name)
            if rest.count(-1) == 1:
                known = sympy.Mul(*(s for s in rest if s != -1))
                rest[rest.index(-1)] = shape.numel / known
        kind = sl.View if method == "view" else sl.Reshape
        try:
            layer = kind(-1, *rest)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self._apply(node, layer, [x], node.name)

    # -- sizes ---------------------------------------------------------------------------
    def _size_query(self, node: Any, what: str, args: Sequence[Any]) -> Any:
        x = self._value(node, args[0])
        full = (BATCH, *x.shape)
        if what == "dim":
            return len(full)
        if len(args) > 1:
            return full[args[1]]
        return full

    def _getitem(self, node: Any, args: Sequence[Any]) -> Any:
        seq, index = args
        if isinstance(seq, tuple) and not isinstance(seq, Shape):
            return seq[index]
        raise UnsupportedLayerError(
            f"indexing at node {node.name!r} ({_show(seq)}[{index!r}]) has no symcnn rule"
        )

    def _size_arith(self, node: Any, op: Any, args: Sequence[Any]) -> Any:
        if any(isinstance(a, (_Value, _Batch)) for a in args):
            raise UnsupportedLayerError(
                f"{_name_of(op)} at node {node.name!r} on {tuple(_show(a) for a in args)} "
                "has no symcnn rule"
            )
        a, b = (_number(node, v) for v in args)
        # factored, so that x.size(1) * x.size(2) reads 4·(H - 2), as the shapes do
        return sympy.factor_terms(a / b if op is operator.truediv else op(a, b))

    def _shapes_of(self, args: Sequence[Any]) -> str:
        shown = [str(a.shape) for a in _leaves(args) if isinstance(a, _Value)]
        return f"its input is {', '.join(shown)}; " if shown else ""

    def _arg(self, value: Any) -> Any:
        """Replace fx nodes in (nested) arguments by their converted values."""
        if type(value).__name__ == "Node" and value in self.env:
            return self.env[value]
        if isinstance(value, tuple) and not isinstance(value, Shape):
            return tuple(self._arg(v) for v in value)
        if isinstance(value, list):
            return [self._arg(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        if type(value).__name__ == "Size":
            return tuple(value)
        return value


def _number(node: Any, value: Any) -> sympy.Expr:
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    raise UnsupportedLayerError(f"node {node.name!r}: {value!r} is not an integer size")


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, (tuple, list)) and not isinstance(value, Shape):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


def _stochastic_depth(p: Any, mode: Any, training: Any) -> None:
    if training:  # pragma: no cover - from_torch traces in eval mode
        raise UnsupportedLayerError("stochastic depth in training mode drops samples at random")


#: Functions of other libraries that torch.fx records as calls, by qualified name.
_BY_NAME: dict[str, _Call] = {
    # torchvision's StochasticDepth (EfficientNet, ConvNeXt): the identity in eval mode
    "torchvision.ops.stochastic_depth.stochastic_depth": _Call(
        _sig("input, p, mode, training=True"), _stochastic_depth
    ),
}


def _qualified(target: Any) -> str:
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', '')}"


def _name_of(target: Any) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", repr(target))
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if (
        module == "torch"
        or module.startswith("torch.")
        or not module
        and hasattr(target, "__self__")
    ):
        return f"torch.{name}"
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def _show(value: Any) -> str:
    if isinstance(value, _Value):
        return f"tensor {value.shape}"
    return repr(value)
