"""The parts :mod:`symcnn.strategies.networks` assembles networks from.

A sequential network is a chain of layers, each drawn for the concrete shape the earlier
ones produce (:func:`_next_layer`, :func:`_layer_chain`); a branching network is a plan of
blocks (:func:`_block`), functions from a tensor to a tensor that build the same graph on a
numeric or a symbolic input (:func:`_apply`). :func:`_symbolize` and
:func:`_kernel_symbol` turn concrete sizes into symbols once a network is drawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import sympy
from hypothesis import strategies as st

from .. import layers
from ..graph.network import Network, Sequential
from ..symbolic.symbols import symbols
from .layers import (
    _compact,
    _divisors,
    activation_layers,
    adaptive_pool_layers,
    batch_norm_layers,
    conv_layers,
    conv_transpose_layers,
    linear_layers,
    pool_layers,
)

# Kinds of layer that only apply to (C, H, W) maps, and kinds that grow a map.
_MAPS_2D_ONLY = {"batch_norm", "adaptive_pool", "pixel_shuffle"}
_GROWING = {"conv_transpose", "upsample", "zero_pad", "pad", "pixel_shuffle"}
#: Padding families, each in 1, 2 and 3 d; torch's limits on the amounts per mode.
_PADS = ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
_SCALAR_OPS = ("add", "sub", "rsub", "mul", "div", "rdiv", "pow", "neg")
_REDUCTIONS = ("Mean", "Sum", "Amax", "Amin")
_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


# -- sequential chains ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Bounds:
    """The size limits every layer of one network is drawn within."""

    max_channels: int
    max_size: int
    max_kernel_size: int
    max_stride: int
    max_features: int


def _next_layer(
    draw: Any, shape: tuple[int, ...], kinds: Sequence[str], b: _Bounds
) -> layers.Layer:
    """A layer valid on the concrete ``shape``, of a kind chosen among those that apply."""
    rank = len(shape)
    if rank == 1:
        usable = [k for k in kinds if k in ("linear", "activation", "dropout")]
    else:
        usable = [k for k in kinds if not (k in _MAPS_2D_ONLY and rank != 3)]
        if max(shape[1:]) >= b.max_size:
            usable = [k for k in usable if k not in _GROWING]
    if not usable:
        return layers.Identity()
    kind = draw(st.sampled_from(usable))
    spatial_ok = rank > 1 and max(shape[1:]) < b.max_size
    if kind == "conv":
        return draw(
            conv_layers(
                input_shape=shape,
                max_out_channels=b.max_channels,
                max_kernel_size=b.max_kernel_size,
                max_stride=b.max_stride,
                max_padding=2 if spatial_ok else 0,
            )
        )
    if kind == "conv_transpose":
        return draw(
            conv_transpose_layers(
                input_shape=shape,
                max_out_channels=b.max_channels,
                max_kernel_size=b.max_kernel_size,
                max_stride=2,
            )
        )
    if kind == "pool":
        return draw(
            pool_layers(
                input_shape=shape, max_kernel_size=b.max_kernel_size, max_stride=b.max_stride
            )
        )
    if kind == "activation":
        return draw(activation_layers())
    if kind == "dropout":
        return layers.Dropout(draw(st.sampled_from([0.1, 0.5])))
    if kind == "batch_norm":
        return draw(batch_norm_layers(num_features=shape[0]))
    if kind == "adaptive_pool":
        return draw(adaptive_pool_layers(max_output_size=3))
    if kind == "upsample":
        return _upsample(draw, shape)
    if kind == "zero_pad":
        zero_pad = getattr(layers, f"ZeroPad{rank - 1}d")
        return zero_pad(_compact([draw(st.integers(0, 2)) for _ in range(2 * (rank - 1))]))
    if kind == "pad":
        return _pad(draw, shape)
    if kind == "pixel_shuffle":
        return _pixel_shuffle(draw, shape)
    if kind == "scalar":
        op = draw(st.sampled_from(_SCALAR_OPS))
        if op == "neg":
            return layers.Scalar(op)
        return layers.Scalar(op, draw(st.sampled_from([2, 0.5, 3])))
    if kind == "reduce":
        dims = draw(st.sets(st.integers(2, rank), min_size=1, max_size=rank - 1))
        kind_of = getattr(layers, draw(st.sampled_from(_REDUCTIONS)))
        return kind_of(tuple(sorted(dims)), keepdim=True)
    if kind == "flatten":
        return layers.Flatten()
    # linear: on the last axis, whatever the rank
    return draw(linear_layers(in_features=shape[-1], max_out_features=b.max_features, lazy=None))


def _upsample(draw: Any, shape: tuple[int, ...]) -> layers.Layer:
    """Nearest upsampling by 2, 3/2, or 1/2 where every axis keeps at least one element."""
    factors = [2, sympy.Rational(3, 2)]
    if min(shape[1:]) >= 2:
        factors.append(sympy.Rational(1, 2))
    return layers.Upsample(scale_factor=draw(st.sampled_from(factors)))


def _pad(draw: Any, shape: tuple[int, ...]) -> layers.Layer:
    """A padding layer of the input's rank, in a mode whose limits the amounts meet."""
    family = draw(st.sampled_from(_PADS))
    kind = getattr(layers, f"{family}{len(shape) - 1}d")
    amounts = []
    for size in shape[:0:-1]:  # the last axis first, as torch orders the amounts
        top = {"ReflectionPad": size - 1, "CircularPad": size}.get(family, 2)
        amounts += [draw(st.integers(0, min(2, top))) for _ in range(2)]
    if family == "ConstantPad":
        return kind(tuple(amounts), draw(st.sampled_from([0.0, 1.5])))
    return kind(tuple(amounts))


