"""The public functions: checked values in, exact integers out.

:func:`compile_expr` and :func:`compile_relation` return the printed function
(:mod:`.printer`); :func:`evaluate` and :func:`holds` check and convert the values
(:mod:`.inputs`), choose int64 or object arrays from the overflow bound (:mod:`.bounds`),
run the function and name the symbol values where a run-time check fails.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sympy
from sympy.logic.boolalg import Boolean

from ..errors import ShapeError
from ..symbolic.printing import text
from ..validity.condition import Condition
from . import inputs
from .bounds import INT64_LIMIT, peak
from .printer import compiled
from .runtime import CheckError, first_failure

if TYPE_CHECKING:
    import numpy

__all__ = ["compile_expr", "compile_relation", "evaluate", "holds"]


def _check_symbols(symbols: Sequence[sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    symbols = tuple(symbols)
    for s in symbols:
        if not isinstance(s, sympy.Symbol):
            raise ShapeError(f"symbols must be sympy Symbols (got {s!r})")
    if len(set(symbols)) != len(symbols):
        raise ShapeError(f"symbols must be distinct (got {', '.join(map(str, symbols))})")
    return symbols


def _missing(free: Iterable[sympy.Symbol], given: Iterable[Any], formula: sympy.Basic) -> None:
    given = list(given)
    missing = sorted(set(free) - set(given), key=sympy.default_sort_key)
    if not missing:
        return
    names = {str(g) for g in given}
    clash = [str(m) for m in missing if str(m) in names]
    hint = (
        f"; a value is given for a different symbol named {', '.join(clash)} (other "
        "assumptions: create every symbol with symcnn.symbols)"
        if clash
        else ""
    )
    raise ShapeError(f"no value for {', '.join(map(str, missing))} in {text(formula)}{hint}")


@functools.lru_cache(maxsize=512)
def _free_symbols(formula: sympy.Basic) -> tuple[sympy.Symbol, ...]:
    """A formula's free symbols in sympy's sort order, remembered.

    sympy walks the whole tree each time it is asked, which was most of the cost of a
    scalar evaluation.
    """
    return tuple(sorted(formula.free_symbols, key=sympy.default_sort_key))


def as_expr(expr: Any) -> sympy.Expr:
    if isinstance(expr, sympy.Expr):
        return expr
    if isinstance(expr, numbers.Integral) and not isinstance(expr, bool):
        return sympy.Integer(int(expr))
    if isinstance(expr, (Boolean, Condition)):
        raise ShapeError(f"{text(as_relation(expr))} is a relation: use holds, not evaluate")
    raise ShapeError(f"expected a sympy expression or an integer (got {expr!r})")


def as_relation(rel: Any) -> Boolean:
    # A sympy Symbol is a Boolean too; a relation is never an Expr.
    if isinstance(rel, Condition):
        rel = rel.relation
    if isinstance(rel, bool):
        return sympy.true if rel else sympy.false
    if isinstance(rel, sympy.Expr) or not isinstance(rel, Boolean):
        raise ShapeError(f"expected a sympy relation (got {rel!r}): use evaluate for a formula")
    return rel


def compile_expr(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> Callable[..., Any]:
    r"""Compile a size formula into a function of integers, exact in integer arithmetic.

    Parameters
    ----------
    expr : sympy.Expr
        An integer-valued formula built from integers, symbols, +, ·, integer powers,
        ``floor``, ``ceiling``, ``Min``, ``Max``, ``Mod`` and ``Abs``; rational
        coefficients are allowed when the value is an integer.
    symbols : sequence of sympy.Symbol
        The function's parameters, in order; must include every free symbol of ``expr``.

    Returns
    -------
    callable
        ``f(*values)`` taking Python ints or numpy integer arrays (which broadcast).
        Python ints give an exact Python int. int64 arrays are computed in int64 without
        overflow checks; :func:`evaluate` decides beforehand whether int64 is safe. The
        function trusts its inputs: symbols declared positive must be at least 1.

    Raises
    ------
    ShapeError
        If ``expr`` contains anything else (a float, ``sqrt``, a symbolic exponent),
        naming the subexpression, or a free symbol is missing from ``symbols``.

    Notes
    -----
    .. math:: \lfloor p/q \rfloor \mapsto p \mathbin{/\!/} q, \qquad
              \lceil p/q \rceil \mapsto -((-p) \mathbin{/\!/} q)

    Every subexpression is carried as an integer numerator over a positive integer
    denominator; the division happens only where ``floor`` or ``ceiling`` asks for it, or
    at the end after checking divisibility. The code is printed by a subclass of sympy's
    NumPy printer and made a function by ``sympy.lambdify``; functions are cached. Plain
    ``sympy.lambdify`` by contrast computes ``floor((n - k + 1)/3)`` as
    ``floor(n/3 - k/3 + 1/3)`` in floats, which is off by one at n = 22, k = 5.

    Examples
    --------
    >>> import numpy as np
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> f = compile_expr(sympy.floor((n - k + 1) / 3), [n, k])
    >>> f(28, 5)
    8
    >>> f(np.array([22, 23, 24, 25]), 5)
    array([6, 6, 6, 7])
    """
    expr = as_expr(expr)
    symbols = _check_symbols(symbols)
    _missing(expr.free_symbols, symbols, expr)
    return compiled(expr, symbols)


def compile_relation(rel: Any, symbols: Sequence[sympy.Symbol]) -> Callable[..., Any]:
    """Compile a relation between size formulas into a function returning bools.

    Parameters
    ----------
    rel : sympy relation, boolean or Condition
        ``Ge``, ``Gt``, ``Le``, ``Lt``, ``Eq`` or ``Ne`` between formulas that
        :func:`compile_expr` accepts, ``And``/``Or``/``Not`` of those, ``true``/``false``,
        or a :class:`symcnn.Condition`.
    symbols : sequence of sympy.Symbol
        The function's parameters, in order.

    Returns
    -------
    callable
        ``f(*values)``: a bool for Python ints, a boolean array for arrays. Both sides are
        compared exactly, over a common positive denominator.

    Raises
    ------
    ShapeError
        As for :func:`compile_expr`.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> fits = compile_relation(sympy.Eq(sympy.Mod(n - k + 1, 3), 0), [n, k])
    >>> fits(28, 5), fits(29, 5)
    (True, False)
    """
    rel = as_relation(rel)
    symbols = _check_symbols(symbols)
    _missing(rel.free_symbols, symbols, rel)
    return compiled(rel, symbols)


def _run(formula: sympy.Basic, values: Mapping[Any, Any], relation: bool) -> Any:
    inputs.check_keys(values)
    _missing(_free_symbols(formula), values, formula)  # before any value is converted
    return run_coerced(formula, inputs.coerce_values(values), relation)


def run_coerced(formula: sympy.Basic, coerced: inputs.Coerced, relation: bool) -> Any:
    """:func:`evaluate` or :func:`holds` at values already checked by ``coerce_values``."""
    symbols = _free_symbols(formula)
    _missing(symbols, coerced, formula)
    function = compiled(formula, symbols)
    args = [coerced[s][0] for s in symbols]
    arrays = {s: v for s, (v, _) in coerced.items() if not isinstance(v, int)}
    if not arrays:
        try:
            result = function(*args)
        except CheckError as failure:
            raise _with_bindings(failure, None, coerced) from None
        return bool(result) if relation else int(result)
    np = inputs.numpy_module()
    shape = inputs.broadcast_shape(arrays)
    if peak(formula, symbols, tuple(coerced[s][1] for s in symbols)) < INT64_LIMIT:
        dtype: Any = np.int64
    else:
        dtype = object
        args = [a if isinstance(a, int) else a.astype(object) for a in args]
    out = np.empty(shape, dtype=bool if relation else dtype)
    try:
        if math.prod(shape) <= _BLOCK or shape[0] == 1:
            out[...] = function(*args)
        else:
            _in_blocks(function, args, out)
    except CheckError:
        try:  # again on the whole arrays, so that the failure's index is the caller's
            function(*args)
        except CheckError as failure:
            raise _with_bindings(failure, shape, coerced) from None
        raise  # pragma: no cover - the same code fails the same way
    return out


#: Points per block of rows in :func:`_in_blocks`: each temporary of the printed code
#: (2 MB in int64) then stays in the processor's cache instead of being a fresh array of
#: the whole result's size, which halves the time of a 1000 x 1000 grid.
_BLOCK = 2**18


def _in_blocks(function: Callable[..., Any], args: list[Any], out: Any) -> None:
    """``out[...] = function(*args)``, computed a block of rows (first axis) at a time."""
    ndim = out.ndim
    rows = max(1, _BLOCK // max(1, math.prod(out.shape[1:])))
    # An argument with fewer dimensions, or length 1 along the first axis, broadcasts
    # along it and is passed whole; the others are sliced with the output.
    sliced = [not isinstance(a, int) and a.ndim == ndim and a.shape[0] != 1 for a in args]
    for start in range(0, out.shape[0], rows):
        part = slice(start, start + rows)
        out[part] = function(*(a[part] if cut else a for a, cut in zip(args, sliced, strict=True)))


def _with_bindings(
    failure: CheckError, shape: tuple[int, ...] | None, coerced: inputs.Coerced
) -> ShapeError:
    """The failure's message with the value of every symbol where it first happens."""
    index, got = first_failure(failure.bad, failure.parts, shape)
    bound = []
    for s, (v, _) in sorted(coerced.items(), key=lambda item: sympy.default_sort_key(item[0])):
        if isinstance(v, int):
            bound.append(f"{s}={v}")
        elif index is not None:
            bound.append(f"{s}={int(inputs.numpy_module().broadcast_to(v, shape)[index])}")
    where = "" if index is None else f"index {index[0] if len(index) == 1 else index}: "
    return ShapeError(f"{failure.what} (got {failure.render(*got)} at {where}{', '.join(bound)})")


