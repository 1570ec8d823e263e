"""The values evaluate, holds and Network.evaluate take: every integer form, exact at any size;
bools, non-integers and inputs too large to hold refused with a ShapeError, never a wrong
number or a bare numpy or Python error."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
import symcnn.evaluate.inputs as ev
from symcnn.evaluate import evaluate, holds

N, K = sc.symbols("n k")
M = sympy.Symbol("m", integer=True)  # no sign: negative values are fine
floor = sympy.floor

# A formula with every kind of step: products, a floor division, a Mod and a Min.
FORMULA = N * floor((N - K + 1) / 3) + sympy.Mod(N, K) * K**2 + sympy.Min(N, 7 * K)


def net_of_n():
    """Conv2d(1, 2, 3) → Flatten → LazyLinear(4) on (1, n, n): params 8·(n - 2)² + 24."""
    return sc.Sequential(sc.Conv2d(1, 2, 3), sc.Flatten(), sc.LazyLinear(4), input_shape=(1, N, N))


NET = net_of_n()


def params_of_n(n):
    return 2 * (9 + 1) + 4 * (2 * (n - 2) ** 2 + 1)


def sympy_value(expr, point):
    """sympy's own exact value of ``expr`` at ``point`` (all symbols at once), as an int."""
    value = expr.subs({s: sympy.Integer(v) for s, v in point.items()})
    assert value.is_Integer, value
    return int(value)


# -- every integer form is taken, exactly ------------------------------------------------------


def test_python_ints_past_int64_in_a_list_are_exact():
    net = net_of_n()
    swept = net.evaluate("params", n=[2**63 + 3, 5])
    assert swept.dtype == object
    assert swept.tolist() == [params_of_n(2**63 + 3), 96]
    assert swept.tolist() == [
        int(net.subs({N: 2**63 + 3}).params),
        int(net.subs({N: 5}).params),
    ]
    assert swept[0] == 680564733841876927074323167453212835872


def test_a_list_mixing_small_and_huge_ints_is_an_object_array_of_python_ints():
    values = [3, 2**64, -(2**70), 2**63 - 1, -(2**63), 2**63]
    got = evaluate(M * 3 - 1, {M: values})
    assert got.dtype == object
    assert got.tolist() == [3 * v - 1 for v in values]
    assert all(type(x) is int for x in got.tolist())
    # A value just past int64 on either side, alone with small ones.
    assert evaluate(M + 1, {M: [-(2**63) - 1, 2]}).tolist() == [-(2**63), 3]
    assert evaluate(M + 1, {M: [1, 2**63]}).tolist() == [2, 2**63 + 1]


def test_int64_fitting_lists_keep_the_int64_path():
    got = evaluate(N * K, {N: [22, 28, 2**40], K: 5})
    assert got.dtype == np.int64
    assert got.tolist() == [110, 140, 5 * 2**40]
    assert evaluate(M - 1, {M: [0, 1, -1, 7]}).dtype == np.int64  # 0 and 1 read one by one
    assert evaluate(M - 1, {M: [0, 1, -1, 7]}).tolist() == [-1, 0, -2, 6]


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64],
)
def test_every_numpy_integer_dtype(dtype):
    got = evaluate(N * K + 1, {N: np.array([3, 100], dtype=dtype), K: 2})
    assert got.dtype == np.int64
    assert got.tolist() == [7, 201]


def test_uint64_values_past_int64_are_exact():
    values = np.array([2**64 - 1, 2**63, 5], dtype=np.uint64)
    got = evaluate(N * N, {N: values})
    assert got.dtype == object
    assert got.tolist() == [(2**64 - 1) ** 2, 2**126, 25]
    assert evaluate(N + 1, {N: np.uint64(2**64 - 1)}) == 2**64


def test_numpy_scalars_and_zero_dimensional_arrays():
    assert evaluate(N * K, {N: np.int8(7), K: np.uint32(3)}) == 21
    assert evaluate(N * K, {N: np.array(7), K: 3}) == 21
    assert evaluate(N + K, {N: [np.int64(5), np.array(1)], K: 1}).tolist() == [6, 2]
    assert evaluate(N, {N: [np.uint64(2**64 - 1), 1]}).tolist() == [2**64 - 1, 1]
    assert evaluate(N, {N: [sympy.Integer(2**70), 2]}).tolist() == [2**70, 2]


def test_nested_lists_and_tuples_are_arrays_of_their_shape():
    got = evaluate(N * K, {N: [[1, 2], [3, 4]], K: (10, 100)})
    assert got.tolist() == [[10, 200], [30, 400]]
    huge = evaluate(N + 1, {N: ((2**80, 1), (2, 3))})
    assert huge.dtype == object
    assert huge.tolist() == [[2**80 + 1, 2], [3, 4]]
    assert evaluate(N, {N: [[]]}).shape == (1, 0)
    assert evaluate(N, {N: []}).dtype == np.int64


