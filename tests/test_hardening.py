"""Never a wrong number, never a sympy traceback: hostile symbols, text and graphs."""

from __future__ import annotations

import contextlib
import io

import networkx as nx
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import strategies as scst

# Every name the library gives a symbol of its own, or a variable of code it generates:
# a user's symbol of the same name must never meet it.
INTERNAL_NAMES = [
    "t", "_t", "y", "x", "u", "t_n", "t_t", "t_k", "a0", "a1", "_W", "_formula",
    "np", "floor", "Dummy", "n", "k", "k1", "k2", "H", "W", "D", "L", "c",
]  # fmt: skip


def test_a_user_symbol_named_t_keeps_its_condition():
    c, t = sc.symbols("c t")
    net = sc.Sequential(
        sc.Conv2d(c, c, 1, groups=2), sc.Flatten(), sc.Linear(2 * t, 10), input_shape=(c, 1, 1)
    )
    assert net.constraints == (sympy.Eq(sympy.Mod(c, 2), 0), sympy.Eq(c, 2 * t))
    assert not net.is_valid({c: 4, t: 5})
    with pytest.raises(sc.ShapeError, match=r"in_features = 2\*t .*\(c=4, t=5\)"):
        net.evaluate("params", c=4, t=5)
    assert net.evaluate("params", c=10, t=5) == 10 * 5 + 10 + 10 * 10 + 10


def test_a_user_symbol_named_t_in_min_input():
    t = sc.symbols("t")
    net = sc.Sequential(sc.Conv2d(1, 1, 3, stride=2), sc.MaxPool2d(3), input_shape=(1, t, t))
    assert net.min_input(t) == 7
    assert net.largest(t, require=[net.output_shape[1] <= 4]) == 30  # ⌊(t - 1)/6⌋ <= 4


def _renamed(net: sc.Network, point: dict, names: list[str]):
    """The network and point with every symbol renamed, in sorted order, to ``names``."""
    old = sorted(net.free_symbols, key=str)
    new = sc.symbols(" ".join(names[: len(old)]), seq=True)
    mapping = dict(zip(old, new, strict=True))
    return net.subs(mapping), {mapping[s]: v for s, v in point.items()}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    drawn=scst.symbolic_networks(symbolic_kernels=True, max_layers=3),
    names=st.permutations(INTERNAL_NAMES),
    shifts=st.lists(st.integers(-6, 6), min_size=6, max_size=6),
)
def test_hostile_symbol_names_never_give_a_wrong_number(drawn, names, shifts):
    net, point = _renamed(*drawn, names)
    for shift, symbol in zip(shifts, sorted(point, key=str), strict=False):
        point = {**point, symbol: max(1, point[symbol] + shift)}
    _agree(net, point, ("params", "products"))


def _agree(net, point, quantities):
    """The network at ``point``, or None where it is invalid; evaluate and is_valid agree."""
    try:
        concrete = net.subs(point)
    except sc.ShapeError:
        concrete = None
    assert net.is_valid(point) is (concrete is not None)
    values = {str(s): v for s, v in point.items()}
    for quantity in quantities:
        if concrete is None:
            with pytest.raises(sc.ShapeError):
                net.evaluate(quantity, **values)
        else:
            assert net.evaluate(quantity, **values) == getattr(concrete, quantity)
    return concrete


def test_subs_puts_every_value_in_at_once():
    h, w = sc.symbols("H W")
    net = sc.Sequential(sc.Conv2d(1, 1, (3, 1)), input_shape=(1, h, w))
    swapped = net.subs({h: w, w: h})
    assert swapped.input_shape == (1, w, h)
    assert swapped.output_shape == (1, w - 2, h)
    assert swapped.subs({h: 5, w: 7}).output_shape == (1, 5, 5)
    with pytest.raises(sc.ShapeError, match=r"\(H=2, W=2\)$"):
        swapped.subs({h: 2, w: 2})


def test_min_input_with_a_symbolic_stride_is_a_symcnn_error():
    n = sc.symbols("n")
    net = sc.Sequential(sc.MaxPool2d(3, stride=n, ceil_mode=True), input_shape=(1, n, n))
    with pytest.raises(sc.SolverError, match=r"cannot solve exactly for n: .* not a floor of a"):
        net.min_input(n)