def _pixel_shuffle(draw: Any, shape: tuple[int, ...]) -> layers.Layer:
    """PixelShuffle(2) where the channels allow it, else PixelUnshuffle(2), else Identity."""
    c, h, w = shape
    options: list[layers.Layer] = []
    if c % 4 == 0:
        options.append(layers.PixelShuffle(2))
    if h % 2 == 0 and w % 2 == 0:
        options.append(layers.PixelUnshuffle(2))
    return draw(st.sampled_from(options)) if options else layers.Identity()


def _layer_chain(
    draw: Any, shape: tuple[int, ...], count: int, kinds: Sequence[str], b: _Bounds
) -> list[layers.Layer]:
    """``count`` layers, each valid on the concrete shape the ones before it produce."""
    chain = []
    for _ in range(count):
        layer = _next_layer(draw, shape, kinds, b)
        chain.append(layer)
        shape = tuple(int(s) for s in Sequential(layer, input_shape=shape).output_shape)
    return chain


# -- symbols ---------------------------------------------------------------------------------
def _symbolize(
    draw: Any, shape: tuple[int, ...], square: bool | None
) -> tuple[tuple[Any, ...], dict[sympy.Symbol, int]]:
    """The input shape with its spatial sizes as symbols, and their values."""
    spatial = shape[1:]
    share = len(set(spatial)) == 1 and (draw(st.booleans()) if square is None else square)
    if share:
        n = symbols("n")
        return (shape[0], *[n] * len(spatial)), {n: spatial[0]}
    names = symbols(" ".join(_AXES[len(spatial)]))
    names = names if isinstance(names, tuple) else (names,)
    return (shape[0], *names), dict(zip(names, spatial, strict=True))


def _kernel_symbol(layer: layers.Layer, index: int) -> tuple[layers.Layer, dict[sympy.Symbol, int]]:
    """A convolution with its (square) kernel size replaced by a symbol ``k<index>``."""
    if (
        not isinstance(layer, (layers.Conv1d, layers.Conv2d, layers.Conv3d))
        or len(set(layer.kernel_size)) != 1
    ):
        return layer, {}
    k = symbols(f"k{index}")
    return dataclasses.replace(layer, kernel_size=k), {k: int(layer.kernel_size[0])}


# -- branching blocks ---------------------------------------------------------------------
# A plan is a list of blocks, each a function from a tensor to a tensor that calls fresh
# layer objects; building it twice (numeric and symbolic input) gives the same graph.
_Block = Callable[[Any], Any]


