"""Conditions a layer needs to be valid, decided three ways: true, false, or not yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

__all__ = ["Condition", "at_least", "decidable", "divides", "equal"]


def decidable(expr: Any) -> bool:
    """Whether sympy's sign assumptions can be trusted on ``expr``.

    sympy 1.14 misjudges signs across symbolic denominators: for positive integers n and s
    it claims ``2/(n*s) - 1`` is positive (it is -1/2 at n = s = 2). A symbol under a
    division therefore leaves a relation undecided, to be checked once numbers are known.
    """
    return not any(
        p.exp.is_negative and p.base.free_symbols for p in sympy.sympify(expr).atoms(sympy.Pow)
    )


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
            tuple((name, sympy.sympify(v).subs(mapping)) for name, v in self.values),
        )

    def __str__(self) -> str:
        from .printing import text

        return text(self.relation)

    def explain(self) -> str:
        """The rule with the current value of every named quantity."""
        from .printing import text

        shown = ", ".join(f"{name} = {text(value)}" for name, value in self.values)
        return f"{self.rule} (got {shown})" if shown else self.rule


def at_least(
    lhs: Any, rhs: Any, rule: str, lhs_name: str, rhs_name: str | None = None
) -> Condition:
    """``lhs >= rhs``, reported with both sides named (the right one unless it is a constant)."""
    lhs, rhs = sympy.sympify(lhs), sympy.sympify(rhs)
    values = ((lhs_name, lhs),) if rhs_name is None else ((lhs_name, lhs), (rhs_name, rhs))
    if lhs.is_Integer and rhs.is_Integer:  # the common case, decided without sympy's solver
        return Condition(sympy.true if lhs >= rhs else sympy.false, rule, values)
    return Condition(sympy.Ge(lhs, rhs, evaluate=decidable(lhs - rhs)), rule, values)


def equal(lhs: Any, rhs: Any, rule: str, lhs_name: str, rhs_name: str) -> Condition:
    """``lhs == rhs``, reported with both sides named."""
    lhs, rhs = sympy.sympify(lhs), sympy.sympify(rhs)
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
    divisor, dividend = sympy.sympify(divisor), sympy.sympify(dividend)
    # A zero divisor divides nothing; the rule that it be positive reports it first.
    relation = sympy.false if divisor.is_zero else sympy.Eq(sympy.Mod(dividend, divisor), 0)
    return Condition(
        relation,
        rule,
        ((dividend_name, dividend), (divisor_name, divisor)),
    )
