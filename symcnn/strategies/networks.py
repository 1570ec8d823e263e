"""Strategies for whole networks: sequential, symbolic and branching.

Each network is drawn for a concrete per-sample input shape and is valid on it by
construction: every layer or block is chosen for the shape the earlier ones produce
(:mod:`symcnn.strategies._assemble`). :func:`symbolic_networks` and, with
``symbolic=True``, :func:`branching_networks` then put symbols in place of the input
sizes and hand back the point the network was drawn at.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sympy
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ..graph.network import Sequential
from ..symbolic.symbols import symbols
from ._assemble import (
    _apply,
    _Block,
    _block,
    _Bounds,
    _kernel_symbol,
    _layer_chain,
    _symbolize,
)
from ._checks import (
    _check_int,
    _check_ndim,
    _check_ndim_matches,
    _check_optional_bool,
    _check_range,
    _check_shape,
)
from ._repr import reprs_as_call

#: The kinds of layer :func:`sequential_networks` chooses from (``kinds=``). Kinds that only
#: apply to (C, H, W) maps (batch_norm, adaptive_pool, pixel_shuffle) are skipped for 1-D and
#: 3-D inputs; after a flatten only linear, activation and dropout remain. ``pad`` draws
#: any padding mode within torch's limits, ``scalar`` arithmetic with a number (``x * 0.5``),
#: ``reduce`` a reduction over some spatial axes that keeps them as size 1.
LAYER_KINDS = (
    "conv",
    "conv_transpose",
    "pool",
    "activation",
    "dropout",
    "batch_norm",
    "adaptive_pool",
    "upsample",
    "zero_pad",
    "pad",
    "pixel_shuffle",
    "scalar",
    "reduce",
    "flatten",
    "linear",
)


def _network_options(
    input_shape: Any,
    ndim: int | None,
    min_layers: int,
    max_layers: int,
    min_channels: int,
    max_channels: int,
    min_size: int,
    max_size: int,
    max_kernel_size: int,
    max_stride: int,
    kinds: Collection[str] | None,
) -> tuple[st.SearchStrategy[tuple[int, ...]], tuple[str, ...], _Bounds]:
    """The checked arguments common to the network strategies: input shapes, kinds, bounds."""
    _check_range("min_layers", min_layers, "max_layers", max_layers, 0)
    _check_range("min_channels", min_channels, "max_channels", max_channels, 1)
    _check_range("min_size", min_size, "max_size", max_size, 1)
    _check_int("max_kernel_size", max_kernel_size, 1)
    _check_int("max_stride", max_stride, 1)
    chosen = LAYER_KINDS if kinds is None else tuple(kinds)
    unknown = set(chosen) - set(LAYER_KINDS)
    if unknown or not chosen:
        raise InvalidArgument(
            f"kinds must be a non-empty subset of {LAYER_KINDS} (unknown: {sorted(unknown)})"
        )
    if input_shape is not None:
        shape = _check_shape(input_shape)
        _check_ndim_matches(ndim, shape, input_shape)
        shapes: st.SearchStrategy[tuple[int, ...]] = st.just(shape)
    else:
        nd = 2 if ndim is None else ndim
        _check_ndim(nd)
        size = st.integers(min_size, max_size)
        shapes = st.tuples(st.integers(min_channels, max_channels), *[size] * nd)
    bounds = _Bounds(max_channels, max_size, max_kernel_size, max_stride, 16)
    return shapes, chosen, bounds


@reprs_as_call
def sequential_networks(
    *,
    input_shape: Sequence[int] | None = None,
    ndim: int | None = None,
    min_layers: int = 1,
    max_layers: int = 5,
    min_channels: int = 1,
    max_channels: int = 4,
    min_size: int = 1,
    max_size: int = 16,
    max_kernel_size: int = 5,
    max_stride: int = 3,
    kinds: Collection[str] | None = None,
) -> st.SearchStrategy[Sequential]:
    """Sequential networks valid for a concrete per-sample input shape.

    The input shape is ``input_shape`` (ints), or (C, *spatial) drawn with C in
    [``min_channels``, ``max_channels``] and each of ``ndim`` (default 2) spatial sizes in
    [``min_size``, ``max_size``]. Between ``min_layers`` and ``max_layers`` layers follow,
    each chosen for the shape the previous ones produce, of the ``kinds`` given (default
    :data:`LAYER_KINDS`; a kind listed twice is drawn twice as often); channels stay at
    most ``max_channels``, and layers that grow a map (transposed convolutions,
    upsampling, padding) are not chosen once a size reaches ``max_size``. The network's
    layers are ``[r.layer for r in net.layers]``.

    Examples
    --------
    ``sequential_networks(input_shape=(1, 12, 12), kinds=["conv", "pool", "activation"])``
    draws networks such as ``Sequential(Conv2d(1, 3, kernel_size=3), MaxPool2d(2), ReLU(),
    input_shape=(1, 12, 12))``.
    """
    shapes, chosen, bounds = _network_options(
        input_shape,
        ndim,
        min_layers,
        max_layers,
        min_channels,
        max_channels,
        min_size,
        max_size,
        max_kernel_size,
        max_stride,
        kinds,
    )

    @st.composite
    def build(draw: Any) -> Sequential:
        shape = draw(shapes)
        count = draw(st.integers(min_layers, max_layers))
        return Sequential(*_layer_chain(draw, shape, count, chosen, bounds), input_shape=shape)

    return build()


@reprs_as_call
def symbolic_networks(
    *,
    ndim: int | None = None,
    min_layers: int = 1,
    max_layers: int = 4,
    min_channels: int = 1,
    max_channels: int = 4,
    min_size: int = 1,
    max_size: int = 16,
    max_kernel_size: int = 5,
    max_stride: int = 3,
    kinds: Collection[str] | None = None,
    square: bool | None = None,
    symbolic_kernels: bool = False,
) -> st.SearchStrategy[tuple[Sequential, dict[sympy.Symbol, int]]]:
    """``(net, point)``: a sequential network over symbolic sizes, and a point where it is valid.

    The layers are those of :func:`sequential_networks` (same arguments), drawn for a
    concrete input; the input's spatial sizes then become symbols (``H``, ``W`` or ``L``,
    ``D``); with ``square=True`` the input is square and one ``n`` stands for every axis,
    with ``None`` either, when the drawn sizes happen to be equal. With
    ``symbolic_kernels`` the square kernels of convolutions become ``k1``, ``k2``, ... too.
    ``net.subs(point)`` is the concrete network; ``net.is_valid(point)`` holds.

    Examples
    --------
    ``symbolic_networks(kinds=["conv", "pool"], square=True)`` draws pairs such as
    ``(Sequential(Conv2d(2, 4, kernel_size=3), MaxPool2d(2), input_shape=(2, n, n)),
    {n: 9})``.
    """
    shapes, chosen, bounds = _network_options(
        None,
        ndim,
        min_layers,
        max_layers,
        min_channels,
        max_channels,
        min_size,
        max_size,
        max_kernel_size,
        max_stride,
        kinds,
    )
    _check_optional_bool("square", square)

    @st.composite
    def build(draw: Any) -> tuple[Sequential, dict[sympy.Symbol, int]]:
        shape = draw(shapes)
        if square:
            shape = (shape[0], *[shape[1]] * (len(shape) - 1))
        count = draw(st.integers(min_layers, max_layers))
        chain = _layer_chain(draw, shape, count, chosen, bounds)
        sym_shape, point = _symbolize(draw, shape, square)
        if symbolic_kernels:
            replaced = []
            for i, layer in enumerate(chain, start=1):
                new, value = _kernel_symbol(layer, i)
                replaced.append(new)
                point.update(value)
            chain = replaced
        return Sequential(*chain, input_shape=sym_shape), point

    return build()


@reprs_as_call
def branching_networks(
    *,
    input_shape: Sequence[int] | None = None,
    min_blocks: int = 1,
    max_blocks: int = 3,
    min_channels: int = 1,
    max_channels: int = 4,
    min_size: int = 1,
    max_size: int = 12,
    max_kernel_size: int = 3,
    max_stride: int = 2,
    kinds: Collection[str] | None = None,
    symbolic: bool = False,
) -> st.SearchStrategy[Any]:
    """Branching (C, H, W) networks built with ``sc.Input`` and layers called on tensors.

    Each of ``min_blocks`` … ``max_blocks`` blocks is one of: a residual block
    (``Add`` of the input and a same-padded convolution, with optional BatchNorm and
    activation), a projection (``Add`` of a strided 3×3 and a strided 1×1 convolution), a
    ``Concat`` of two branches, a squeeze-and-excitation gate (``Mul`` broadcasting a
    (C, 1, 1) weight), a U-Net-like skip (pool by 2, upsample by 2, ``Concat``: drawn only
    for even sizes), or a single layer of ``kinds`` as in :func:`sequential_networks`.

    With ``symbolic=False`` the strategy draws networks valid for their concrete input
    shape. With ``symbolic=True`` it draws ``(net, point)`` as :func:`symbolic_networks`
    does: the same graph over input symbols ``H`` and ``W``, and a point where it is valid.

    Examples
    --------
    ``branching_networks(input_shape=(4, 8, 8), max_blocks=2)`` draws networks such as
    ``x → Add(x, Conv2d(4, 4, 3, padding=1)(x)) → Concat(MaxPool2d(2)…Upsample(2), ·)``.
    """
    if input_shape is not None:
        _check_shape(input_shape, ranks=(3,))
    shapes, chosen, bounds = _network_options(
        input_shape,
        2,
        min_blocks,
        max_blocks,
        min_channels,
        max_channels,
        min_size,
        max_size,
        max_kernel_size,
        max_stride,
        kinds,
    )

    @st.composite
    def build(draw: Any) -> Any:
        shape = draw(shapes)
        count = draw(st.integers(min_blocks, max_blocks))
        plan: list[_Block] = []
        current = shape
        for _ in range(count):
            block, _ = _block(draw, current, chosen, bounds)
            plan.append(block)
            out = _apply(plan, shape).output_shape
            current = tuple(int(s) for s in out)
            if len(current) != 3:
                break
        net = _apply(plan, shape)
        if not symbolic:
            return net
        h, w = symbols("H W")
        return _apply(plan, (shape[0], h, w)), {h: shape[1], w: shape[2]}

    return build()
