"""Reductions over axes: ``x.mean(dim)``, the global average pooling of modern heads, ...

``x.sum``, ``torch.amax`` and ``torch.amin``, ``x.max(dim)`` and ``x.min(dim)`` (their
values), ``x.var`` and ``x.std``, ``torch.logsumexp`` and ``torch.linalg.vector_norm``.

One family: ``dim`` is an int or a tuple of ints, PyTorch's dims counting the batch axis
as 0 (negative dims count from the end), and ``keepdim`` keeps each reduced axis as a 1.
The batch axis cannot be reduced, a symcnn shape being per sample; a reduction over every
axis (no ``dim``) reduces the batch too and is refused by the front-end.

Counting: a reduction has no parameters, no products and no elementwise multiplications,
as :class:`Mean` has always counted (the additions or comparisons of a reduction are in
no quantity, as :class:`~symcnn.layers.Normalize` leaves its norm out; average pooling's
one multiplication per output, by 1/k, is a pooling convention kept there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.shape import Shape
from .autograd import OUTPUT, Flow, Saved, keeps_inputs, new_tensor
from .base import Layer, flag, real, refuse

__all__ = ["Amax", "Amin", "LogSumExp", "Max", "Mean", "Min", "Std", "Sum", "Var", "VectorNorm"]


class _Reduce(Layer):
    """A reduction over the axes ``dim``: the shape rule every reduction shares."""

    __slots__ = ()
    repr_positional = 1
    #: How ``describe`` writes the call, ``{dim}`` and ``{extra}`` filled in.
    call: ClassVar[str] = ""
    #: Whether ``dim`` must be one int (``x.max(dim)``), not a tuple.
    single: ClassVar[bool] = False
    # the fields every reduction declares (annotations only: each subclass is the dataclass)
    dim: Any
    keepdim: bool

    def _dims(self) -> None:
        """Coerce and check ``dim`` and ``keepdim`` (call from ``__post_init__``)."""
        name = type(self).__name__
        dim = self.dim
        if self.single and (isinstance(dim, bool) or not isinstance(dim, int)):
            raise ShapeError(f"{name}: dim must be an int (got {dim!r})")
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) for d in dims):
            raise ShapeError(f"{name}: dim must be an int or a tuple of ints (got {dim!r})")
        self._set("dim", tuple(dims))
        flag(self, "keepdim")
        # Dims of one sign that repeat name one axis twice whatever the rank; PyTorch
        # refuses them. Mixed signs (1 and -3) are checked against the input's rank.
        if len(set(self.dim)) != len(self.dim):
            refuse(self, "dim", "names an axis twice (as PyTorch refuses)", self.dim)

    def _axes(self, x: Shape) -> set[int]:
        """Per-sample axes reduced, from PyTorch's batch-counting dims."""
        dims: tuple[int, ...] = self.dim
        rank = len(x) + 1
        axes = set()
        for d in dims:
            if not -rank <= d < rank:
                raise ShapeError(f"dim={d} is out of range for inputs of {len(x)} axes")
            if d % rank == 0:
                raise ShapeError(
                    f"dim={d} is the batch axis, which a per-sample shape does not have"
                )
            axes.add(d % rank - 1)
        if len(axes) != len(dims):
            raise ShapeError(f"dim {dims} names an axis twice")
        return axes

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axes = self._axes(x)
        if self.keepdim:
            return Shape(sympy.Integer(1) if i in axes else s for i, s in enumerate(x))
        return Shape(s for i, s in enumerate(x) if i not in axes)

    def _extra(self) -> str:
        """Arguments ``describe`` writes after ``dim`` (a norm's order, a correction)."""
        return ""

    def describe(self) -> str:
        dims: tuple[int, ...] = self.dim
        dim = dims[0] if len(dims) == 1 else dims
        keep = ", keepdim=True" if self.keepdim else ""
        return self.call.format(dim=dim, extra=self._extra() + keep)


@dataclass(frozen=True, slots=True, repr=False)
class _OverDims(_Reduce):
    """The fields and check of a reduction that takes only ``dim`` and ``keepdim``."""

    dim: Any
    keepdim: bool = False

    def __post_init__(self) -> None:
        self._dims()


