"""Canonical form: nested floors collapse, soundly."""

from __future__ import annotations

import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.symbolic.canonical import canonical

n, k, a = sc.symbols("n k a")


def test_resnet_stem_is_one_floor():
    net = sc.Sequential(
        sc.Conv2d(3, 64, 7, stride=2, padding=3),
        sc.MaxPool2d(3, stride=2, padding=1),
        input_shape=(3, n, n),
    )
    assert net.output_shape == (64, sympy.floor((n + 3) / 4), sympy.floor((n + 3) / 4))


def test_five_stride_two_stages_are_ceil_n_over_32():
    stages = [sc.Conv2d(3 if i == 0 else 8, 8, 3, stride=2, padding=1) for i in range(5)]
    net = sc.Sequential(*stages, input_shape=(3, n, n + 1))
    assert net.output_shape == (8, sympy.floor((n + 31) / 32), sympy.floor((n + 32) / 32))


def test_symbolic_divisors_collapse_when_positive_integers():
    e = sympy.floor((sympy.floor(n / a) + 1) / 2)
    assert canonical(e) == sympy.floor((n + a) / (2 * a))
    c = sympy.ceiling((sympy.ceiling(n / 3) - k) / 2)
    assert canonical(c) == sympy.ceiling((n - 3 * k) / 6)


def test_what_the_identity_does_not_cover_is_left_alone():
    doubled = sympy.floor((2 * sympy.floor(n / 3) + 1) / 2)  # coefficient 2 on the inner floor
    assert canonical(doubled) == doubled
    mixed = sympy.floor((sympy.ceiling(n / 3) + 1) / 2)  # ceiling inside floor
    assert canonical(mixed) == mixed
    half = sympy.floor((sympy.floor(n / 3) + sympy.Rational(1, 2)) / 2)  # b not an integer
    assert canonical(half) == half


@given(
    st.lists(
        st.tuples(
            st.sampled_from([sympy.floor, sympy.ceiling]), st.integers(1, 6), st.integers(-5, 5)
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(-50, 200),
    st.integers(1, 9),
)
def test_canonical_form_equals_step_by_step_evaluation(steps, n_value, k_value):
    expr = n - k
    for rounding, divisor, offset in steps:
        expr = rounding((expr + offset) / divisor)
    point = {n: n_value, k: k_value}
    assert canonical(expr).subs(point) == expr.subs(point)
