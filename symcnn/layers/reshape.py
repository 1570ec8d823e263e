"""Layers that rearrange elements without computing: ``Flatten``, ``View``, ``Reshape``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, equal
from .base import Layer, positive

__all__ = ["Flatten", "Reshape", "View"]


@dataclass(frozen=True, slots=True, repr=False)
class Flatten(Layer):
    """``torch.nn.Flatten(start_dim=1, end_dim=-1)``: merge axes into one.

    Dimensions are PyTorch's, counting the batch axis as 0; symcnn shapes are per sample,
    so ``start_dim`` must be at least 1 (flattening the batch axis has no per-sample shape).

    Examples
    --------
    >>> Flatten().output_shape(Shape((64, 2, 2)))
    Shape((256,))
    """

    keeps = "nothing"
    stores = "reshape"  # a view of a dense input, else a copy

    mirrors_torch = True

    kind = "flatten"

    start_dim: int = 1
    end_dim: int = -1

    def __post_init__(self) -> None:
        for name in ("start_dim", "end_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ShapeError(f"Flatten: {name} must be an int (got {value!r})")
        if self.start_dim == 0:
            raise ShapeError(
                f"{self!r}: start_dim=0 would merge the batch axis into the features; "
                "symcnn shapes are per sample (use start_dim=1)"
            )

    def _axes(self, x: Shape) -> tuple[int, int]:
        """Per-sample axes [first, last] merged, from PyTorch's batch-counting dims."""
        rank = len(x) + 1
        start = self.start_dim % rank if self.start_dim >= -rank else None
        end = self.end_dim % rank if -rank <= self.end_dim < rank else None
        if start is None or end is None or self.start_dim >= rank or start == 0 or start > end:
            raise ShapeError(
                f"start_dim and end_dim must lie within the input's {rank} axes (batch "
                f"included; {len(x)} per sample), start first (got {self.start_dim}, "
                f"{self.end_dim})"
            )
        return start - 1, end - 1

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        first, last = self._axes(x)
        return Shape((*x[:first], sympy.Mul(*x[first : last + 1]), *x[last + 1 :]))


@dataclass(frozen=True, slots=True, repr=False, init=False)
class View(Layer):
    """``x.view(-1, *sizes)``: the batch axis kept first, the per-sample sizes given.

    The arguments are those of ``Tensor.view``, batch axis included, so the seed's
    ``x.view(-1, 256)`` is ``View(-1, 256)``. The element count per sample must match:
    where it does not, PyTorch folds the excess into the batch axis (or raises), so symcnn
    makes the match a condition of validity, kept as a constraint while sizes are symbolic.

    Examples
    --------
    >>> View(-1, 256).output_shape(Shape((64, 2, 2)))
    Shape((256,))
    >>> View(-1, 256).describe()
    'x.view(-1, 256)'
    """

    keeps = "nothing"
    stores = "reshape"  # ``reshape`` copies a tensor that is not dense; ``view`` refuses it

    kind: ClassVar[str] = "view"
    method: ClassVar[str] = "view"

    shape: tuple[sympy.Expr, ...]

    def __init__(self, *shape: Any) -> None:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        name = type(self).__name__
        if len(shape) < 2 or isinstance(shape[0], bool) or shape[0] != -1:
            raise ShapeError(
                f"{name}{tuple(shape)!r}: the first size is the batch axis and must be -1, "
                f"as in x.{self.method}(-1, 256); use Flatten() for x.{self.method}(x.size(0), -1)"
            )
        sizes = tuple(as_size(s, f"{name} size") for s in shape[1:])
        if any(s == -1 for s in sizes):
            raise ShapeError(f"{name}{tuple(shape)!r}: only the batch axis may be -1")
        object.__setattr__(self, "shape", sizes)
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.shape, f"{type(self).__name__} size")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        target = sympy.Mul(*self.shape)
        rule = equal(
            x.numel,
            target,
            f"{self.describe()} needs {target} elements per sample; otherwise PyTorch "
            f"silently re-batches them into more rows of {target} (when their count is a "
            "multiple of it) or raises, instead of keeping one row per sample",
            "elements per sample",
            "target elements",
        )
        rows = ("rows per sample in PyTorch", x.numel / target)
        return (Condition(rule.relation, rule.rule, (*rule.values, rows)),)

    def output_shape(self, *inputs: Shape) -> Shape:
        return Shape(self.shape)

    def describe(self) -> str:
        return f"x.{self.method}({', '.join(['-1', *map(str, self.shape)])})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(['-1', *map(str, self.shape)])})"


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Reshape(View):
    """``x.reshape(-1, *sizes)``: the same rule as :class:`View`.

    Examples
    --------
    >>> Reshape(-1, 16, 4, 4).output_shape(Shape((256,)))
    Shape((16, 4, 4))
    """

    method: ClassVar[str] = "reshape"
