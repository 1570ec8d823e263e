"""Plain-text rendering of size formulas: ⌊⌋/⌈⌉, · for products, superscript powers.

What is written (term order, signs, a floor's fraction) is decided in
:mod:`symcnn.symbolic.notation`, shared with the LaTeX printer; this module only spells it.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.printing.str import StrPrinter

from ..errors import SpecError
from .notation import ordered_terms, write_rounding

__all__ = ["as_expression", "format_formula", "ordered_terms", "text"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

_RELATIONS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}


class _TextPrinter(StrPrinter):
    """sympy's str printer with the notation of the seed lecture."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:  # noqa: N802
        base, exp = expr.as_base_exp()
        lifted = self.parenthesize(base, sympy.printing.precedence.PRECEDENCE["Pow"])
        if exp.is_Integer and exp > 1:
            return lifted + str(exp).translate(_SUPERSCRIPT)
        if exp.is_Atom and not exp.is_negative:
            return f"{lifted}^{self._print(exp)}"
        return str(super()._print_Pow(expr, rational)).replace("**", "^")

    def _as_ordered_terms(self, expr: sympy.Expr, order: Any = None) -> list[sympy.Expr]:
        return ordered_terms(super()._as_ordered_terms(expr, order=order))

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:  # noqa: N802
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Mod(self, expr: sympy.Mod) -> str:  # noqa: N802
        # "H mod 2" binds like a product: (H - 1) mod 2, 3·(H mod 2)
        level = sympy.printing.precedence.PRECEDENCE["Mul"]
        return " mod ".join(self.parenthesize(a, level, strict=True) for a in expr.args)

    def _print_floor(self, expr: sympy.floor) -> str:
        return self._rounding(expr)

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return self._rounding(expr)

    def _rounding(self, expr: sympy.floor | sympy.ceiling) -> str:
        ceiling, inside = write_rounding(expr, self._print, lambda s: f"({s})")
        return f"⌈{inside}⌉" if ceiling else f"⌊{inside}⌋"


def text(expr: Any, *, atom: bool = False) -> str:
    """Render a size formula as plain Unicode text.

    ``atom=True`` parenthesizes a sum, for use as a factor (``32×(n - 4)×(n - 4)``).

    Parameters
    ----------
    expr : sympy.Expr, sympy relation or int
        The formula. Text is refused: parse it with :func:`symcnn.frontends.spec.parse_expression`.
    atom : bool
        Parenthesize a sum.

    Returns
    -------
    str
        The formula in the seed lecture's notation.

    Raises
    ------
    SpecError
        When ``expr`` is text (a ``str``) or not a formula at all.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> text(32 * sympy.floor((n - k - 2) / 3) ** 2)
    '32·⌊(n - k - 2)/3⌋²'
    >>> text(32 * (29 - k) ** 2)
    '32·(29 - k)²'
    """
    expr = as_expression(expr, "format_formula")
    out = _TextPrinter().doprint(expr).replace("*", "·")
    if atom and isinstance(expr, sympy.Add):
        return f"({out})"
    return out


def as_expression(expr: Any, caller: str) -> Any:
    """``expr`` as a sympy object, refusing text: converting a ``str`` would run it.

    ``sympy.sympify`` evaluates a string as Python code, so a formula printer that took
    text would run whatever it is given. Only objects sympy converts without parsing
    (sympy objects, ints, floats, numpy numbers) are accepted.

    Parameters
    ----------
    expr : Any
        The formula.
    caller : str
        The public function's name, for the message.

    Returns
    -------
    sympy.Basic
        The formula as a sympy object.

    Raises
    ------
    SpecError
        For text (``str`` or ``bytes``) and for objects sympy cannot convert.

    Examples
    --------
    >>> as_expression(3, "format_formula")
    3
    >>> as_expression("n - k", "format_formula")
    Traceback (most recent call last):
    ...
    symcnn.errors.SpecError: format_formula takes a sympy expression or an integer, not text
    ('n - k'): parse text with symcnn.frontends.spec.parse_expression
    """
    if isinstance(expr, (str, bytes)):
        raise SpecError(
            f"{caller} takes a sympy expression or an integer, not text ({expr!r}): "
            "parse text with symcnn.frontends.spec.parse_expression"
        )
    try:
        return sympy.sympify(expr, strict=True)
    except sympy.SympifyError:
        raise SpecError(
            f"{caller} takes a sympy expression or an integer (got {type(expr).__name__})"
        ) from None


#: Public name of :func:`text`, re-exported as ``symcnn.format_formula``.
format_formula = text