@pytest.mark.parametrize(
    "r",
    [
        range(22, 30),
        range(30, 20, -3),
        range(1, 2),
        range(5, 5),
        range(-(2**63), 2**63, 2**62),
        range(2**63 - 3, 2**63),
        range(2**63 - 2, 2**63 + 2),
        range(-(2**63), 2**63 - 1, 2**64 - 2),
        range(2**100, 2**100 + 7, 3),
    ],
    ids=str,
)
def test_ranges_equal_their_lists(r):
    assert evaluate(M, {M: r}).tolist() == list(r)
    assert evaluate(M * 2, {M: r}).tolist() == [2 * v for v in r]


def test_holds_and_records_take_the_same_values():
    assert holds(sympy.Ge(N, 2**64), {N: [2**64, 2**64 - 1, 3]}).tolist() == [True, False, False]
    net = net_of_n()
    assert net["linear1"].evaluate("params", n=range(5, 7)).tolist() == [76, 132]
    assert net.evaluate("params", n=np.uint64(5)) == 96


def test_a_masked_sweep_takes_huge_ints_and_ranges():
    masked = NET.evaluate("params", n=[2**70, 2, 5], on_invalid="mask")
    assert masked.mask.tolist() == [False, True, False]
    assert masked.compressed().tolist() == [params_of_n(2**70), 96]
    with pytest.raises(sc.ShapeError, match=r"\(n=2\)$"):
        NET.evaluate("params", n=range(5, 1, -1))
    assert NET.evaluate("params", n=range(6, 3, -1)).tolist() == [152, 96, 56]


# -- bools and non-integers are refused --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "the value of n must be an integer or an array of integers (got True)"),
        (np.True_, "the value of n must be an integer or an array of integers (got True)"),
        ([True, 2], "the value of n must be an integer array (got True at index 0)"),
        ([2, False], "the value of n must be an integer array (got False at index 1)"),
        ([2**70, True], "the value of n must be an integer array (got True at index 1)"),
        ([[2, 3], [4, True]], "the value of n must be an integer array (got True at index (1, 1))"),
        ([np.True_, 3], "the value of n must be an integer array (got True at index 0)"),
        ([np.array(True), 3], "the value of n must be an integer array (got True at index 0)"),
        (
            [np.array([True]), np.array([2])],
            "the value of n must be an integer array (got True at index (0, 0))",
        ),
        (
            np.array([True, False]),
            "the value of n must be an integer array (got True in a bool array)",
        ),
        (
            np.array([2, True], dtype=object),
            "the value of n must be an integer array (got True at index 1)",
        ),
    ],
    ids=repr,
)
def test_bools_are_refused_wherever_they_are(value, message):
    with pytest.raises(sc.ShapeError) as info:
        evaluate(N + 1, {N: value})
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3.0, "the value of n must be an integer or an array of integers (got 3.0)"),
        (
            np.float64(3.0),
            "the value of n must be an integer or an array of integers (got 3.0)",
        ),
        ([1.0, 2], "the value of n must be an integer array (got 1.0 at index 0)"),
        ([2, 1e30], "the value of n must be an integer array (got 1e+30 at index 1)"),
        ([2**63 + 3, 2.5], "the value of n must be an integer array (got 2.5 at index 1)"),
        ([2, float("nan")], "the value of n must be an integer array (got nan at index 1)"),
        ([2, float("inf")], "the value of n must be an integer array (got inf at index 1)"),
        (
            [[2], [np.float64(2.0)]],
            "the value of n must be an integer array (got 2.0 at index (1, 0))",
        ),
        ([2, "3"], "the value of n must be an integer array (got '3' at index 1)"),
        ([2, None], "the value of n must be an integer array (got None at index 1)"),
        ([2, sympy.Rational(1, 2)], "the value of n must be an integer array (got 1/2 at index 1)"),
        (
            np.array([2.0, 2.5]),
            "the value of n must be an integer array (got 2.5 in a float64 array)",
        ),
        (
            np.array([2, 0.5], dtype=object),
            "the value of n must be an integer array (got 0.5 at index 1)",
        ),
        (
            np.array([1 + 0j]),
            "the value of n must be an integer array (got (1+0j) in a complex128 array)",
        ),
        ({1, 2}, "the value of n must be an integer or an array of integers (got {1, 2})"),
        (
            bytearray(b"ab"),
            "the value of n must be an integer or an array of integers (got bytearray(b'ab'))",
        ),
    ],
    ids=repr,
)
def test_non_integers_are_refused_naming_symbol_value_and_index(value, message):
    with pytest.raises(sc.ShapeError) as info:
        evaluate(N + 1, {N: value})
    assert str(info.value) == message


