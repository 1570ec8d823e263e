"""Hypothesis strategies for property tests of shape rules: layers, networks, domain points.

In the style of ``hypothesis.extra.numpy``: plural names, keyword-only ``min_*``/``max_*``
bounds, :class:`hypothesis.errors.InvalidArgument` for bad arguments, and generation that is
valid by construction (each hyperparameter is drawn from the range the previous ones leave
open, so nothing is filtered). Install the extra with ``pip install "symcnn[strategies]"``;
``import symcnn`` never imports hypothesis, only ``import symcnn.strategies`` does.

Layers and networks are drawn for a *concrete* per-sample input shape, and every layer is
valid on the shape it receives: a sequential network is built one layer at a time, each
chosen for the current output shape. :func:`symbolic_networks` then replaces the input
sizes (and, on request, kernel sizes) by symbols and hands back the network with a point
where it is valid. :func:`inputs_in_domain` and :func:`inputs_outside_domain` draw points
inside a network's validity domain and just outside it, solved exactly from
:attr:`~symcnn.graph.network.Network.constraints` (no sampling and filtering).

A user's property test reads::

    from hypothesis import given
    import symcnn.strategies as scst

    @given(scst.symbolic_networks(max_layers=4), st.data())
    def test_valid_points_have_positive_outputs(case, data):
        net, _ = case
        point = data.draw(scst.inputs_in_domain(net, max_size=40))
        assert all(size >= 1 for size in net.subs(point).output_shape)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

try:
    from hypothesis import reject
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'symcnn.strategies needs hypothesis: pip install "symcnn[strategies]"'
    ) from error

import sympy

from .. import layers
from ..errors import ShapeError, SymcnnError
from ..evaluate.compiler import compile_relation
from ..validity.intsolve import smallest_integer
from ..graph.network import Network, Sequential
from ..symbolic.symbols import symbols

__all__ = [
    "LAYER_KINDS",
    "activation_layers",
    "adaptive_pool_layers",
    "batch_norm_layers",
    "branching_networks",
    "conv_layers",
    "conv_transpose_layers",
    "inputs_in_domain",
    "inputs_outside_domain",
    "linear_layers",
    "pool_layers",
    "sequential_networks",
    "symbolic_networks",
]

#: The kinds of layer :func:`sequential_networks` chooses from (``kinds=``). Kinds that only
#: apply to (C, H, W) maps (batch_norm, adaptive_pool, upsample, zero_pad) are skipped for
#: 1-D and 3-D inputs; after a flatten only linear, activation and dropout remain.
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
    "flatten",
    "linear",
)
_MAPS_2D_ONLY = {"batch_norm", "adaptive_pool", "upsample", "zero_pad"}
_GROWING = {"conv_transpose", "upsample", "zero_pad"}
_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_CONV = {1: layers.Conv1d, 2: layers.Conv2d, 3: layers.Conv3d}
_CONV_T = {1: layers.ConvTranspose1d, 2: layers.ConvTranspose2d, 3: layers.ConvTranspose3d}
_MAX = {1: layers.MaxPool1d, 2: layers.MaxPool2d, 3: layers.MaxPool3d}
_AVG = {1: layers.AvgPool1d, 2: layers.AvgPool2d, 3: layers.AvgPool3d}


# -- argument checks -----------------------------------------------------------------------
def _check_int(name: str, value: Any, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an int (got {value!r})")
    if value < minimum:
        raise InvalidArgument(f"{name} must be at least {minimum} (got {value})")


def _check_range(lo_name: str, lo: int, hi_name: str, hi: int, minimum: int = 0) -> None:
    _check_int(lo_name, lo, minimum)
    _check_int(hi_name, hi, minimum)
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo} must not exceed {hi_name}={hi}")


def _check_optional_bool(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be None or a bool (got {value!r})")


def _check_ndim(ndim: Any) -> None:
    if isinstance(ndim, bool) or ndim not in (1, 2, 3):
        raise InvalidArgument(f"ndim must be 1, 2 or 3 (got {ndim!r})")


def _check_shape(input_shape: Any, ranks: Collection[int] = (2, 3, 4)) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise InvalidArgument(
            f"input_shape must be a tuple of ints (got {input_shape!r})"
        ) from None
    if len(shape) not in ranks or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise InvalidArgument(
            f"input_shape must be {' or '.join(f'{r - 1}-D' for r in ranks if r > 1)} "
            f"(C, *spatial) of positive ints (got {input_shape!r})"
        )
    return shape


def _compact(values: Sequence[int]) -> int | tuple[int, ...]:
    """One int when every axis has the same value, as a user would write it."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


