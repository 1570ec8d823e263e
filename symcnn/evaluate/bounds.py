"""Whether printed code can run in int64: a bound of every intermediate magnitude.

numpy's int64 arithmetic wraps around silently; object arrays of Python ints are exact
at any size but several times slower. sympy has no notion of this, so before running on
int64 arrays :func:`peak` bounds the magnitude of every value the printed code computes,
from the largest magnitude of each input, following the code the printer writes node by
node (a division bounded by its numerator plus one, a sum by the sum of its terms' bounds,
…). Below :data:`INT64_LIMIT` int64 is exact; otherwise evaluation uses object arrays.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom

from .integer import Exact, Nonzero, Positive, difference, over_integer, root

__all__ = ["INT64_LIMIT", "peak"]

#: Every intermediate magnitude must stay below this for the int64 path; 2**62 rather than
#: 2**63 - 1 leaves a margin for the bounds' own ``+ 1`` slack.
INT64_LIMIT = 2**62


@functools.lru_cache(maxsize=1024)
def peak(
    formula: sympy.Basic, symbols: tuple[sympy.Symbol, ...], magnitudes: tuple[int, ...]
) -> int:
    """An upper bound of every |value| the printed code of ``formula`` computes.

    ``magnitudes[i]`` is the largest |value| given for ``symbols[i]``.
    """
    highest = [0]
    _bound(root(formula), dict(zip(symbols, magnitudes, strict=True)), highest)
    return highest[0]


def _bound(e: sympy.Basic, m: Mapping[sympy.Basic, int], highest: list[int]) -> int:
    """A bound of |e| as printed; every bound met is recorded in ``highest``."""
    value = _node(e, m, highest)
    if value > highest[0]:
        highest[0] = value
    return value


def _node(e: sympy.Basic, m: Mapping[sympy.Basic, int], highest: list[int]) -> int:
    def b(x: sympy.Basic) -> int:
        return _bound(x, m, highest)

    def integer(x: sympy.Expr) -> int:
        return b(over_integer(x)[0])

    if e.is_Integer:
        return abs(int(e))
    if isinstance(e, sympy.Symbol):
        return m[e]
    if isinstance(e, sympy.Add):  # every partial sum is at most the sum of |terms|
        return sum(b(a) for a in e.args)
    if isinstance(e, sympy.Mul):  # every partial product at most the product (factors ≥ 1)
        return math.prod(max(b(a), 1) for a in e.args)
    if isinstance(e, sympy.Pow):  # numpy's repeated squaring stays below |base|**exp
        return max(b(e.base), 1) ** int(e.exp)
    if isinstance(e, (sympy.floor, sympy.ceiling)):
        p, q = over_integer(e.args[0])
        b(q)
        return b(p) + 1  # |p // q| ≤ |p| + 1 for q ≥ 1; -p and -(…) are no larger
    if isinstance(e, (sympy.Min, sympy.Max)):
        return max(integer(a) for a in e.args)
    if isinstance(e, sympy.Abs):
        return integer(e.args[0])
    if isinstance(e, sympy.Mod):
        integer(e.args[0])
        return integer(e.args[1])
    if isinstance(e, Exact):
        b(e.args[1])
        return b(e.args[0])
    if isinstance(e, (Positive, Nonzero)):
        return b(e.args[0])
    if isinstance(e, Relational):
        b(difference(e))
        return 1
    if isinstance(e, BooleanAtom):
        return 1
    # And, Or, Not
    for a in e.args:
        b(a)
    return 1
