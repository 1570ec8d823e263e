"""Size arithmetic of one size read off its residue classes: equal at every size."""

from __future__ import annotations

import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.symbolic.printing import text
from symcnn.symbolic.residue import absorb_mod, by_residue, residue_class, residue_lines

W = sc.symbols("W")
u = sympy.Symbol("u")  # not a positive integer: left alone


def same_pad(k: int, s: int, d: int = 1) -> sympy.Expr:
    """timm's "same" pad before its max(·, 0): (⌈W/s⌉ − 1)·s + (k − 1)·d + 1 − W."""
    return (sympy.ceiling(W / s) - 1) * s + (k - 1) * d + 1 - W


def test_a_same_pad_splits_into_its_residue_forms():
    pad = same_pad(3, 2)
    assert text(pad) == "2·⌈W/2⌉ - W + 1"
    left, right = by_residue(sympy.floor(pad / 2)), by_residue(pad - sympy.floor(pad / 2))
    assert (left, right) == (2 * sympy.ceiling(W / 2) - W, 1)
    assert text(by_residue(W + left + right)) == "2·⌈W/2⌉ + 1"


def test_linear_when_every_class_gives_one_line():
    assert by_residue(sympy.floor(W / 2) + sympy.ceiling(W / 2)) == W
    assert by_residue(sympy.floor((W + 3) / 3) - sympy.floor(W / 3)) == 1
    assert by_residue(sympy.Mod(2 * W, 2)) == 0


def test_other_expressions_come_back_as_they_came():
    for expr in (
        sympy.floor(W / 3),  # period 3, not one line
        sympy.floor(W / 13) - sympy.floor(W / 13),  # sympy cancels it already: 0
        sympy.floor(W**2 / 2),
        sympy.floor(u / 2),
        sympy.floor(W / 2) + sc.symbols("H"),
        W + 1,
    ):
        assert by_residue(expr) == expr
    assert residue_lines(sympy.floor(W / 25)) is None  # a period over 12


def test_a_relation_decided_by_the_residue_reads_as_one():
    assert residue_class(sympy.Lt(2 * sympy.ceiling(W / 2) - W - 1, 0)) == sympy.Eq(
        sympy.Mod(W, 2), 0
    )
    assert text(residue_class(sympy.Ge(2 * sympy.ceiling(W / 2) - W, 1))) == "W mod 2 = 1"
    # holds on two classes of three: kept
    rel = sympy.Ge(sympy.Mod(W, 3), 1)
    assert residue_class(rel) == rel
    # depends on the size, not only its class: kept
    rel = sympy.Ge(sympy.floor(W / 2), 3)
    assert residue_class(rel) == rel


roundings = st.sampled_from([sympy.floor, sympy.ceiling])


@st.composite
def size_expressions(draw):
    """Sums of floors and ceilings of linear functions of W, nested once at most."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        inner = draw(st.integers(-3, 3)) * W + draw(st.integers(-5, 5))
        if draw(st.booleans()):
            inner = draw(roundings)(inner / draw(st.integers(1, 4))) + draw(st.integers(-2, 2))
        terms.append(draw(st.integers(-2, 2)) * draw(roundings)(inner / draw(st.integers(1, 4))))
    return sympy.Add(draw(st.integers(-3, 3)) * W, *terms)


@given(size_expressions(), st.integers(1, 200))
def test_by_residue_is_equal_at_every_size(expr, w):
    assert by_residue(expr).subs(W, w) == expr.subs(W, w)


@given(size_expressions(), st.sampled_from([sympy.Lt, sympy.Ge, sympy.Eq]), st.integers(1, 99))
def test_residue_class_holds_exactly_where_the_relation_does(expr, kind, w):
    rel = kind(expr, 0)
    if rel in (sympy.true, sympy.false):
        return
    assert bool(residue_class(rel).subs(W, w)) == bool(rel.subs(W, w))


# -- a size plus its remainder -------------------------------------------------------------
def test_a_pad_up_to_a_multiple_reads_as_the_multiple():
    h = sc.symbols("H")
    x = sympy.floor(h / 4)
    # Swin: pad = (7 - x % 7) % 7, which sympy writes as 6·x mod 7; patch merging: x % 2
    assert absorb_mod(x + sympy.Mod(7 - sympy.Mod(x, 7), 7)) == 7 * sympy.ceiling(x / 7)
    assert absorb_mod(x + sympy.Mod(x, 2)) == 2 * sympy.ceiling(x / 2)
    assert absorb_mod(h - sympy.Mod(h, 3) + 1) == 3 * sympy.floor(h / 3) + 1
    # no size to absorb the remainder into, or x mod 3 (not −x mod 3): left as it came
    assert absorb_mod(sympy.Mod(h, 2) + 1) == sympy.Mod(h, 2) + 1
    assert absorb_mod(h + sympy.Mod(h, 3)) == h + sympy.Mod(h, 3)


@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(-3, 3),
    st.integers(-2, 2),
    st.sampled_from([1, -1]),
)
def test_absorbing_a_remainder_keeps_every_value(m, d, k, c, sign):
    h = sc.symbols("H")
    x = sympy.floor(h / d) + c
    expr = x + sign * sympy.Mod(k * x, m) + 5
    out = absorb_mod(expr)
    for value in range(1, 60):
        assert out.subs(h, value) == expr.subs(h, value)
