"""Plain-text rendering of size formulas: ⌊⌋/⌈⌉, · for products, superscript powers."""

from __future__ import annotations

from typing import Any

import sympy
from sympy.printing.str import StrPrinter

from .canonical import as_ceiling
from ..errors import SpecError

__all__ = ["as_expression", "format_formula", "ordered_terms", "text"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

_RELATIONS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}


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


class _TextPrinter(StrPrinter):
    """sympy's str printer with the notation of the seed lecture."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        lifted = self.parenthesize(base, sympy.printing.precedence.PRECEDENCE["Pow"])
        if exp.is_Integer and exp > 1:
            return lifted + str(exp).translate(_SUPERSCRIPT)
        if exp.is_Atom and not exp.is_negative:
            return f"{lifted}^{self._print(exp)}"
        return str(super()._print_Pow(expr, rational)).replace("**", "^")

    def _as_ordered_terms(self, expr: sympy.Expr, order: Any = None) -> list[sympy.Expr]:
        return ordered_terms(super()._as_ordered_terms(expr, order=order))

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_floor(self, expr: sympy.floor) -> str:
        ceiling = as_ceiling(expr.args[0])
        if ceiling is not None:
            return "⌈" + self._fraction(ceiling) + "⌉"
        return "⌊" + self._fraction(expr.args[0]) + "⌋"

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return "⌈" + self._fraction(expr.args[0]) + "⌉"

    def _fraction(self, arg: sympy.Expr) -> str:
        """Write ``n/3 - k/3 - 2/3`` as ``(n - k - 2)/3``, the way people write it."""
        numer, denom = sympy.fraction(sympy.together(arg))
        if denom == 1:
            return self._print(arg)
        top = self._print(numer)
        if isinstance(numer, sympy.Add):
            top = f"({top})"
        bottom = self._print(denom)
        if not (denom.is_Atom or isinstance(denom, sympy.Pow)):
            bottom = f"({bottom})"
        return f"{top}/{bottom}"


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
