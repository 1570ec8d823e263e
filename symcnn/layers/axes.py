"""Layers that move, slice, add or remove axes: ``Permute``, ``Transpose``, ``Narrow``, ...

Dimensions are PyTorch's, counting the batch axis as 0, so that a layer reads as the call
it mirrors (``torch.transpose(x, 1, 2)`` is ``Transpose(1, 2)``); symcnn shapes are per
sample, so no layer here may move, slice or remove the batch axis. None of them computes:
no parameters, no products, no elementwise work (``x.expand`` is a view, ``x.repeat`` a
copy). ``x.chunk`` and ``x.split`` are pieces
cut with :class:`Narrow`; :func:`chunk_bounds` and :func:`split_bounds` give their bounds
as PyTorch computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least, equal
from .base import Field, Layer, positive, refuse

__all__ = ["Expand", "Narrow", "Permute", "Repeat", "Squeeze", "Transpose", "Unsqueeze"]


def _int(layer: Layer, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        refuse(layer, name, "must be an int (a PyTorch dim, the batch axis being 0)", value)
    return value


def axis_of(layer: Layer, name: str, dim: int, x: Shape, *, extra: int = 0) -> int:
    """The per-sample axis of PyTorch dim ``dim`` on an input of per-sample shape ``x``.

    ``extra`` is 1 for a dim that may name a new last axis (``unsqueeze``). Raises, naming
    the rule and the value, when ``dim`` is out of range or the batch axis (the builder
    names the layer and its node).
    """
    rank = len(x) + 1 + extra  # PyTorch's rank, batch included
    if not -rank <= dim < rank:
        raise ShapeError(
            f"{name}={dim} is out of range for inputs of {len(x)} axes per "
            f"sample ({len(x) + 1} with the batch axis; dims from {-rank} to {rank - 1})"
        )
    if dim % rank == 0:
        raise ShapeError(
            f"{name}={dim} is the batch axis, which a per-sample shape does not "
            "have; symcnn cannot move, slice or remove it"
        )
    return dim % rank - 1


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Permute(Layer):
    """``x.permute(*dims)``: reorder the axes; the batch axis must stay first (dims[0] = 0).

    Examples
    --------
    >>> Permute(0, 2, 3, 1).output_shape(Shape((3, 8, 5)))
    Shape((8, 5, 3))
    >>> Permute(0, 2, 3, 1).describe()
    'x.permute(0, 2, 3, 1)'
    """

    keeps = "nothing"

    def storage(self, *inputs: Shape) -> str:
        rank = len(inputs[0]) + 1
        dims = [d % rank for d in self.dims]
        return "view" if dims == sorted(dims) else "strided"

    kind: ClassVar[str] = "permute"

    dims: tuple[int, ...]

    def __init__(self, *dims: Any) -> None:
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        object.__setattr__(self, "dims", tuple(dims))
        for d in dims:
            _int(self, "dims", d)
        if not dims or dims[0] > 0:
            refuse(self, "dims", "must start with 0: the batch axis stays first", self.dims)
        if len(set(dims)) != len(dims):
            refuse(self, "dims", "names an axis twice (as PyTorch refuses)", self.dims)

    def _order(self, x: Shape) -> list[int]:
        rank = len(x) + 1
        if len(self.dims) != rank:
            raise ShapeError(
                f"dims must name each of the input's {rank} axes once (batch "
                f"included; {len(x)} per sample), got {len(self.dims)}"
            )
        if _axis_or_batch(self, self.dims[0], rank) != 0:
            raise ShapeError(f"dims[0]={self.dims[0]} moves the batch axis")
        order = [axis_of(self, "dims", d, x) for d in self.dims[1:]]
        if len(set(order)) != len(order):
            raise ShapeError(f"dims {self.dims} names an axis twice for inputs of rank {rank}")
        return order

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        return Shape(x[i] for i in self._order(x))

    def describe(self) -> str:
        return f"x.permute({', '.join(map(str, self.dims))})"

    def __repr__(self) -> str:
        return f"Permute({', '.join(map(str, self.dims))})"


def _axis_or_batch(layer: Layer, dim: int, rank: int) -> int:
    if not -rank <= dim < rank:
        raise ShapeError(f"dims[0]={dim} is out of range for inputs of rank {rank}")
    return dim % rank


@dataclass(frozen=True, slots=True, repr=False)
class Transpose(Layer):
    """``torch.transpose(x, dim0, dim1)``: swap two axes, neither the batch axis.

    ShuffleNet's channel shuffle is ``x.view(-1, g, c // g, h, w)``, ``Transpose(1, 2)``,
    then ``x.view(-1, c, h, w)``.

    Examples
    --------
    >>> Transpose(1, 2).output_shape(Shape((2, 24, 7, 7)))
    Shape((24, 2, 7, 7))
    """

    keeps = "nothing"

    def storage(self, *inputs: Shape) -> str:
        rank = len(inputs[0]) + 1
        return "view" if self.dim0 % rank == self.dim1 % rank else "strided"

    kind = "transpose"
    repr_positional = 2

    dim0: int
    dim1: int

    def __post_init__(self) -> None:
        for name in ("dim0", "dim1"):
            if _int(self, name, getattr(self, name)) == 0:
                refuse(self, name, "is the batch axis, which a per-sample shape does not have", 0)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        a, b = axis_of(self, "dim0", self.dim0, x), axis_of(self, "dim1", self.dim1, x)
        out = list(x)
        out[a], out[b] = x[b], x[a]
        return Shape(out)

    def describe(self) -> str:
        return f"torch.transpose(x, {self.dim0}, {self.dim1})"


@dataclass(frozen=True, slots=True, repr=False)
class Narrow(Layer):
    """``x.narrow(dim, start, length)``: ``length`` entries from ``start`` along one axis.

    Slices ``x[:, a:b]`` and the pieces of ``x.chunk`` and ``x.split`` are narrows. The
    slice must lie inside the axis, ``start + length ≤ size``: a condition kept while the
    size is symbolic (PyTorch raises past the end of ``narrow``, and slicing would clip).
    Cropping keeps the receptive field and the jump of every spatial axis.

    Examples
    --------
    >>> Narrow(1, 0, 24).output_shape(Shape((48, 7, 7)))
    Shape((24, 7, 7))
    >>> Narrow(1, 24, 24).describe()
    'x.narrow(1, 24, 24)'
    """

    keeps = "nothing"
    stores = "strided"

    kind = "narrow"
    repr_positional = 3

    dim: int
    start: Any
    length: Any

    def __post_init__(self) -> None:
        if _int(self, "dim", self.dim) == 0:
            refuse(self, "dim", "is the batch axis, which a per-sample shape does not have", 0)
        self._set("start", as_size(self.start, "Narrow start"))
        self._set("length", as_size(self.length, "Narrow length"))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            at_least(self.start, 0, "Narrow start must be nonnegative", "start"),
            *positive(self.length, "Narrow length"),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        size = x[axis_of(self, "dim", self.dim, x)]
        return (
            at_least(
                size,
                self.start + self.length,
                f"a narrow along dim {self.dim} must end inside the axis: start + length ≤ size",
                "size",
                "start + length",
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axis = axis_of(self, "dim", self.dim, x)
        return Shape((*x[:axis], self.length, *x[axis + 1 :]))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def describe(self) -> str:
        return f"x.narrow({self.dim}, {self.start}, {self.length})"


@dataclass(frozen=True, slots=True, repr=False)
class Unsqueeze(Layer):
    """``x.unsqueeze(dim)``: a new axis of size 1 at ``dim`` (not before the batch axis).

    Examples
    --------
    >>> Unsqueeze(-1).output_shape(Shape((64, 7)))
    Shape((64, 7, 1))
    >>> Unsqueeze(1).output_shape(Shape((64,)))
    Shape((1, 64))
    """

    keeps = "nothing"
    stores = "view"

    kind = "unsqueeze"
    repr_positional = 1

    dim: int

    def __post_init__(self) -> None:
        if _int(self, "dim", self.dim) == 0:
            refuse(self, "dim", "would put the new axis before the batch axis", 0)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axis = axis_of(self, "dim", self.dim, x, extra=1)
        return Shape((*x[:axis], 1, *x[axis:]))

    def describe(self) -> str:
        return f"x.unsqueeze({self.dim})"


@dataclass(frozen=True, slots=True, repr=False)
class Squeeze(Layer):
    """``x.squeeze(dim)``: remove the axes ``dim`` (an int or a tuple), each of size 1.

    PyTorch leaves an axis whose size is not 1 in place, so the rank would depend on the
    size: symcnn removes the axis and makes its size being 1 a condition of validity, a
    constraint while the size is symbolic (a concrete size other than 1 is refused).

    Examples
    --------
    >>> Squeeze((2, 3)).output_shape(Shape((512, 1, 1)))
    Shape((512,))
    >>> Squeeze(-1).describe()
    'x.squeeze(-1)'
    """

    keeps = "nothing"
    stores = "view"

    kind = "squeeze"
    repr_positional = 1

    dim: Any

    def __post_init__(self) -> None:
        dims = self.dim if isinstance(self.dim, (tuple, list)) else (self.dim,)
        if not dims:
            refuse(self, "dim", "must name at least one axis", self.dim)
        for d in dims:
            if _int(self, "dim", d) == 0:
                refuse(self, "dim", "is the batch axis, which a per-sample shape does not have", 0)
        self._set("dim", self.dim if isinstance(self.dim, int) else tuple(dims))

    def _axes(self, x: Shape) -> set[int]:
        dims = self.dim if isinstance(self.dim, tuple) else (self.dim,)
        return {axis_of(self, "dim", d, x) for d in dims}

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return tuple(
            equal(
                x[axis],
                1,
                f"Squeeze removes dim {axis + 1} only where its size is 1 (PyTorch keeps "
                "an axis of another size, and the shape would differ)",
                "size",
                "1",
            )
            for axis in sorted(self._axes(x))
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axes = self._axes(x)
        return Shape(s for i, s in enumerate(x) if i not in axes)

    def describe(self) -> str:
        return f"x.squeeze({self.dim})"


def _per_sample_sizes(layer: Layer, sizes: tuple[Any, ...], batch: int) -> tuple[Any, ...]:
    """``sizes`` as given to ``x.expand`` or ``x.repeat``: the batch's first, then one each."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not sizes or isinstance(sizes[0], bool) or sizes[0] != batch:
        refuse(
            layer,
            "sizes",
            f"must start with {batch}, the batch axis's: symcnn shapes are per sample",
            sizes,
        )
    return sizes


