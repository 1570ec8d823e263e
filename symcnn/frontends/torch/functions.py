"""Functions and Tensor methods: a signature to bind, a symcnn layer to make.

:func:`calls` lists the calls symcnn maps (``F.relu``, ``F.max_pool2d``, ``torch.flatten``,
``x.mean`` ...), each as a :class:`Call`: its parameters with PyTorch's defaults, and the
function making the layer from the bound arguments (None: the tensor passes unchanged, as
dropout does in eval mode). Arithmetic, ``torch.cat``, views and size queries need the
input shapes and are the walk's own (:mod:`.convert`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from . import functional

__all__ = ["ACTIVATIONS", "AXIS_CALLS", "BY_NAME", "Call", "calls"]


@dataclass(frozen=True)
class Call:
    """A function (or Tensor method) symcnn maps: its parameters and the layer it makes."""

    params: tuple[tuple[str, Any], ...]  # (name, default); the first is the tensor
    make: Callable[..., Layer | None]  # None: pass the tensor on unchanged

    def bind(self, where: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments by parameter name, defaults filled; raise at one with no rule."""
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
            value = float(default) if "." in default or "e" in default else int(default)
        out.append((name, value))
    return tuple(out)


def _pool(kind: Any) -> Callable[..., Layer]:
    def make(kernel_size: Any, stride: Any = None, **kw: Any) -> Layer:
        if kw.pop("return_indices", False):
            raise UnsupportedLayerError("return_indices=True returns a tuple of tensors")
        return kind(kernel_size, stride=kernel_size if stride is None else stride, **kw)

    return make


def _interpolate(
    size: Any,
    scale_factor: Any,
    mode: str,
    align_corners: Any,
    recompute_scale_factor: Any,
    antialias: Any,
) -> Layer:
    """``F.interpolate`` (and ``F.upsample*``, which fx records as it): an ``Upsample``.

    Fractional scales are exact (:func:`~symcnn.symbolic.scales.scale_value`); a size read
    off another tensor (``size=skip.shape[-2:]``) arrives as sympy sizes.
    """
    return sl.Upsample(
        size=size,
        scale_factor=scale_factor,
        mode=mode,
        align_corners=align_corners,
        recompute_scale_factor=recompute_scale_factor,
        antialias=antialias,
    )


def _pad(pad: Any, mode: Any, value: Any) -> Layer | None:
    """``F.pad``: the layer of its mode for the ``len(pad) / 2`` last axes.

    Constant padding is ``ZeroPad{k}d`` (value None or 0) or ``ConstantPad{k}d``, which
    pad the last ``k`` axes of any input with more, as F.pad does; the other modes are
    ``ReflectionPad{k}d`` and its kin, whose rank rule is PyTorch's: the input is
    (C, *k axes).
    """
    if not isinstance(pad, (tuple, list)):
        raise ShapeError(f"pad must be a tuple of sizes, two per axis (got {pad!r})")
    if len(pad) % 2:
        raise ShapeError(f"pad needs two values per axis, an even count (got {tuple(pad)!r})")
    axes = len(pad) // 2
    if mode == "constant":
        if axes == 0:
            return None  # PyTorch returns the input as it is
        if axes > 3:
            raise UnsupportedLayerError(
                f"pad={tuple(pad)!r} pads {axes} axes; symcnn's pad layers pad 1 to 3"
            )
        if value is None or (type(value) in (int, float) and value == 0):
            return getattr(sl, f"ZeroPad{axes}d")(tuple(pad))
        return getattr(sl, f"ConstantPad{axes}d")(tuple(pad), value)
    stems = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
    if mode not in stems:
        raise ShapeError(
            f"mode must be 'constant', 'reflect', 'replicate' or 'circular' (got {mode!r})"
        )
    if value is not None and value != 0:
        raise ShapeError(f"mode {mode!r} takes no value, as in PyTorch (got value={value!r})")
    if not 1 <= axes <= 3:
        raise ShapeError(
            f"mode {mode!r} pads 1, 2 or 3 axes, two values each (got pad={tuple(pad)!r})"
        )
    return getattr(sl, f"{stems[mode]}{axes}d")(tuple(pad))


