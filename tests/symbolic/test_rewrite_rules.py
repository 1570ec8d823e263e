"""The floor/ceiling rule table: every rewrite keeps the value, and the driver settles."""

from __future__ import annotations

from typing import Any

import sympy
from hypothesis import given, note
from hypothesis import strategies as st

import symcnn as sc
from symcnn.symbolic.canonical import canonical
from symcnn.symbolic.rules import (
    CANONICAL_RULES,
    FLOOR_AS_CEILING,
    FLOOR_SHIFT,
    NESTED_FLOOR,
    RELATION_RULES,
    Rule,
    rewrite,
    unfloor,
)

n, k, a = sc.symbols("n k a")  # positive integers
ROUNDINGS = (sympy.floor, sympy.ceiling)


@st.composite
def polynomials(draw: Any) -> sympy.Expr:
    terms = st.sampled_from([n, k, n * k, n**2, sympy.Integer(1)])
    count = draw(st.integers(1, 3))
    return sum((draw(st.integers(-4, 4)) * draw(terms) for _ in range(count)), start=0)


@st.composite
def roundings(draw: Any, depth: int = 3) -> sympy.Expr:
    """Floors and ceilings nested up to ``depth`` deep, mixed, over n, k and a divisor a."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(polynomials())
    kind = draw(st.sampled_from(ROUNDINGS))
    inner = draw(roundings(depth - 1))
    coeff = draw(st.sampled_from([1, 1, 1, 2, -1]))
    offset = draw(st.one_of(polynomials(), st.sampled_from([sympy.Rational(1, 2), k / 2])))
    divisor = draw(st.one_of(st.integers(1, 6).map(sympy.Integer), st.sampled_from([a, 2 * a])))
    expr = kind((coeff * inner + offset) / divisor)
    if draw(st.booleans()):  # a sum of roundings, or a product with one
        expr = expr + draw(st.sampled_from([1, k])) * draw(roundings(depth - 1))
    return expr


points = st.lists(
    st.fixed_dictionaries({n: st.integers(1, 300), k: st.integers(1, 9), a: st.integers(1, 7)}),
    min_size=3,
    max_size=6,
)


def at(expr: sympy.Expr, point: dict[sympy.Symbol, int]) -> sympy.Expr:
    """The value at ``point``: every symbol replaced at once, so sympy evaluates numbers only."""
    return expr.xreplace({s: sympy.Integer(v) for s, v in point.items()})


def rounding_nodes(expr: sympy.Expr) -> list[sympy.Expr]:
    return [e for e in sympy.preorder_traversal(expr) if isinstance(e, ROUNDINGS)]


@given(roundings(), points)
def test_the_table_never_changes_the_value(expr, values):
    rewritten = rewrite(expr, CANONICAL_RULES)
    note(f"rewritten {rewritten}")
    for point in values:
        assert at(rewritten, point) == at(expr, point)


@given(roundings())
def test_the_table_reaches_a_fixed_point(expr):
    rewritten = rewrite(expr, CANONICAL_RULES)
    assert rewrite(rewritten, CANONICAL_RULES) == rewritten
    for node in rounding_nodes(rewritten):
        assert all(rule(node) is None for rule in CANONICAL_RULES), node
    assert canonical(expr) == rewritten  # canonical form is the table's fixed point


one_rounding = st.builds(
    lambda kind, x, d: kind(x / d),
    st.sampled_from(ROUNDINGS),
    polynomials(),
    st.one_of(st.integers(2, 6).map(sympy.Integer), st.just(a)),
)


@given(st.one_of(one_rounding, roundings(depth=2)), polynomials(), st.integers(-3, 3), points)
def test_relation_rules_keep_the_condition(rounded, rest, coeff, values):
    e = coeff * rounded + rest  # the condition e >= 0
    freed = unfloor(e, RELATION_RULES)
    note(f"freed {freed}")
    for point in values:
        assert bool(at(freed, point) >= 0) == bool(at(e, point) >= 0)


@given(polynomials(), st.integers(2, 9), points)
def test_floor_as_ceiling_is_an_identity(x, divisor, values):
    floor = sympy.floor((x + divisor - 1) / divisor)
    written = FLOOR_AS_CEILING(floor)
    if written is None:
        return
    assert isinstance(written, sympy.ceiling)
    for point in values:
        assert at(written, point) == at(floor, point)


def test_rules_are_named_identities():
    tables = CANONICAL_RULES + RELATION_RULES + (FLOOR_AS_CEILING,)
    assert all(isinstance(r, Rule) and r.name for r in tables)
    assert all("=" in r.identity or "⟺" in r.identity for r in tables)
    assert len({r.name for r in tables}) == len(tables)
    assert "nested floor" in repr(NESTED_FLOOR)


def test_nested_rule_and_its_side_conditions():
    assert NESTED_FLOOR(sympy.floor((sympy.floor(n / a) + k) / 3)) == sympy.floor(
        (n + a * k) / (3 * a)
    )
    assert NESTED_FLOOR(sympy.floor((2 * sympy.floor(n / 3) + 1) / 2)) is None
    assert NESTED_FLOOR(sympy.ceiling((sympy.ceiling(n / 3) + 1) / 2)) is None


def test_shift_rewrites_an_unevaluated_floor_as_sympy_would():
    raw = sympy.floor(n / 2 + k + 1, evaluate=False)
    assert FLOOR_SHIFT(raw) == sympy.floor(n / 2) + k + 1 == sympy.floor(n / 2 + k + 1)
    assert rewrite(raw) == sympy.floor(n / 2) + k + 1
    assert FLOOR_SHIFT(sympy.floor(n / 2 + k + 1)) is None  # sympy already did it


def test_unfloor_covers_each_identity():
    u = n - k + 1
    assert unfloor(sympy.floor(u / 3) - 2) == n - k - 5  # ⌊u/3⌋ ≥ 2
    assert unfloor(2 - sympy.floor(u / 3)) == k - n + 7  # ⌊u/3⌋ ≤ 2
    assert unfloor(sympy.ceiling(u / 3) - 2) == n - k - 3  # ⌈u/3⌉ ≥ 2
    assert unfloor(2 - sympy.ceiling(u / 3)) == k - n + 5  # ⌈u/3⌉ ≤ 2
    assert unfloor(2 * sympy.floor(u / 3) - 3) == n - k - 5  # 2F ≥ 3: F ≥ 2
    two = sympy.floor(n / 2) - sympy.floor(k / 3)
    assert unfloor(two) == two  # two atoms: no rule applies