def test_require_text_is_parsed_never_run(tmp_path):
    canary = tmp_path / "canary"
    n, k = sc.symbols("n k")
    net = sc.Sequential(sc.Conv2d(1, 8, k), sc.MaxPool2d(2), input_shape=(1, n, n))
    with pytest.raises(sc.SpecError, match="one comparison"):
        net.smallest(n, {k: 3}, require=[f"__import__('os').mkdir({str(canary)!r})"])
    with pytest.raises(sc.SpecError, match="not allowed"):
        net.smallest(n, {k: 3}, require=[f"__import__('os').mkdir({str(canary)!r}) >= 1"])
    assert not canary.exists()
    assert net.smallest(n, {k: 3}, require=["n // 2 >= 10"]) == 20
    assert net.largest(n, {k: 3}, require=["8*((n - 2)//2)**2 <= 800"]) == 23
    with pytest.raises(sc.SpecError, match=r"names m, not a symbol of this network .*k, n"):
        net.smallest(n, {k: 3}, require=["m >= 3"])
    with pytest.raises(sc.SymcnnError, match="a requirement is a sympy relation"):
        net.smallest(n, {k: 3}, require=[3.5])


def test_the_graph_of_a_network_is_read_only():
    n = sc.symbols("n")
    net = sc.Sequential(sc.Conv2d(1, 8, 3), sc.ReLU(), input_shape=(1, n, n))
    with pytest.raises(TypeError):
        net.graph.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
    with pytest.raises(TypeError):
        net.graph.edges["input", "conv1", 0]["port"] = 1
    with pytest.raises(TypeError):
        net.graph.graph["outputs"] = ["conv1"]
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        net.graph.add_node("extra")
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        net.graph.remove_edge("conv1", "relu1")
    assert net.subs({n: 28}).params == net.params == 80
    # a changed copy is a new network, and the old one still answers as before
    g = nx.DiGraph(net.graph)
    g.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
    g.nodes["relu1"]["layer"] = sc.ReLU()
    changed = sc.Network(g)
    assert (changed.params, net.params) == (160, 80)
    assert changed.output_shape == (16, n - 2, n - 2)
    assert net.output_shape == (8, n - 2, n - 2)


@pytest.mark.parametrize("bad", [-4, 0, 0.5, True, "4", None])
def test_activation_memory_needs_a_positive_whole_number(bad):
    net = sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, 28, 28))
    with pytest.raises(sc.ShapeError, match="bytes_per_element must be a positive whole number"):
        net.activation_memory(bad)
    assert net.activation_memory(2) == 2 * (28 * 28 + 8 * 26 * 26)


def test_bounds_implied_by_a_stronger_one_are_dropped_in_one_pass():
    n, k = sc.symbols("n k")
    net = sc.Sequential(*[sc.Conv2d(4, 4, k) for _ in range(60)], input_shape=(4, n, n))
    assert net.constraints == (n >= 60 * k - 59,)
    chain = sc.Sequential(*[sc.Conv2d(4, 4, 3) for _ in range(60)], input_shape=(4, n, n))
    assert chain.constraints == (n >= 121,)
    p = sc.symbols("p", nonnegative=True)
    padded = sc.Sequential(
        sc.Conv2d(1, 1, 5, padding=p), sc.Conv2d(1, 1, 3, padding=p), input_shape=(1, n, n)
    )
    # neither bound implies the other (p = 0: 7 is stronger; p = 2: 5 - 2p is): both stay
    assert padded.constraints == (n >= 5 - 2 * p, n >= 7 - 4 * p)


def test_sizes_past_the_degree_limit_are_refused_at_once():
    n = sc.symbols("n")
    with pytest.raises(sc.ShapeError, match=r"'kernel_size' = .* has degree 128 .* at most 8"):
        sc.Conv2d(1, 1, (n + 1) ** 64 * (n + 2) ** 64)
    with pytest.raises(sc.ShapeError, match=r"'in_features' = n\*\*64 \+ 1 has degree 64"):
        sc.Linear(n**64 + 1, 10)
    with pytest.raises(sc.ShapeError, match="more than 400 parts"):
        sc.Linear(sympy.Add(*(n**2 * i for i in range(1, 200)), evaluate=False), 10)
    # degree 8 is still reasoned about, and the degree-8 equation solved by factoring
    net = sc.Sequential(sc.Flatten(), sc.Linear(n**8 + 1, 10), input_shape=(1, n, n))
    assert net.constraints == (sympy.Eq(n**2, n**8 + 1),)
    with pytest.raises(sc.ShapeError, match="no value of n makes the network valid"):
        net.min_input(n)
    square = sc.Sequential(sc.Flatten(), sc.Linear(n**4, 10), input_shape=(1, n**2, 1))
    assert square.min_input(n) == 1


