"""Canonical size formulas: nested floors and ceilings collapsed into one.

sympy keeps ``floor((floor(x/a) + b)/c)`` as it is. For integer ``x`` and ``b`` and
positive integers ``a`` and ``c`` the identity

    ⌊(⌊x/a⌋ + b)/c⌋ = ⌊(x + a·b)/(a·c)⌋        (and the same for ⌈⌉)

removes the nesting, so stacked pooling and strided layers read as one floor: the seed
network's width after its second pooling is ⌊(n − 4k + 4)/6⌋. The identities are rules of
:data:`symcnn.symbolic.rules.CANONICAL_RULES`; :func:`canonical` applies that table to a
fixed point, and :func:`floor_div` builds a layer's floor already collapsed.
"""

from __future__ import annotations

import functools
from typing import Any

import sympy

from .rules import (
    CANONICAL_RULES,
    _integer,
    _monomial,
    _nested,
    as_ceiling,
    rewrite,
)

__all__ = ["as_ceiling", "canonical", "floor_div"]


def canonical(expr: Any) -> sympy.Expr:
    """Collapse every nested floor (ceiling) of ``expr`` whose nesting the identity covers.

    The rules of :data:`symcnn.symbolic.rules.CANONICAL_RULES`, applied bottom-up until
    none applies (:func:`symcnn.symbolic.rules.rewrite`).

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> from symcnn.symbolic.printing import text
    >>> text(canonical(sympy.floor((sympy.floor((n - k + 1) / 3) - k + 1) / 2)))
    '⌊(n - 4·k + 4)/6⌋'
    """
    expr = sympy.sympify(expr, strict=True)  # strict: text is refused, never run
    if not expr.has(sympy.floor, sympy.ceiling):
        return expr
    return _canonical(expr)


def floor_div(numer: Any, denom: Any) -> sympy.Expr:
    """``⌊numer/denom⌋`` in canonical form, built without ever nesting a floor.

    What :func:`canonical` does after the fact, done while building: a layer's size
    formula over the previous layer's floor goes straight to the single floor, which
    spares sympy evaluating, then rewriting, the nested one.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> floor_div(sympy.floor((n + 1) / 2) + 1, 2)
    floor(n/4 + 3/4)
    """
    numer, denom = sympy.sympify(numer, strict=True), sympy.sympify(denom, strict=True)
    if denom == 1 and _integer(numer):  # a stride-1 layer: no floor at all
        return canonical(numer)
    nested = _nested(numer, sympy.floor) if denom.is_Integer and denom > 0 else None
    if nested is not None:
        x, a, b = nested
        return floor_div(sympy.expand(x + a * b), a * denom)
    if not numer.has(sympy.floor, sympy.ceiling):  # nothing to collapse
        return _floor(numer, denom)
    return canonical(_floor(numer, denom))


@functools.lru_cache(maxsize=8192)
def _canonical(expr: sympy.Expr) -> sympy.Expr:
    """The rule table applied, remembered: a deep network repeats the same sizes many times."""
    return rewrite(expr, CANONICAL_RULES)


def _floor(numer: sympy.Expr, denom: sympy.Expr) -> sympy.Expr:
    """``sympy.floor(numer/denom)``, built without sympy's assumption queries when it can.

    For a polynomial ``numer`` with rational coefficients over integer symbols of unknown
    parity, and an integer ``denom > 1``, sympy's ``floor`` only applies the shift
    ⌊x + m⌋ = ⌊x⌋ + m (:data:`symcnn.symbolic.rules.FLOOR_SHIFT`) to the terms with integer
    coefficients, and to the constant when every other term moved out: a non-constant
    polynomial over the integers is unbounded, so none of its other evaluations
    (``_eval_const_number``, an integer or imaginary argument) applies. That is done here
    directly, with the same result, and spares the queries that dominate a cold network
    build (``floor.eval`` asks whether the argument is positive, below 1, ...).
    """
    arg = numer / denom
    if not (denom.is_Integer and denom > 1) or arg.is_number:
        return sympy.floor(arg)
    whole, constant, rest = [], sympy.S.Zero, []
    for t in sympy.Add.make_args(arg):
        c, m = t.as_coeff_Mul()
        if not (c.is_Rational and _monomial(m)):
            return sympy.floor(arg)
        if c.is_Integer:
            whole.append(t)
        elif m is sympy.S.One:
            constant = t
        else:
            rest.append(t)
    if not rest:
        return sympy.Add(*whole, sympy.floor(constant))
    return sympy.Add(*whole, sympy.floor(sympy.Add(*rest, constant), evaluate=False))