def _count_axes(layer: Layer, x: Shape) -> None:
    count = len(layer.sizes) - 1  # type: ignore[attr-defined]
    if count != len(x):
        raise ShapeError(
            f"{type(layer).__name__} gives {count} size(s) after the batch's, but the input "
            f"has {len(x)} axes per sample (more would add axes before the batch axis; "
            "PyTorch refuses fewer)"
        )


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Expand(Layer):
    """``x.expand(-1, *sizes)``: stretch axes of size 1, a view; -1 keeps an axis.

    The first size is the batch axis's and must be -1 (``x.expand(x.size(0), ...)`` and
    ``x.expand_as(y)`` read so in the walk). An axis of size 1 takes the size asked; any
    other axis must already have it, a condition where its size is symbolic (PyTorch takes
    a literal 1 only). Nothing is computed.

    Examples
    --------
    >>> Expand(-1, 64, 7, 7).output_shape(Shape((64, 1, 1)))
    Shape((64, 7, 7))
    >>> Expand(-1, -1, 5).describe()
    'x.expand(-1, -1, 5)'
    """

    keeps = "nothing"
    stores = "strided"

    kind: ClassVar[str] = "expand"

    sizes: tuple[Any, ...]

    def __init__(self, *sizes: Any) -> None:
        object.__setattr__(self, "sizes", sizes)
        sizes = _per_sample_sizes(self, sizes, -1)
        rest = tuple(
            -1 if type(s) is int and s == -1 else as_size(s, "Expand size") for s in sizes[1:]
        )
        object.__setattr__(self, "sizes", (-1, *rest))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(tuple(s for s in self.sizes[1:] if s != -1), "Expand size")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        _count_axes(self, x)
        return tuple(
            equal(
                s,
                t,
                f"x.expand stretches only axes of size 1; axis {axis} must have the size "
                "asked already",
                "input size",
                "size asked",
            )
            for axis, (s, t) in enumerate(zip(x, self.sizes[1:], strict=True))
            if t != -1 and s != 1
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        _count_axes(self, x)
        return Shape(s if t == -1 else t for s, t in zip(x, self.sizes[1:], strict=True))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def describe(self) -> str:
        return f"x.expand({', '.join(map(str, self.sizes))})"

    def __repr__(self) -> str:
        return f"Expand({', '.join(map(str, self.sizes))})"


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Repeat(Layer):
    """``x.repeat(1, *repeats)``: tile each axis ``repeats`` times, a copy.

    The first count is the batch axis's and must be 1: repeating it would change the batch.
    One count per axis: more would add axes before the batch axis.

    Examples
    --------
    >>> Repeat(1, 2, 1, 3).output_shape(Shape((64, 7, 5)))
    Shape((128, 7, 15))
    """

    keeps = "nothing"  # a copy; its gradient sums the tiles

    kind: ClassVar[str] = "repeat"

    sizes: tuple[Any, ...]

    def __init__(self, *sizes: Any) -> None:
        object.__setattr__(self, "sizes", sizes)
        sizes = _per_sample_sizes(self, sizes, 1)
        object.__setattr__(self, "sizes", (1, *(as_size(s, "Repeat count") for s in sizes[1:])))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(tuple(self.sizes[1:]), "Repeat count")

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        _count_axes(self, x)
        return Shape(s * r for s, r in zip(x, self.sizes[1:], strict=True))

    def describe(self) -> str:
        return f"x.repeat({', '.join(map(str, self.sizes))})"

    def __repr__(self) -> str:
        return f"Repeat({', '.join(map(str, self.sizes))})"


# -- the pieces of chunk and split, as PyTorch cuts them ------------------------------------
def chunk_bounds(size: Any, chunks: int) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """(start, length) of each piece of ``x.chunk(chunks)`` along an axis of ``size``.

    PyTorch cuts pieces of ⌈size/chunks⌉ with a smaller last one, so there may be fewer
    pieces than asked: ``torch.arange(5).chunk(4)`` gives 3 pieces of 2, 2 and 1. For a
    symbolic size the count is taken to be ``chunks``; the last piece's length, positive
    only where that count is right, is then a condition of its :class:`Narrow`.

    Examples
    --------
    >>> chunk_bounds(5, 4)
    [(0, 2), (2, 2), (4, 1)]
    """
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise ShapeError(f"chunk: chunks must be a positive int (got {chunks!r})")
    size = as_size(size, "chunk size")
    step = sympy.ceiling(size / chunks)
    if size.is_Integer:
        count = max(-(-int(size) // int(step)), 1) if step else 1
    else:
        count = chunks
    starts = [step * i for i in range(count)]
    lengths = [step] * (count - 1) + [size - step * (count - 1)]
    return list(zip(starts, lengths, strict=True))


def split_bounds(size: Any, split: Any) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """(start, length) of each piece of ``x.split(split)``: a piece size, or a list of them.

    With one piece size ``s``, PyTorch cuts ⌈size/s⌉ pieces, the last one smaller; the
    count must then be known, so the size must be a number. With a list, the sizes must
    add up to the axis' size, which must be decided here.

    Examples
    --------
    >>> split_bounds(7, 3)
    [(0, 3), (3, 3), (6, 1)]
    >>> split_bounds(7, [2, 5])
    [(0, 2), (2, 5)]
    """
    size = as_size(size, "split size")
    if isinstance(split, (tuple, list)):
        lengths = [as_size(s, "split section") for s in split]
        total = sympy.Add(*lengths)
        verdict = equal(total, size, "", "", "").decide()
        if verdict is not True:
            raise ShapeError(
                f"split: the sections {tuple(lengths)} must add up to the size {size} of the "
                f"axis (they add up to {total}{'' if verdict is False else ', not provably'})"
            )
        starts = [sympy.Add(*lengths[:i]) for i in range(len(lengths))]
        return list(zip(starts, lengths, strict=True))
    step = as_size(split, "split size")
    if not step.is_Integer or step < 1:
        raise ShapeError(f"split: split_size must be a positive int (got {split!r})")
    if not size.is_Integer:
        raise ShapeError(
            f"split: x.split({split}) of an axis of symbolic size {size} gives "
            f"⌈{size}/{split}⌉ pieces, a count symcnn needs to know; pass the piece sizes"
        )
    count = max(-(-int(size) // int(step)), 1)
    return [(step * i, sympy.Min(step, size - step * i)) for i in range(count)]
