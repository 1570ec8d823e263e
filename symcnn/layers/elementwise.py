"""Shape-preserving layers without parameters: activations and dropout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ShapeError
from .base import Field, Layer, choice, real

__all__ = [
    "GELU",
    "Dropout",
    "Hardswish",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Tanh",
]


class _Elementwise(Layer):
    """A layer applied element by element: output shape = input shape, nothing counted.

    ``inplace`` PyTorch only tests for truth, so any value runs there and is kept here.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = cls.__name__.lower()

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump


@dataclass(frozen=True, slots=True, repr=False)
class Identity(_Elementwise):
    """``torch.nn.Identity``: passes its input on."""

    mirrors_torch = True


@dataclass(frozen=True, slots=True, repr=False)
class ReLU(_Elementwise):
    """``torch.nn.ReLU``: max(0, x), shape-preserving.

    Examples
    --------
    >>> ReLU().describe()
    'nn.ReLU()'
    """

    mirrors_torch = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class ReLU6(_Elementwise):
    """``torch.nn.ReLU6``: min(max(0, x), 6), shape-preserving."""

    mirrors_torch = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class LeakyReLU(_Elementwise):
    """``torch.nn.LeakyReLU``, shape-preserving; the slope's product is not counted."""

    mirrors_torch = True

    negative_slope: float = 0.01
    inplace: bool = False

    def __post_init__(self) -> None:
        # Any real slope runs in PyTorch, NaN, infinite and negative ones included.
        real(self, "negative_slope")


@dataclass(frozen=True, slots=True, repr=False)
class Sigmoid(_Elementwise):
    """``torch.nn.Sigmoid``, shape-preserving."""

    mirrors_torch = True


@dataclass(frozen=True, slots=True, repr=False)
class Tanh(_Elementwise):
    """``torch.nn.Tanh``, shape-preserving."""

    mirrors_torch = True


@dataclass(frozen=True, slots=True, repr=False)
class GELU(_Elementwise):
    """``torch.nn.GELU``, shape-preserving."""

    mirrors_torch = True

    approximate: str = "none"

    def __post_init__(self) -> None:
        choice(self, "approximate", ("none", "tanh"))


@dataclass(frozen=True, slots=True, repr=False)
class SiLU(_Elementwise):
    """``torch.nn.SiLU`` (swish), shape-preserving."""

    mirrors_torch = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class Hardswish(_Elementwise):
    """``torch.nn.Hardswish``, shape-preserving."""

    mirrors_torch = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class Dropout(_Elementwise):
    """``torch.nn.Dropout``: identity at inference, shape-preserving.

    Examples
    --------
    >>> Dropout(1.5)
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: Dropout(p=1.5): the probability p must lie in [0, 1]
    """

    mirrors_torch = True

    p: float = 0.5
    inplace: bool = False

    def __post_init__(self) -> None:
        real(self, "p")
        # NaN fails this test, as it fails PyTorch's in a training forward.
        if not 0 <= self.p <= 1:
            raise ShapeError(f"{self!r}: the probability p must lie in [0, 1]")
