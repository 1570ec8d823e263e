"""The property suite, built on symcnn.strategies.

Budget: every property runs at the active hypothesis profile (tests/conftest.py): 200
examples each under CI=true (profile "ci", no deadline), 60 locally (profile "dev"). Sizes
are kept small (spatial sizes up to 16, at most 4 channels, 1–5 layers or 1–3 blocks) so
each torch forward pass is on a tensor of a few hundred elements, and the whole file stays
within a few minutes on two cores. Nothing here skips under CI=true: the torch properties
take conftest's ``torch`` fixture, which fails when torch is missing.

What each property pins:

1. substitution — deriving with symbols and then substituting (both ``expr.subs`` on
   every formula and ``net.subs``, and ``net.evaluate``) equals deriving from numbers, per
   layer and in total, for sequential networks (1-, 2- and 3-D, symbolic kernels too) and
   branching ones;
2. canonical form — the collapsed single-floor output size equals the nested formula
   PyTorch documents, layer after layer, at every integer point tried, and so does the
   collapse of random nested floors and ceilings;
3. validity — symcnn's ``is_valid`` is True exactly when a torch forward pass succeeds,
   and then every node's shape, the parameters, buffers and products agree with torch;
4. invariance and monotonicity — parameters depend on an input size exactly when a
   ``LazyLinear`` reads an axis that depends on it (after a flatten, or on an unflattened
   map's last axis); products, per layer and in total, never decrease as one input size
   grows, for every layer symcnn has (pinned counterexamples: products against kernel
   size, parameters of a LazyLinear on a map);
5. exactness — at sizes from 2^20 to 2^40, where products pass 2^63, ``net.evaluate``
   (object arrays of Python ints) equals the formula and the substituted network.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import networkx as nx
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import symcnn as sc
import symcnn.strategies as scst
from symcnn.symbolic.canonical import canonical
from symcnn.symbolic.sizes import conv_output_size, pool_output_size

from torchcheck import TorchRun

pytestmark = pytest.mark.slow

# Drawing a network derives it with sympy (tens of milliseconds each): generation is slow
# by design and must not trip hypothesis' too_slow health check on a loaded CI machine.
# The example budget stays the active profile's (conftest: 200 under CI=true, 60 locally).
slow_draws = settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

n = sc.symbols("n")

#: windowed layers twice as often as the rest: they are what makes a domain
KINDS = (
    "conv",
    "conv",
    "pool",
    "pool",
    *(k for k in scst.LAYER_KINDS if k not in ("conv", "pool")),
)


def network_cases(family: Any) -> st.SearchStrategy[Any]:
    """``(net, point)``: a symbolic sequential network of rank 1, 2 or 3, or a branching one."""
    if family == "branching":
        return scst.branching_networks(symbolic=True, max_blocks=3, max_size=10)
    return scst.symbolic_networks(
        ndim=family,
        max_layers=5,
        max_size={1: 16, 2: 12, 3: 6}[family],
        max_kernel_size=4,
        kinds=KINDS,
        symbolic_kernels=family == 2,
    )


cases = st.sampled_from([1, 2, 3, "branching"]).flatmap(network_cases)
#: windowed layers only, on inputs of at least 4: most of these have a domain to leave
windowed_cases = st.integers(1, 3).flatmap(
    lambda nd: scst.symbolic_networks(
        ndim=nd,
        min_size=4,
        max_size={1: 16, 2: 12, 3: 6}[nd],
        max_kernel_size=5,
        kinds=("conv", "pool", "pool", "activation", "flatten", "linear"),
    )
)


def numeric_twin(net: sc.Network, point: dict[Any, int]) -> sc.Network:
    """The same graph built from numbers: every layer with its symbols replaced first."""
    graph = nx.DiGraph()
    for node, data in net.graph.nodes(data=True):
        graph.add_node(node, layer=data["layer"].substituted(point))
    for a, b, data in net.graph.edges(data=True):
        graph.add_edge(a, b, port=data["port"])
    return sc.Network(graph)


def size_symbols(net: sc.Network) -> set[sympy.Symbol]:
    return {s for i in net.inputs for s in i.free_symbols}


# -- 1. symbolic, then substitute, equals numbers from the start ------------------------------
QUANTITIES = ("params", "products", "bias_adds", "buffers", "elementwise", "output_elements")


@slow_draws
@given(cases)
def test_symbolic_then_substitute_equals_numeric_construction(case):
    net, point = case
    direct = numeric_twin(net, point)
    substituted = net.subs(point)
    assert direct.constraints == () == substituted.constraints
    assert [r.name for r in direct.layers] == [r.name for r in net.layers]
    for sym, sub, num in zip(net.layers, substituted.layers, direct.layers, strict=True):
        assert sym.output_shape.subs(point) == sub.output_shape == num.output_shape
        for q in QUANTITIES:
            assert sympy.sympify(getattr(sym, q)).subs(point) == getattr(num, q), (sym.name, q)
            assert getattr(sub, q) == getattr(num, q)
        assert sub.params_text == num.params_text
        assert sub.products_text == num.products_text
        assert sub.receptive_field == num.receptive_field
        assert sub.jump == num.jump
    for q in QUANTITIES:
        total = getattr(direct, q)
        assert getattr(net, q).subs(point) == total == getattr(substituted, q)
        assert isinstance(total, sympy.Integer)
    # table rows sum to the totals
    assert direct.params == sum(r.params for r in direct.layers if not r.shared)
    assert direct.products == sum(r.products for r in direct.layers)
    # exact compiled evaluation agrees with sympy
    values = {str(s): v for s, v in point.items()}
    assert int(net.evaluate("products", **values)) == direct.products
    assert int(net.evaluate("params", **values)) == direct.params


# -- 2. canonical form equals the nested formula ----------------------------------------------
@st.composite
def window_chains(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    """Convolutions and poolings along one axis, as (kind, keyword arguments)."""
    chain = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "pool"]))
        k = draw(st.integers(1, 5))
        cfg: dict[str, Any] = {"kernel_size": k, "stride": draw(st.integers(1, 4))}
        if kind == "conv":
            cfg["padding"] = draw(st.integers(0, 3))
            cfg["dilation"] = draw(st.integers(1, 3))
        else:
            cfg["padding"] = draw(st.integers(0, k // 2))
            cfg["dilation"] = draw(st.integers(1, 2))
            cfg["ceil_mode"] = draw(st.booleans())
        chain.append((kind, cfg))
    return chain


def nested_size(chain: list[tuple[str, dict[str, Any]]], size: Any) -> Any:
    """The output size as PyTorch documents it, one layer at a time, never collapsed."""
    for kind, cfg in chain:
        if kind == "conv":
            size = conv_output_size(size, **cfg)
        else:
            size = pool_output_size(size, **cfg)
    return size


@given(window_chains(), st.lists(st.integers(1, 400), min_size=5, max_size=5))
def test_canonical_output_size_equals_the_nested_formula(chain, points):
    nested = nested_size(chain, n)
    collapsed = canonical(nested)
    layers = [
        sc.Conv1d(1, 1, **cfg) if kind == "conv" else sc.MaxPool1d(**cfg) for kind, cfg in chain
    ]
    shape_formula = sc.Sequential(*layers, input_shape=(1, n)).output_shape[1]
    note(f"nested {nested}\ncollapsed {collapsed}")
    assert collapsed == shape_formula
    if all(kind == "conv" or not cfg["ceil_mode"] for kind, cfg in chain):
        # without ceil mode's Min every nesting collapses: one floor at most
        assert len(collapsed.atoms(sympy.floor)) <= 1
    for v in points:
        assert collapsed.subs(n, v) == nested.subs(n, v) == nested_size(chain, sympy.Integer(v))


@st.composite
def nested_roundings(draw: Any) -> sympy.Expr:
    """⌊(⌊x/a⌋ + b)/c⌋ or ⌈(⌈x/a⌉ + b)/c⌉ with x, b integer polynomials, a, c positive."""
    k = sc.symbols("k")
    terms = st.sampled_from([n, k, n * k, n**2, sympy.Integer(1)])
    coeff = st.integers(-4, 4)

    def poly() -> sympy.Expr:
        return sum((draw(coeff) * draw(terms) for _ in range(draw(st.integers(1, 3)))), start=0)

    kind = draw(st.sampled_from([sympy.floor, sympy.ceiling]))
    a = draw(st.one_of(st.integers(1, 6).map(sympy.Integer), st.just(k)))
    c = draw(st.integers(1, 6))
    expr = kind((kind(poly() / a) + poly()) / c)
    if draw(st.booleans()):  # a third level
        expr = kind((expr + poly()) / draw(st.integers(2, 5)))
    return expr


def exact(expr: Any, at: dict[Any, int]) -> Fraction:
    """The value of a size formula by rational arithmetic alone: no sympy evaluation."""
    if expr.is_Symbol:
        return Fraction(at[expr])
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    args = [exact(a, at) for a in expr.args]
    if isinstance(expr, sympy.Add):
        return sum(args, Fraction(0))
    if isinstance(expr, sympy.Mul):
        return math.prod(args, start=Fraction(1))
    if isinstance(expr, sympy.Pow):
        return args[0] ** int(expr.exp)
    if isinstance(expr, sympy.floor):
        return Fraction(math.floor(args[0]))
    if isinstance(expr, sympy.ceiling):
        return Fraction(math.ceil(args[0]))
    raise TypeError(expr)


@given(nested_roundings(), st.lists(st.tuples(st.integers(-50, 50), st.integers(1, 9)), min_size=4))
def test_canonical_form_equals_the_uncanonicalized_expression(expr, points):
    # sympy 1.14 calls n·(2n + 2)/6 an integer and drops its floor; before canonical()
    # expanded its numerators, floor(floor((k·n + 2n²)/k)/3) read 2/3 at n = 1, k = 2.
    k = sc.symbols("k")
    collapsed = canonical(expr)
    note(f"collapsed {collapsed}")
    for value_n, value_k in points:
        at = {n: value_n, k: value_k}
        truth = exact(expr, at)
        assert truth.denominator == 1
        assert exact(collapsed, at) == truth
        assert collapsed.subs(at) == truth
        assert collapsed.xreplace({n: sympy.Integer(value_n)}).subs(k, value_k) == truth


def test_canonical_form_survives_sympys_integer_guess():
    k = sc.symbols("k")
    expr = sympy.floor(sympy.floor((k * n + 2 * n**2) / k) / 3)
    collapsed = canonical(expr)
    assert collapsed == sympy.floor((k * n + 2 * n**2) / (3 * k))
    assert collapsed.subs({n: 1, k: 2}) == 0


# -- 3. valid exactly when torch runs, and then equal ------------------------------------------
@st.composite
def points_near(draw: Any, net: sc.Network, point: dict[Any, int]) -> dict[Any, int]:
    """A point inside the domain, just outside it, or anywhere small."""
    movable = {s for c in net.constraints for s in c.free_symbols}
    modes = ["inside", "small"] + (["outside", "outside"] if movable else [])
    mode = draw(st.sampled_from(modes))
    event(f"point: {mode}")
    if mode == "inside":
        return draw(scst.inputs_in_domain(net, max_size=16))
    if mode == "outside":
        return draw(scst.inputs_outside_domain(net, max_size=16))
    return {s: draw(st.integers(1, 6)) for s in point}


@pytest.mark.torch
@slow_draws
@given(st.one_of(cases, windowed_cases), st.data())
def test_valid_exactly_when_torch_runs_and_then_equal(torch, case, data):
    net, point = case
    at = data.draw(points_near(net, point), label="point")
    valid = net.is_valid(at)
    run = TorchRun(torch, net, at)
    event(f"valid: {valid}")
    assert valid == (run.error is None), (
        f"symcnn says {'valid' if valid else net.violation(at)}; torch "
        f"{'ran' if run.error is None else 'raised ' + repr(run.error)}"
    )
    if not valid:
        return
    concrete = net.subs(at)
    for record in concrete.layers:
        assert record.output_shape == run.shapes[record.name], record.name
    assert concrete.params == run.params
    assert concrete.buffers == run.buffers
    assert concrete.products == run.products


# -- 4. invariance and monotonicity ------------------------------------------------------------
@slow_draws
@given(cases)
def test_params_depend_on_sizes_exactly_through_a_lazy_linear(case):
    net, _ = case
    sizes = size_symbols(net)
    through_lazy = set()
    for record in net.layers:
        if isinstance(record.layer, sc.LazyLinear):
            through_lazy |= record.input_shape[-1].free_symbols & sizes
    event(f"params depend on sizes: {bool(through_lazy)}")
    assert net.params.free_symbols & sizes == through_lazy


def test_lazy_linear_on_a_map_makes_params_depend_on_the_width():
    # "parameters do not depend on spatial size unless a LazyLinear follows a flatten" is
    # one case of the rule above: a LazyLinear reads the last axis, flattened or not.
    h, w = sc.symbols("H W")
    net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.LazyLinear(4), input_shape=(3, h, w))
    assert net.output_shape == (8, h - 2, 4)
    assert net.params == 8 * (3 * 9 + 1) + 4 * (w - 2 + 1)


def test_products_are_not_monotone_in_the_kernel_size():
    k = sc.symbols("k")
    net = sc.Sequential(sc.Conv2d(1, 1, k), input_shape=(1, 10, 10))
    products = [net.subs({k: v}).products for v in range(1, 11)]
    # (10 - k + 1)² · k²: rises to k = 5 and 6, then falls
    assert products == [100, 324, 576, 784, 900, 900, 784, 576, 324, 100]


@slow_draws
@given(cases, st.data())
def test_products_never_decrease_as_an_input_size_grows(case, data):
    net, point = case
    x = data.draw(st.sampled_from(sorted(size_symbols(net), key=str)), label="grown size")
    fixed = {str(s): v for s, v in point.items() if s is not x}
    sizes = list(range(1, 41))
    totals = net.evaluate("products", on_invalid="mask", **fixed, **{str(x): sizes})
    valid = [(v, int(t)) for v, t, m in zip(sizes, totals.data, totals.mask, strict=True) if not m]
    event(f"valid sizes out of 40: {len(valid) // 10 * 10}+")
    assert any(v == point[x] for v, _ in valid)
    values = [t for _, t in valid]
    assert values == sorted(values), f"products along {x}: {valid}"
    for record in net.layers:
        known = {str(s) for s in record.layer.free_symbols}
        known |= {str(s) for shape in record.input_shapes for s in shape.free_symbols}
        known |= {str(s) for _, cond in record.domain for s in cond.relation.free_symbols}
        if str(x) not in known:  # after a flatten or an adaptive pooling: constant in x
            continue
        mine = {name: v for name, v in fixed.items() if name in known}
        per_layer = record.evaluate("products", on_invalid="mask", **mine, **{str(x): sizes})
        kept = [int(t) for t, m in zip(per_layer.data, per_layer.mask, strict=True) if not m]
        assert kept == sorted(kept), record.name


# -- 5. exact past int64 ------------------------------------------------------------------------
@slow_draws
@given(cases, st.data())
def test_evaluation_stays_exact_at_sizes_past_int64(case, data):
    net, point = case
    sizes = size_symbols(net)
    huge = st.integers(2**20, 2**40)
    values = {
        s: data.draw(st.lists(huge, min_size=3, max_size=3)) if s in sizes else [v] * 3
        for s, v in point.items()
    }
    named = {str(s): v for s, v in values.items()}
    for quantity in ("products", "output_elements"):
        swept = net.evaluate(quantity, on_invalid="mask", **named)
        formula = getattr(net, quantity)
        for i in range(3):
            at = {s: v[i] for s, v in values.items()}
            if np.ma.getmaskarray(swept)[i]:
                assert not net.is_valid(at)
                continue
            assert int(swept.data[i]) == formula.subs(at) == getattr(net.subs(at), quantity)