def _odd_kernel(draw: Any, max_kernel_size: int) -> int:
    """An odd kernel size up to ``max_kernel_size``: same padding is then ``k // 2``."""
    return draw(st.sampled_from([k for k in (1, 3, 5, 7) if k <= max(1, max_kernel_size)]))


def _block(
    draw: Any, shape: tuple[int, ...], kinds: Sequence[str], b: _Bounds
) -> tuple[_Block, str]:
    """One block valid on the (C, H, W) ``shape``, and the name of its kind."""
    c, h, w = shape
    options = ["residual", "projection", "concat", "gate", "difference", "layer"]
    if h % 2 == 0 and w % 2 == 0 and h >= 2 and w >= 2:
        options.append("skip")  # pool by 2 then upsample by 2: needs even sizes
    kind = draw(st.sampled_from(options))
    if kind == "residual":
        k = _odd_kernel(draw, b.max_kernel_size)
        groups = draw(st.sampled_from(_divisors(c)))
        extra = draw(st.lists(st.sampled_from(["bn", "act"]), max_size=2, unique=True))
        act = draw(activation_layers())

        def residual(x: Any) -> Any:
            y = layers.Conv2d(c, c, k, padding=k // 2, groups=groups)(x)
            if "bn" in extra:
                y = layers.BatchNorm2d(c)(y)
            if "act" in extra:
                y = dataclasses.replace(act)(y)
            return layers.Add()(x, y)

        return residual, kind
    if kind == "projection":
        c2 = draw(st.integers(1, b.max_channels))
        s = draw(st.integers(1, b.max_stride))

        def projection(x: Any) -> Any:
            main = layers.Conv2d(c, c2, 3, stride=s, padding=1)(x)
            return layers.Add()(main, layers.Conv2d(c, c2, 1, stride=s, bias=False)(x))

        return projection, kind
    if kind == "concat":
        ka, kb = _odd_kernel(draw, b.max_kernel_size), _odd_kernel(draw, b.max_kernel_size)
        ca = draw(st.integers(1, b.max_channels))
        other = draw(st.sampled_from(["conv", "pool", "identity"]))
        cb = draw(st.integers(1, b.max_channels))

        def concat(x: Any) -> Any:
            a = layers.Conv2d(c, ca, ka, padding=ka // 2)(x)
            if other == "conv":
                y = layers.Conv2d(c, cb, kb, padding=kb // 2)(x)
            elif other == "pool":
                y = layers.MaxPool2d(3, stride=1, padding=1)(x)
            else:
                y = layers.Identity()(x)
            return layers.Concat()(a, y)

        return concat, kind
    if kind == "gate":
        r = draw(st.integers(1, max(1, c)))

        def gate(x: Any) -> Any:
            g = layers.AdaptiveAvgPool2d(1)(x)
            g = layers.Sigmoid()(layers.Conv2d(r, c, 1)(layers.ReLU()(layers.Conv2d(c, r, 1)(g))))
            return layers.Mul()(x, g)

        return gate, kind
    if kind == "difference":  # PoolFormer's token mixer: pool(x) - x, or its mean gate
        scaled = draw(st.booleans())

        def difference(x: Any) -> Any:
            y = layers.Sub()(layers.AvgPool2d(3, stride=1, padding=1)(x), x)
            if scaled:  # a broadcast division by the per-channel mean
                y = layers.Div()(y, layers.Scalar("add", 1)(layers.Mean((2, 3), keepdim=True)(x)))
            return y

        return difference, kind
    if kind == "skip":

        def skip(x: Any) -> Any:
            down = layers.MaxPool2d(2)(x)
            return layers.Concat()(x, layers.Upsample(scale_factor=2)(down))

        return skip, kind
    layer = _next_layer(draw, shape, [k for k in kinds if k not in ("flatten", "linear")], b)

    def single(x: Any) -> Any:
        return dataclasses.replace(layer)(x) if dataclasses.is_dataclass(layer) else layer(x)

    return single, kind


def _apply(plan: Sequence[_Block], input_shape: Sequence[Any]) -> Network:
    """The network the blocks of ``plan`` build, in order, on an input of ``input_shape``."""
    x = layers.Input(tuple(input_shape))
    y: Any = x
    for block in plan:
        y = block(y)
    if y is x:
        y = layers.Identity()(x)
    return Network(x, y)