#: The shape-preserving activations, one rule for all: name → (symcnn layer, parameters
#: after the tensor, with PyTorch's defaults). A name maps wherever torch defines it:
#: ``F.<name>``, ``torch.<name>``, their in-place ``<name>_``, and the Tensor methods
#: ``x.<name>()``, ``x.<name>_()`` that torch.fx records. Arguments named as the layer's
#: fields go to it; ``dtype`` and ``_stacklevel`` change no shape and are dropped. One
#: signature serves ``F.softmax(input, dim=None, _stacklevel=3, dtype=None)`` and
#: ``torch.softmax(input, dim, dtype=None)``: a dtype given third lands on the dropped
#: ``_stacklevel``. Any other elementwise call (``torch.exp``, ``x.abs()``) has no rule
#: and raises :class:`~symcnn.errors.UnsupportedLayerError` naming it.
ACTIVATIONS: dict[str, tuple[str, str]] = {
    "relu": ("ReLU", "inplace=False"),
    "relu6": ("ReLU6", "inplace=False"),
    "sigmoid": ("Sigmoid", ""),
    "tanh": ("Tanh", ""),
    "silu": ("SiLU", "inplace=False"),
    "hardswish": ("Hardswish", "inplace=False"),
    "hardsigmoid": ("Hardsigmoid", "inplace=False"),
    "mish": ("Mish", "inplace=False"),
    "gelu": ("GELU", "approximate='none'"),
    "leaky_relu": ("LeakyReLU", "negative_slope=0.01, inplace=False"),
    "elu": ("ELU", "alpha=1.0, inplace=False"),
    "softplus": ("Softplus", "beta=1.0, threshold=20.0"),
    "softmax": ("Softmax", "dim=None, _stacklevel=3, dtype=None"),
    "log_softmax": ("LogSoftmax", "dim=None, _stacklevel=3, dtype=None"),
}

#: Arguments of an activation call that change no shape and have no layer field.
_DROPPED = frozenset({"dtype", "_stacklevel"})


def _activation(kind: type[Layer]) -> Callable[..., Layer]:
    """The layer of class ``kind`` from a call's bound arguments, less the dropped ones."""

    def make(**kwargs: Any) -> Layer:
        return kind(**{k: v for k, v in kwargs.items() if k not in _DROPPED})

    return make


@functools.lru_cache(maxsize=2)
def calls(torch: ModuleType) -> tuple[dict[Any, Call], dict[str, Call]]:
    """The functions, and the Tensor methods, that symcnn maps onto layers."""
    F = torch.nn.functional  # noqa: N806 - PyTorch's own alias
    same = Call(_sig("input"), lambda: None)
    functions: dict[Any, Call] = {}
    methods: dict[str, Call] = {}
    for name, (kind, spec) in ACTIVATIONS.items():
        call = Call(_sig(f"input, {spec}" if spec else "input"), _activation(getattr(sl, kind)))
        for fn in (name, name + "_"):
            for owner in (F, torch):
                if hasattr(owner, fn):
                    functions[getattr(owner, fn)] = call
            if hasattr(torch.Tensor, fn):
                methods[fn] = call
    pool_spec = "input, kernel_size, stride=None, padding=0"
    for d in (1, 2, 3):
        maxpool = Call(
            _sig(f"{pool_spec}, dilation=1, ceil_mode=False, return_indices=False"),
            _pool(getattr(sl, f"MaxPool{d}d")),
        )
        avg_extra = ", divisor_override=None" if d > 1 else ""
        avgpool = Call(
            _sig(f"{pool_spec}, ceil_mode=False, count_include_pad=True{avg_extra}"),
            _pool(getattr(sl, f"AvgPool{d}d")),
        )
        functions[getattr(F, f"max_pool{d}d")] = functions[getattr(torch, f"max_pool{d}d")] = (
            maxpool
        )
        functions[getattr(F, f"avg_pool{d}d")] = avgpool
    functions[F.adaptive_avg_pool2d] = Call(_sig("input, output_size"), sl.AdaptiveAvgPool2d)
    functions[F.adaptive_max_pool2d] = Call(
        _sig("input, output_size, return_indices=False"),
        lambda output_size, return_indices: (
            _pool_indices() if return_indices else sl.AdaptiveMaxPool2d(output_size)
        ),
    )
    functions[F.interpolate] = Call(
        _sig(
            "input, size=None, scale_factor=None, mode='nearest', align_corners=None, "
            "recompute_scale_factor=None, antialias=False"
        ),
        _interpolate,
    )
    functions[F.pixel_shuffle] = functions[torch.pixel_shuffle] = Call(
        _sig("input, upscale_factor"), sl.PixelShuffle
    )
    functions[F.pixel_unshuffle] = functions[torch.pixel_unshuffle] = Call(
        _sig("input, downscale_factor"), sl.PixelUnshuffle
    )
    functions[F.pad] = Call(_sig("input, pad, mode='constant', value=None"), _pad)
    _weighted(F, functions)
    dropout = Call(_sig("input, p=0.5, training=True, inplace=False"), lambda **_: None)
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"):
        if hasattr(F, name):
            functions[getattr(F, name)] = dropout
    flatten = Call(_sig("input, start_dim=0, end_dim=-1"), sl.Flatten)
    functions[torch.flatten] = methods["flatten"] = flatten
    _reductions(torch, functions, methods)
    for name in ("contiguous", "clone", "detach"):
        methods[name] = same
    _axis_calls(torch, functions, methods)
    return functions, methods


