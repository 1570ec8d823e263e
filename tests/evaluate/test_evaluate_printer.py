"""The printed integer code equals sympy's exact value, whatever the formula and the names.

Formulas are drawn from floors, ceilings, Min, Max, Mod and rational coefficients of
symbols; values reach past int64 (the object-array path) and make intermediates negative
(floor division must round toward minus infinity, as sympy's floor does). Symbols are named
like the printed code's own names, which must not be confused with them.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.evaluate import compile_expr, evaluate, holds

# Names the printer, lambdify or the generated function use themselves, or once did.
HOSTILE = sc.symbols(
    "numpy floor _formula a0 t0 x x0 Dummy lambda_ _lambdifygenerated _a0 _a1 _W "
    "_minimum _exact _abs builtins range math abs __builtins__"
)
# No sign declared: negative values are fine, so floors of negative numbers are reached.
Z = sympy.Symbol("z", integer=True)
SYMBOLS = (*HOSTILE[:6], *HOSTILE[10:14], HOSTILE[-1], Z)
POSITIVE = tuple(s for s in SYMBOLS if s.is_positive)

divisors = st.one_of(
    st.integers(1, 9).map(sympy.Integer),
    st.sampled_from(POSITIVE),
    st.tuples(st.sampled_from(POSITIVE), st.sampled_from(POSITIVE)).map(lambda t: t[0] * t[1]),
)
rationals = st.tuples(st.integers(-7, 7), st.integers(1, 6)).map(lambda t: sympy.Rational(*t))


def _combine(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda t: t[0] + t[1]),
        pairs.map(lambda t: t[0] - t[1]),
        pairs.map(lambda t: t[0] * t[1]),
        st.tuples(children, divisors).map(lambda t: sympy.floor(t[0] / t[1])),
        st.tuples(children, divisors).map(lambda t: sympy.ceiling(t[0] / t[1])),
        pairs.map(lambda t: sympy.Min(*t)),
        pairs.map(lambda t: sympy.Max(*t)),
        st.tuples(children, divisors).map(lambda t: sympy.Mod(*t)),
        # Rational coefficients, inside a floor and outside one.
        st.tuples(children, rationals).map(lambda t: t[0] * t[1]),
        st.tuples(children, rationals, rationals).map(lambda t: sympy.floor(t[0] * t[1] + t[2])),
    )


formulas = st.recursive(
    st.one_of(st.sampled_from(SYMBOLS), st.integers(-20, 20).map(sympy.Integer)),
    _combine,
    max_leaves=8,
)


def _value(symbol):
    low = 1 if symbol.is_positive else -(2**80)
    # Small values, values near int64's end, and values far past it.
    return st.one_of(
        st.integers(low, 50), st.integers(max(low, 2**40), 2**64), st.integers(low, 2**80)
    )


points = st.fixed_dictionaries({s: _value(s) for s in SYMBOLS})


def exact(expr, point):
    """sympy's own value at ``point``: every number put in at once, evaluated exactly."""
    value = expr.xreplace({s: sympy.Integer(v) for s, v in point.items()})
    if not value.is_Rational:
        value = value.doit()
    assert value.is_Rational, value
    return value


@settings(deadline=None)
@given(formulas, points)
def test_scalar_code_equals_sympy(expr, point):
    expected = exact(expr, point)
    if expected.is_Integer:
        result = evaluate(expr, point)
        assert type(result) is int
        assert result == int(expected)
    else:  # a bare fraction is refused, never rounded through a float
        with pytest.raises(sc.ShapeError, match="is not an integer"):
            evaluate(expr, point)


@settings(deadline=None)
@given(formulas, st.lists(points, min_size=1, max_size=5))
def test_array_code_equals_sympy(expr, rows):
    expected = [exact(expr, row) for row in rows]
    values = {s: [row[s] for row in rows] for s in SYMBOLS}
    if not all(e.is_Integer for e in expected):
        with pytest.raises(sc.ShapeError, match="is not an integer"):
            evaluate(expr, values)
        return
    result = evaluate(expr, values)
    assert result.tolist() == [int(e) for e in expected]
    if result.dtype == object:
        assert all(type(v) is int for v in result.ravel())
    if any(abs(e) >= 2**63 for e in expected):
        assert result.dtype == object  # int64 is taken only where the bound proves it safe
    # The same function on object arrays of Python ints, as compile_expr returns it.
    f = compile_expr(expr, SYMBOLS)
    columns = [np.array([row[s] for row in rows] + [1], dtype=object)[:-1] for s in SYMBOLS]
    assert np.broadcast_to(f(*columns), (len(rows),)).tolist() == [int(e) for e in expected]