def test_network_evaluate_refuses_bools_and_floats_by_name():
    net = net_of_n()
    with pytest.raises(sc.ShapeError, match=r"^the value of n .*\(got True at index 0\)$"):
        net.evaluate("params", n=[True, 5])
    with pytest.raises(sc.ShapeError, match=r"^the value of n .*\(got 5\.0 at index 1\)$"):
        net.evaluate("params", n=[5, 5.0])
    with pytest.raises(sc.ShapeError, match=r"^the value of n .*\(got True\)$"):
        net["conv1"].evaluate("products", n=True)


def test_ragged_lists_are_refused():
    with pytest.raises(sc.ShapeError, match=r"^the value of n is not an array of integers \("):
        evaluate(N, {N: [[1, 2], [3]]})


def test_signs_are_still_checked_in_every_form():
    with pytest.raises(
        sc.ShapeError, match=r"^n is declared positive but its value at index 1 is 0$"
    ):
        evaluate(N, {N: [2**70, 0]})
    with pytest.raises(
        sc.ShapeError, match=r"^n is declared positive but its value at index 1 is 0$"
    ):
        evaluate(N, {N: range(1, -2, -1)})
    with pytest.raises(
        sc.ShapeError, match=r"^n is declared positive but its value at index \(1, 0\) is 0$"
    ):
        evaluate(N, {N: [[1], [0]]})


# -- inputs too large to hold are refused before anything is allocated ------------------------


def test_the_limit_is_a_few_hundred_million_points():
    assert ev.MAX_POINTS == 200_000_000


def test_a_huge_range_is_refused_with_its_count():
    with pytest.raises(sc.ShapeError) as info:
        evaluate(N + 1, {N: range(3, 10**12)})
    assert str(info.value) == (
        "the value of n has 999,999,999,997 points, more than the 200,000,000 one evaluation "
        "takes (symcnn.evaluate.MAX_POINTS): evaluate it in chunks"
    )
    with pytest.raises(
        sc.ShapeError, match=r"^the value of n has 1,267,650,600,228,229,401,496,703,205,376 points"
    ):
        evaluate(N, {N: range(2**100)})  # len() itself would overflow


def test_a_network_refuses_a_huge_range():
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 999,999,999,997 points"):
        net_of_n().evaluate("params", n=range(3, 10**12))


def test_views_and_lists_of_ranges_count_their_full_size():
    view = np.broadcast_to(np.int64(5), (10**5, 10**5))
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 10,000,000,000 points"):
        evaluate(N, {N: view})
    rows = [range(1, 10**5 + 1)] * 10**4  # one range, ten thousand times: nothing allocated
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 1,000,000,000 points"):
        evaluate(N, {N: rows})


def test_a_broadcast_grid_too_large_is_refused_before_allocating():
    rows = np.arange(1, 20_001).reshape(-1, 1)
    cols = np.arange(1, 20_001)
    tracemalloc.start()
    try:
        with pytest.raises(sc.ShapeError) as info:
            evaluate(N * K, {N: rows, K: cols})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "the values broadcast to shape (20000, 20000), 400,000,000 points, more than the "
        "200,000,000 one evaluation takes (symcnn.evaluate.MAX_POINTS): n has shape "
        "(20000, 1), k has shape (20000,)"
    )
    assert peak < 10 * 2**20  # the result alone would be 3.2 GB
    with pytest.raises(sc.ShapeError, match=r"^the values broadcast to shape \(20000, 20000\)"):
        holds(N >= K, {N: rows, K: cols})


def test_a_value_of_a_symbol_the_formula_lacks_counts_too():
    # Network.evaluate broadcasts every symbol it is given, used or not.
    with pytest.raises(sc.ShapeError, match=r"^the values broadcast to shape \(20000, 20000\)"):
        evaluate(N + 1, {N: np.ones((20_000, 1), dtype=np.int64), K: np.ones(20_000, np.int64)})


def test_the_limit_is_inclusive(monkeypatch):
    monkeypatch.setattr(ev, "MAX_POINTS", 6)
    assert evaluate(N, {N: range(1, 7)}).tolist() == [1, 2, 3, 4, 5, 6]
    assert evaluate(N * K, {N: [[1], [2]], K: [1, 2, 3]}).tolist() == [[1, 2, 3], [2, 4, 6]]
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 7 points, more than the 6 one"):
        evaluate(N, {N: range(1, 8)})
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 7 points"):
        evaluate(N, {N: [1, 2, 3, 4, 5, 6, 7]})
    with pytest.raises(sc.ShapeError, match=r"^the values broadcast to shape \(2, 4\), 8 points"):
        evaluate(N * K, {N: [[1], [2]], K: [1, 2, 3, 4]})
    with pytest.raises(sc.ShapeError, match=r"^the values broadcast to shape \(2, 4\), 8 points"):
        evaluate(N + 1, {N: [[5], [6]], K: [1, 2, 3, 4]})  # K only broadcasts
    with pytest.raises(sc.ShapeError, match=r"^the value of n has 7 points"):
        NET.evaluate("params", n=range(5, 12))