# -- layers --------------------------------------------------------------------------------
def _groups_and_out(
    draw: Any, in_channels: int, min_out: int, max_out: int, max_groups: int
) -> tuple[int, int]:
    """Groups dividing in_channels, and out_channels a multiple of groups within bounds."""
    options = [
        g for g in _divisors(in_channels) if g <= max_groups and -(-min_out // g) * g <= max_out
    ]
    groups = draw(st.sampled_from(options)) if len(options) > 1 and draw(st.booleans()) else 1
    out = groups * draw(st.integers(-(-min_out // groups), max_out // groups))
    return groups, out


def _resolve_input(
    input_shape: Any, ndim: int | None, in_channels: int | None, max_in_channels: int
) -> tuple[int | None, tuple[int, ...] | None, int | None]:
    """(ndim, spatial sizes or None, fixed in_channels or None) from the common arguments."""
    if input_shape is not None:
        shape = _check_shape(input_shape)
        if ndim is not None and ndim != len(shape) - 1:
            raise InvalidArgument(f"ndim={ndim} contradicts input_shape={input_shape!r}")
        if in_channels is not None and in_channels != shape[0]:
            raise InvalidArgument(f"in_channels={in_channels} contradicts input_shape={shape!r}")
        return len(shape) - 1, shape[1:], shape[0]
    nd = 2 if ndim is None else ndim
    _check_ndim(nd)
    if in_channels is not None:
        _check_int("in_channels", in_channels, 1)
    _check_int("max_in_channels", max_in_channels, 1)
    return nd, None, in_channels


def conv_layers(
    *,
    input_shape: Sequence[int] | None = None,
    ndim: int | None = None,
    in_channels: int | None = None,
    max_in_channels: int = 8,
    min_out_channels: int = 1,
    max_out_channels: int = 8,
    max_kernel_size: int = 5,
    max_stride: int = 3,
    max_padding: int = 2,
    max_dilation: int = 2,
    max_groups: int = 4,
    padding_words: bool = True,
) -> st.SearchStrategy[layers.Conv1d | layers.Conv2d | layers.Conv3d]:
    """Convolutions ``Conv1d``/``Conv2d``/``Conv3d``, valid on ``input_shape`` when given.

    With ``input_shape=(C, *spatial)`` (ints) the rank and ``in_channels`` follow from it and
    every kernel fits its padded, dilated axis. Otherwise ``ndim`` (default 2) sets the rank
    and ``in_channels`` is fixed or drawn up to ``max_in_channels``. ``groups`` divides both
    channel counts; ``padding`` is an int, a per-axis tuple, or (with ``padding_words``)
    ``'valid'`` or ``'same'`` (then with stride 1, as PyTorch requires).

    Examples
    --------
    ``conv_layers(input_shape=(3, 7, 7), max_out_channels=4)`` draws layers such as
    ``Conv2d(3, 3, kernel_size=(5, 2), stride=2, groups=3)``, each accepted by
    ``Sequential(layer, input_shape=(3, 7, 7))``.
    """
    nd, spatial, fixed_in = _resolve_input(input_shape, ndim, in_channels, max_in_channels)
    assert nd is not None
    _check_range("min_out_channels", min_out_channels, "max_out_channels", max_out_channels, 1)
    for name, value in (("max_kernel_size", max_kernel_size), ("max_stride", max_stride)):
        _check_int(name, value, 1)
    _check_int("max_dilation", max_dilation, 1)
    _check_int("max_groups", max_groups, 1)
    _check_int("max_padding", max_padding, 0)

    @st.composite
    def build(draw: Any) -> Any:
        c_in = fixed_in or draw(st.integers(1, max_in_channels))
        groups, c_out = _groups_and_out(draw, c_in, min_out_channels, max_out_channels, max_groups)
        word = draw(st.sampled_from([None, None, "valid", "same"])) if padding_words else None
        kernel, stride, padding, dilation = [], [], [], []
        for axis in range(nd):
            d = draw(st.integers(1, max_dilation))
            s = 1 if word == "same" else draw(st.integers(1, max_stride))
            p = 0 if word is not None else draw(st.integers(0, max_padding))
            limit = max_kernel_size
            if spatial is not None and word != "same":
                limit = min(limit, (spatial[axis] + 2 * p - 1) // d + 1)
            kernel.append(draw(st.integers(1, limit)))
            stride.append(s)
            padding.append(p)
            dilation.append(d)
        return _CONV[nd](
            c_in,
            c_out,
            _compact(kernel),
            stride=_compact(stride),
            padding=word if word is not None else _compact(padding),
            dilation=_compact(dilation),
            groups=groups,
            bias=draw(st.booleans()),
        )

    return build()


def conv_transpose_layers(
    *,
    input_shape: Sequence[int] | None = None,
    ndim: int | None = None,
    in_channels: int | None = None,
    max_in_channels: int = 8,
    min_out_channels: int = 1,
    max_out_channels: int = 8,
    max_kernel_size: int = 4,
    max_stride: int = 3,
    max_padding: int = 2,
    max_dilation: int = 2,
    max_groups: int = 4,
) -> st.SearchStrategy[layers.ConvTranspose1d | layers.ConvTranspose2d | layers.ConvTranspose3d]:
    """Transposed convolutions, valid on ``input_shape`` when given, as :func:`conv_layers`.

    ``output_padding`` is smaller than the stride or the dilation of its axis, and the
    padding leaves every output axis at least 1, PyTorch's two rules.

    Examples
    --------
    ``conv_transpose_layers(input_shape=(4, 5, 5))`` draws layers such as
    ``ConvTranspose2d(4, 2, kernel_size=3, stride=2, padding=1, output_padding=1)``.
    """
    nd, spatial, fixed_in = _resolve_input(input_shape, ndim, in_channels, max_in_channels)
    assert nd is not None
    _check_range("min_out_channels", min_out_channels, "max_out_channels", max_out_channels, 1)
    for name, value in (
        ("max_kernel_size", max_kernel_size),
        ("max_stride", max_stride),
        ("max_dilation", max_dilation),
        ("max_groups", max_groups),
    ):
        _check_int(name, value, 1)
    _check_int("max_padding", max_padding, 0)

    @st.composite
    def build(draw: Any) -> Any:
        c_in = fixed_in or draw(st.integers(1, max_in_channels))
        groups, c_out = _groups_and_out(draw, c_in, min_out_channels, max_out_channels, max_groups)
        kernel, stride, padding, out_pad, dilation = [], [], [], [], []
        for axis in range(nd):
            s = draw(st.integers(1, max_stride))
            d = draw(st.integers(1, max_dilation))
            k = draw(st.integers(1, max_kernel_size))
            op = draw(st.integers(0, max(s, d) - 1))
            reach = max_padding
            if spatial is not None:
                # output (H - 1)s - 2p + d(k - 1) + op + 1 >= 1
                reach = min(reach, ((spatial[axis] - 1) * s + d * (k - 1) + op) // 2)
            kernel.append(k)
            stride.append(s)
            padding.append(draw(st.integers(0, reach)))
            out_pad.append(op)
            dilation.append(d)
        return _CONV_T[nd](
            c_in,
            c_out,
            _compact(kernel),
            stride=_compact(stride),
            padding=_compact(padding),
            output_padding=_compact(out_pad),
            groups=groups,
            bias=draw(st.booleans()),
            dilation=_compact(dilation),
        )

    return build()


def pool_layers(
    *,
    input_shape: Sequence[int] | None = None,
    ndim: int | None = None,
    kinds: Collection[str] = ("max", "avg"),
    max_kernel_size: int = 4,
    max_stride: int = 3,
    max_dilation: int = 2,
    ceil_mode: bool | None = None,
) -> st.SearchStrategy[layers.Layer]:
    """Max and average pooling (``kinds``), valid on ``input_shape`` when given.

    Padding is at most half the kernel size (PyTorch's rule) and the dilated kernel fits the
    padded input; ``stride`` is sometimes left to its default, the kernel size.
    ``ceil_mode=None`` draws both modes. Average pooling has no dilation; ``AvgPool3d`` also
    fits the kernel in the unpadded input, as PyTorch's ``avg_pool3d`` requires.

    Examples
    --------
    ``pool_layers(input_shape=(8, 5, 5), kinds=["max"])`` draws layers such as
    ``MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)``.
    """
    nd, spatial, _ = _resolve_input(input_shape, ndim, None, 1)
    assert nd is not None
    kinds = tuple(kinds)
    if not kinds or not set(kinds) <= {"max", "avg"}:
        raise InvalidArgument(f"kinds must be a non-empty subset of ('max', 'avg') (got {kinds!r})")
    for name, value in (
        ("max_kernel_size", max_kernel_size),
        ("max_stride", max_stride),
        ("max_dilation", max_dilation),
    ):
        _check_int(name, value, 1)
    _check_optional_bool("ceil_mode", ceil_mode)

    @st.composite
    def build(draw: Any) -> Any:
        kind = draw(st.sampled_from(kinds))
        unpadded = kind == "avg" and nd == 3
        kernel, stride, padding, dilation = [], [], [], []
        for axis in range(nd):
            size = None if spatial is None else spatial[axis]
            k_max = max_kernel_size if size is None or not unpadded else min(max_kernel_size, size)
            k = draw(st.integers(1, k_max))
            # with d = 1 the padded input holds the kernel when size + 2p >= k
            p_min = 0 if size is None else max(0, -(-(k - size) // 2))
            p = draw(st.integers(p_min, k // 2))
            d_max = max_dilation if kind == "max" else 1
            if size is not None and k > 1:
                d_max = min(d_max, (size + 2 * p - 1) // (k - 1))
            kernel.append(k)
            padding.append(p)
            dilation.append(draw(st.integers(1, d_max)))
            stride.append(draw(st.integers(1, max_stride)))
        default_stride = draw(st.booleans())
        options: dict[str, Any] = {
            "stride": None if default_stride else _compact(stride),
            "padding": _compact(padding),
            "ceil_mode": draw(st.booleans()) if ceil_mode is None else ceil_mode,
        }
        if kind == "max":
            return _MAX[nd](_compact(kernel), dilation=_compact(dilation), **options)
        options["count_include_pad"] = draw(st.booleans())
        if nd > 1 and draw(st.booleans()):
            options["divisor_override"] = draw(st.integers(1, 4))
        return _AVG[nd](_compact(kernel), **options)

    return build()


def adaptive_pool_layers(*, max_output_size: int = 4) -> st.SearchStrategy[layers.Layer]:
    """``AdaptiveAvgPool2d``/``AdaptiveMaxPool2d`` with an output size up to ``max_output_size``.

    The output size is an int, a pair, or a pair with ``None`` (keep that axis). Valid on
    any (C, H, W) input.

    Examples
    --------
    ``adaptive_pool_layers(max_output_size=2)`` draws ``AdaptiveAvgPool2d(1)``,
    ``AdaptiveMaxPool2d((None, 2))`` and the like.
    """
    _check_int("max_output_size", max_output_size, 1)
    size = st.integers(1, max_output_size)
    output = st.one_of(size, st.tuples(size, size), st.tuples(st.none(), size))
    return st.builds(
        lambda kind, out: kind(out),
        st.sampled_from([layers.AdaptiveAvgPool2d, layers.AdaptiveMaxPool2d]),
        output,
    )


def linear_layers(
    *,
    in_features: int | None = None,
    max_in_features: int = 64,
    min_out_features: int = 1,
    max_out_features: int = 16,
    lazy: bool | None = None,
) -> st.SearchStrategy[layers.Linear | layers.LazyLinear]:
    """``Linear`` and ``LazyLinear`` layers.

    ``in_features`` fixes what a ``Linear`` expects (else it is drawn up to
    ``max_in_features``); ``lazy=True`` draws only ``LazyLinear``, ``False`` only
    ``Linear``, ``None`` both.

    Examples
    --------
    ``linear_layers(in_features=256, max_out_features=10)`` draws ``Linear(256, 7)``,
    ``LazyLinear(3, bias=False)`` and the like, all valid on a (256,) input.
    """
    if in_features is not None:
        _check_int("in_features", in_features, 1)
    _check_int("max_in_features", max_in_features, 1)
    _check_range("min_out_features", min_out_features, "max_out_features", max_out_features, 1)
    _check_optional_bool("lazy", lazy)
    out = st.integers(min_out_features, max_out_features)
    ins = st.just(in_features) if in_features is not None else st.integers(1, max_in_features)
    eager = st.builds(layers.Linear, ins, out, bias=st.booleans())
    lazy_ = st.builds(layers.LazyLinear, out, bias=st.booleans())
    return {None: st.one_of(eager, lazy_), True: lazy_, False: eager}[lazy]


def activation_layers() -> st.SearchStrategy[layers.Layer]:
    """Shape-preserving layers without parameters: activations, ``Dropout`` and ``Identity``.

    Examples
    --------
    ``activation_layers()`` draws ``ReLU()``, ``LeakyReLU(negative_slope=0.2)``,
    ``GELU(approximate='tanh')``, ``Dropout(p=0.25)``, ...
    """
    return st.one_of(
        st.sampled_from(
            [
                layers.ReLU(),
                layers.ReLU6(),
                layers.Sigmoid(),
                layers.Tanh(),
                layers.SiLU(),
                layers.Hardswish(),
                layers.Identity(),
            ]
        ),
        st.builds(layers.LeakyReLU, st.sampled_from([0.01, 0.1, 0.2])),
        st.builds(layers.GELU, st.sampled_from(["none", "tanh"])),
        st.builds(layers.Dropout, st.sampled_from([0.0, 0.1, 0.25, 0.5])),
    )


def batch_norm_layers(*, num_features: int) -> st.SearchStrategy[layers.BatchNorm2d]:
    """``BatchNorm2d(num_features)`` with ``affine`` and ``track_running_stats`` drawn.

    Examples
    --------
    ``batch_norm_layers(num_features=16)`` draws ``BatchNorm2d(16, affine=False)`` and the like.
    """
    _check_int("num_features", num_features, 1)
    return st.builds(
        layers.BatchNorm2d,
        st.just(num_features),
        affine=st.booleans(),
        track_running_stats=st.booleans(),
    )


# -- sequential networks ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Bounds:
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
        return layers.Upsample(scale_factor=draw(st.integers(1, 2)))
    if kind == "zero_pad":
        return layers.ZeroPad2d(_compact([draw(st.integers(0, 2)) for _ in range(4)]))
    if kind == "flatten":
        return layers.Flatten()
    # linear: on the last axis, whatever the rank
    return draw(linear_layers(in_features=shape[-1], max_out_features=b.max_features, lazy=None))


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
        if ndim is not None and ndim != len(shape) - 1:
            raise InvalidArgument(f"ndim={ndim} contradicts input_shape={input_shape!r}")
        shapes: st.SearchStrategy[tuple[int, ...]] = st.just(shape)
    else:
        nd = 2 if ndim is None else ndim
        _check_ndim(nd)
        size = st.integers(min_size, max_size)
        shapes = st.tuples(st.integers(min_channels, max_channels), *[size] * nd)
    bounds = _Bounds(max_channels, max_size, max_kernel_size, max_stride, 16)
    return shapes, chosen, bounds


def _layer_chain(
    draw: Any, shape: tuple[int, ...], count: int, kinds: Sequence[str], b: _Bounds
) -> list[layers.Layer]:
    chain = []
    for _ in range(count):
        layer = _next_layer(draw, shape, kinds, b)
        chain.append(layer)
        shape = tuple(int(s) for s in Sequential(layer, input_shape=shape).output_shape)
    return chain


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


# -- branching networks -------------------------------------------------------------------
# A plan is a list of blocks, each a function from a tensor to a tensor that calls fresh
# layer objects; building it twice (numeric and symbolic input) gives the same graph.
_Block = Callable[[Any], Any]


def _odd_kernel(draw: Any, max_kernel_size: int) -> int:
    return draw(st.sampled_from([k for k in (1, 3, 5, 7) if k <= max(1, max_kernel_size)]))


def _block(
    draw: Any, shape: tuple[int, ...], kinds: Sequence[str], b: _Bounds
) -> tuple[_Block, str]:
    c, h, w = shape
    options = ["residual", "projection", "concat", "gate", "layer"]
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
    x = layers.Input(tuple(input_shape))
    y: Any = x
    for block in plan:
        y = block(y)
    if y is x:
        y = layers.Identity()(x)
    return Network(x, y)


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


# -- points in and out of a domain --------------------------------------------------------
def _check_net(net: Any) -> None:
    if not isinstance(net, Network):
        raise InvalidArgument(f"net must be a symcnn Network (got {net!r})")


def _lower(x: sympy.Symbol) -> int:
    return 1 if x.is_positive else 0


class _Rule:
    """One constraint, compiled to exact integer code once (sympy ``subs`` as a fallback)."""

    def __init__(self, relation: Any):
        self.relation = relation
        self.symbols = tuple(sorted(relation.free_symbols, key=str))
        self.fn: Callable[..., Any] | None
        try:
            self.fn = compile_relation(relation, self.symbols)
        except SymcnnError:
            self.fn = None

    def holds(self, point: Mapping[sympy.Symbol, int]) -> bool:
        if self.fn is not None:
            return bool(self.fn(*(point[s] for s in self.symbols)))
        return bool(self.relation.subs(point))


class _Domain:
    """What drawing points needs from a network, computed once per strategy.

    The network's simplified constraints are compiled once. A symbol's value is found by
    an exact scan of the constraints on it (the other symbols held) from the drawn target
    upward, then downward, within a window several times ``max_size``; beyond it the
    exact solver :mod:`symcnn.validity.intsolve` answers (once per combination, cached).
    """

    def __init__(self, net: Any, max_size: int, fixed: Mapping[Any, int] | None):
        _check_net(net)
        _check_int("max_size", max_size, 1)
        self.net = net
        self.max_size = max_size
        try:
            self.given = {s: int(v) for s, v in net._resolve(fixed or {}).items()}
        except (ShapeError, TypeError) as err:
            raise InvalidArgument(f"fixed: {err}") from None
        sizes = {s for i in net.inputs for s in i.free_symbols}
        # hyperparameter symbols first: a size is then solved with the kernels known
        self.free = sorted(net.free_symbols - set(self.given), key=lambda s: (s in sizes, str(s)))
        self.constraints = tuple(c.subs(self.given) for c in net.constraints)
        self.rules = [_Rule(c) for c in self.constraints if c.free_symbols]
        self._solved: dict[Any, int | None] = {}

    def rules_on(self, x: sympy.Symbol, known: Mapping[sympy.Symbol, int]) -> list[_Rule]:
        """The rules on ``x`` and ``known`` symbols alone."""
        return [
            r
            for r in self.rules
            if x in r.symbols and all(s in known for s in r.symbols if s is not x)
        ]

    def window(self, target: int) -> int:
        return 4 * max(self.max_size, target) + 16

    def valid(self, rules: Sequence[_Rule], point: dict[sympy.Symbol, int]) -> bool:
        return all(r.holds(point) for r in rules)

    def nearest(
        self, x: sympy.Symbol, known: Mapping[sympy.Symbol, int], target: int
    ) -> int | None:
        """The valid value of ``x`` at or above ``target``, else the nearest below, else None."""
        rules = self.rules_on(x, known)
        point = dict(known)
        for v in [*range(target, self.window(target) + 1), *range(target - 1, _lower(x) - 1, -1)]:
            point[x] = v
            if self.valid(rules, point):
                return v
        key = (x, target, tuple(sorted((str(s), v) for s, v in known.items())))
        if key not in self._solved:
            relations = [r.relation.subs(known) for r in rules]
            try:
                found = smallest_integer([*relations, sympy.Ge(x, target)], x, _lower(x))
            except SymcnnError:
                found = None
            self._solved[key] = found
        return self._solved[key]

    def draw_point(self, draw: Any) -> dict[sympy.Symbol, int]:
        point: dict[sympy.Symbol, int] = dict(self.given)
        targets = {s: draw(st.integers(_lower(s), self.max_size)) for s in self.free}
        for x in self.free:
            value = self.nearest(x, point, targets[x])
            point[x] = targets[x] if value is None else value
        if all(r.holds(point) for r in self.rules) and self.net.is_valid(point):
            return point
        # a rule couples symbols solved apart (a Linear after a flatten): re-solve each
        # with all the others held
        for x in self.free:
            others = {s: v for s, v in point.items() if s is not x}
            value = self.nearest(x, others, point[x])
            if value is not None:
                point[x] = value
        if not self.net.is_valid(point):
            reject()
        return point


def inputs_in_domain(
    net: Network, *, max_size: int = 64, fixed: Mapping[Any, int] | None = None
) -> st.SearchStrategy[dict[sympy.Symbol, int]]:
    """Points ``{symbol: int}`` at which ``net.is_valid`` holds.

    Every free symbol of ``net`` gets a value; those in ``fixed`` (symbols or names) keep
    theirs. Each symbol starts at a value drawn from [1, ``max_size``] (from 0 for a
    nonnegative symbol) and moves to the nearest value its constraints allow, solved
    exactly (an exact scan of the compiled constraints near the drawn value, and
    :mod:`symcnn.validity.intsolve` beyond it): the next multiple of 16 for a U-Net, the smallest
    valid size when the drawn one is too small. Kernel-like symbols are solved before the
    input sizes, so a size is chosen for the kernels drawn. A value may exceed
    ``max_size`` when the domain starts above it; a point whose coupled rules admit no
    value is rejected (hypothesis draws again).

    Examples
    --------
    For the seed network over ``n`` and ``k``, ``inputs_in_domain(net, fixed={"k": 5})``
    draws ``{k: 5, n: 22}``, ``{k: 5, n: 57}``, ...: never ``n < 22``.
    """
    domain = _Domain(net, max_size, fixed)

    @st.composite
    def build(draw: Any) -> dict[sympy.Symbol, int]:
        return domain.draw_point(draw)

    return build()


def inputs_outside_domain(
    net: Network, *, max_size: int = 64, fixed: Mapping[Any, int] | None = None
) -> st.SearchStrategy[dict[sympy.Symbol, int]]:
    """Points just outside ``net``'s validity domain: one symbol moved past an edge.

    A valid point (:func:`inputs_in_domain`) is drawn, then one symbol that the
    constraints mention is moved just below its smallest valid value (the others held),
    just above its largest, or, when neither exists, to the nearest invalid neighbour
    within 8 steps (a divisibility rule). ``net.is_valid`` is False at every point drawn,
    and ``net.violation`` names the rule.

    Raises :class:`~hypothesis.errors.InvalidArgument` when ``net`` has no constraint on a
    symbol that is not fixed: every point is then valid.

    Examples
    --------
    For the seed network with ``k`` fixed at 5 it draws ``{k: 5, n: 21}``, ``{k: 5, n: 18}``,
    ...: sizes below ``min_input``, within 4 of it.
    """
    domain = _Domain(net, max_size, fixed)
    movable = sorted(
        {s for c in domain.constraints for s in c.free_symbols} & set(domain.free), key=str
    )
    if not movable:
        raise InvalidArgument(
            f"{net!r} has no constraint on a symbol that is not fixed: every point is valid"
        )

    @st.composite
    def build(draw: Any) -> dict[sympy.Symbol, int]:
        point = domain.draw_point(draw)
        x = draw(st.sampled_from(movable))
        lower = _lower(x)
        others = {s: v for s, v in point.items() if s is not x}
        rules = domain.rules_on(x, others)
        scan = range(lower, domain.window(point[x]) + 1)
        valid = [v for v in scan if domain.valid(rules, {**others, x: v})]
        if valid and valid[0] > lower:  # just below the smallest valid value
            candidates = list(range(max(lower, valid[0] - 4), valid[0]))
        elif valid and valid[-1] < scan[-1]:  # just above the largest
            candidates = list(range(valid[-1] + 1, valid[-1] + 5))
        else:  # gaps between valid values: a divisibility rule
            near = range(max(lower, point[x] - 8), point[x] + 9)
            candidates = [v for v in near if v not in valid]
        if not candidates:
            reject()
        outside = {**others, x: draw(st.sampled_from(candidates[::-1]))}
        if net.is_valid(outside):
            reject()
        return outside

    return build()
