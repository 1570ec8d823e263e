"""Bounds on the sizes symcnn reasons about, so that symbolic work stays bounded.

A size is a polynomial (with floors) in a network's symbols. Real networks use sizes of
small degree — a flattened 3-D feature map with symbolic channels is ``C·D·H·W``, degree
4 — but text such as ``Linear(n**64 + 1, 10)`` is 29 characters long and asks sympy to
solve a degree-64 equation, and ``(n + 1)**64·(n + 2)**64`` expands to 129 terms whose
simplification exhausts Python's recursion limit. Every size a layer or an input is given,
and every size derived from them, is checked here first; past a limit the error says which
limit and by how much, instead of running for minutes.
"""

from __future__ import annotations

from typing import Any

import sympy

from ..errors import ShapeError

__all__ = ["MAX_DEGREE", "MAX_NODES", "check_size", "degree"]

#: Largest total degree of a size in its symbols (``n**2·k`` has degree 3).
MAX_DEGREE = 8
#: Largest number of nodes in a size's expression tree (``⌊(n + 31)/32⌋`` has 8).
MAX_NODES = 400


def degree(expr: Any) -> int:
    """The total degree of ``expr`` in its symbols, floors and powers counted, unexpanded.

    An upper bound of the expanded degree, computed without expanding: sums take the
    largest degree of their terms, products the sum, integer powers multiply it, and
    ⌊⌋, ⌈⌉, min, max and mod the largest of their arguments. Negative powers count by
    their magnitude (``n/k`` has degree 2); a power with a symbolic exponent (``2**n``)
    counts as one atom, as a symbol does.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> degree((n + 1)**64 * (n + 2)**64), degree(sympy.floor((n - k + 1) / 3)), degree(7)
    (128, 1, 0)
    """
    expr = sympy.sympify(expr, strict=True)
    if expr.is_Symbol:
        return 1
    if expr.is_Number or not expr.free_symbols:
        return 0
    if isinstance(expr, sympy.Mul):
        return sum(degree(a) for a in expr.args)
    if isinstance(expr, sympy.Pow):
        if expr.exp.is_Integer:
            return degree(expr.base) * abs(int(expr.exp))
        return 1  # 2**n: an atom of its own, as a symbol is (the solvers refuse it, by name)
    return max(degree(a) for a in expr.args)


def check_size(expr: sympy.Expr, what: str = "size") -> sympy.Expr:
    """``expr`` itself, or a :class:`~symcnn.errors.ShapeError` naming the limit it passes.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> check_size(n**64 + 1, "in_features")
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: 'in_features' = n**64 + 1 has degree 64 in its symbols; symcnn
    reasons about sizes of degree at most 8
    """
    if expr.is_Number or expr.is_Symbol:
        return expr
    nodes = 0
    for _ in sympy.preorder_traversal(expr):
        nodes += 1
        if nodes > MAX_NODES:
            raise ShapeError(
                f"{what!r} is an expression of more than {MAX_NODES} parts; symcnn reasons "
                "about sizes written more briefly"
            )
    found = degree(expr)
    if found > MAX_DEGREE:
        shown = str(expr) if len(str(expr)) <= 60 else str(expr)[:57] + "..."
        raise ShapeError(
            f"{what!r} = {shown} has degree {found} in its symbols; symcnn reasons about "
            f"sizes of degree at most {MAX_DEGREE}"
        )
    return expr
