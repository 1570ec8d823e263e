"""Exact evaluation: compiled formulas equal sympy's own substitution, with no overflow."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.evaluate import compile_expr, compile_relation, evaluate, holds
from symcnn.validity.condition import at_least

N, K, S = sc.symbols("n k s")
SYMBOLS = (N, K, S)
C, G = sc.symbols("c g")
floor, ceiling = sympy.floor, sympy.ceiling

# The seed lecture's total products, as symcnn derives it for Sequential(... input (1, n, n)).
SEED_PRODUCTS = (
    32 * K**2 * (N - K + 1) ** 2 + 2048 * K**2 * (floor((N - K + 1) / 3) - K + 1) ** 2 + 53200
)


def exact(expr, point):
    """sympy's own value of ``expr`` at ``point``, as a Python int.

    ``xreplace`` puts every number in at once and lets sympy evaluate bottom-up with exact
    rationals. ``subs`` substitutes one symbol at a time, and sympy 1.14 simplifies some
    half-substituted expressions wrongly (see ``test_where_sympy_subs_goes_wrong``).
    """
    value = expr.xreplace({s: sympy.Integer(v) for s, v in point.items()})
    if not value.is_Integer:  # a part without symbols left unevaluated, e.g. Min(4, 5)
        value = value.doit()
    assert value.is_Integer, value
    return int(value)


def assert_exact_array(result, expected):
    """Elementwise equality with exact ints; object arrays must hold Python ints."""
    assert isinstance(result, np.ndarray)
    assert result.dtype in (np.int64, object)
    values = result.tolist()
    assert values == expected
    if result.dtype == object:
        assert all(type(v) is int for v in result.ravel())
    if any(abs(v) >= 2**63 for v in expected):
        assert result.dtype == object


# -- the seed formula ----------------------------------------------------------------------


def test_seed_products_at_28():
    assert evaluate(SEED_PRODUCTS, {N: 28, K: 5}) == 1333200
    assert type(evaluate(SEED_PRODUCTS, {N: 28, K: 5})) is int


def test_seed_products_over_a_range_of_sizes():
    sizes = np.arange(22, 300)
    result = evaluate(SEED_PRODUCTS, {N: sizes, K: 5})
    assert result.dtype == np.int64
    assert result.shape == sizes.shape
    assert result.tolist() == [int(SEED_PRODUCTS.subs({N: int(n), K: 5})) for n in sizes]


def test_seed_products_with_both_symbols_as_arrays():
    ns, ks = np.array([28, 40, 100, 299]), np.array([5, 3, 7, 1])
    result = evaluate(SEED_PRODUCTS, {N: ns, K: ks})
    expected = [exact(SEED_PRODUCTS, {N: int(n), K: int(k)}) for n, k in zip(ns, ks, strict=True)]
    assert result.tolist() == expected


def test_compiled_function_takes_symbols_in_the_given_order():
    f = compile_expr(SEED_PRODUCTS, [K, N])
    assert f(5, 28) == 1333200
    assert f(5, np.array([28, 28])).tolist() == [1333200, 1333200]
    assert compile_expr(SEED_PRODUCTS, [K, N]) is f  # cached


# -- properties: equal to sympy's substitution ----------------------------------------------

divisors = st.one_of(
    st.integers(1, 7).map(sympy.Integer),
    st.sampled_from(SYMBOLS),
    st.sampled_from([2 * K, N * S, S**2]),
)


def _combine(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda t: t[0] + t[1]),
        pairs.map(lambda t: t[0] - t[1]),
        pairs.map(lambda t: t[0] * t[1]),
        st.tuples(children, st.integers(2, 3)).map(lambda t: t[0] ** t[1]),
        st.tuples(children, divisors).map(lambda t: floor(t[0] / t[1])),
        st.tuples(children, divisors).map(lambda t: ceiling(t[0] / t[1])),
        # Large negative and positive offsets inside a floor.
        st.tuples(children, st.integers(-(10**12), 10**12), divisors).map(
            lambda t: floor((t[0] + t[1]) / t[2])
        ),
        pairs.map(lambda t: sympy.Min(*t)),
        pairs.map(lambda t: sympy.Max(*t)),
        st.tuples(children, divisors).map(lambda t: sympy.Mod(*t)),
        # Rational coefficients whose value is an integer: x(x + 1)/2, and a rational Min.
        children.map(lambda x: x * (x + 1) / 2),
        pairs.map(lambda t: floor(sympy.Min(t[0] / 2, t[1] / 3))),
    )


formulas = st.recursive(
    st.one_of(st.sampled_from(SYMBOLS), st.integers(-20, 20).map(sympy.Integer)),
    _combine,
    max_leaves=8,
)
sizes = st.one_of(st.integers(1, 40), st.integers(1, 10**12))
points = st.fixed_dictionaries({s: sizes for s in SYMBOLS})


@given(formulas, points)
def test_scalar_evaluation_equals_sympy(expr, point):
    result = evaluate(expr, point)
    assert type(result) is int
    assert result == exact(expr, point)


@given(formulas, st.lists(points, min_size=1, max_size=4))
def test_compiled_function_equals_sympy(expr, rows):
    f = compile_expr(expr, SYMBOLS)
    assert f(*(rows[0][s] for s in SYMBOLS)) == exact(expr, rows[0])
    # Object arrays of Python ints: exact at any size, through the same function.
    columns = [np.array([row[s] for row in rows], dtype=object) for s in SYMBOLS]
    result = np.broadcast_to(f(*columns), (len(rows),))
    assert result.tolist() == [exact(expr, row) for row in rows]


@given(formulas, st.lists(points, min_size=1, max_size=6), st.sampled_from(SYMBOLS), st.booleans())
def test_array_evaluation_equals_sympy(expr, rows, scalar, as_array):
    values = {s: [row[s] for row in rows] for s in SYMBOLS}
    # One symbol fixed, as a scalar or as a length-1 array: both broadcast.
    values[scalar] = [rows[0][scalar]] if as_array else rows[0][scalar]
    expected = [exact(expr, {**row, scalar: rows[0][scalar]}) for row in rows]
    assert_exact_array(evaluate(expr, values), expected)


@given(formulas, st.lists(st.integers(1, 3000), min_size=1, max_size=6))
def test_small_sizes_equal_sympy(expr, ns):
    # Mostly the int64 path with in-place updates (one array, k and s scalars).
    point = {K: 3, S: 2}
    result = evaluate(expr, {N: ns, **point})
    assert_exact_array(result, [exact(expr, {N: n, **point}) for n in ns])


relations = st.sampled_from([sympy.Ge, sympy.Gt, sympy.Le, sympy.Lt, sympy.Eq, sympy.Ne])


@given(relations, formulas, formulas, st.lists(points, min_size=1, max_size=4))
def test_relations_equal_sympy(relation, lhs, rhs, rows):
    rel = relation(lhs, rhs)
    expected = [bool(rel.subs(row)) for row in rows]
    assert holds(rel, rows[0]) is expected[0]
    values = {s: [row[s] for row in rows] for s in SYMBOLS}
    result = holds(rel, values)
    assert result.dtype == bool
    assert result.tolist() == expected


def test_where_sympy_subs_goes_wrong():
    # Found by the property above. sympy 1.14 decides (2/(n·s) - 1).is_positive as True for
    # positive integers n, s (false at n = s = 2), so after k = 2 is put in,
    # Min(-2, ⌊-2/(n·s)⌋) collapses to ⌊-2/(n·s)⌋ and .subs returns 0 here instead of 1.
    x = sympy.Min(floor((K - 7) / (2 * K)), floor(-2 / (N * S)))
    expr = x * (x + 1) / 2
    point = {N: 1, K: 2, S: 2}
    # By hand: ⌊-5/4⌋ = -2, ⌊-1⌋ = -1, min = -2, (-2)(-1)/2 = 1.
    assert evaluate(expr, point) == exact(expr, point) == 1
    assert evaluate(expr, {N: 1, K: [1, 2], S: [1, 2]}).tolist() == [3, 1]


def test_a_buffer_is_reused_only_after_its_last_read():
    # Found by a long hypothesis run: the array code updates buffers in place, and -n²
    # (inlined into its consumers, not a statement) once read n² after n²·(n² + 1)
    # had overwritten it.
    x = N**2 * (N**2 + 1) / 2 - N**2
    expr = x * (x + 1) / 2
    ns = [1, 2, 3, 10]
    assert (
        evaluate(expr, {N: ns}).tolist()
        == [exact(expr, {N: n}) for n in ns]
        == [0, 21, 666, 12253725]
    )


# -- exactness at the edges -----------------------------------------------------------------


def test_degree_four_at_ten_million_is_exact_in_object_ints():
    expr = N**4 + 3 * K * N**3 + floor(N**2 / 7) - 5
    ns = [10**7, 10**7 + 1]
    # int64 arithmetic would wrap: the reason for the bound.
    assert (np.array(ns, dtype=np.int64) ** 4).tolist() != [n**4 for n in ns]
    result = evaluate(expr, {N: ns, K: 2})
    assert result.dtype == object
    assert_exact_array(result, [exact(expr, {N: n, K: 2}) for n in ns])
    assert evaluate(expr, {N: 10**7, K: 2}) == exact(expr, {N: 10**7, K: 2})


def test_just_under_the_int64_bound_stays_int64():
    # 46340**4 < 2**62 <= 46341**4: every intermediate of n**4 (n, n², n⁴) fits below 2**62.
    assert 46340**4 < 2**62 <= 46341**4
    under = evaluate(N**4, {N: [1, 46340]})
    assert under.dtype == np.int64
    assert under.tolist() == [1, 46340**4]
    over = evaluate(N**4, {N: [1, 46341]})
    assert over.dtype == object
    assert over.tolist() == [1, 46341**4]


def test_values_beyond_int64_are_exact():
    big = 2**70 + 1
    assert evaluate(floor((N - 1) / 2), {N: big}) == 2**69
    result = evaluate(floor((N - 1) / 2) + K, {N: [big, 3], K: 1})
    assert_exact_array(result, [2**69 + 1, 2])
    unsigned = np.array([3, 2**64 - 1], dtype=np.uint64)
    assert_exact_array(evaluate(N + 1, {N: unsigned}), [4, 2**64])


def test_rational_coefficients_are_exact():
    channels = C / G * K**2 * N  # a grouped convolution's per-output-channel cost
    assert evaluate(channels, {C: 64, G: 4, K: 3, N: 10}) == 1440
    triangle = N * (N + 1) / 2
    assert triangle.args[0] == sympy.Rational(1, 2)
    n = 10**12 + 7
    assert evaluate(triangle, {N: n}) == n * (n + 1) // 2
    assert_exact_array(evaluate(triangle, {N: [n, 4]}), [n * (n + 1) // 2, 10])


@pytest.mark.parametrize(
    ("n", "floored", "ceiled"),
    [(1, -3, -3), (2, -3, -2), (3, -3, -2), (4, -2, -2), (10, 0, 0), (11, 0, 1), (13, 1, 1)],
)
def test_floor_and_ceiling_of_negative_numerators(n, floored, ceiled):
    assert evaluate(floor((N - 10) / 3), {N: n}) == floored
    assert evaluate(ceiling((N - 10) / 3), {N: n}) == ceiled


def test_floor_and_ceiling_of_negative_numerators_in_arrays():
    ns = list(range(1, 25))
    assert evaluate(floor((N - 10) / 3), {N: ns}).tolist() == [
        math.floor(Fraction(n - 10, 3)) for n in ns
    ]
    assert evaluate(ceiling((N - 10) / 3), {N: ns}).tolist() == [
        math.ceil(Fraction(n - 10, 3)) for n in ns
    ]
    assert evaluate(floor((N - 10) / S), {N: ns, S: 4}).tolist() == [
        math.floor(Fraction(n - 10, 4)) for n in ns
    ]


def test_min_max_mod_and_symbolic_divisors():
    p = sympy.Symbol("p", integer=True, nonnegative=True)  # padding may be 0
    overhang = sympy.Min(K - 1 - p, S - 1)
    ks, ps, ss = [3, 3, 5, 2], [0, 1, 2, 1], [2, 3, 1, 5]
    assert evaluate(overhang, {K: ks, p: ps, S: ss}).tolist() == [
        min(k - 1 - q, s - 1) for k, q, s in zip(ks, ps, ss, strict=True)
    ]
    assert evaluate(sympy.Max(N, 2 * K), {N: [1, 9], K: 3}).tolist() == [6, 9]
    assert evaluate(sympy.Mod(N - 10, S), {N: [1, 12], S: 4}).tolist() == [3, 2]
    assert evaluate(floor((N + S * K) / (S * K)), {N: 7, S: 2, K: 3}) == 2


# -- relations --------------------------------------------------------------------------------


def test_holds_on_the_seed_divisibility_rule():
    divides = sympy.Eq(sympy.Mod(N - K + 1, 3), 0)
    assert holds(divides, {N: [28, 29, 30], K: 5}).tolist() == [True, False, False]
    assert holds(divides, {N: 28, K: 5}) is True
    fits = compile_relation(divides, [N, K])
    assert fits(29, 5) is False


def test_holds_accepts_conditions_and_connectives():
    rule = at_least(floor((N - K + 1) / 3), K, "the second kernel must fit", "width")
    assert holds(rule, {N: [18, 19], K: 5}).tolist() == [False, True]
    both = sympy.And(N >= K, sympy.Ne(N, 3 * S))
    assert holds(both, {N: [6, 6, 2], K: [1, 1, 3], S: [2, 3, 1]}).tolist() == [False, True, False]
    assert holds(sympy.Not(N > K), {N: 2, K: 1}) is False
    assert holds(sympy.true, {N: [1, 2]}).tolist() == [True, True]


# -- shapes of results ------------------------------------------------------------------------


def test_results_broadcast_over_all_values_and_do_not_alias_inputs():
    ns = np.array([4, 5, 6])
    assert evaluate(K, {N: ns, K: 5}).tolist() == [5, 5, 5]
    same = evaluate(N, {N: ns})
    assert same.tolist() == [4, 5, 6] and same is not ns
    assert evaluate(N + K, {N: [1, 2], K: [10]}).tolist() == [11, 12]
    assert evaluate(N * K, {N: np.array([[1], [2]]), K: [1, 2, 3]}).shape == (2, 3)
    assert evaluate(N + 1, {N: []}).shape == (0,)
    assert evaluate(sympy.Integer(7), {}) == 7


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (2.5, r"value of n must be an integer .*\(got 2\.5\)"),
        (True, r"value of n must be an integer .*\(got True\)"),
        (np.bool_(True), r"value of n must be an integer .*\(got True\)"),
        ([1, 2.5], r"value of n must be an integer array \(got 2\.5 at index 1\)"),
        (np.array([3.0, 4.0]), r"value of n .*\(got 3\.0 in a float64 array\)"),
        (np.array([True, False]), r"value of n .*\(got True in a bool array\)"),
        ("28", r"value of n must be an integer .*\(got '28'\)"),
        (sympy.Rational(1, 2), r"value of n must be an integer .*\(got 1/2\)"),
    ],
)
def test_non_integer_values_are_refused_naming_symbol_and_value(value, match):
    with pytest.raises(sc.ShapeError, match=match):
        evaluate(N + 1, {N: value})


def test_nonpositive_values_for_positive_symbols_are_refused():
    with pytest.raises(sc.ShapeError, match=r"n is declared positive but its value is 0"):
        evaluate(N + 1, {N: 0})
    with pytest.raises(
        sc.ShapeError, match=r"k is declared positive but its value at index 2 is 0"
    ):
        evaluate(N + K, {N: 5, K: [3, 1, 0, -1]})
    p = sympy.Symbol("p", integer=True, nonnegative=True)
    assert evaluate(p + 1, {p: 0}) == 1
    with pytest.raises(sc.ShapeError, match=r"p is declared nonnegative but its value is -1"):
        evaluate(p + 1, {p: -1})
    m = sympy.Symbol("m", integer=True)  # no sign declared: negative values are fine
    assert evaluate(m - 1, {m: [-5, 0]}).tolist() == [-6, -1]


def test_missing_symbols_are_listed():
    with pytest.raises(sc.ShapeError, match=r"no value for k, s in"):
        evaluate(N + K + S, {N: 3})
    plain = sympy.Symbol("n")
    with pytest.raises(sc.ShapeError, match=r"no value for n .*different symbol named n"):
        evaluate(N + 1, {plain: 3})
    with pytest.raises(sc.ShapeError, match=r"no value for k"):
        compile_expr(N + K, [N])


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        (sympy.sqrt(N) + 1, r"cannot evaluate sqrt\(n\) exactly in sqrt\(n\) \+ 1"),
        (sympy.Float(2.5) * N, r"cannot evaluate 2\.5\d* exactly .*float"),
        (2**N, r"cannot evaluate 2\*\*n exactly: only integer powers"),
        (sympy.exp(N), r"cannot evaluate exp\(n\) exactly: exp is none of"),
        (N + sympy.oo, r"cannot evaluate oo exactly"),
    ],
)
def test_unsupported_expressions_are_refused_naming_the_subexpression(expr, match):
    with pytest.raises(sc.ShapeError, match=match):
        evaluate(expr, {N: 4})
    with pytest.raises(sc.ShapeError, match=match):
        compile_expr(expr, [N])


def test_relations_and_formulas_are_not_confused():
    with pytest.raises(sc.ShapeError, match=r"is a relation: use holds"):
        evaluate(N >= K, {N: 1, K: 1})
    with pytest.raises(sc.ShapeError, match=r"use evaluate for a formula"):
        holds(N + 1, {N: 1})


def test_run_time_failures_name_the_values_where_they_happen():
    with pytest.raises(sc.ShapeError, match=r"s - 1 must be positive .*got 0 at index 1: n=6, s=1"):
        evaluate(floor(N / (S - 1)), {N: [5, 6], S: [2, 1]})
    with pytest.raises(
        sc.ShapeError, match=r"c·n/g is not an integer \(got 5/2 at c=1, g=2, n=5\)"
    ):
        evaluate(C / G * N, {C: 1, G: 2, N: 5})
    with pytest.raises(
        sc.ShapeError, match=r"not an integer \(got 5/2 at index 1: c=1, g=2, n=5\)"
    ):
        evaluate(C / G * N, {C: 1, G: 2, N: [4, 5]})


def test_values_that_do_not_broadcast_are_refused():
    with pytest.raises(sc.ShapeError, match=r"n has shape \(2,\), k has shape \(3,\)"):
        evaluate(N + K, {N: [1, 2], K: [1, 2, 3]})


# -- optional numpy ---------------------------------------------------------------------------


def _python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def test_importing_evaluate_does_not_import_numpy():
    run = _python(
        "import sys, symcnn.evaluate\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"
        "n = symcnn.symbols('n')\n"
        "assert symcnn.evaluate.evaluate(n**2, {n: 3}) == 9\n"
        "assert 'numpy' not in sys.modules, 'numpy imported by scalar evaluation'\n"
    )
    assert run.returncode == 0, run.stderr


def test_arrays_without_numpy_name_the_extra_to_install():
    run = _python(
        "import sys\n"
        "sys.modules['numpy'] = None\n"
        "import symcnn\n"
        "from symcnn.evaluate import evaluate\n"
        "n = symcnn.symbols('n')\n"
        "try:\n"
        "    evaluate(n, {n: [1, 2]})\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    assert run.returncode == 0, run.stderr
    assert 'pip install "symcnn[numpy]"' in run.stdout
