"""Size formulas over a common integer denominator, so that printed code never divides.

sympy keeps ``floor((n - k + 1)/3)`` as ``floor(n/3 - k/3 + 1/3)``: printed as it stands,
its argument is float arithmetic. :func:`over_integer` writes any supported
subexpression as ``p/q`` with ``p`` an integer-valued expression free of fractions and
``q`` a positive one (an integer times positive factors), so the printer can emit
``p // q``. This is the one place where the meaning of a rational is decided; the printer
(:mod:`.printer`) and the overflow bound (:mod:`.bounds`) both read its output.

Three integer-valued function nodes stand for what the rewrite must check at run time:
:class:`Exact` (``p // q`` once ``q`` is known to divide ``p``), :class:`Positive` (a
symbolic denominator not provably positive) and :class:`Nonzero` (a ``Mod`` divisor).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import sympy
from sympy.core.relational import Relational
from sympy.core.symbol import Str
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from ..errors import ShapeError
from ..symbolic.printing import text

__all__ = [
    "Exact",
    "Nonzero",
    "Positive",
    "check_supported",
    "difference",
    "over_integer",
    "root",
]


class _Checked(sympy.Function):
    """An integer-valued node sympy must not evaluate; its last argument is a message."""

    is_integer = True

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    @property
    def message(self) -> str:
        return str(self.args[-1])


class Exact(_Checked):
    """``Exact(p, q, message)``: ``p // q``, after checking that ``q`` divides ``p``."""


class Positive(_Checked):
    """``Positive(q, message)``: ``q``, after checking that it is positive."""


class Nonzero(_Checked):
    """``Nonzero(q, message)``: ``q``, after checking that it is not zero."""


# A positive denominator: an integer times a sorted tuple of positive factors (repeated).
_Den = tuple[int, tuple[sympy.Expr, ...]]
_ONE: _Den = (1, ())


def _key(e: sympy.Basic) -> Any:
    return sympy.default_sort_key(e)


def _denominator(den: _Den) -> sympy.Expr:
    return sympy.Mul(sympy.Integer(den[0]), *den[1])


