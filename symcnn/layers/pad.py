"""Padding as PyTorch has it: constant (and zero), reflection, replication, circular; 1-3 d.

Every class mirrors the ``torch.nn`` module of its name: ``padding`` is an int (every
side) or a tuple in ``F.pad``'s order, last axis first: (left, right, top, bottom, front,
back). Amounts may be sympy expressions, such as a "same" pad computed from the input
size; what PyTorch refuses becomes a condition on the sizes (:func:`mode_conditions`),
which :class:`~symcnn.layers.conv.Conv2d`'s ``padding_mode`` shares. Padding copies
values: no parameters, no products, no elementwise multiplications.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError, UnsupportedLayerError
from ..symbolic.canonical import canonical
from ..symbolic.residue import absorb_mod
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least, relation
from .autograd import Flow, Saved, keeps_inputs
from .base import Field, Layer, real, refuse

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]

#: ``F.pad``'s modes; a convolution's ``padding_mode`` says 'zeros' for 'constant'.
MODES = ("constant", "reflect", "replicate", "circular")

# The sides in F.pad's order, last axis first.
_SIDES = ("left", "right", "top", "bottom", "front", "back")

# PyTorch's names of the last spatial axes, as convolutions name them in messages.
_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def spatial_names(count: int) -> tuple[str, ...]:
    """Names of ``count`` spatial axes for messages; beyond three they are numbered."""
    return _NAMES.get(count) or tuple(f"axis {i}" for i in range(1, count + 1))


def mode_conditions(
    mode: str, axis: str, size: Any, before: Any, after: Any
) -> tuple[Condition, ...]:
    """PyTorch's rules for padding one axis of ``size`` by ``before`` and ``after``.

    Found by running ``F.pad`` on every small case (tests/layers/test_pads.py keeps the
    property): 'reflect' needs each side smaller than the input (negative sides crop, as
    in the constant mode); 'circular' wraps around at most once, each side at most the
    input; 'replicate' takes any amounts; 'constant' may crop, but a side crops at most
    the whole input (a convolution's 'zeros' never crops). That the padded size is at
    least 1 is the caller's rule (a convolution's window rule implies it).
    """
    conds: list[Condition] = []
    for side in (before, after):
        values = (("padding", side), (f"input {axis}", size))
        if mode == "reflect":
            rule = f"reflection padding must be smaller than the input {axis}"
            conds.append(Condition(relation("<", side, size), rule, values))
        elif mode == "circular":
            rule = f"circular padding must be at most the input {axis} (it wraps around once)"
            conds.append(Condition(relation("<=", side, size), rule, values))
        elif mode == "constant" and side.is_nonnegative is not True:
            rule = f"a negative padding crops at most the whole input {axis}"
            conds.append(at_least(size + side, 0, rule, f"input {axis} + padding"))
    return tuple(conds)


class _PadNd(Layer):
    """Padding of the last ``ndim`` axes in mode ``mode`` (fields on subclasses).

    ``padding`` is kept as ``2·ndim`` sizes in F.pad's order. The constant modes take
    fewer values, as PyTorch does (the leading axes stay unpadded), and any input with at
    least ``ndim`` axes, every axis of a sample included, as ``F.pad`` pads the last axes
    of any tensor (a channels-last (H, W, C) in H and W); the other modes need all ``2·ndim`` values
    and an input (C, *ndim axes), as PyTorch's kernels do.
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # Reflection and replication pads keep their input for the backward's sizes and
        # strides; constant and circular pads (slices and a concatenation) keep nothing.
        return keeps_inputs(0) if self.mode in ("reflect", "replicate") else ()

    __slots__ = ()
    kind = "pad"
    mirrors_torch = True
    repr_positional = 1
    ndim: ClassVar[int] = 2
    mode: ClassVar[str] = "constant"

    padding: tuple[sympy.Expr, ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.input_rank = None if cls.mode == "constant" else cls.ndim + 1

    def __post_init__(self) -> None:
        self._set("padding", self._sides(self.padding))
        if self.mode == "circular" and any(p.is_Integer and p < 0 for p in self.padding):
            # torch crops with negative circular pads of one sign, and with mixed signs
            # fails or returns wrong values at random: no rule to model
            raise UnsupportedLayerError(
                f"{type(self).__name__}: padding={tuple(self.padding)!r} crops, which "
                "symcnn does not model in circular mode (PyTorch's results vary there)"
            )
        self._check_extra()
        self._validate()

    def _check_extra(self) -> None:
        """Hook for fields only one kind of padding has."""

    def _sides(self, value: Any) -> tuple[sympy.Expr, ...]:
        n = 2 * self.ndim
        if not isinstance(value, (tuple, list)):
            return (as_size(value, "padding"),) * n
        count, constant = len(value), self.mode == "constant"
        # torch pads the channels (and the batch) with the constant modes; the others take
        # an input one axis shorter as unbatched, up to their 3-d kernels' six values.
        if count == n + 2 and (constant or count <= 6) or count == n + 4 and constant:
            axis = "channel" if count == n + 2 else "batch"
            raise UnsupportedLayerError(
                f"{type(self).__name__}: padding={tuple(value)!r} pads the {axis} axis "
                f"too, which symcnn does not model (give {n} values: {', '.join(_SIDES[:n])})"
            )
        if count not in (range(0, n + 1, 2) if constant else (n,)):
            refuse(self, "padding", self._needs(), value)
        sides = tuple(as_size(v, "padding") for v in value)
        return sides + (sympy.Integer(0),) * (n - count)

    def _needs(self) -> str:
        n = 2 * self.ndim
        words = f"needs {n} values ({', '.join(_SIDES[:n])})"
        if self.mode != "constant":
            return f"{words}, PyTorch's {self.mode} mode pads all {self.ndim} axes"
        fewer = [str(k) for k in range(n - 2, 0, -2)]
        if not fewer:
            return words
        return f"{words}{', ' + ', '.join(fewer[:-1]) if fewer[:-1] else ''} or {fewer[-1]}"

    def hyper_conditions(self) -> tuple[Condition, ...]:
        if self.mode != "circular":
            return ()
        rule = "circular padding must be non-negative (symcnn does not model its crops)"
        return tuple(at_least(p, 0, rule, "padding") for p in self.padding)

    def _axes(self, x: Shape) -> list[tuple[str, sympy.Expr, sympy.Expr, sympy.Expr]]:
        """(name, size, before, after) of each padded axis, leading axis first."""
        nd = self.ndim
        if len(x) < nd:  # the other modes need (C, *nd axes): their input_rank
            raise ShapeError(
                f"the input must have at least {nd} axes per sample: "
                f"{type(self).__name__} pads the last {nd} (got {x}, {len(x)} axes)"
            )
        # a constant pad may pad every axis of the sample, as F.pad pads the last k axes
        # of any tensor: (H, W, C) channels-last, padded in H and W (Swin's patch merging)
        names = ("first axis", *spatial_names(nd - 1)) if len(x) == nd else None
        names = names or spatial_names(len(x) - 1)[-nd:]
        sizes = x[-nd:]
        return [
            (names[i], sizes[i], self.padding[2 * (nd - 1 - i)], self.padding[2 * (nd - 1 - i) + 1])
            for i in range(nd)
        ]

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        conds: list[Condition] = []
        for axis, size, before, after in self._axes(x):
            conds += mode_conditions(self.mode, axis, size, before, after)
            if before.is_nonnegative and after.is_nonnegative:
                continue  # sizes are at least 1 wherever the network is valid
            conds.append(
                at_least(
                    size + before + after,
                    1,
                    f"the padded {axis} must be at least 1",
                    f"padded {axis}",
                )
            )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        # a pad up to a multiple, size + (−size mod m), reads m·⌈size/m⌉ (residue.py)
        padded = [
            canonical(absorb_mod(size + before + after)) for _, size, before, after in self._axes(x)
        ]
        return Shape((*x[: len(x) - self.ndim], *padded))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        """Unchanged: a padded position sees no more of the input than its source."""
        return field, jump


class _ConstantPad(_PadNd):
    """``value`` fills the new positions; it changes no count."""

    __slots__ = ()
    value: Any

    def _check_extra(self) -> None:
        # torch's F.pad reads None as 0 and any real number (a bool too, which symcnn refuses).
        real(self, "value", optional=True)


class _ZeroPad(_PadNd):
    """``ConstantPadNd`` with ``value=0``, as torch's ``ZeroPadNd`` subclasses it."""

    __slots__ = ()


class _ReflectionPad(_PadNd):
    __slots__ = ()
    mode = "reflect"


class _ReplicationPad(_PadNd):
    __slots__ = ()
    mode = "replicate"


class _CircularPad(_PadNd):
    __slots__ = ()
    mode = "circular"


@dataclass(frozen=True, slots=True, repr=False)
class ConstantPad1d(_ConstantPad):
    """``torch.nn.ConstantPad1d(padding, value)``: the last axis, (left, right).

    Negative padding crops, as in PyTorch. Any input with at least one axis.

    Examples
    --------
    >>> ConstantPad1d((2, -1), 0.5).output_shape(Shape((4, 10)))
    Shape((4, 11))
    """

    ndim = 1

    padding: Any
    value: float | None


@dataclass(frozen=True, slots=True, repr=False)
class ConstantPad2d(_ConstantPad):
    """``torch.nn.ConstantPad2d(padding, value)``: (left, right, top, bottom), or (left, right).

    Examples
    --------
    >>> ConstantPad2d((1, 2, 0, 3), -1.0).output_shape(Shape((3, 5, 5)))
    Shape((3, 8, 8))
    """

    padding: Any
    value: float | None


@dataclass(frozen=True, slots=True, repr=False)
class ConstantPad3d(_ConstantPad):
    """``torch.nn.ConstantPad3d(padding, value)``: (left, right, top, bottom, front, back).

    Examples
    --------
    >>> ConstantPad3d(1, 0.0).output_shape(Shape((3, 2, 5, 5)))
    Shape((3, 4, 7, 7))
    """

    ndim = 3

    padding: Any
    value: float | None


@dataclass(frozen=True, slots=True, repr=False)
class ZeroPad1d(_ZeroPad):
    """``torch.nn.ZeroPad1d(padding)``: zeros on the last axis, (left, right).

    Examples
    --------
    >>> ZeroPad1d(2).output_shape(Shape((8, 100)))
    Shape((8, 104))
    """

    ndim = 1

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ZeroPad2d(_ZeroPad):
    """``torch.nn.ZeroPad2d(padding)``: an int, (left, right, top, bottom) or (left, right).

    Negative padding crops, as in PyTorch; the padded map must keep at least one row and
    one column. Two values pad the width only, as in PyTorch (which pads the last axes,
    two values per axis, and none for an empty tuple); six or eight would pad the channels
    or the batch, which symcnn does not model.

    Examples
    --------
    >>> ZeroPad2d((1, 2, 0, 3)).output_shape(Shape((3, 5, 5)))
    Shape((3, 8, 8))
    """

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ZeroPad3d(_ZeroPad):
    """``torch.nn.ZeroPad3d(padding)``: (left, right, top, bottom, front, back) or fewer.

    Examples
    --------
    >>> ZeroPad3d((1, 1, 0, 0, 2, 0)).output_shape(Shape((3, 4, 5, 5)))
    Shape((3, 6, 5, 7))
    """

    ndim = 3

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReflectionPad1d(_ReflectionPad):
    """``torch.nn.ReflectionPad1d(padding)`` on (C, L): each side smaller than L.

    Examples
    --------
    >>> ReflectionPad1d((3, 1)).output_shape(Shape((2, 4)))
    Shape((2, 8))
    """

    ndim = 1

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReflectionPad2d(_ReflectionPad):
    """``torch.nn.ReflectionPad2d(padding)`` on (C, H, W): each side smaller than its axis.

    Negative sides crop, as in PyTorch; the padded map keeps at least one row and column.

    Examples
    --------
    >>> ReflectionPad2d(3).output_shape(Shape((3, 32, 32)))
    Shape((3, 38, 38))
    """

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReflectionPad3d(_ReflectionPad):
    """``torch.nn.ReflectionPad3d(padding)`` on (C, D, H, W).

    Examples
    --------
    >>> ReflectionPad3d(1).output_shape(Shape((3, 2, 5, 5)))
    Shape((3, 4, 7, 7))
    """

    ndim = 3

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReplicationPad1d(_ReplicationPad):
    """``torch.nn.ReplicationPad1d(padding)`` on (C, L): any amounts, the result at least 1.

    Examples
    --------
    >>> ReplicationPad1d((5, -2)).output_shape(Shape((2, 3)))
    Shape((2, 6))
    """

    ndim = 1

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReplicationPad2d(_ReplicationPad):
    """``torch.nn.ReplicationPad2d(padding)`` on (C, H, W).

    Examples
    --------
    >>> ReplicationPad2d((1, 1, 2, 0)).output_shape(Shape((3, 1, 1)))
    Shape((3, 3, 3))
    """

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class ReplicationPad3d(_ReplicationPad):
    """``torch.nn.ReplicationPad3d(padding)`` on (C, D, H, W).

    Examples
    --------
    >>> ReplicationPad3d(2).output_shape(Shape((3, 1, 4, 4)))
    Shape((3, 5, 8, 8))
    """

    ndim = 3

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class CircularPad1d(_CircularPad):
    """``torch.nn.CircularPad1d(padding)`` on (C, L): each side between 0 and L.

    PyTorch also crops with negative circular padding, but fails or wraps wrongly when
    the two sides of an axis differ in sign; symcnn models non-negative sides only.

    Examples
    --------
    >>> CircularPad1d((4, 0)).output_shape(Shape((2, 4)))
    Shape((2, 8))
    """

    ndim = 1

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class CircularPad2d(_CircularPad):
    """``torch.nn.CircularPad2d(padding)`` on (C, H, W); sides as :class:`CircularPad1d`'s.

    Examples
    --------
    >>> CircularPad2d((1, 1, 2, 2)).output_shape(Shape((3, 2, 2)))
    Shape((3, 6, 4))
    """

    padding: Any


@dataclass(frozen=True, slots=True, repr=False)
class CircularPad3d(_CircularPad):
    """``torch.nn.CircularPad3d(padding)`` on (C, D, H, W).

    Examples
    --------
    >>> CircularPad3d(1).output_shape(Shape((3, 1, 4, 4)))
    Shape((3, 3, 6, 6))
    """

    ndim = 3

    padding: Any