def test_min_input_unfolds_nested_floors():
    n = sc.symbols("n")
    net = sc.Sequential(
        sc.Conv2d(1, 1, 1, stride=3),
        sc.Upsample(scale_factor=3),
        sc.AvgPool2d(2, ceil_mode=True),
        input_shape=(1, n, n),
    )
    assert net.min_input(n) == 1
    strided = sc.Sequential(
        sc.Conv2d(1, 1, 3, stride=3),
        sc.Upsample(scale_factor=3),
        sc.AvgPool2d(3, stride=2, ceil_mode=True),
        input_shape=(1, n, n),
    )
    assert strided.min_input(n) == 3
    assert [m for m in range(1, 12) if strided.is_valid({n: m})] == list(range(3, 12))


def test_min_input_names_what_it_cannot_solve():
    n = sc.symbols("n")
    net = sc.Sequential(sc.Conv2d(1, 1, 2**n), input_shape=(1, n, n))
    with pytest.raises(sc.SolverError, match=r"cannot solve exactly for n: n - 2\^n ≥ 0 is not"):
        net.min_input(n)


def test_sympy_failures_become_solver_errors(monkeypatch):
    from symcnn.validity import intsolve

    n = sc.symbols("n")
    net = sc.Sequential(sc.Conv2d(1, 1, 3), input_shape=(1, n, n))

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(intsolve, "_integer_spans", broken)
    with pytest.raises(sc.SolverError, match=r"the smallest n: .*nested too deeply"):
        net.min_input(n)
    assert issubclass(sc.SolverError, ArithmeticError)


def test_a_relation_sympy_cannot_simplify_is_kept_as_stated(monkeypatch):
    from symcnn.validity import domain

    n = sc.symbols("n")

    def broken(*args, **kwargs):
        return sympy.Poly(1 / n, n)  # sympy's PolynomialError, from inside sympy

    monkeypatch.setattr(domain, "simplify_relation", broken)
    net = sc.Sequential(sc.Conv2d(1, 1, 3), sc.MaxPool2d(2), input_shape=(1, n, n))
    # as the layers state them: the kernel fits (3 <= n), the window fits (2 <= n - 2)
    assert net.constraints == (n >= 3, n - 2 >= 2)


SPEC_NAMES = ["t", "y", "x", "u", "t_n", "a0", "np", "n", "k", "k1", "H", "W", "c", "total"]


@st.composite
def hostile_specs(draw):
    """A spec string over symbols with internal names, its input sizes, and a point."""
    a, b = draw(st.permutations(SPEC_NAMES))[:2]
    size = st.sampled_from([a, b, "2", "3", f"{a} + 1", f"2*{b}", f"{a}//2 + 1"])
    stride = st.sampled_from(["1", "2", b])
    layers = draw(
        st.lists(
            st.one_of(
                st.builds("Conv2d(2, 2, {}, stride={})".format, size, stride),
                st.builds("MaxPool2d({}, ceil_mode=True)".format, size),
                st.builds("AvgPool2d(2, stride={})".format, size),
                st.just("ReLU"),
                st.just("Upsample(scale_factor=2)"),
            ),
            min_size=1,
            max_size=4,
        )
    )
    point = {a: draw(st.integers(1, 40)), b: draw(st.integers(1, 6))}
    return " | ".join(layers), f"2, {a} + 3, {a}", point


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(hostile_specs())
def test_spec_text_with_internal_names_never_gives_a_wrong_number(drawn):
    from symcnn.cli import main
    from symcnn.frontends.spec import parse_spec

    spec, sizes, point = drawn
    try:
        net = parse_spec(spec, input_shape=sizes)
    except sc.SymcnnError:
        return  # refused as it stands: a layer's rule is false for every value
    by_name = {str(s): s for s in net.free_symbols}
    point = {by_name[name]: v for name, v in point.items() if name in by_name}
    concrete = _agree(net, point, ("products", "output_elements"))
    at = ",".join(f"{s}={v}" for s, v in point.items())
    answer = _cli(main, ["formula", spec, "--input", sizes, "--at", at])
    assert answer == ((1, "") if concrete is None else (0, f"products = {concrete.products}\n"))


