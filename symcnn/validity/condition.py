"""Conditions a layer needs to be valid, decided three ways: true, false, or not yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

__all__ = ["Condition", "at_least", "decidable", "divides", "equal", "linear_range", "relation"]


def decidable(expr: Any) -> bool:
    """Whether sympy's sign assumptions can be trusted on ``expr``.

    sympy 1.14 misjudges signs across symbolic denominators: for positive integers n and s
    it claims ``2/(n*s) - 1`` is positive (it is -1/2 at n = s = 2). A symbol under a
    division therefore leaves a relation undecided, to be checked once numbers are known.
    """
    powers = sympy.sympify(expr, strict=True).atoms(sympy.Pow)
    return not any(p.exp.is_negative and p.base.free_symbols for p in powers)


def linear_range(expr: Any) -> tuple[Any, Any] | None:
    """The least and greatest value of a linear ``expr`` over its symbols, or None.

    For ``c0 + Σ ci·xi`` with each ``xi`` an integer symbol that is positive (least value
    1) or nonnegative (least 0), the least value is ``c0 + Σ ci·least(xi)`` when every
    ``ci >= 0`` and -oo otherwise; the greatest likewise. Exact and complete for linear
    expressions, and much faster than sympy's assumption queries, which a deep network asks
    thousands of times. None when ``expr`` is not of that form: sympy decides it then.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> linear_range(n - 3*k + 2), linear_range(n + 2*k - 3), linear_range(n*k)
    ((-oo, oo), (0, oo), None)
    """
    expr = sympy.sympify(expr, strict=True)
    if expr.is_Integer:
        return expr, expr
    if not isinstance(expr, (sympy.Add, sympy.Symbol, sympy.Mul)):
        return None
    low = high = sympy.Integer(0)
    for term, coeff in expr.as_coefficients_dict().items():
        if not coeff.is_Integer:
            return None
        if term == 1:
            low, high = low + coeff, high + coeff
            continue
        if not (isinstance(term, sympy.Symbol) and term.is_integer):
            return None
        least = 1 if term.is_positive else 0 if term.is_nonnegative else None
        if least is None:
            return None
        if coeff > 0:
            low, high = low + coeff * least, sympy.oo
        else:
            low, high = -sympy.oo, high + coeff * least
    return low, high


def _linear_verdict(op: str, diff: Any) -> bool | None | str:
    """``diff op 0`` decided from :func:`linear_range`; ``"sympy"`` where it cannot tell."""
    if op not in (">=", ">", "<=", "<"):
        return "sympy"
    bounds = linear_range(diff)
    if bounds is None:
        return "sympy"
    low, high = bounds if op[0] == ">" else (-bounds[1], -bounds[0])
    strict = len(op) == 1
    if low > 0 or (low == 0 and not strict):
        return True
    if high < 0 or (high == 0 and strict):
        return False
    return None


def relation(op: str, lhs: Any, rhs: Any) -> Boolean:
    """``lhs op rhs`` for an order ``op`` (">=", ">", "<=", "<"), decided where exactly known.

    Linear relations are decided by :func:`linear_range`, others by sympy unless a symbol
    sits under a division (:func:`decidable`); an undecided relation stays as it is.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> relation(">=", n + 2, 3), relation(">=", n, 3), relation("<", n, 0)
    (True, n >= 3, False)
    """
    kind = {">=": sympy.Ge, ">": sympy.Gt, "<=": sympy.Le, "<": sympy.Lt}[op]
    lhs, rhs = sympy.sympify(lhs, strict=True), sympy.sympify(rhs, strict=True)
    fast = _linear_verdict(op, lhs - rhs)
    if fast != "sympy":
        return kind(lhs, rhs, evaluate=False) if fast is None else sympy.sympify(fast, strict=True)
    return kind(lhs, rhs, evaluate=decidable(lhs - rhs))


@dataclass(frozen=True, slots=True)
class Condition:
    """One rule a layer needs, as a sympy relation plus the words to explain it.

    Parameters
    ----------
    relation : sympy Boolean
        The relation that must hold, e.g. ``h + 2*p >= d*(k - 1) + 1``.
    rule : str
        The rule in words, e.g. ``"the kernel must fit in the padded input height"``.
    values : tuple of (str, sympy.Expr)
        Named quantities shown with their values when the rule fails.
    """

    relation: Boolean
    rule: str
    values: tuple[tuple[str, sympy.Expr], ...] = ()

    def decide(self) -> bool | None:
        """True or False when sympy can decide the relation, None while it depends on symbols."""
        rel = self.relation
        if isinstance(rel, BooleanTrue):
            return True
        if isinstance(rel, BooleanFalse):
            return False
        if isinstance(rel, sympy.core.relational.Relational):
            diff = rel.lhs - rel.rhs
            if not decidable(diff):
                return None
            fast = _linear_verdict(rel.rel_op, diff)
            if fast != "sympy":
                return fast  # type: ignore[return-value]
            sign = {
                ">=": diff.is_nonnegative,
                ">": diff.is_positive,
                "<=": diff.is_nonpositive,
                "<": diff.is_negative,
                "==": diff.is_zero,
                "!=": None if diff.is_zero is None else not diff.is_zero,
            }[rel.rel_op]
            return None if sign is None else bool(sign)
        return None

    def subs(self, mapping: Mapping[Any, Any]) -> Condition:
        """The same rule with symbols substituted."""
        return Condition(
            self.relation.subs(mapping),
            self.rule,
            tuple((name, sympy.sympify(v, strict=True).subs(mapping)) for name, v in self.values),
        )

    def __str__(self) -> str:
        from ..symbolic.printing import text

        return text(self.relation)

    def explain(self) -> str:
        """The rule with the current value of every named quantity."""
        from ..symbolic.printing import text

        shown = ", ".join(f"{name} = {text(value)}" for name, value in self.values)
        return f"{self.rule} (got {shown})" if shown else self.rule


def at_least(
    lhs: Any, rhs: Any, rule: str, lhs_name: str, rhs_name: str | None = None
) -> Condition:
    """``lhs >= rhs``, reported with both sides named (the right one unless it is a constant)."""
    lhs, rhs = sympy.sympify(lhs, strict=True), sympy.sympify(rhs, strict=True)
    values = ((lhs_name, lhs),) if rhs_name is None else ((lhs_name, lhs), (rhs_name, rhs))
    if lhs.is_Integer and rhs.is_Integer:  # the common case, decided without sympy's solver
        return Condition(sympy.true if lhs >= rhs else sympy.false, rule, values)
    return Condition(relation(">=", lhs, rhs), rule, values)


def equal(lhs: Any, rhs: Any, rule: str, lhs_name: str, rhs_name: str) -> Condition:
    """``lhs == rhs``, reported with both sides named."""
    lhs, rhs = sympy.sympify(lhs, strict=True), sympy.sympify(rhs, strict=True)
    if lhs == rhs or lhs.is_Integer and rhs.is_Integer:  # decided without sympy's solver
        return Condition(
            sympy.true if lhs == rhs else sympy.false, rule, ((lhs_name, lhs), (rhs_name, rhs))
        )
    relation = sympy.Eq(lhs, rhs, evaluate=decidable(lhs - rhs))
    return Condition(relation, rule, ((lhs_name, lhs), (rhs_name, rhs)))


def divides(
    divisor: Any, dividend: Any, rule: str, divisor_name: str, dividend_name: str
) -> Condition:
    """``divisor`` divides ``dividend`` exactly."""
    divisor, dividend = sympy.sympify(divisor, strict=True), sympy.sympify(dividend, strict=True)
    # A zero divisor divides nothing; the rule that it be positive reports it first.
    relation = sympy.false if divisor.is_zero else sympy.Eq(sympy.Mod(dividend, divisor), 0)
    return Condition(
        relation,
        rule,
        ((dividend_name, dividend), (divisor_name, divisor)),
    )
