"""Layers that pick or move entries along an axis: strided slices and ``torch.roll``.

Swin's patch merging reads ``x[..., 0::2, 0::2, :]`` and its shifted windows
``torch.roll(x, shifts=(-3, -3), dims=(1, 2))`` on a channels-last tensor. Dims are
PyTorch's, counting the batch axis as 0 (as in :mod:`.axes`); symcnn shapes are per
sample, so neither layer may touch the batch axis. Neither computes: a slice is a view and
a roll a copy, with no parameters, products or elementwise work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.canonical import floor_div
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least
from .axes import _int, axis_of
from .base import Field, Layer, refuse

__all__ = ["Roll", "Slice"]

_BATCH = "is the batch axis, which a per-sample shape does not have"


def _bound(layer: Layer, name: str, value: Any) -> sympy.Expr | None:
    """A slice bound as given: None, or an integer size (negative counts from the end)."""
    if value is None:
        return None
    return as_size(value, f"{type(layer).__name__} {name}")


def _from_end(bound: sympy.Expr, size: sympy.Expr) -> sympy.Expr:
    """Python's rule: a negative bound counts from the end of the axis."""
    return size + bound if bound.is_negative else bound


@dataclass(frozen=True, slots=True, repr=False)
class Slice(Layer):
    """``x[..., start:stop:step]`` along the PyTorch dim ``dim``, as torch slices, step ≥ 1.

    A negative ``start`` or ``stop`` counts from the end of the axis, ``stop`` None is its
    end, and the output has ⌈(stop − start)/step⌉ entries. With numbers everywhere the
    bounds are clipped to the axis as PyTorch clips them; with a symbolic size or bound the
    slice must lie inside the axis instead, ``0 ≤ start < stop ≤ size``, conditions kept
    while undecided (as :class:`~symcnn.layers.Narrow` keeps them). An empty slice is
    refused: symcnn sizes are positive. A bound of unknown sign is read as not negative,
    and ``start ≥ 0`` is then its condition.

    The step picks every ``step``-th position, like a stride: the jump of a spatial axis
    is multiplied by it, the receptive field unchanged. After ``F.pad`` of an odd size
    to ``2·⌈H/2⌉``, both ``0::2`` and ``1::2`` have ``⌈H/2⌉`` entries (Swin's patch
    merging).

    Examples
    --------
    >>> Slice(-1, 1, None, 2).output_shape(Shape((8, 7)))
    Shape((8, 3))
    >>> Slice(2, 0, -1, 3).output_shape(Shape((8, 7)))
    Shape((8, 2))
    >>> Slice(-2, 1, None, 2).describe()
    'x[..., 1::2, :]'
    """

    keeps = "nothing"
    stores = "strided"

    kind = "slice"
    repr_positional = 4

    dim: int
    start: Any = 0
    stop: Any = None
    step: Any = 1

    def __post_init__(self) -> None:
        if _int(self, "dim", self.dim) == 0:
            refuse(self, "dim", _BATCH, 0)
        step = self.step
        if isinstance(step, bool) or not isinstance(step, (int, sympy.Integer)):
            refuse(self, "step", "must be an int (a slice step)", step)
        if step <= 0:
            refuse(self, "step", "must be greater than zero (PyTorch slices forwards only)", step)
        self._set("step", sympy.Integer(step))
        self._set("start", _bound(self, "start", 0 if self.start is None else self.start))
        self._set("stop", _bound(self, "stop", self.stop))

    def _bounds(self, x: Shape) -> tuple[int, sympy.Expr, sympy.Expr, sympy.Expr]:
        """(axis, size, start, stop): negative bounds read from the end, numbers clipped."""
        axis = axis_of(self, "dim", self.dim, x)
        size = x[axis]
        start = _from_end(self.start, size)
        stop = size if self.stop is None else _from_end(self.stop, size)
        if size.is_Integer and start.is_Integer and stop.is_Integer:
            start, stop = min(max(start, 0), size), min(max(stop, 0), size)
        return axis, size, start, stop

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        _, size, start, stop = self._bounds(x)
        along = f"a slice along dim {self.dim}"
        return (
            at_least(start, 0, f"{along} must start inside the axis: start ≥ 0", "start"),
            at_least(size, stop, f"{along} must end inside the axis: stop ≤ size", "size", "stop"),
            at_least(
                stop,
                start + 1,
                f"{along} must not be empty (symcnn sizes are positive): stop > start",
                "stop",
                "start + 1",
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        axis, _, start, stop = self._bounds(x)
        length = floor_div(stop - start + self.step - 1, self.step)
        return Shape((*x[:axis], length, *x[axis + 1 :]))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        # field and jump cover the axes after the channel axis: PyTorch dims 2 onwards.
        spatial = self.dim % (len(field) + 2) - 2
        if spatial < 0:  # the channel axis: positions are not moved
            return field, jump
        return field, (*jump[:spatial], jump[spatial] * self.step, *jump[spatial + 1 :])

    def describe(self) -> str:
        start = "" if self.start == 0 else str(self.start)
        stop = "" if self.stop is None else str(self.stop)
        step = "" if self.step == 1 else f":{self.step}"
        item = f"{start}:{stop}{step}"
        if self.dim > 0:
            return f"x[{':, ' * self.dim}{item}]"
        return f"x[..., {item}{', :' * (-self.dim - 1)}]"


def _ints(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@dataclass(frozen=True, slots=True, repr=False)
class Roll(Layer):
    """``torch.roll(x, shifts, dims)``: shift entries cyclically along axes; the shape stays.

    ``shifts`` and ``dims`` are ints or tuples of equal length, as PyTorch pairs them; a
    shift may be negative or longer than its axis. ``dims`` must be given: without it
    PyTorch rolls the flattened tensor, batch included, which mixes samples. Nothing is
    counted; the receptive field is not defined after it (positions move).

    Examples
    --------
    >>> Roll((-3, -3), (1, 2)).output_shape(Shape((7, 7, 96)))
    Shape((7, 7, 96))
    >>> Roll((-3, -3), (1, 2))
    Roll((-3, -3), (1, 2))
    >>> Roll(1, -1).describe()
    'torch.roll(x, shifts=1, dims=-1)'
    """

    keeps = "nothing"  # a copy; its gradient rolls back

    kind = "roll"
    repr_positional = 2

    shifts: Any
    dims: Any = None

    def __post_init__(self) -> None:
        if self.dims is None:
            refuse(
                self,
                "dims",
                "must be given: without dims torch.roll rolls the flattened tensor, batch "
                "included, which mixes samples",
                None,
            )
        shifts, dims = _ints(self.shifts), _ints(self.dims)
        if not dims or len(shifts) != len(dims):
            refuse(
                self,
                "shifts",
                f"must pair with dims, one shift per dim (PyTorch's rule; dims={self.dims!r})",
                self.shifts,
            )
        for d in dims:
            if _int(self, "dims", d) == 0:
                refuse(self, "dims", _BATCH, 0)
        sizes = tuple(as_size(s, "Roll shift") for s in shifts)
        self._set("shifts", sizes if isinstance(self.shifts, (tuple, list)) else sizes[0])
        self._set("dims", dims if isinstance(self.dims, (tuple, list)) else dims[0])

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        for d in _ints(self.dims):
            axis_of(self, "dims", d, x)
        return x

    def describe(self) -> str:
        return f"torch.roll(x, shifts={_text(self.shifts)}, dims={_text(self.dims)})"

    def __repr__(self) -> str:  # the tuples written out: (-3, -3) is not -3
        return f"Roll({_text(self.shifts)}, {_text(self.dims)})"


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return f"({', '.join(map(str, value))}{',' if len(value) == 1 else ''})"
    return str(value)
