"""Strategies for single layers, each valid on the input shape it is given.

Convolutions, transposed convolutions and pooling take ``input_shape=(C, *spatial)``
(ints) and draw every hyperparameter from the range the earlier ones leave open, so the
layer fits that shape without filtering; without it, ``ndim`` sets the rank. Linear,
activation, batch-norm and adaptive pooling layers need no input shape to be valid.
:mod:`symcnn.strategies.networks` draws its layers from these.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .. import layers
from ._checks import (
    _check_int,
    _check_ndim,
    _check_ndim_matches,
    _check_optional_bool,
    _check_range,
    _check_shape,
)
from ._repr import reprs_as_call

_CONV = {1: layers.Conv1d, 2: layers.Conv2d, 3: layers.Conv3d}
_CONV_T = {1: layers.ConvTranspose1d, 2: layers.ConvTranspose2d, 3: layers.ConvTranspose3d}
_MAX = {1: layers.MaxPool1d, 2: layers.MaxPool2d, 3: layers.MaxPool3d}
_AVG = {1: layers.AvgPool1d, 2: layers.AvgPool2d, 3: layers.AvgPool3d}


def _compact(values: Sequence[int]) -> int | tuple[int, ...]:
    """One int when every axis has the same value, as a user would write it."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _divisors(n: int) -> list[int]:
    """The positive divisors of ``n``, ascending."""
    return [d for d in range(1, n + 1) if n % d == 0]


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
        _check_ndim_matches(ndim, shape, input_shape)
        if in_channels is not None and in_channels != shape[0]:
            raise InvalidArgument(f"in_channels={in_channels} contradicts input_shape={shape!r}")
        return len(shape) - 1, shape[1:], shape[0]
    nd = 2 if ndim is None else ndim
    _check_ndim(nd)
    if in_channels is not None:
        _check_int("in_channels", in_channels, 1)
    _check_int("max_in_channels", max_in_channels, 1)
    return nd, None, in_channels


@reprs_as_call
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


@reprs_as_call
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


@reprs_as_call
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


@reprs_as_call
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


@reprs_as_call
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


@reprs_as_call
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


@reprs_as_call
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
