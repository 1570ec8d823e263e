"""Canonical size formulas: nested floors and ceilings collapsed into one.

sympy keeps ``floor((floor(x/a) + b)/c)`` as it is. For integer ``x`` and ``b`` and
positive integers ``a`` and ``c`` the identity

    ⌊(⌊x/a⌋ + b)/c⌋ = ⌊(x + a·b)/(a·c)⌋        (and the same for ⌈⌉)

removes the nesting, so stacked pooling and strided layers read as one floor: the seed
network's width after its second pooling is ⌊(n − 4k + 4)/6⌋.
"""

from __future__ import annotations

import functools
from typing import Any

import sympy

__all__ = ["as_ceiling", "canonical", "floor_div"]


def canonical(expr: Any) -> sympy.Expr:
    """Collapse every nested floor (ceiling) of ``expr`` whose nesting the identity covers.

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
        return sympy.floor(numer / denom)
    return canonical(sympy.floor(numer / denom))


@functools.lru_cache(maxsize=8192)
def _canonical(expr: sympy.Expr) -> sympy.Expr:
    """The collapse itself, remembered: a deep network repeats the same sizes many times."""
    return expr.replace(
        lambda e: isinstance(e, (sympy.floor, sympy.ceiling)),
        _collapse,
    )


def _collapse(outer: sympy.Expr) -> sympy.Expr:
    kind = type(outer)
    numer, c = sympy.fraction(sympy.together(outer.args[0]))
    nested = _nested(numer, kind) if c != 1 and _positive_integer(c) else None
    if nested is None:
        return outer
    x, a, b = nested
    # The numerator expanded: a factored one, n·(k + 2n)/(3k), becomes 2/3 at n = 1, k = 2
    # under subs, since sympy 1.14 calls n·(2n + 2)/6 an integer (Mul._eval_is_integer
    # weighs only the factors of 2 in the denominator) and drops the floor.
    collapsed = kind(sympy.expand(x + a * b) / (a * c))
    # sympy may evaluate the new floor away (⌊1/(2k)⌋ is 0): nothing is left to collapse
    return _collapse(collapsed) if isinstance(collapsed, kind) else collapsed


def _nested(numer: sympy.Expr, kind: Any) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """``(x, a, b)`` when ``numer`` is ``kind(x/a) + b``, the identity's left side.

    One floor (ceiling) term, ``x`` and ``b`` integer, ``a`` a positive integer; else None.
    """
    inner = [t for t in sympy.Add.make_args(numer) if isinstance(t, kind)]
    if len(inner) != 1:
        return None
    b = numer - inner[0]
    x, a = sympy.fraction(sympy.together(inner[0].args[0]))
    if not (_integer(x) and _integer(b) and _positive_integer(a)):
        return None
    return x, a, b


def _positive_integer(e: sympy.Expr) -> bool:
    return bool(e.is_integer and e.is_positive)


def _integer(e: sympy.Expr) -> bool:
    from .shape import _integer_valued

    return bool(e.is_integer) or _integer_valued(e)


def as_ceiling(arg: sympy.Expr) -> sympy.Expr | None:
    """``x/a`` when ``⌊arg⌋`` is ``⌊(x + a - 1)/a⌋ = ⌈x/a⌉`` for integer ``x``; else None.

    Printers use it to write the ResNet stem's ⌊(H + 3)/4⌋ as ⌈H/4⌉, the way papers do;
    the expression itself keeps its single floor, the form the collapse works on.

    Examples
    --------
    >>> import symcnn as sc
    >>> H = sc.symbols("H")
    >>> as_ceiling((H + 31) / 32)
    H/32
    >>> as_ceiling((H - 4) / 3) is None
    True
    """
    numer, denom = sympy.fraction(sympy.together(arg))
    if not (denom.is_Integer and denom > 1):
        return None
    constant, rest = numer.as_coeff_Add()
    if constant != denom - 1 or rest == 0 or rest.as_coeff_Add()[0] != 0 or not _integer(rest):
        return None
    return rest / denom
