"""The input node of a network: a per-sample shape, nothing computed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..symbolic.shape import Shape
from ..validity.condition import Condition
from .base import Layer, positive

__all__ = ["Input"]


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Input(Layer):
    """A network input of per-sample ``shape``, e.g. ``Input((1, n, n))``.

    Examples
    --------
    >>> Input((1, 28, 28)).output_shape()
    Shape((1, 28, 28))
    """

    kind = "input"
    arity = 0

    shape: Shape

    def __init__(self, shape: Any) -> None:
        object.__setattr__(self, "shape", Shape(shape))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(tuple(self.shape), "input size")

    def output_shape(self, *inputs: Shape) -> Shape:
        return self.shape

    def describe(self) -> str:
        return "input"

    def __repr__(self) -> str:
        return f"Input({tuple(self.shape)!r})"