def _cli(main, args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    assert "Traceback" not in err.getvalue()
    return status, out.getvalue()


def test_a_sympy_failure_while_deriving_names_the_layer(monkeypatch):
    from symcnn.layers import conv
    from symcnn.layers.base import _derive

    n = sc.symbols("n")

    def broken(*args, **kwargs):
        return sympy.Poly(1 / n, n)  # sympy's PolynomialError, from inside sympy

    monkeypatch.setattr(conv, "conv_output_size_padded", broken)
    _derive.cache_clear()  # equal layers on equal shapes are derived once: derive anew
    with pytest.raises(
        sc.SolverError,
        match=r"^deriving Conv2d\(1, 8, kernel_size=3\) at node 'conv1': sympy failed "
        r"\(PolynomialError: 1/n contains",
    ):
        sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, n, n))


@pytest.mark.parametrize(
    "call",
    [
        lambda: sc.conv_output_size("__import__('os').getcwd()", 3),
        lambda: sc.pool_output_size("1+1", 2),
        lambda: sc.same_padding("3"),
        lambda: sc.conv_transpose_output_size(4, "2"),
    ],
)
def test_size_rules_refuse_text(call):
    with pytest.raises(sc.SpecError, match="not text"):
        call()


def test_leading_term_of_what_is_no_polynomial_is_named():
    n = sc.symbols("n")
    net = sc.Sequential(sc.Conv2d(1, 2**n, 3), input_shape=(1, n, n))
    with pytest.raises(sc.SolverError, match=r"10·2\^n is not a polynomial in n"):
        net.leading_term("params", n)


def test_past_the_simplification_budget_relations_stay_as_stated(monkeypatch):
    from symcnn.validity import domain

    n = sc.symbols("n")
    monkeypatch.setattr(domain, "SIMPLIFY_SECONDS", 0.0)
    net = sc.Sequential(sc.Conv2d(1, 1, 3), sc.MaxPool2d(2), input_shape=(1, n, n))
    assert net.constraints == (n >= 3, n - 2 >= 2)  # exact, only not simplified
    assert net.is_valid({n: 4}) and not net.is_valid({n: 3})


def test_past_the_solver_budget_the_solver_says_so(monkeypatch):
    from symcnn.validity import intsolve

    n = sc.symbols("n")
    monkeypatch.setattr(intsolve, "SOLVE_SECONDS", -1.0)
    net = sc.Sequential(sc.MaxPool2d(3, stride=2), input_shape=(1, n, n))
    with pytest.raises(sc.SolverError, match=r"cannot solve for n within -1 s: 0 of 1 residue"):
        net.min_input(n)


def test_a_disjunction_beside_bounds_stays_in_the_domain():
    n, s, o = sc.symbols("n s o")
    net = sc.Sequential(
        sc.Conv2d(1, 1, 3),
        sc.ConvTranspose2d(1, 1, 3, stride=s, output_padding=o, dilation=2),
        input_shape=(1, n, n),
    )
    # the output size o + (n - 3)·s + 5 >= 1 follows from n >= 3 and o, s >= 1: dropped
    assert net.constraints == (n >= 3, sympy.Or(sympy.Lt(o, s), sympy.Lt(o, 2)))


def test_a_hundred_residue_classes_solve_quickly():
    # floors over 12 and 27: 108 residue classes, each a quadratic in t
    n = sc.symbols("n")
    net = sc.Sequential(
        sc.Conv2d(2, 4, 1, stride=3),
        sc.Conv2d(4, 3, 1, stride=(2, 3), dilation=(2, 1)),
        sc.Conv2d(3, 3, 1, stride=(2, 3)),
        sc.Conv2d(3, 1, 1, bias=False),
        input_shape=(2, n, n),
    )
    assert str(net.output_shape) == "1×⌈n/12⌉×⌈n/27⌉"
    limit = net.largest(n, require=[net.products <= 10**6])
    assert limit == 930
    assert net.subs({n: 930}).products == 995000
    assert net.subs({n: 931}).products == 1001216
