"""Sizes and shapes: the one place where user values become sympy expressions."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import sympy

from ..errors import ShapeError
from .limits import check_size

__all__ = ["Shape", "as_size"]


def as_size(value: Any, what: str = "size") -> sympy.Expr:
    """Coerce a user-supplied size to an integer-valued sympy expression.

    Ints and integer-valued sympy expressions are accepted; floats, bools, fractions and
    symbols that are not declared integer are refused, naming ``what`` and the value.
    Sign is not checked here: whether a size is positive may depend on symbols, so layers
    state it as a condition that is decided, or kept as a constraint, later.

    Examples
    --------
    >>> as_size(5)
    5
    >>> as_size(2.5, "stride")
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: 'stride' must be an integer or an integer sympy expression (got 2.5)
    """
    if type(value) is int:  # the common case: a whole number, nothing to check
        return sympy.Integer(value)
    if isinstance(value, sympy.Integer):
        return value
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, sympy.Expr)):
        raise ShapeError(
            f"{what!r} must be an integer or an integer sympy expression (got {value!r})"
        )
    if isinstance(value, sympy.Expr) and value.has(sympy.Float):
        # sympy cannot tell whether 5.0 is an integer; a size written as a float is a mistake
        raise ShapeError(f"{what!r} must be an integer, not a float (got {value})")
    expr = sympy.sympify(value, strict=True) if isinstance(value, numbers.Integral) else value
    check_size(expr, what)  # bounded symbolic work: degree and length limits
    if expr.is_integer is False:
        raise ShapeError(f"{what!r} must be an integer (got {expr})")
    if expr.is_integer is None and not _integer_valued(expr):
        loose = sorted(str(s) for s in expr.free_symbols if s.is_integer is not True)
        hint = (
            f": symbol(s) {', '.join(loose)} must be declared integer (create them with "
            "symcnn.symbols)"
            if loose
            else " (divide with floor or ceiling, as a layer's size formula does)"
        )
        raise ShapeError(f"{what!r} = {expr} is not known to be an integer{hint}")
    return expr


def _integer_valued(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is built from integers by +, ·, powers, ⌊⌋, ⌈⌉, min, max and mod.

    sympy leaves ``floor(x/(s - 1))`` undecided (``s - 1`` might be 0); a size formula
    whose every leaf is an integer is an integer wherever it is defined.
    """
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        return all(s.is_integer for s in expr.free_symbols)
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Min, sympy.Max, sympy.Mod)):
        return all(_integer_valued(a) for a in expr.args)
    if isinstance(expr, sympy.Pow):
        exp = expr.exp
        return bool(exp.is_Integer and exp >= 0 and _integer_valued(expr.base))
    return bool(expr.is_integer)


class Shape(tuple):
    """A per-sample tensor shape: a tuple of integer sympy expressions, e.g. (C, H, W).

    There is no batch axis, as in the seed lecture's table. A ``Shape`` compares equal to
    the plain tuple of its sizes and prints as ``32×24×24``. Sizes are kept in canonical
    form (:func:`symcnn.symbolic.canonical.canonical`): nested floors are collapsed on entry.

    Examples
    --------
    >>> s = Shape((32, 24, 24))
    >>> str(s), s.numel, s == (32, 24, 24)
    ('32×24×24', 18432, True)
    """

    __slots__ = ()

    def __new__(cls, dims: Iterable[Any]) -> Shape:
        """Coerce every size with :func:`as_size` and put it in canonical form."""
        from .canonical import canonical

        if isinstance(dims, (str, bytes)) or not isinstance(dims, Iterable):
            raise ShapeError(f"a shape is a sequence of sizes, such as (1, n, n) (got {dims!r})")
        return super().__new__(cls, (canonical(as_size(d, "shape entry")) for d in dims))

    @property
    def numel(self) -> sympy.Expr:
        """Number of elements: the product of the sizes."""
        return sympy.Mul(*self)

    @property
    def free_symbols(self) -> set[sympy.Basic]:
        """Symbols appearing in any size."""
        return set().union(*(d.free_symbols for d in self))

    @property
    def channels(self) -> sympy.Expr:
        """The leading (channel or feature) size."""
        return self[0]

    @property
    def spatial(self) -> tuple[sympy.Expr, ...]:
        """The sizes after the channel axis, e.g. (H, W)."""
        return tuple(self[1:])

    def subs(self, mapping: Mapping[Any, Any]) -> Shape:
        """Substitute symbols in every size."""
        return Shape(d.subs(mapping) for d in self)

    def __str__(self) -> str:
        from .printing import text

        return "×".join(text(d, atom=True) for d in self)

    def __repr__(self) -> str:
        return f"Shape({tuple(self)!r})"