def evaluate(expr: sympy.Expr, values: Mapping[sympy.Symbol, Any]) -> numpy.ndarray[Any, Any] | int:
    """Evaluate a size formula exactly, for one point or for arrays of points at once.

    Parameters
    ----------
    expr : sympy.Expr
        A formula :func:`compile_expr` accepts.
    values : mapping of sympy.Symbol to int or array-like of int
        A value for every free symbol of ``expr``: Python or numpy integers, or integer
        arrays, which broadcast together: numpy arrays of any integer dtype (uint64 past
        int64 included), object arrays of ints, ranges, and lists or tuples (nested for
        more dimensions) of ints of any size.

    Returns
    -------
    int or numpy.ndarray
        A Python int when every value is a scalar. Otherwise an array of the broadcast
        shape of all values: int64 when a magnitude bound of every intermediate result
        stays below 2**62, else an object array of exact Python ints.

    Raises
    ------
    ShapeError
        If a value, or an element of one, is not an integer (a bool, a float, a float or
        bool array), naming the symbol, the value and its index in a list; if a symbol
        declared positive gets a value below 1, naming the first bad value; if a value, or
        the shape all values broadcast to, has more than :data:`MAX_POINTS` points, with
        the count, before allocating them; if a free symbol has no value, listing them; if
        ``expr`` contains something :func:`compile_expr` refuses; or if a division in it
        is by zero or the value is not an integer, with the symbol values where that
        happens.
    ImportError
        If arrays are given and numpy is not installed.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> width = sympy.floor((n - k + 1) / 3) - k + 1
    >>> products = 32*k**2*(n - k + 1)**2 + 2048*k**2*width**2 + 53200
    >>> evaluate(products, {n: 28, k: 5})
    1333200
    >>> evaluate(products, {n: [28, 31, 34], k: 5})
    array([1333200, 1916400, 2616400])
    >>> evaluate(n**4, {n: [10**7]})
    array([10000000000000000000000000000], dtype=object)
    >>> evaluate(n - 2**64, {n: [2**64 + 3, 5]})
    array([3, -18446744073709551611], dtype=object)
    >>> evaluate(n + 1, {n: [28, True]})
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: the value of n must be an integer array (got True at index 1)
    """
    return _run(as_expr(expr), values, relation=False)


def holds(rel: Any, values: Mapping[sympy.Symbol, Any]) -> numpy.ndarray[Any, Any] | bool:
    """Decide a relation between size formulas exactly, at one point or for arrays.

    Parameters
    ----------
    rel : sympy relation, boolean or Condition
        A relation :func:`compile_relation` accepts.
    values : mapping of sympy.Symbol to int or array-like of int
        As for :func:`evaluate`.

    Returns
    -------
    bool or numpy.ndarray
        A bool when every value is a scalar, else a boolean array of the broadcast shape.

    Raises
    ------
    ShapeError
        As for :func:`evaluate`.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> holds(sympy.Eq(sympy.Mod(n - k + 1, 3), 0), {n: [28, 29, 30], k: 5})
    array([ True, False, False])
    >>> holds(sympy.floor((n - k + 1) / 3) >= k, {n: 28, k: 5})
    True
    """
    return _run(as_relation(rel), values, relation=True)
