"""Arithmetic on tensors, ``Add``, ``Mul`` ..., and joining them, ``Concat`` and ``Stack``.

``Add`` (residuals), ``Sub``, ``Mul`` (gates), ``Div``, ``Maximum`` and ``Minimum`` broadcast
as PyTorch does; ``Scalar`` is a tensor and a number.

Counting: ``elementwise`` is the elementwise *multiplications* (a division counts as one,
as BatchNorm's 1/σ and average pooling's 1/k do): one per output element and operation
for ``Mul`` and ``Div``, none for ``Add``, ``Sub``, ``Maximum`` and ``Minimum`` (additions
and comparisons, as an activation's, are in no quantity). Nothing here has parameters or
weight-times-activation products.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape
from ..validity.condition import Condition, equal
from .autograd import OUTPUT, Flow, Saved, keeps_inputs, new_tensor
from .base import ZERO, Field, Layer, choice, refuse

__all__ = ["Add", "Concat", "Div", "Maximum", "Minimum", "Mul", "Scalar", "Stack", "Sub"]

_ONE = sympy.Integer(1)


class _Merge(Layer):
    """Two or more inputs of one rank; nothing learned, no weight-times-activation products."""

    __slots__ = ()
    arity: ClassVar[int | None] = None
    keeps = "nothing"  # a sum's or a concatenation's gradient reads no tensor

    def _both_ways(self, flow: Flow, inputs: tuple[Shape, ...]) -> tuple[Saved, ...] | None:
        """A product's rule: each input is kept for the other's gradient; two inputs only."""
        if len(inputs) != 2:
            return None  # a chain a * b * c keeps intermediate products: not derived
        return keeps_inputs(*(p for p, other in ((0, 1), (1, 0)) if flow.needs[other]))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def _same_rank(self, inputs: tuple[Shape, ...], why: str = "") -> None:
        ranks = {len(x) for x in inputs}
        if len(ranks) != 1:
            shown = ", ".join(str(x) for x in inputs)
            raise ShapeError(f"the inputs must have one rank, got {shown}{why}")


#: Why tensors of the walk must have one rank to broadcast: each has its batch axis.
_BATCH_ALIGNED = (
    "; with their batch axes, torch would line the shorter input's batch axis up with a "
    "sample axis of the other, a shape that depends on the batch size"
)


def broadcast_sizes(sizes: tuple[sympy.Expr, ...]) -> sympy.Expr:
    """The size of one axis after broadcasting ``sizes``: the first one that is not 1.

    PyTorch stretches a size of exactly 1; a symbolic size is never taken to be 1, so two
    symbolic sizes must be equal (the layer's conditions say so).
    """
    stretched = [s for s in sizes if s != 1]
    return stretched[0] if stretched else _ONE


class _Broadcast(_Merge):
    """Elementwise arithmetic of tensors of one rank, broadcast as PyTorch does.

    On each axis the sizes other than 1 must be equal; a size of 1 stretches. Where the
    sizes are symbolic their equality is a condition of validity.
    """

    __slots__ = ()
    #: Whether the operation multiplies (or divides): one per output element and operand.
    multiplies: ClassVar[bool] = False
    #: How a condition names the size of input ``i``.
    label: ClassVar[str] = "input {} size"
    #: Whether the rule always says "or be 1 there", even on an axis with no 1.
    says_one: ClassVar[bool] = False
    #: The torch call ``describe`` writes.
    call: ClassVar[str] = ""

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._same_rank(inputs, _BATCH_ALIGNED)
        name = type(self).__name__
        conds: list[Condition] = []
        for axis, sizes in enumerate(zip(*inputs, strict=True)):
            stretched = [(i, s) for i, s in enumerate(sizes) if s != 1]
            if not stretched:
                continue
            j, first = stretched[0]
            one = self.says_one or len(stretched) < len(sizes)
            rule = f"the inputs of {name} must agree on axis {axis}" + (
                " or be 1 there" if one else ""
            )
            conds.extend(
                equal(s, first, rule, self.label.format(i), self.label.format(j))
                for i, s in stretched[1:]
            )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        self._same_rank(inputs, _BATCH_ALIGNED)
        if all(x == inputs[0] for x in inputs[1:]):
            return inputs[0]
        return Shape(broadcast_sizes(sizes) for sizes in zip(*inputs, strict=True))

    def elementwise(self, *inputs: Shape) -> Derivation:
        if not self.multiplies:
            return ZERO
        return product(self.output_shape(*inputs).numel, len(inputs) - 1)

    def describe(self) -> str:
        return f"{self.call}(...)"


@dataclass(frozen=True, slots=True, repr=False)
class Add(_Broadcast):
    """``a + b + ...``, as a residual connection: ``torch.add``, broadcast as PyTorch does.

    Shapes of a residual agree axis by axis; where agreement depends on symbols it becomes
    a constraint. A size of 1 stretches to the others' (``x + x.mean(1, keepdim=True)``).
    Additions are not counted (``elementwise`` is multiplications).

    Examples
    --------
    >>> Add().output_shape(Shape((64, 8, 8)), Shape((64, 8, 8)))
    Shape((64, 8, 8))
    >>> Add().output_shape(Shape((64, 8, 8)), Shape((1, 8, 8)))
    Shape((64, 8, 8))
    """

    kind = "add"
    call = "torch.add"


@dataclass(frozen=True, slots=True, repr=False)
class Sub(_Broadcast):
    """``a - b``: ``torch.sub``, broadcast as PyTorch does (PoolFormer's ``pool(x) - x``).

    Examples
    --------
    >>> Sub().output_shape(Shape((64, 8, 8)), Shape((64, 1, 1)))
    Shape((64, 8, 8))
    >>> Sub().describe()
    'torch.sub(...)'
    """

    kind = "sub"
    arity = 2
    call = "torch.sub"


@dataclass(frozen=True, slots=True, repr=False)
class Mul(_Broadcast):
    """``a * b * ...`` with PyTorch broadcasting: a size-1 axis stretches to the other's.

    Squeeze-and-excitation gates a (C, H, W) map with a (C, 1, 1) weight this way. The
    elementwise multiplications are not weight-times-activation products and are not
    counted in ``products``.

    Examples
    --------
    >>> Mul().output_shape(Shape((64, 8, 8)), Shape((64, 1, 1)))
    Shape((64, 8, 8))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return self._both_ways(flow, inputs)

    kind = "mul"
    multiplies = True
    label = "size {}"
    says_one = True
    call = "torch.mul"


@dataclass(frozen=True, slots=True, repr=False)
class Div(_Broadcast):
    """``a / b``: ``torch.div``, broadcast as PyTorch does; ``a // b`` is ``rounding_mode='floor'``.

    An L2 normalization ``x / x.norm(dim=1, keepdim=True)`` divides a (C, H, W) map by a
    (1, H, W) one. One division per output element, counted as a multiplication.

    Examples
    --------
    >>> d = Div()
    >>> d.output_shape(Shape((64, 8, 8)), Shape((1, 8, 8))), d.elementwise(
    ...     Shape((64, 8, 8)), Shape((1, 8, 8))).value
    (Shape((64, 8, 8)), 4096)
    """

    kind = "div"
    arity = 2
    multiplies = True
    call = "torch.div"

    rounding_mode: str | None = None

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # a / b: the gradient of a reads b; that of b reads a and b. Rounded division has
        # no gradient PyTorch computes.
        if self.rounding_mode is not None or len(inputs) != 2:
            return None
        if flow.needs[1]:
            return keeps_inputs(0, 1)
        return keeps_inputs(1)

    def __post_init__(self) -> None:
        if self.rounding_mode is not None:
            choice(self, "rounding_mode", ("trunc", "floor"))

    def describe(self) -> str:
        mode = "" if self.rounding_mode is None else f", rounding_mode={self.rounding_mode!r}"
        return f"torch.div(...{mode})"


@dataclass(frozen=True, slots=True, repr=False)
class Maximum(_Broadcast):
    """``torch.maximum(a, b)``, or ``torch.max(a, b)``: the larger entry, broadcast.

    Examples
    --------
    >>> Maximum().output_shape(Shape((3, 1, 5)), Shape((3, 4, 1)))
    Shape((3, 4, 5))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return keeps_inputs(0, 1)  # both inputs, to tell which one won

    kind = "maximum"
    arity = 2
    call = "torch.maximum"


@dataclass(frozen=True, slots=True, repr=False)
class Minimum(_Broadcast):
    """``torch.minimum(a, b)``, or ``torch.min(a, b)``: the smaller entry, broadcast.

    Examples
    --------
    >>> Minimum().describe()
    'torch.minimum(...)'
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        return keeps_inputs(0, 1)  # both inputs, to tell which one won

    kind = "minimum"
    arity = 2
    call = "torch.minimum"


#: Scalar operations: how each reads, ``x`` the tensor and ``v`` the number.
SCALAR_OPS: dict[str, str] = {
    "add": "x + {v}",
    "sub": "x - {v}",
    "rsub": "{v} - x",
    "mul": "x * {v}",
    "div": "x / {v}",
    "rdiv": "{v} / x",
    "floordiv": "x // {v}",
    "rfloordiv": "{v} // x",
    "pow": "x ** {v}",
    "rpow": "{v} ** x",
    "neg": "-x",
}
#: The scalar operations that multiply (or divide, or raise to a power) each element.
_MULTIPLYING = frozenset({"mul", "div", "rdiv", "floordiv", "rfloordiv", "pow", "rpow"})


@dataclass(frozen=True, slots=True, repr=False)
class Scalar(Layer):
    """A tensor and a number, elementwise: ``x * 0.5``, ``x + 3``, ``1 - x``, ``x ** 2``, ``-x``.

    ``op`` is one of :data:`SCALAR_OPS` (``r``-ops have the number first: ``rsub`` is
    ``v - x``); ``value`` the number, an int or a float kept exactly as given, or a sympy
    size (``x / x.size(1)``); ``neg`` takes none. The shape is kept. The number changes no
    count: ``elementwise`` is one per element for the multiplying operations (``mul``,
    ``div``, their reverses, ``pow``), none for additions and negation.

    Examples
    --------
    >>> Scalar("mul", 0.5).describe(), Scalar("rsub", 1).describe(), Scalar("neg").describe()
    ('x * 0.5', '1 - x', '-x')
    >>> Scalar("div", 6).elementwise(Shape((16, 7, 7))).value
    784
    """

    kind = "scalar"
    repr_positional = 2

    op: str
    value: float | None = None  # or a sympy size, from the walk

    def __post_init__(self) -> None:
        choice(self, "op", tuple(SCALAR_OPS))
        if self.op == "neg":
            if self.value is not None:
                refuse(self, "value", "must be None for neg, which takes no number", self.value)
        elif isinstance(self.value, sympy.Basic):
            if not isinstance(self.value, sympy.Expr) or not self.value.is_real:
                refuse(self, "value", "must be a real number or a size", self.value)
        elif isinstance(self.value, bool) or not isinstance(self.value, numbers.Real):
            refuse(self, "value", "must be a real number (an int or a float) or a size", self.value)

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # x ** v reads x; v ** x reads x and its result; v / x is v times x's reciprocal,
        # which keeps the reciprocal. Adding or scaling by a number keeps nothing; rounded
        # division has no gradient PyTorch computes.
        if self.op in ("floordiv", "rfloordiv"):
            return None
        if self.op == "pow":
            return keeps_inputs(0)
        if self.op == "rpow":
            return (*keeps_inputs(0), OUTPUT)
        if self.op == "rdiv":
            return (new_tensor(inputs[0].numel),)
        return ()

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(inputs[0].numel) if self.op in _MULTIPLYING else ZERO

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def describe(self) -> str:
        return SCALAR_OPS[self.op].format(v=self.value)

    def __repr__(self) -> str:
        return (
            f"Scalar({self.op!r})" if self.op == "neg" else f"Scalar({self.op!r}, {self.value!r})"
        )


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
        _nonzero_dim(self)

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


def _nonzero_dim(layer: Layer) -> None:
    dim = layer.dim  # type: ignore[attr-defined]
    if isinstance(dim, bool) or not isinstance(dim, int) or dim == 0:
        raise ShapeError(
            f"{layer!r}: dim must be a nonzero int (PyTorch's dims count the batch axis "
            "as 0, which a per-sample shape does not have)"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Stack(_Merge):
    """``torch.stack(tensors, dim)``: tensors of one shape along a new axis at ``dim``.

    ``dim`` counts the batch axis, as torch's does, and may name the new last axis; 0 would
    put the new axis before the batch. The shapes must be equal, a condition where they are
    symbolic. Nothing is computed.

    Examples
    --------
    >>> Stack(1).output_shape(Shape((64, 8, 8)), Shape((64, 8, 8)))
    Shape((2, 64, 8, 8))
    >>> Stack(-1).output_shape(Shape((64, 8)), Shape((64, 8)), Shape((64, 8)))
    Shape((64, 8, 3))
    """

    kind = "stack"
    repr_positional = 1

    dim: int = 1

    def __post_init__(self) -> None:
        _nonzero_dim(self)

    def _axis(self, x: Shape) -> int:
        rank = len(x) + 2  # batch and the new axis
        if not -rank <= self.dim < rank:
            raise ShapeError(
                f"dim={self.dim} is out of range for inputs of {len(x)} axes per sample "
                f"(dims from {-rank} to {rank - 1}, the new axis included)"
            )
        if self.dim % rank == 0:
            raise ShapeError(
                f"dim={self.dim} puts the new axis before the batch axis, which a per-sample "
                "shape cannot show"
            )
        return self.dim % rank - 1

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._same_rank(inputs)
        first = inputs[0]
        self._axis(first)
        return tuple(
            equal(
                x[axis],
                first[axis],
                f"the inputs of Stack must have one shape, here axis {axis}",
                f"input {i} size",
                "input 0 size",
            )
            for i, x in enumerate(inputs[1:], start=1)
            for axis in range(len(first))
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        first = inputs[0]
        at = self._axis(first)
        return Shape((*first[:at], len(inputs), *first[at:]))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None  # a new axis: the spatial axes move

    def describe(self) -> str:
        return f"torch.stack(..., dim={self.dim})"