# -- properties --------------------------------------------------------------------------------

INTS = st.one_of(
    st.integers(1, 100),
    st.integers(2**62, 2**64 + 10),
    st.integers(1, 2**200),
)


@given(ns=st.lists(INTS, min_size=1, max_size=8), k=st.integers(1, 2**200))
def test_lists_of_ints_of_any_size_equal_sympy_substitution(ns, k):
    got = evaluate(FORMULA, {N: ns, K: k})
    assert got.tolist() == [sympy_value(FORMULA, {N: v, K: k}) for v in ns]
    if max(*ns, k) <= 100:
        assert got.dtype == np.int64
    if max(*ns, k) >= 2**62:
        assert got.dtype == object
    verdict = holds(sympy.Ge(FORMULA, 2**100), {N: ns, K: k})
    assert verdict.tolist() == [sympy_value(FORMULA, {N: v, K: k}) >= 2**100 for v in ns]


@given(rows=st.lists(st.lists(INTS, min_size=2, max_size=2), min_size=1, max_size=4))
def test_nested_lists_of_any_size_equal_sympy_substitution(rows):
    got = evaluate(FORMULA, {N: rows, K: [3, 2**90]})
    assert got.tolist() == [
        [sympy_value(FORMULA, {N: v, K: w}) for v, w in zip(row, [3, 2**90], strict=True)]
        for row in rows
    ]


BAD = st.one_of(
    st.booleans(),
    st.booleans().map(np.bool_),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70).map(float),
    st.floats(-1e6, 1e6).map(np.float64),
    st.fractions()
    .map(lambda f: sympy.Rational(f.numerator, f.denominator))
    .filter(lambda r: not r.is_Integer),
    st.sampled_from([None, "5", b"5", 1j]),
)


@given(ns=st.lists(INTS, min_size=1, max_size=6), bad=BAD, data=st.data())
def test_a_bad_element_anywhere_is_refused_by_position(ns, bad, data):
    position = data.draw(st.integers(0, len(ns)), label="position")
    values = [*ns[:position], bad, *ns[position:]]
    with pytest.raises(sc.ShapeError) as info:
        evaluate(N + K, {N: values, K: 3})
    shown = repr(bad.item() if isinstance(bad, np.generic) else bad)
    assert str(info.value) == (
        f"the value of n must be an integer array (got {shown} at index {position})"
    )
    with pytest.raises(sc.ShapeError, match=rf"\(got .* at index {position}\)$"):
        NET.evaluate("params", n=values)


@given(bad=BAD)
def test_a_bad_scalar_is_refused(bad):
    with pytest.raises(sc.ShapeError) as info:
        evaluate(N + K, {N: bad, K: 3})
    assert str(info.value).startswith("the value of n must be an integer")


@given(
    length=st.integers(ev.MAX_POINTS + 1, 10**30),
    start=st.integers(-(2**70), 2**70),
    step=st.integers(1, 5),
)
def test_an_oversized_range_is_refused_with_its_count(length, start, step):
    r = range(start, start + length * step, step)
    with pytest.raises(sc.ShapeError) as info:
        evaluate(M + 1, {M: r})
    assert str(info.value).startswith(f"the value of m has {length:,} points, more than the ")


@given(a=st.integers(1, 10**9), data=st.data(), third=st.booleans())
def test_an_oversized_broadcast_is_refused_with_its_count(a, data, third):
    b = data.draw(st.integers(ev.MAX_POINTS // a + 1, 10**9), label="b")
    # Views of one element each: nothing the size of the grid exists.
    n = np.broadcast_to(np.int64(3), (a, 1))
    k = np.broadcast_to(np.int64(2), (1, b) if not third else (2, 1, b))
    points = a * b * (2 if third else 1)
    if a > ev.MAX_POINTS:  # n is checked first
        message = rf"^the value of n has {a:,} points"
    elif k.size > ev.MAX_POINTS:
        message = rf"^the value of k has {k.size:,} points"
    else:
        message = rf"^the values broadcast to shape \(.*\), {points:,} points"
    with pytest.raises(sc.ShapeError, match=message):
        evaluate(N * K, {N: n, K: k})
    with pytest.raises(sc.ShapeError, match=message):
        holds(N >= K, {N: n, K: k})