def _reduction(kind: Callable[..., Layer], **fixed: Any) -> Callable[..., Layer]:
    """The reduction layer ``kind`` over ``dim``; no ``dim`` reduces the batch: refused."""

    def make(dim: Any, keepdim: Any, **kw: Any) -> Layer:
        if dim is None or dim == () or dim == []:
            raise UnsupportedLayerError(
                "with no dim it reduces every axis, the batch axis too, and symcnn shapes "
                "are per sample: name the axes (dim=...)"
            )
        if kw.pop("out", None) is not None:
            raise UnsupportedLayerError("out=tensor writes into a tensor")
        kw.pop("dtype", None)
        return kind(dim, keepdim=keepdim, **fixed, **kw)

    return make


def _variance(kind: Callable[..., Layer]) -> Callable[..., Layer]:
    """``x.var`` or ``x.std``: ``unbiased=False`` is ``correction=0``."""

    def make(dim: Any, keepdim: Any, unbiased: Any, correction: Any) -> Layer:
        if correction is None:
            correction = 0 if unbiased is False else 1
        return _reduction(kind, correction=correction)(dim, keepdim)

    return make


def _norm_order(p: Any) -> dict[str, Any]:
    if p is None or p == "fro":
        return {"ord": 2}
    if isinstance(p, str):
        raise UnsupportedLayerError(f"the matrix norm p={p!r} has no symcnn rule")
    return {"ord": p}


def _reductions(torch: ModuleType, functions: dict[Any, Call], methods: dict[str, Call]) -> None:
    """``x.mean``, ``x.sum``, ``amax``, ``var``, ``logsumexp``, ``norm`` ... over ``dim``.

    ``x.max(dim)`` and ``x.min(dim)``, which return values and indices, are the walk's own
    (:mod:`.arith`).
    """
    spec = "input, dim=None, keepdim=False, dtype=None"
    var = "input, dim=None, unbiased=None, keepdim=False, correction=None"
    for name, call in (
        ("mean", Call(_sig(spec), _reduction(sl.Mean))),
        ("sum", Call(_sig(spec), _reduction(sl.Sum))),
        ("amax", Call(_sig("input, dim=None, keepdim=False"), _reduction(sl.Amax))),
        ("amin", Call(_sig("input, dim=None, keepdim=False"), _reduction(sl.Amin))),
        ("logsumexp", Call(_sig("input, dim=None, keepdim=False"), _reduction(sl.LogSumExp))),
        ("var", Call(_sig(var), _variance(sl.Var))),
        ("std", Call(_sig(var), _variance(sl.Std))),
        (
            "norm",
            Call(
                _sig("input, p=None, dim=None, keepdim=False, out=None, dtype=None"),
                lambda p, dim, keepdim, **kw: _reduction(sl.VectorNorm, **_norm_order(p))(
                    dim, keepdim, **kw
                ),
            ),
        ),
    ):
        methods[name] = call
        if hasattr(torch, name):
            functions[getattr(torch, name)] = call
    functions[torch.linalg.vector_norm] = Call(
        _sig("input, ord=2, dim=None, keepdim=False, dtype=None"),
        lambda ord, dim, keepdim, dtype: _reduction(sl.VectorNorm, ord=ord)(dim, keepdim),
    )


