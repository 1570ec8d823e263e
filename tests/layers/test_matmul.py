"""Matrix products: ``MatMul``, ``Einsum`` and ``ScaledDotProductAttention``.

Pinned shapes and products (symbolic too), the einsum parser on hostile equations (each
refused with a ShapeError or UnsupportedLayerError naming the rule, never another error),
and hypothesis against torch: random shapes and random valid two-operand equations give
torch's forward shape and FlopCounterMode's flops / 2.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.layers.matmul import parse_einsum

from conftest import require
from torchcheck import torch_settings

N, M, K = sc.symbols("N M K")


def network(layer: Any, *shapes: tuple[Any, ...]) -> sc.Network:
    xs = [sc.Input(s) for s in shapes]
    return sc.Network(xs, layer(*xs))


# -- MatMul ------------------------------------------------------------------------------
def test_matmul_pinned():
    net = network(sc.MatMul(), (4, 10, 8), (1, 8, 6))
    assert net.output_shape == (4, 10, 6)
    assert net.products == 4 * 10 * 6 * 8
    assert net.params == 0


def test_matmul_symbolic():
    net = network(sc.MatMul(), (N, K), (K, M))
    assert net.output_shape == (N, M)
    assert net.products == N * M * K
    net = network(sc.MatMul(), (N, K), (M, N))
    assert net.output_shape == (N, N)
    assert any("inner sizes" in c.explain() for c in net.conditions)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ((3, 4), (5, 6), "inner sizes of MatMul"),
        ((2, 3, 4), (3, 4, 6), "agree on axis 0"),
        ((3, 4), (2, 4, 6), "one rank per sample"),
        ((4,), (4,), "at least 2 axes"),
    ],
)
def test_matmul_refusals(a, b, message):
    with pytest.raises(sc.ShapeError, match=message):
        network(sc.MatMul(), a, b)


# -- Einsum ------------------------------------------------------------------------------
def test_einsum_pinned():
    e = sc.Einsum("bhnd,bhmd->bhnm")
    net = network(e, (8, N, 64), (8, M, 64))
    assert net.output_shape == (8, N, M)
    assert net.products == 8 * N * M * 64
    assert e.describe() == "torch.einsum('bhnd,bhmd->bhnm', ...)"
    assert repr(e) == "Einsum('bhnd,bhmd->bhnm')"


def test_einsum_counts_as_torch_contracts():
    # k summed out of one operand first, then the product over i and j.
    assert network(sc.Einsum("bij,bkj->bi"), (3, 4), (5, 4)).products == 3 * 4
    # Nothing contracted: torch multiplies elementwise, no matrix product.
    outer = network(sc.Einsum("bi,bj->bij"), (3,), (4,))
    assert (outer.products, outer.elementwise, outer.output_shape) == (0, 12, (3, 4))
    dots = network(sc.Einsum("b...ij,b...jk->b...ik"), (7, 3, 4), (7, 4, 5))
    assert (dots.output_shape, dots.products) == ((7, 3, 5), 7 * 3 * 4 * 5)


def test_einsum_implicit_output():
    assert parse_einsum("bij,bjk") == (("bij", "bjk"), "ik")
    assert parse_einsum("ba,bc") == (("ba", "bc"), "ac")
    assert parse_einsum("...ij,...jk") == ((".ij", ".jk"), ".ik")
    # The batch letter is reduced in implicit form: refused.
    with pytest.raises(sc.ShapeError, match="batch letter"):
        sc.Einsum("bij,bjk")


@pytest.mark.parametrize(
    ("equation", "error", "message"),
    [
        ("", sc.ShapeError, "names no operand"),
        ("->", sc.ShapeError, "names no operand"),
        ("bij,bjk->bik->b", sc.ShapeError, "more than one '->'"),
        ("bij,bjk->bii", sc.ShapeError, "appears twice"),
        ("bij,bjk->bix", sc.ShapeError, "in no operand"),
        ("bi1,bjk->bik", sc.ShapeError, "ASCII letters"),
        ("bïj,bjk->bik", sc.ShapeError, "ASCII letters"),
        ("b😀,b😀->b", sc.ShapeError, "ASCII letters"),
        ("b....i,bi->bi", sc.ShapeError, "outside '...'"),
        ("b.i,bi->bi", sc.ShapeError, "outside '...'"),
        ("b...i...,bi->bi", sc.ShapeError, "more than one '...'"),
        ("bi,bi>b", sc.ShapeError, "ASCII letters"),
        ("__import__('os')", sc.ShapeError, "ASCII letters"),
        ("b" * 5000, sc.ShapeError, "over 200"),
        (",".join(["bi"] * 3) + "->b", sc.UnsupportedLayerError, "3 operands"),
        ("bi->b", sc.UnsupportedLayerError, "1 operands"),
        ("bij,cjk->bik", sc.ShapeError, "one batch letter"),
        ("bij,bjk->ikb", sc.ShapeError, "batch letter 'b' first"),
        ("bij,bjb->bi", sc.ShapeError, "only there"),
        ("...ij,...jk->...ik", sc.ShapeError, "one batch letter"),
        (",bi->b", sc.ShapeError, "one batch letter"),
        (3, sc.ShapeError, "must be a str"),
        (None, sc.ShapeError, "must be a str"),
    ],
)
def test_einsum_hostile_equations(equation, error, message):
    with pytest.raises(error, match=message):
        sc.Einsum(equation)


@pytest.mark.parametrize(
    ("equation", "a", "b", "message"),
    [
        ("bij,bjk->bik", (3, 4), (5, 6), "one size"),
        ("bij,bjk->bik", (3, 4, 5), (4, 6), "name 2"),
        ("bii,bij->bj", (3, 4), (3, 5), "one size"),
    ],
)
def test_einsum_size_mismatch(equation, a, b, message):
    with pytest.raises(sc.ShapeError, match=message):
        network(sc.Einsum(equation), a, b)


def test_einsum_symbolic_condition():
    net = network(sc.Einsum("bij,bjk->bik"), (N, K), (M, N))
    assert any("every axis of subscript 'j'" in c.explain() for c in net.conditions)


@given(st.text(alphabet=string.ascii_letters + ",.->é ", max_size=30))
def test_einsum_never_crashes(equation):
    try:
        sc.Einsum(equation)
    except (sc.ShapeError, sc.UnsupportedLayerError):
        pass


# -- attention ---------------------------------------------------------------------------
def test_attention_pinned():
    net = network(sc.ScaledDotProductAttention(), (2, N, 8), (2, M, 8), (2, M, 4))
    assert net.output_shape == (2, N, 4)
    assert net.products == 2 * N * M * (8 + 4)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (((5, 8), (6, 7), (6, 4)), "last sizes of q and k"),
        (((5, 8), (6, 8), (7, 4)), "lengths S"),
        (((2, 5, 8), (3, 6, 8), (3, 6, 4)), "axis 0"),
        (((5, 8), (6, 8), (2, 6, 4)), "one rank"),
    ],
)
def test_attention_refusals(shapes, message):
    with pytest.raises(sc.ShapeError, match=message):
        network(sc.ScaledDotProductAttention(), *shapes)


@pytest.mark.parametrize(
    "kwargs",
    [{"dropout_p": 2.0}, {"is_causal": 1}, {"scale": "x"}, {"enable_gqa": True}],
)
def test_attention_arguments(kwargs):
    with pytest.raises(sc.ShapeError, match="ScaledDotProductAttention"):
        sc.ScaledDotProductAttention(**kwargs)


# -- against torch -----------------------------------------------------------------------
def _torch_count(fn: Any, *shapes: tuple[int, ...]) -> tuple[tuple[int, ...] | None, int]:
    torch = require("torch")
    from torch.utils.flop_counter import FlopCounterMode

    tensors = [torch.randn(2, *s) for s in shapes]
    try:
        with FlopCounterMode(display=False) as counter:
            out = fn(*tensors)
    except RuntimeError:
        return None, 0
    return tuple(out.shape[1:]), counter.get_total_flops() // 4  # two samples, 2 per product


def _check(layer: Any, fn: Any, *shapes: tuple[int, ...]) -> None:
    expected, products = _torch_count(fn, *shapes)
    try:
        net = network(layer, *shapes)
    except sc.ShapeError:
        assert expected is None
        return
    assert net.output_shape == expected
    assert net.products == products


@pytest.mark.torch
@given(data=st.data())
@torch_settings
def test_matmul_as_torch(data):
    torch = require("torch")
    rank = data.draw(st.integers(0, 2))
    lead = [data.draw(st.integers(1, 3)) for _ in range(rank)]
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    k2 = data.draw(st.sampled_from([k, k, 1, 3]))
    other = [data.draw(st.sampled_from([s, 1, 2])) for s in lead]
    _check(sc.MatMul(), torch.matmul, (*lead, n, k), (*other, k2, m))


@st.composite
def equations(draw: Any) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    letters = draw(st.lists(st.sampled_from("ijklmn"), min_size=1, max_size=5, unique=True))
    sizes = {ch: draw(st.integers(1, 4)) for ch in letters}
    a = draw(st.lists(st.sampled_from(letters), min_size=1, max_size=3))
    b = draw(st.lists(st.sampled_from(letters), min_size=1, max_size=3))
    used = sorted(set(a) | set(b))
    out = draw(st.lists(st.sampled_from(used), max_size=3, unique=True))
    dots = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    e = "..." if draw(st.booleans()) else ""
    kept = e if draw(st.booleans()) else ""
    equation = f"b{e}{''.join(a)},b{e}{''.join(b)}->b{kept}{''.join(out)}"
    lead = dots if e else ()
    return equation, (*lead, *(sizes[c] for c in a)), (*lead, *(sizes[c] for c in b))


@pytest.mark.torch
@given(eq=equations())
@torch_settings
def test_einsum_as_torch(eq):
    torch = require("torch")
    equation, a, b = eq
    _check(sc.Einsum(equation), lambda x, y: torch.einsum(equation, x, y), a, b)


@pytest.mark.torch
@given(data=st.data())
@torch_settings
def test_attention_as_torch(data):
    torch = require("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    lead = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 1)))]
    q, s, e, ev = (data.draw(st.integers(1, 5)) for _ in range(4))

    def attend(*t: Any) -> Any:
        with sdpa_kernel(SDPBackend.MATH):  # the kernel FlopCounterMode counts
            return torch.nn.functional.scaled_dot_product_attention(*t)

    _check(sc.ScaledDotProductAttention(), attend, (*lead, q, e), (*lead, s, e), (*lead, s, ev))
