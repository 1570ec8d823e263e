"""Canonical size formulas: nested floors and ceilings collapsed into one.

sympy keeps ``floor((floor(x/a) + b)/c)`` as it is. For integer ``x`` and ``b`` and
positive integers ``a`` and ``c`` the identity

    ⌊(⌊x/a⌋ + b)/c⌋ = ⌊(x + a·b)/(a·c)⌋        (and the same for ⌈⌉)

removes the nesting, so stacked pooling and strided layers read as one floor: the seed
network's width after its second pooling is ⌊(n − 4k + 4)/6⌋.
"""

from __future__ import annotations

from typing import Any

import sympy

__all__ = ["canonical"]


def canonical(expr: Any) -> sympy.Expr:
    """Collapse every nested floor (ceiling) of ``expr`` whose nesting the identity covers.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> from symcnn.printing import text
    >>> text(canonical(sympy.floor((sympy.floor((n - k + 1) / 3) - k + 1) / 2)))
    '⌊(n - 4·k + 4)/6⌋'
    """
    expr = sympy.sympify(expr)
    if not expr.has(sympy.floor, sympy.ceiling):
        return expr
    return expr.replace(
        lambda e: isinstance(e, (sympy.floor, sympy.ceiling)),
        _collapse,
    )


def _collapse(outer: sympy.Expr) -> sympy.Expr:
    kind = type(outer)
    numer, c = sympy.fraction(sympy.together(outer.args[0]))
    if c == 1 or not _positive_integer(c):
        return outer
    inner = [t for t in sympy.Add.make_args(numer) if isinstance(t, kind)]
    if len(inner) != 1:
        return outer
    (nested,) = inner
    b = numer - nested
    x, a = sympy.fraction(sympy.together(nested.args[0]))
    if not (_integer(x) and _integer(b) and _positive_integer(a)):
        return outer
    return _collapse(kind((x + a * b) / (a * c)))


def _positive_integer(e: sympy.Expr) -> bool:
    return bool(e.is_integer and e.is_positive)


def _integer(e: sympy.Expr) -> bool:
    from .shape import _integer_valued

    return bool(e.is_integer) or _integer_valued(e)