#: Axis calls whose arguments need the input's shape (varargs, a count of pieces): the
#: walk's own (:meth:`~.convert.Converter._axis_call`), by the name it dispatches on.
AXIS_CALLS = ("permute", "squeeze", "chunk", "split")


def _axis_calls(torch: ModuleType, functions: dict[Any, Call], methods: dict[str, Call]) -> None:
    """The axis calls a signature binds: transpose, its aliases, unsqueeze, narrow, roll."""
    transpose = Call(_sig("input, dim0, dim1"), sl.Transpose)
    swapaxes = Call(_sig("input, axis0, axis1"), lambda axis0, axis1: sl.Transpose(axis0, axis1))
    for name, call in (
        ("transpose", transpose),
        ("swapdims", transpose),
        ("swapaxes", swapaxes),
        ("unsqueeze", Call(_sig("input, dim"), sl.Unsqueeze)),
        ("narrow", Call(_sig("input, dim, start, length"), sl.Narrow)),
        ("roll", Call(_sig("input, shifts, dims=None"), sl.Roll)),
    ):
        methods[name] = call
        if hasattr(torch, name):
            functions[getattr(torch, name)] = call


def _weighted(F: ModuleType, functions: dict[Any, Call]) -> None:  # noqa: N803
    """Functional layers whose weights are a module's tensors, and ``F.normalize``.

    The weights are parameters or buffers read directly (``self.weight``) or computed
    from them alone (:mod:`.weights`); each layer's hyperparameters come from their shapes,
    as ``torch.nn``'s modules make them: ``F.conv2d``'s in_channels is ``weight.shape[1]
    * groups``. ``input_shape``, last, is no argument of torch's: the walk fills in the
    per-sample input shape, for the rules that need its rank or channels.
    """
    functions[F.layer_norm] = Call(
        _sig("input, normalized_shape, weight=None, bias=None, eps=1e-05"), functional.layer_norm
    )
    functions[F.linear] = Call(_sig("input, weight, bias=None"), functional.linear)
    functions[F.normalize] = Call(_sig("input, p=2.0, dim=1, eps=1e-12, out=None"), _normalize)
    conv = "input, weight, bias=None, stride=1, padding=0"  # then each kind's order
    for d in (1, 2, 3):
        functions[getattr(F, f"conv{d}d")] = Call(
            _sig(f"{conv}, dilation=1, groups=1"), functional.conv(getattr(sl, f"Conv{d}d"))
        )
        functions[getattr(F, f"conv_transpose{d}d")] = Call(
            _sig(f"{conv}, output_padding=0, groups=1, dilation=1"),
            functional.conv(getattr(sl, f"ConvTranspose{d}d"), transposed=True),
        )
    stats = "weight=None, bias=None"
    functions[F.batch_norm] = Call(
        _sig(
            f"input, running_mean, running_var, {stats}, training=False, momentum=0.1, "
            "eps=1e-05, input_shape=None"
        ),
        functional.batch_norm,
    )
    functions[F.instance_norm] = Call(
        _sig(
            f"input, running_mean=None, running_var=None, {stats}, use_input_stats=True, "
            "momentum=0.1, eps=1e-05, input_shape=None"
        ),
        functional.instance_norm,
    )
    functions[F.group_norm] = Call(
        _sig(f"input, num_groups, {stats}, eps=1e-05, input_shape=None"), functional.group_norm
    )
    functions[F.prelu] = Call(_sig("input, weight"), functional.prelu)


def _normalize(p: Any, dim: Any, eps: Any, out: Any) -> Layer:
    if out is not None:
        raise UnsupportedLayerError("F.normalize(..., out=tensor) writes into a tensor")
    return sl.Normalize(p, dim, eps)


def _pool_indices() -> Layer:
    raise UnsupportedLayerError("return_indices=True returns a tuple of tensors")


def _stochastic_depth(p: Any, mode: Any, training: Any) -> Layer:
    # The identity in eval mode, as from_torch traces; a layer of its own all the same, for
    # what a training step keeps (symcnn/layers/elementwise.py).
    return sl.StochasticDepth(p, mode)


#: Functions of other libraries that torch.fx records as calls, by qualified name.
BY_NAME: dict[str, Call] = {
    # torchvision's StochasticDepth (EfficientNet, ConvNeXt)
    "torchvision.ops.stochastic_depth.stochastic_depth": Call(
        _sig("input, p, mode, training=True"), _stochastic_depth
    ),
}
