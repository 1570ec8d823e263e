"""Layers that set a map's size directly: adaptive pooling (1-3 d), ``Upsample``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import ShapeError
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition
from .base import Field, Layer, choice, flag, positive, refuse, tuple_of

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "Upsample",
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


class _AdaptiveMaxPool(_AdaptivePoolNd):
    __slots__ = ()


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


# Upsample's modes for (C, H, W) maps, and those of them that interpolate.
_MODES_2D = ("nearest", "bilinear", "bicubic", "nearest-exact", "area")
_INTERPOLATING = ("bilinear", "bicubic")


@dataclass(frozen=True, slots=True, repr=False)
class Upsample(Layer):
    """``torch.nn.Upsample(size=None, scale_factor=None, mode='nearest')`` on (C, H, W).

    Integer scale factors (or sizes) only: with a fractional factor PyTorch floors
    ``H·s`` in floating point, which symcnn does not model. ``align_corners`` is None
    for the modes that copy pixels, and True, False or None for those that interpolate.

    Examples
    --------
    >>> Upsample(scale_factor=2).output_shape(Shape((64, 7, 9)))
    Shape((64, 14, 18))
    """

    mirrors_torch = True

    kind = "up"
    input_rank = 3

    size: Any = None
    scale_factor: Any = None
    mode: str = "nearest"
    align_corners: bool | None = None

    def __post_init__(self) -> None:
        if (self.size is None) == (self.scale_factor is None):
            raise ShapeError("Upsample needs exactly one of size and scale_factor")
        if self.size is not None:
            self._set("size", tuple_of(self.size, 2, "size"))
        else:
            self._set("scale_factor", tuple_of(self.scale_factor, 2, "scale_factor"))
        # PyTorch's modes for (C, H, W) maps; 'linear' and 'trilinear' fail on them.
        choice(self, "mode", _MODES_2D)
        if self.mode in _INTERPOLATING:
            flag(self, "align_corners", optional=True)
        elif self.align_corners is not None:
            refuse(
                self,
                "align_corners",
                f"must be None with mode={self.mode!r} (PyTorch sets it only for the "
                "interpolating modes)",
                self.align_corners,
            )
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        if self.size is not None:
            return positive(self.size, "size")
        return positive(self.scale_factor, "scale_factor")

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        if self.size is not None:
            return None, None
        return field, tuple(j / s for j, s in zip(jump, self.scale_factor, strict=True))

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        if self.size is not None:
            return Shape((x.channels, *self.size))
        return Shape(
            (x.channels, *(i * s for i, s in zip(x.spatial, self.scale_factor, strict=True)))
        )
