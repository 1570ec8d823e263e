r"""The notation of size formulas, decided once for the text and the LaTeX printer.

:func:`symcnn.symbolic.printing.text` and :func:`symcnn.export.latex.latex_formula` differ
only in their symbols (``⌊ ⌋`` or ``\lfloor \rfloor``, ``·`` or ``\cdot``, ``( )`` or
``\left( \right)``). What they write is decided here: the order and signs of a sum's
terms (:func:`ordered_terms`) and how a floor or ceiling of a fraction is laid out
(:func:`rounding`), so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import sympy

from .rules import FLOOR_AS_CEILING

__all__ = ["Rounding", "ordered_terms", "rounding", "write_rounding"]


def ordered_terms(terms: list[sympy.Expr]) -> list[sympy.Expr]:
    """The terms of a sum in the order of hand-written size formulas.

    Positive terms lead and the constant closes (``n - 4·k + 4`` rather than sympy's
    ``-4·k + n + 4``), except that a sum never opens with a minus when it has a positive
    term: ``29 - k`` rather than ``-k + 29``. Both printers (text and LaTeX) use it.

    Parameters
    ----------
    terms : list of sympy.Expr
        The terms of a sum, in sympy's order.

    Returns
    -------
    list of sympy.Expr
        The same terms, reordered.

    Examples
    --------
    >>> n, k = sympy.symbols("n k", positive=True)
    >>> ordered_terms([-4 * k, n, sympy.Integer(4)])
    [n, -4*k, 4]
    >>> ordered_terms([-k, sympy.Integer(29)])
    [29, -k]
    """
    out = sorted(terms, key=lambda t: (t.is_number, t.could_extract_minus_sign()))
    if out and out[0].could_extract_minus_sign():
        first = next((t for t in out if not t.could_extract_minus_sign()), None)
        if first is not None:
            out.remove(first)
            out.insert(0, first)
    return out


class Rounding(NamedTuple):
    """How a floor or ceiling is written: its bracket, and its argument as one fraction.

    ``denom`` is None when the argument has no denominator and is written whole
    (``arg``); otherwise the argument is written ``numer/denom``, each side in parentheses
    when ``group_numer`` (``group_denom``) says so.
    """

    ceiling: bool
    arg: sympy.Expr
    numer: sympy.Expr
    denom: sympy.Expr | None
    group_numer: bool
    group_denom: bool


def rounding(expr: sympy.floor | sympy.ceiling) -> Rounding:
    """The written form of a floor or ceiling: ``(n - k - 2)/3`` rather than ``n/3 - k/3 - 2/3``.

    A floor ⌊(x + a − 1)/a⌋ reads ⌈x/a⌉ (:data:`symcnn.symbolic.rules.FLOOR_AS_CEILING`),
    as papers write the ResNet stem's ⌈H/4⌉. The fraction is sympy's ``together``, the
    numerator in parentheses when it is a sum, the denominator unless it is an atom or a
    power.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> r = rounding(sympy.floor((n - k - 2) / 3))
    >>> r.ceiling, r.numer, r.denom, r.group_numer, r.group_denom
    (False, -k + n - 2, 3, True, False)
    >>> rounding(sympy.floor((n + 31) / 32)).ceiling
    True
    """
    written = FLOOR_AS_CEILING(expr)
    if written is not None:
        expr = written
    arg = expr.args[0]
    numer, denom = sympy.fraction(sympy.together(arg))
    if denom == 1:
        return Rounding(isinstance(expr, sympy.ceiling), arg, arg, None, False, False)
    return Rounding(
        isinstance(expr, sympy.ceiling),
        arg,
        numer,
        denom,
        isinstance(numer, sympy.Add),
        not (denom.is_Atom or isinstance(denom, sympy.Pow)),
    )


def write_rounding(
    expr: sympy.floor | sympy.ceiling,
    show: Callable[[sympy.Expr], str],
    group: Callable[[str], str],
) -> tuple[bool, str]:
    """``(ceiling, inside)``: a floor or ceiling's bracket kind and the text inside it.

    ``show`` prints a subexpression and ``group`` parenthesizes printed text, in the
    caller's notation; the layout is :func:`rounding`'s.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> write_rounding(sympy.floor((n - 4) / 3), str, lambda s: f"[{s}]")
    (False, '[n - 4]/3')
    """
    r = rounding(expr)
    if r.denom is None:
        return r.ceiling, show(r.arg)
    top, bottom = show(r.numer), show(r.denom)
    if r.group_numer:
        top = group(top)
    if r.group_denom:
        bottom = group(bottom)
    return r.ceiling, f"{top}/{bottom}"
