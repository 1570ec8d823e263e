"""Reductions over axes: ``x.mean(dim)``, the global average pooling of modern heads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..errors import ShapeError
from ..symbolic.shape import Shape
from .base import Layer, flag, refuse

__all__ = ["Mean"]


@dataclass(frozen=True, slots=True, repr=False)
class Mean(Layer):
    """``x.mean(dim, keepdim=False)``: average over the axes ``dim``, nothing learned.

    Dimensions are PyTorch's, counting the batch axis as 0, so ``x.mean((2, 3))`` averages
    over H and W of an (N, C, H, W) tensor; the batch axis cannot be reduced, a symcnn shape
    being per sample. Like pooling, a mean has no weight-times-activation products.

    Examples
    --------
    >>> Mean((2, 3)).output_shape(Shape((512, 7, 9)))
    Shape((512,))
    >>> Mean((-2, -1), keepdim=True).output_shape(Shape((512, 7, 9)))
    Shape((512, 1, 1))
    >>> Mean((2, 3)).describe()
    'x.mean(dim=(2, 3))'
    """

    kind = "mean"
    repr_positional = 1

    dim: Any
    keepdim: bool = False

    def __post_init__(self) -> None:
        dims = self.dim if isinstance(self.dim, (tuple, list)) else (self.dim,)
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) for d in dims):
            raise ShapeError(f"Mean: dim must be an int or a tuple of ints (got {self.dim!r})")
        self._set("dim", tuple(dims))
        flag(self, "keepdim")
        # Dims of one sign that repeat name one axis twice whatever the rank; PyTorch
        # refuses them. Mixed signs (1 and -3) are checked against the input's rank.
        if len(set(self.dim)) != len(self.dim):
            refuse(self, "dim", "names an axis twice (as PyTorch refuses)", self.dim)

    def _axes(self, x: Shape) -> set[int]:
        """Per-sample axes reduced, from PyTorch's batch-counting dims."""
        rank = len(x) + 1
        axes = set()
        for d in self.dim:
            if not -rank <= d < rank:
                raise ShapeError(f"dim={d} is out of range for inputs of {len(x)} axes")
            if d % rank == 0:
                raise ShapeError(
                    f"dim={d} is the batch axis, which a per-sample shape does not have"
                )
            axes.add(d % rank - 1)
        if len(axes) != len(self.dim):
            raise ShapeError(f"dim {self.dim} names an axis twice")
        return axes

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axes = self._axes(x)
        if self.keepdim:
            return Shape(sympy.Integer(1) if i in axes else s for i, s in enumerate(x))
        return Shape(s for i, s in enumerate(x) if i not in axes)

    def describe(self) -> str:
        keep = ", keepdim=True" if self.keepdim else ""
        dim = self.dim[0] if len(self.dim) == 1 else self.dim
        return f"x.mean(dim={dim}{keep})"