@dataclass(frozen=True, slots=True, repr=False)
class Mean(_OverDims):
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

    keeps = "nothing"

    kind = "mean"
    call = "x.mean(dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class Sum(_OverDims):
    """``x.sum(dim, keepdim=False)``: add over the axes ``dim``.

    Examples
    --------
    >>> Sum(1).output_shape(Shape((2, 64, 7))), Sum((2, 3), keepdim=True).describe()
    (Shape((64, 7)), 'x.sum(dim=(2, 3), keepdim=True)')
    """

    keeps = "nothing"

    kind = "sum"
    call = "x.sum(dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class Amax(_OverDims):
    """``torch.amax(x, dim, keepdim=False)``: the largest entry over the axes ``dim``.

    Examples
    --------
    >>> Amax((-2, -1), keepdim=True).output_shape(Shape((64, 7, 7)))
    Shape((64, 1, 1))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return (*keeps_inputs(0), OUTPUT)  # its gradient compares or divides by the result

    kind = "amax"
    call = "torch.amax(x, dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class Amin(_OverDims):
    """``torch.amin(x, dim, keepdim=False)``: the smallest entry over the axes ``dim``.

    Examples
    --------
    >>> Amin(1).output_shape(Shape((64, 7, 7)))
    Shape((7, 7))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return (*keeps_inputs(0), OUTPUT)  # its gradient compares or divides by the result

    kind = "amin"
    call = "torch.amin(x, dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class Max(_OverDims):
    """``x.max(dim, keepdim=False).values``: the largest entry along one axis.

    Torch returns the values and their indices; this layer is the values (CBAM's
    channel max ``x.max(dim=1, keepdim=True)[0]``). The indices, integer positions, have
    no rule.

    Examples
    --------
    >>> Max(1, keepdim=True).output_shape(Shape((64, 7, 7)))
    Shape((1, 7, 7))
    >>> Max(1).describe()
    'x.max(dim=1).values'
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The int64 index of each result: its gradient goes there.
        return (new_tensor(self.output_shape(*inputs).numel, dtype="int64"),)

    kind = "max"
    call = "x.max(dim={dim}{extra}).values"
    single = True


@dataclass(frozen=True, slots=True, repr=False)
class Min(_OverDims):
    """``x.min(dim, keepdim=False).values``: the smallest entry along one axis.

    Examples
    --------
    >>> Min(-1).output_shape(Shape((64, 7, 5)))
    Shape((64, 7))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The int64 index of each result: its gradient goes there.
        return (new_tensor(self.output_shape(*inputs).numel, dtype="int64"),)

    kind = "min"
    call = "x.min(dim={dim}{extra}).values"
    single = True


@dataclass(frozen=True, slots=True, repr=False)
class _Spread(_Reduce):
    """The fields and checks the variance and the standard deviation share."""

    dim: Any
    correction: float = 1
    keepdim: bool = False

    def __post_init__(self) -> None:
        self._dims()
        real(self, "correction")

    def _extra(self) -> str:
        return "" if self.correction == 1 else f", correction={self.correction}"


@dataclass(frozen=True, slots=True, repr=False)
class Var(_Spread):
    """``x.var(dim, correction=1, keepdim=False)``: the variance over the axes ``dim``.

    ``correction`` (``unbiased=False`` is 0) changes values, not the shape.

    Examples
    --------
    >>> Var((2, 3), correction=0).describe()
    'x.var(dim=(2, 3), correction=0)'
    """

    keeps = "input"

    kind = "var"
    call = "x.var(dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class Std(_Spread):
    """``x.std(dim, correction=1, keepdim=False)``: the standard deviation over ``dim``.

    Examples
    --------
    >>> Std(1, keepdim=True).output_shape(Shape((64, 7, 7)))
    Shape((1, 7, 7))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return (*keeps_inputs(0), OUTPUT)  # its gradient compares or divides by the result

    kind = "std"
    call = "x.std(dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class LogSumExp(_OverDims):
    """``torch.logsumexp(x, dim, keepdim=False)``.

    Examples
    --------
    >>> LogSumExp(1).output_shape(Shape((10, 4)))
    Shape((4,))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return (*keeps_inputs(0), OUTPUT)  # its gradient compares or divides by the result

    kind = "logsumexp"
    call = "torch.logsumexp(x, dim={dim}{extra})"


@dataclass(frozen=True, slots=True, repr=False)
class VectorNorm(_Reduce):
    """``torch.linalg.vector_norm(x, ord, dim, keepdim=False)``, and ``x.norm(p, dim)``.

    ``ord`` is a real number (2, 1, ``inf``...); it changes values, not the shape.

    Examples
    --------
    >>> VectorNorm(1, keepdim=True).output_shape(Shape((64, 7, 7)))
    Shape((1, 7, 7))
    >>> VectorNorm(1, ord=1).describe()
    'torch.linalg.vector_norm(x, dim=1, ord=1)'
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return (*keeps_inputs(0), OUTPUT)  # its gradient compares or divides by the result

    kind = "norm"
    call = "torch.linalg.vector_norm(x, dim={dim}{extra})"

    dim: Any
    ord: float = 2
    keepdim: bool = False

    def __post_init__(self) -> None:
        self._dims()
        real(self, "ord")

    def _extra(self) -> str:
        return "" if self.ord == 2 else f", ord={self.ord}"