relations = st.sampled_from([sympy.Ge, sympy.Gt, sympy.Le, sympy.Lt, sympy.Eq, sympy.Ne])


@settings(deadline=None)
@given(relations, formulas, formulas, st.lists(points, min_size=1, max_size=4))
def test_relations_equal_sympy(relation, lhs, rhs, rows):
    rel = relation(lhs, rhs)
    expected = [bool(relation(exact(lhs, row), exact(rhs, row))) for row in rows]
    assert holds(rel, rows[0]) is expected[0]
    values = {s: [row[s] for row in rows] for s in SYMBOLS}
    assert holds(rel, values).tolist() == expected


def test_rational_coefficients_print_as_one_integer_division():
    n, k = sc.symbols("n k")
    floored = sympy.floor(n / 3 - k / 3 + sympy.Rational(1, 3))
    assert floored.args[0] == n / 3 - k / 3 + sympy.Rational(1, 3)  # as sympy keeps it
    source = inspect.getsource(compile_expr(floored, [k, n]))
    assert "return ((-_a0 + _a1 + 1) // 3)" in source
    half = inspect.getsource(compile_expr(n * (n + 1) / 2, [n]))
    assert "/" not in half.replace("//", "") and "." not in half.split("return")[1]


def test_hostile_names_are_not_confused():
    numpy, floor, formula, a0 = HOSTILE[:4]
    us = HOSTILE[10]  # named _a0: the printed code's own name for the first parameter
    expr = sympy.floor((numpy - floor) / 3) + sympy.Min(formula, a0) * us
    f = compile_expr(expr, [us, a0, formula, floor, numpy])
    assert f(2, 3, 4, 5, 20) == (20 - 5) // 3 + min(4, 3) * 2 == 11
    point = {numpy: 20, floor: 5, formula: 4, a0: 3, us: 2}
    assert evaluate(expr, point) == 11
    assert holds(sympy.Eq(expr, 11), point) is True


def test_symbols_named_like_builtins_and_helpers():
    by_name = {str(s): s for s in HOSTILE}
    absolute, builtins, helper = by_name["abs"], by_name["__builtins__"], by_name["_abs"]
    expr = sympy.Abs(10 - absolute) + builtins * helper + sympy.Max(absolute, by_name["_W"])
    point = {absolute: 3, builtins: 4, helper: 5, by_name["_W"]: 6}
    assert evaluate(expr, point) == 7 + 20 + 6
    assert evaluate(expr, {**point, absolute: [3, 30]}).tolist() == [33, 20 + 20 + 30]


# -- large arrays run in blocks of rows: same values, the caller's own indices ---------------


def test_blocks_give_the_whole_array_result():
    n, k = sc.symbols("n k")
    expr = sympy.floor((n - k + 1) / 3) * k + sympy.Min(n, 2 * k)
    column = np.arange(1, 601).reshape(-1, 1)  # 600 x 1000 = 600,000 points: three blocks
    for row in (np.arange(1, 1001).reshape(1, -1), np.arange(1, 1001)):
        expected = ((column - row + 1) // 3) * row + np.minimum(column, 2 * row)
        assert np.array_equal(evaluate(expr, {n: column, k: row}), expected)
        full = np.broadcast_to(column, expected.shape).copy()
        assert np.array_equal(evaluate(expr, {n: full, k: row}), expected)


def test_a_check_failing_in_a_later_block_names_the_callers_index():
    n, s = sc.symbols("n s")
    ns, ss = np.arange(1, 300_001), np.full(300_000, 2)
    ss[-1] = 1
    with pytest.raises(
        sc.ShapeError, match=r"s - 1 must be positive .*got 0 at index 299999: n=300000, s=1\)"
    ):
        evaluate(sympy.floor(n / (s - 1)), {n: ns, s: ss})
