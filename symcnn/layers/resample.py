"""Layers that set a map's size directly: adaptive pooling (1-3 d), ``Upsample``, pixel shuffles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.canonical import floor_div
from ..symbolic.scales import checked_scale, exact_up_to, fractional
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least, divides
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import Field, Layer, choice, flag, positive, refuse
from .conv import axis_names

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "PixelShuffle",
    "PixelUnshuffle",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]


class _AdaptivePoolNd(Layer):
    """Pooling to a fixed output size per spatial axis; ``None`` keeps that axis's size.

    Window ``i`` of ``Out`` spans input indices ⌊i·In/Out⌋ … ⌈(i+1)·In/Out⌉ - 1, so windows
    overlap or vary in size, and ``Out > In`` is allowed (windows of one element repeat).
    Subclasses set ``ndim``, the number of spatial axes (1, 2 or 3).
    """

    __slots__ = ()
    kind = "pool"
    mirrors_torch = True
    ndim: ClassVar[int] = 2
    output_size: tuple[Any, ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.input_rank = cls.ndim + 1

    def __post_init__(self) -> None:
        # None keeps an axis only inside a tuple: PyTorch fails on a bare None at forward.
        # return_indices it only tests for truth: anything goes.
        n = self.ndim
        if self.output_size is None:
            refuse(
                self, "output_size", f"must be a size or a tuple of {n} (None keeps an axis)", None
            )
        sizes = (
            self.output_size
            if isinstance(self.output_size, (tuple, list))
            else ((self.output_size,) * n)
        )
        if len(sizes) != n:
            raise ShapeError(f"'output_size' needs {n} values (got {self.output_size!r})")
        if n == 1 and None in sizes:  # PyTorch's 1-d pools take ints only
            refuse(self, "output_size", "must be a size (None keeps an axis in 2-d and 3-d)", None)
        self._set(
            "output_size", tuple(None if s is None else as_size(s, "output_size") for s in sizes)
        )
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(tuple(s for s in self.output_size if s is not None), "output_size")

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        spatial = [i if o is None else o for i, o in zip(x.spatial, self.output_size, strict=True)]
        return Shape((x.channels, *spatial))


class _AdaptiveAvgPool(_AdaptivePoolNd):
    __slots__ = ()

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # To a single value per channel PyTorch takes the mean, which keeps nothing;
        # otherwise ``_adaptive_avg_pool`` keeps its input.
        if all(size == 1 for size in self.output_shape(*inputs).spatial):
            return ()
        return keeps_inputs(0)


class _AdaptiveMaxPool(_AdaptivePoolNd):
    __slots__ = ()

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The input and the int64 index of every output element's maximum.
        return (*keeps_inputs(0), new_tensor(self.output_shape(*inputs).numel, dtype="int64"))


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """``torch.nn.AdaptiveAvgPool1d(output_size)`` on (C, L); no parameters, no products.

    Examples
    --------
    >>> AdaptiveAvgPool1d(4).output_shape(Shape((16, 50)))
    Shape((16, 4))
    """

    ndim = 1

    output_size: Any


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """``torch.nn.AdaptiveAvgPool2d(output_size)``; no parameters, no products.

    Examples
    --------
    >>> AdaptiveAvgPool2d(1).output_shape(Shape((512, 7, 9)))
    Shape((512, 1, 1))
    >>> AdaptiveAvgPool2d((None, 3)).output_shape(Shape((8, 5, 2)))
    Shape((8, 5, 3))
    """

    output_size: Any


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveAvgPool3d(_AdaptiveAvgPool):
    """``torch.nn.AdaptiveAvgPool3d(output_size)`` on (C, D, H, W), as video networks end.

    Examples
    --------
    >>> AdaptiveAvgPool3d(1).output_shape(Shape((512, 2, 7, 7)))
    Shape((512, 1, 1, 1))
    """

    ndim = 3

    output_size: Any


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """``torch.nn.AdaptiveMaxPool1d(output_size, return_indices=False)`` on (C, L)."""

    ndim = 1

    output_size: Any
    return_indices: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """``torch.nn.AdaptiveMaxPool2d(output_size, return_indices=False)``."""

    output_size: Any
    return_indices: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """``torch.nn.AdaptiveMaxPool3d(output_size, return_indices=False)`` on (C, D, H, W)."""

    ndim = 3

    output_size: Any
    return_indices: bool = False


# -- Upsample --------------------------------------------------------------------------------
#: Upsample's modes, with the per-sample rank each needs (None: any of 2, 3 or 4 axes).
_MODES: dict[str, int | None] = {
    "nearest": None,
    "linear": 2,
    "bilinear": 3,
    "bicubic": 3,
    "trilinear": 4,
    "area": None,
    "nearest-exact": None,
    "lanczos": 3,
}
_COPYING = ("nearest", "area", "nearest-exact")  # align_corners must stay None
_AXES = {2: "(C, L)", 3: "(C, H, W)", 4: "(C, T, H, W)"}


def _per_axis(value: Any, x: Shape, what: str) -> tuple[Any, ...]:
    """A size or scale factor for each spatial axis of ``x``, as PyTorch spreads one value."""
    n = len(x) - 1
    if not isinstance(value, tuple):
        return (value,) * n
    if len(value) != n:
        raise ShapeError(
            f"{what}={_show(value)} needs {n} value{'s' if n > 1 else ''}, one per spatial "
            f"axis of the input {x}"
        )
    return value


def _show(value: Any) -> str:
    if not isinstance(value, tuple):
        return str(value)
    return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"


def _coerce(value: Any, what: str, convert: Any) -> Any:
    """One value, or a tuple of 1 to 3 (PyTorch's 1-d to 3-d maps), each converted."""
    if not isinstance(value, (tuple, list)):
        return convert(value)
    if not 1 <= len(value) <= 3:
        raise ShapeError(
            f"Upsample: {what} needs 1, 2 or 3 values, one per spatial axis (got {tuple(value)!r})"
        )
    return tuple(convert(v) for v in value)


@dataclass(frozen=True, slots=True, repr=False)
class Upsample(Layer):
    """``torch.nn.Upsample(size=None, scale_factor=None, mode='nearest', ...)``.

    On (C, L), (C, H, W) or (C, T, H, W), as PyTorch on 3-d to 5-d tensors; ``'linear'``
    needs (C, L), ``'bilinear'``, ``'bicubic'`` and ``'lanczos'`` (C, H, W), ``'trilinear'``
    (C, T, H, W). One size or scale serves every spatial axis; a tuple gives one per axis.
    ``align_corners`` is None for the modes that copy pixels, and True, False or None for
    those that interpolate. ``antialias`` is F.interpolate's (the module has none).

    A fractional scale factor ``s`` gives ``⌊H·s⌋``, exactly as PyTorch computes it in
    double precision: ``1.5``, ``0.1`` and ``1/3`` (a float, a ``Fraction`` or a sympy
    rational) read as 3/2, 1/10 and 1/3, and each size the formula is proven for
    (:func:`~symcnn.symbolic.scales.exact_up_to`, at least 2³¹) is a condition of the
    layer. A scale whose double rounds differently, such as 0.7 (``⌊90·0.7⌋`` is 62 in
    PyTorch), is refused. For integer factors the product is exact up to 2⁵³/s, past any
    tensor size. An output size of 0, which mode 'area' (an adaptive pool) returns as an
    empty tensor, is refused, as ``AdaptiveAvgPool2d(0)`` is.

    Examples
    --------
    >>> Upsample(scale_factor=2).output_shape(Shape((64, 7, 9)))
    Shape((64, 14, 18))
    >>> Upsample(scale_factor=1.5, mode="linear").output_shape(Shape((8, 5)))
    Shape((8, 7))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # Interpolation's backward reads only sizes; 'area' is an adaptive average pooling.
        if self.mode == "area":
            return None
        return ()

    mirrors_torch = True

    kind = "up"

    size: Any = None
    scale_factor: Any = None
    mode: str = "nearest"
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None
    antialias: bool = False

    def __repr__(self) -> str:
        # A tuple of equal values is not one value here: (2, 2) refuses a (C, L) input.
        text = Layer.__repr__(self)
        for name in ("size", "scale_factor"):
            value = getattr(self, name)
            if isinstance(value, tuple) and len(set(value)) == 1:
                text = text.replace(f"{name}={value[0]}", f"{name}={_show(value)}", 1)
        return text

    def __post_init__(self) -> None:
        if (self.size is None) == (self.scale_factor is None):
            raise ShapeError("Upsample needs exactly one of size and scale_factor")
        if self.size is not None:
            self._set("size", _coerce(self.size, "size", lambda v: as_size(v, "size")))
            if self.recompute_scale_factor:  # PyTorch tests it for truth only
                refuse(self, "recompute_scale_factor", "is meaningless with a size", True)
        else:
            self._set("scale_factor", _coerce(self.scale_factor, "scale_factor", checked_scale))
        choice(self, "mode", tuple(_MODES))
        if self.mode not in _COPYING:
            flag(self, "align_corners", optional=True)
        elif self.align_corners is not None:
            refuse(
                self,
                "align_corners",
                f"must be None with mode={self.mode!r} (PyTorch sets it only for the "
                "interpolating modes)",
                self.align_corners,
            )
        if self.mode == "lanczos" and (self.align_corners or not self.antialias):
            refuse(
                self, "mode", "'lanczos' needs antialias=True, align_corners not True", "lanczos"
            )
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        if self.size is not None:
            return positive(self.size, "size")
        scales = self.scale_factor
        return tuple(
            Condition(
                sympy.true if s > 0 else sympy.false,
                "scale_factor must be positive",
                (("scale_factor", s),),
            )
            if fractional(s)
            else positive(s, "scale_factor")[0]
            for s in (scales if isinstance(scales, tuple) else (scales,))
        )

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        if self.size is not None:
            return None, None
        scales = self.scale_factor
        if not isinstance(scales, tuple):
            scales = (scales,) * len(jump)
        return field, tuple(j / s for j, s in zip(jump, scales, strict=True))

    def _check(self, x: Shape) -> None:
        """PyTorch's rules on the input's rank: 3-d to 5-d tensors, and per mode."""
        if len(x) not in _AXES:
            raise ShapeError(
                "Upsample needs a per-sample input of 2, 3 or 4 axes, (C, L), (C, H, W) or "
                f"(C, T, H, W), got {x}"
            )
        need = _MODES[self.mode]
        if need is not None and len(x) != need:
            raise ShapeError(
                f"mode={self.mode!r} needs a per-sample input of {need} axes {_AXES[need]}, got {x}"
            )
        if self.antialias and (self.mode not in ("bilinear", "bicubic", "lanczos") or len(x) != 3):
            raise ShapeError(
                "antialias=True needs mode 'bilinear', 'bicubic' or 'lanczos' on "
                f"(C, H, W) (got mode={self.mode!r} on {x})"
            )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        self._check(x)
        if self.size is not None:
            _per_axis(self.size, x, "size")
            return ()
        out: list[Condition] = []
        names = axis_names(len(x) - 1)
        for axis, i, s in zip(
            names, x.spatial, _per_axis(self.scale_factor, x, "scale_factor"), strict=True
        ):
            if not fractional(s):
                continue
            if s < 1:
                out.append(
                    at_least(
                        _scaled(i, s), 1, f"the output {axis} must be at least 1", f"output {axis}"
                    )
                )
            bound = exact_up_to(s)
            out.append(
                at_least(
                    bound,
                    i,
                    f"the input {axis} must be at most {bound}, where ⌊{axis}·{s}⌋ is proven to "
                    f"be PyTorch's size from the double product {axis}·{float(s)!r}",
                    "bound",
                    f"input {axis}",
                )
            )
        return tuple(out)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        if self.size is not None:
            return Shape((x.channels, *_per_axis(self.size, x, "size")))
        scales = _per_axis(self.scale_factor, x, "scale_factor")
        return Shape((x.channels, *(_scaled(i, s) for i, s in zip(x.spatial, scales, strict=True))))


def _scaled(size: sympy.Expr, scale: sympy.Expr) -> sympy.Expr:
    """``size·scale``, floored when the scale is a fraction: ``⌊3·H/2⌋``."""
    if fractional(scale):
        return floor_div(size * scale.p, scale.q)
    return size * scale


@dataclass(frozen=True, slots=True, repr=False)
class UpsamplingNearest2d(Upsample):
    """``torch.nn.UpsamplingNearest2d(size=None, scale_factor=None)``: mode 'nearest'.

    Examples
    --------
    >>> UpsamplingNearest2d(scale_factor=2).output_shape(Shape((3, 4, 5)))
    Shape((3, 8, 10))
    """

    mode: str = field(default="nearest", init=False)
    align_corners: bool | None = field(default=None, init=False)
    recompute_scale_factor: bool | None = field(default=None, init=False)
    antialias: bool = field(default=False, init=False)


@dataclass(frozen=True, slots=True, repr=False)
class UpsamplingBilinear2d(Upsample):
    """``torch.nn.UpsamplingBilinear2d(size=None, scale_factor=None)``: bilinear, corners aligned.

    Examples
    --------
    >>> UpsamplingBilinear2d(size=(6, 6)).output_shape(Shape((3, 4, 5)))
    Shape((3, 6, 6))
    """

    mode: str = field(default="bilinear", init=False)
    align_corners: bool | None = field(default=True, init=False)
    recompute_scale_factor: bool | None = field(default=None, init=False)
    antialias: bool = field(default=False, init=False)


# -- PixelShuffle, PixelUnshuffle -------------------------------------------------------------
class _Shuffle(Layer):
    """Channels to and from ``r×r`` blocks of pixels on the last three axes, (C, H, W).

    PyTorch reads the last three axes of any tensor of three or more; here the per-sample
    input has three or more (leading axes are kept), since a (C, H) sample would make the
    batch the channels. A copy: no parameters, no products, nothing elementwise.
    """

    __slots__ = ()
    keeps = "nothing"  # a copy: its backward shuffles the gradient back
    mirrors_torch = True
    repr_positional = 1
    #: The factor's field name.
    factor: ClassVar[str]

    def __post_init__(self) -> None:
        self._set(self.factor, as_size(getattr(self, self.factor), self.factor))
        self._validate()

    def _r(self) -> sympy.Expr:
        r: sympy.Expr = getattr(self, self.factor)
        return r

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self._r(), self.factor)

    def _check(self, x: Shape) -> None:
        if len(x) < 3:
            raise ShapeError(
                f"{type(self).__name__} needs a per-sample input of at least 3 axes "
                f"(…, C, H, W), got {x}"
            )


@dataclass(frozen=True, slots=True, repr=False)
class PixelShuffle(_Shuffle):
    """``torch.nn.PixelShuffle(upscale_factor)``: (C·r², H, W) → (C, H·r, W·r).

    The channels must be divisible by ``r²`` (a condition when they are symbolic).

    Examples
    --------
    >>> PixelShuffle(2).output_shape(Shape((12, 5, 7)))
    Shape((3, 10, 14))
    """

    kind = "shuffle"
    factor = "upscale_factor"

    upscale_factor: Any

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        self._check(x)
        r = self._r()
        return (
            divides(
                r**2,
                x[-3],
                "the channels must be divisible by upscale_factor²",
                "upscale_factor²",
                "channels",
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        r = self._r()
        c, h, w = x[-3:]
        return Shape((*x[:-3], floor_div(c, r**2), h * r, w * r))


@dataclass(frozen=True, slots=True, repr=False)
class PixelUnshuffle(_Shuffle):
    """``torch.nn.PixelUnshuffle(downscale_factor)``: (C, H·r, W·r) → (C·r², H, W).

    The height and width must be divisible by ``r`` (conditions when they are symbolic).

    Examples
    --------
    >>> PixelUnshuffle(2).output_shape(Shape((3, 10, 14)))
    Shape((12, 5, 7))
    """

    kind = "unshuffle"
    factor = "downscale_factor"

    downscale_factor: Any

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        self._check(x)
        r = self._r()
        return tuple(
            divides(
                r,
                size,
                f"the {axis} must be divisible by downscale_factor",
                "downscale_factor",
                axis,
            )
            for axis, size in zip(("height", "width"), x[-2:], strict=True)
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        r = self._r()
        c, h, w = x[-3:]
        return Shape((*x[:-3], c * r**2, floor_div(h, r), floor_div(w, r)))
