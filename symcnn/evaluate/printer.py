"""Size formulas as exact integer code, printed by a subclass of sympy's NumPy printer.

sympy's printers already walk a formula and write Python: sums, products, integer powers,
comparisons. What they get wrong for sizes is division: ``floor`` becomes
``numpy.floor`` of a float quotient, off by one once the quotient is large or its
fraction is a third. :class:`IntegerPrinter` prints each division as floor division of
integers, ``p // q`` for ``floor(p/q)`` and ``-(-p // q)`` for ``ceiling(p/q)``, with
``p/q`` from :func:`~symcnn.evaluate.integer.over_integer`, and ``Min``, ``Max``,
``Mod``, ``Abs`` and the boolean connectives as calls that work alike on Python ints,
int64 arrays and object arrays of Python ints. :func:`compiled` hands it to
``sympy.lambdify`` and caches the function per formula and symbol tuple.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import sympy
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from ..symbolic.printing import text
from .integer import Exact, Nonzero, Positive, check_supported, difference, over_integer, root
from .runtime import namespace

__all__ = ["IntegerPrinter", "compiled"]


class IntegerPrinter(NumPyPrinter):
    """sympy's NumPy printer, with exact integer division and calls of our own helpers.

    Symbols print as the names given (``_a0``, ``_a1``, …), never as their own: a symbol
    called ``numpy``, ``_minimum`` or ``x0`` cannot shadow anything the code calls. The
    messages of run-time checks are collected in ``messages`` (the code reads them as
    ``_W[i]``), so no user text is ever part of the code.
    """

    def __init__(self, names: dict[sympy.Symbol, str], messages: list[str]):
        super().__init__()
        self.names = names
        self.messages = messages

    def _message(self, text_: str) -> str:
        self.messages.append(text_)
        return f"_W[{len(self.messages) - 1}]"

    def _integer(self, e: sympy.Expr) -> str:
        """An integer-valued argument: its numerator over a denominator of 1."""
        p, q = over_integer(e)
        assert q == 1, e  # floor, ceiling and Exact are the only divisions
        return self._print(p)

    def _divisor(self, q: sympy.Expr) -> str:
        return self.parenthesize(q, PRECEDENCE["Mul"])  # a // (b*c), not a // b*c

    def _print_Symbol(self, e: sympy.Symbol) -> str:  # noqa: N802 (sympy dispatch)
        return self.names[e]

    def _print_Integer(self, e: sympy.Integer) -> str:  # noqa: N802 (sympy dispatch)
        return str(int(e))

    def _print_floor(self, e: sympy.floor) -> str:
        p, q = over_integer(e.args[0])
        if q == 1:
            return self._print(p)
        return f"(({self._print(p)}) // {self._divisor(q)})"

    def _print_ceiling(self, e: sympy.ceiling) -> str:
        p, q = over_integer(e.args[0])
        if q == 1:
            return self._print(p)
        return f"(-(-({self._print(p)}) // {self._divisor(q)}))"

    def _print_Min(self, e: sympy.Min) -> str:  # noqa: N802 (sympy dispatch)
        return f"_minimum({', '.join(self._integer(a) for a in e.args)})"

    def _print_Max(self, e: sympy.Max) -> str:  # noqa: N802 (sympy dispatch)
        return f"_maximum({', '.join(self._integer(a) for a in e.args)})"

    def _print_Mod(self, e: sympy.Mod) -> str:  # noqa: N802 (sympy dispatch)
        p, q = (self._integer(a) for a in e.args)
        return f"(({p}) % ({q}))"

    def _print_Abs(self, e: sympy.Abs) -> str:  # noqa: N802 (sympy dispatch)
        return f"_abs({self._integer(e.args[0])})"

    def _print_Exact(self, e: Exact) -> str:  # noqa: N802 (sympy dispatch)
        p, q, _ = e.args
        return f"_exact({self._print(p)}, {self._print(q)}, {self._message(e.message)})"

    def _print_Positive(self, e: Positive) -> str:  # noqa: N802 (sympy dispatch)
        return f"_positive({self._print(e.args[0])}, {self._message(e.message)})"

    def _print_Nonzero(self, e: Nonzero) -> str:  # noqa: N802 (sympy dispatch)
        return f"_nonzero({self._print(e.args[0])}, {self._message(e.message)})"

    def _print_Relational(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        # lhs - rhs over its positive denominator has the sign of lhs - rhs.
        return f"({self._print(difference(e))} {e.rel_op} 0)"

    def _print_And(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        return f"_and({', '.join(self._print(a) for a in e.args)})"

    def _print_Or(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        return f"_or({', '.join(self._print(a) for a in e.args)})"

    def _print_Not(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        return f"_not({self._print(e.args[0])})"

    def _print_BooleanTrue(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        return "True"

    def _print_BooleanFalse(self, e: Any) -> str:  # noqa: N802 (sympy dispatch)
        return "False"


@functools.lru_cache(maxsize=512)
def compiled(formula: sympy.Basic, symbols: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    """``formula`` as a function of ``symbols`` (positionally), exact in integers.

    ``formula`` must have passed :func:`~symcnn.evaluate.integer.check_supported` and
    have no free symbol outside ``symbols``.
    """
    check_supported(formula)
    names = {s: f"_a{i}" for i, s in enumerate(symbols)}
    messages: list[str] = []
    printer = IntegerPrinter(names, messages)
    params: Sequence[sympy.Symbol] = [sympy.Symbol(name) for name in names.values()]
    helpers = namespace(messages)
    function = sympy.lambdify(
        params, root(formula), modules=[helpers], printer=printer, docstring_limit=0
    )
    # lambdify also binds each free symbol's name in the function's globals, where a
    # symbol named _W or _minimum would shadow ours. The printed code reads no symbol by
    # name (they are parameters _a0, _a1, …): those entries go, our helpers are bound again.
    env = function.__globals__
    for s in formula.free_symbols:
        env.pop(str(s), None)
    env.update(helpers)
    # Everything printed is ours: no module import, no unsupported-function comment.
    assert not printer.module_imports and not printer._not_supported, formula
    function.__doc__ = f"{text(formula)} as a function of ({', '.join(map(str, symbols))})"
    return function