@functools.lru_cache(maxsize=8192)
def over_integer(e: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(p, q)`` with ``e == p/q``: ``p`` integer-valued without fractions, ``q > 0``.

    ``floor``, ``ceiling`` and the check nodes are integer-valued and kept as they are;
    the printer writes their insides over an integer denominator in turn.
    """
    num, den = _fraction(e)
    return num, _denominator(den)


@functools.lru_cache(maxsize=8192)
def _fraction(e: sympy.Expr) -> tuple[sympy.Expr, _Den]:
    if e.is_Integer or isinstance(e, (sympy.Symbol, _Checked, sympy.floor, sympy.ceiling)):
        return e, _ONE
    if e.is_Rational:
        return sympy.Integer(e.p), (int(e.q), ())
    if isinstance(e, sympy.Add):
        nums, den = _common([_fraction(a) for a in e.args])
        return sympy.Add(*nums), den
    if isinstance(e, sympy.Mul):
        parts = [_fraction(a) for a in e.args]
        factors = tuple(sorted((f for _, d in parts for f in d[1]), key=_key))
        return sympy.Mul(*(p for p, _ in parts)), (math.prod(d[0] for _, d in parts), factors)
    if isinstance(e, sympy.Pow):
        base, exp = e.args
        m = abs(int(exp))
        p, (c, factors) = _fraction(base)
        if exp > 0:
            return p**m, (c**m, factors * m)
        # A negative power is a division: its base must be positive (checked when unproven).
        if not base.is_positive:
            p = Positive(p, Str(f"{text(base)} must be positive to divide by it"))
        return _denominator((c, factors)) ** m, (1, (p,) * m)
    if isinstance(e, (sympy.Min, sympy.Max, sympy.Mod)):
        parts = [_fraction(a) for a in e.args]
        check = isinstance(e, sympy.Mod) and not (
            e.args[1].is_nonzero or isinstance(e.args[1], Nonzero)
        )
        if all(d == _ONE for _, d in parts) and not check:
            return e, _ONE
        nums, den = _common(parts)
        if check:
            nums[1] = Nonzero(nums[1], Str(f"the divisor of {text(e)} must be nonzero"))
        return type(e)(*nums, evaluate=False), den
    if isinstance(e, sympy.Abs):
        p, den = _fraction(e.args[0])
        return (e if den == _ONE else sympy.Abs(p, evaluate=False)), den
    raise ShapeError(f"cannot evaluate {e} exactly: {_reason(e)}")  # check_supported ran


def _common(parts: list[tuple[sympy.Expr, _Den]]) -> tuple[list[sympy.Expr], _Den]:
    """Numerators over a common denominator (integer lcm, max multiplicity of factors)."""
    if all(d == _ONE for _, d in parts):
        return [p for p, _ in parts], _ONE
    c = math.lcm(*(d[0] for _, d in parts))
    counts: dict[sympy.Expr, int] = {}
    for _, (_, factors) in parts:
        for f in set(factors):
            counts[f] = max(counts.get(f, 0), factors.count(f))
    common = tuple(sorted((f for f, m in counts.items() for _ in range(m)), key=_key))
    nums = []
    for p, (ci, factors) in parts:
        missing = list(common)
        for f in factors:
            missing.remove(f)
        nums.append(sympy.Mul(p, sympy.Integer(c // ci), *missing))
    return nums, (c, common)


_SUPPORTED = (
    sympy.Symbol,
    sympy.Add,
    sympy.Mul,
    sympy.floor,
    sympy.ceiling,
    sympy.Min,
    sympy.Max,
    sympy.Mod,
    sympy.Abs,
)


def _reason(e: sympy.Basic) -> str:
    if isinstance(e, sympy.Float):
        return "a float is not exact; write sizes as integers or sympy.Rational"
    if e.is_Number:
        return "it is not a finite rational number"
    if isinstance(e, sympy.Pow):
        return "only integer powers with a number as exponent"
    return f"{type(e).__name__} is none of +, ·, integer powers, floor, ceiling, Min, Max, Mod, Abs"


def _unsupported(e: sympy.Basic) -> bool:
    if isinstance(e, sympy.Pow):
        return not e.exp.is_Integer
    if e.is_Number:
        return not e.is_Rational
    return not isinstance(e, _SUPPORTED)


def check_supported(formula: sympy.Basic) -> None:
    """Refuse, naming the subexpression, what has no exact integer meaning here."""
    for e in sympy.preorder_traversal(formula):
        if isinstance(e, (BooleanTrue, BooleanFalse)):
            continue
        if isinstance(e, Boolean) and not isinstance(e, sympy.Symbol):
            ok = isinstance(e, Relational) and e.rel_op in ("==", "!=", ">=", ">", "<=", "<")
            if not (ok or isinstance(e, (sympy.And, sympy.Or, sympy.Not))):
                inside = "" if e == formula else f" in {formula}"
                raise ShapeError(
                    f"cannot evaluate {e} exactly{inside}: relations are built from "
                    "==, !=, <, <=, >, >=, And, Or, Not"
                )
            continue
        if _unsupported(e):
            # sympy's own notation: these are sympy objects symcnn has no rendering for.
            inside = "" if e == formula else f" in {formula}"
            raise ShapeError(f"cannot evaluate {e} exactly{inside}: {_reason(e)}")


@functools.lru_cache(maxsize=1024)
def difference(rel: Relational) -> sympy.Expr:
    """The numerator of ``lhs - rhs`` over its positive denominator: same sign, no fraction."""
    return over_integer(rel.lhs - rel.rhs)[0]


@functools.lru_cache(maxsize=1024)
def root(formula: sympy.Basic) -> sympy.Basic:
    """What the printer prints for a checked formula: a fraction becomes :class:`Exact`.

    A relation is kept as it is: the printer compares :func:`difference` with zero.
    """
    if not isinstance(formula, sympy.Expr):
        return formula
    p, q = over_integer(formula)
    return p if q == 1 else Exact(p, q, Str(f"{text(formula)} is not an integer"))
