"""Layers that merge tensors: ``Add`` (residuals), ``Mul`` (broadcast gates), ``Concat``."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape
from ..validity.condition import Condition, equal
from .base import Field, Layer

__all__ = ["Add", "Concat", "Mul"]


class _Merge(Layer):
    """Two or more inputs of one rank; nothing learned, no weight-times-activation products."""

    __slots__ = ()
    arity = None

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def _same_rank(self, inputs: tuple[Shape, ...]) -> None:
        ranks = {len(x) for x in inputs}
        if len(ranks) != 1:
            shown = ", ".join(str(x) for x in inputs)
            raise ShapeError(f"the inputs must have one rank, got {shown}")


@dataclass(frozen=True, slots=True, repr=False)
class Add(_Merge):
    """``a + b + ...`` of equal shapes, as a residual connection: ``torch.add``.

    Shapes must agree axis by axis; where agreement depends on symbols it becomes a
    constraint (PyTorch's broadcasting of a size-1 axis is left to :class:`Mul`).

    Examples
    --------
    >>> Add().output_shape(Shape((64, 8, 8)), Shape((64, 8, 8)))
    Shape((64, 8, 8))
    """

    kind = "add"

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._same_rank(inputs)
        first = inputs[0]
        return tuple(
            equal(
                x[axis],
                first[axis],
                f"the inputs of Add must agree on axis {axis}",
                f"input {i} size",
                "input 0 size",
            )
            for i, x in enumerate(inputs[1:], start=1)
            for axis in range(len(first))
        )

    def describe(self) -> str:
        return "torch.add(...)"


@dataclass(frozen=True, slots=True, repr=False)
class Mul(_Merge):
    """``a * b * ...`` with PyTorch broadcasting: a size-1 axis stretches to the other's.

    Squeeze-and-excitation gates a (C, H, W) map with a (C, 1, 1) weight this way. The
    elementwise multiplications are not weight-times-activation products and are not
    counted in ``products``.

    Examples
    --------
    >>> Mul().output_shape(Shape((64, 8, 8)), Shape((64, 1, 1)))
    Shape((64, 8, 8))
    """

    kind = "mul"

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._same_rank(inputs)
        conds = []
        for axis, sizes in enumerate(zip(*inputs, strict=True)):
            stretched = [s for s in sizes if s != 1]
            for i, s in enumerate(stretched[1:], start=1):
                conds.append(
                    equal(
                        s,
                        stretched[0],
                        f"the inputs of Mul must agree on axis {axis} or be 1 there",
                        f"size {i}",
                        "size 0",
                    )
                )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        self._same_rank(inputs)
        out = []
        for sizes in zip(*inputs, strict=True):
            stretched = [s for s in sizes if s != 1]
            out.append(stretched[0] if stretched else sympy.Integer(1))
        return Shape(out)

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(self.output_shape(*inputs).numel, len(inputs) - 1)

    def describe(self) -> str:
        return "torch.mul(...)"


@dataclass(frozen=True, slots=True, repr=False)
class Concat(_Merge):
    """``torch.cat(tensors, dim)``: join along an axis, the channels by default.

    ``dim=1`` (PyTorch's dims count the batch axis) is the channel axis, as DenseNet,
    Inception and U-Net use it.

    Examples
    --------
    >>> Concat().output_shape(Shape((64, 8, 8)), Shape((32, 8, 8)))
    Shape((96, 8, 8))
    """

    kind = "cat"

    dim: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim == 0:
            raise ShapeError(
                f"{self!r}: dim must be a nonzero int (PyTorch's dims count the batch axis "
                "as 0, which a per-sample shape does not have)"
            )

    def _axis(self, x: Shape) -> int:
        rank = len(x) + 1
        if not -rank < self.dim < rank:
            raise ShapeError(f"dim={self.dim} is out of range for inputs of {len(x)} axes")
        return self.dim % rank - 1

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._same_rank(inputs)
        first = inputs[0]
        along = self._axis(first)
        return tuple(
            equal(
                x[axis],
                first[axis],
                f"the inputs of Concat must agree on every axis but {along}, here {axis}",
                f"input {i} size",
                "input 0 size",
            )
            for i, x in enumerate(inputs[1:], start=1)
            for axis in range(len(first))
            if axis != along
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        first = inputs[0]
        along = self._axis(first)
        total = sympy.Add(*(x[along] for x in inputs))
        return Shape((*first[:along], total, *first[along + 1 :]))

    def describe(self) -> str:
        return f"torch.cat(..., dim={self.dim})"
