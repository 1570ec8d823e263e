"""``MultiheadAttention`` against ``torch.nn.MultiheadAttention``: shape, parameters, products.

The formulas are pinned with symbolic sizes; a property compares them with torch's forward
pass, ``sum(p.numel())`` and ``FlopCounterMode`` over random configurations. What
FlopCounterMode misses is pinned too: with ``need_weights=False`` torch calls
``scaled_dot_product_attention``, whose CPU kernel it does not count, and in eval mode
without grad on a self-attention call torch's fused ``_native_multi_head_attention``,
of which it counts nothing. symcnn counts the multiplications done either way.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn

L, S, E = sc.symbols("L S E")


def network(layer: sc.MultiheadAttention, q: tuple, k: tuple, v: tuple) -> sc.Network:
    xs = [sc.Input(q), sc.Input(k), sc.Input(v)]
    return sc.Network(xs, layer(*xs))


def flops(module: Any, q: Any, k: Any, v: Any, *, need_weights: bool, grad: bool) -> int:
    """FlopCounterMode's count over 2 for one forward in eval mode."""
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    ctx = torch.enable_grad() if grad else torch.no_grad()
    with ctx, FlopCounterMode(display=False) as counter:
        module(q, k, v, need_weights=need_weights)
    return counter.get_total_flops() // 2


# -- pinned formulas ---------------------------------------------------------------------
def test_self_attention_formulas_with_symbolic_sizes():
    net = network(sc.MultiheadAttention(E, 4), (L, E), (L, E), (L, E))
    assert net.output_shape == sc.Shape((L, E))
    assert sympy.expand(net.params - (4 * E**2 + 4 * E)) == 0
    # q, k, v, out projections 4·L·E², scores and weighted values 2·L²·E
    assert sympy.expand(net.products - (4 * L * E**2 + 2 * L**2 * E)) == 0
    assert sympy.expand(net.bias_adds - 4 * L * E) == 0
    assert sympy.expand(net.elementwise - L * E) == 0
    assert sympy.Eq(sympy.Mod(E, 4), 0) in net.constraints


def test_cross_attention_with_kdim_vdim_and_extra_keys():
    layer = sc.MultiheadAttention(
        E, 2, bias=False, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5
    )
    net = network(layer, (L, E), (S, 3), (S, 5))
    assert net.output_shape == sc.Shape((L, E))
    assert sympy.expand(net.params - (E**2 + 3 * E + 5 * E + E**2 + 2 * E)) == 0
    expected = L * E**2 + 3 * S * E + 5 * S * E + 2 * L * (S + 2) * E + L * E**2
    assert sympy.expand(net.products - expected) == 0
    assert net.bias_adds == 0


def test_repr_describe_and_name():
    layer = sc.MultiheadAttention(64, 8, bias=False, kdim=32, batch_first=True)
    assert repr(layer) == "MultiheadAttention(64, 8, bias=False, kdim=32, batch_first=True)"
    assert layer.describe() == "nn." + repr(layer)
    assert sc.MultiheadAttention.kind == "mha" and sc.MultiheadAttention.arity == 3


# -- refusals -----------------------------------------------------------------------------
def test_heads_must_divide_embed_dim_as_torch_says():
    with pytest.raises(
        sc.ShapeError,
        match=re.escape(
            "MultiheadAttention(10, 3): embed_dim must be divisible by num_heads "
            "(got embed_dim = 10, num_heads = 3)"
        ),
    ):
        sc.MultiheadAttention(10, 3)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (((4, 9), (4, 8), (4, 8)), "query's last axis must have embed_dim = 8"),
        (((4, 8), (4, 7), (4, 8)), "key's last axis must have kdim = 8"),
        (((4, 8), (4, 8), (4, 6)), "value's last axis must have vdim = 8"),
        (((4, 8), (5, 8), (6, 8)), "key and the value must have the same length"),
    ],
)
def test_inputs_are_checked(shapes, message):
    with pytest.raises(sc.ShapeError, match=re.escape(message)) as err:
        network(sc.MultiheadAttention(8, 2), *shapes)
    assert "mha" in str(err.value)


def test_dropout_must_be_a_number():
    with pytest.raises(sc.ShapeError, match="dropout must be a real number"):
        sc.MultiheadAttention(8, 2, dropout="0.1")


# -- FlopCounterMode's blind spots, pinned ------------------------------------------------
def test_flop_counter_misses_the_attention_products():
    e, h, n = 8, 2, 5
    m = nn.MultiheadAttention(e, h, batch_first=True)
    x = torch.randn(1, n, e)
    net = network(sc.MultiheadAttention(e, h, batch_first=True), (n, e), (n, e), (n, e))
    projections = 4 * n * e * e
    attention = 2 * n * n * e
    assert net.products == projections + attention == 1680
    # need_weights=True, with grad: torch's own bmm for Q·Kᵀ and weights·V, all counted
    assert flops(m, x, x, x, need_weights=True, grad=True) == projections + attention
    # need_weights=False: scaled_dot_product_attention's CPU kernel is not counted
    assert flops(m, x, x, x, need_weights=False, grad=True) == projections
    # eval and no grad on self-attention: the fused fast path, nothing counted at all
    assert flops(m, x, x, x, need_weights=False, grad=False) == 0
    assert flops(m, x, x, x, need_weights=True, grad=False) == 0


# -- the property ---------------------------------------------------------------------------
@st.composite
def configs(draw: Any) -> dict[str, Any]:
    heads = draw(st.integers(1, 4))
    embed = heads * draw(st.integers(1, 4)) + draw(st.sampled_from([0, 0, 0, 0, 1]))
    return {
        "embed_dim": embed,
        "num_heads": heads,
        "bias": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "kdim": draw(st.sampled_from([None, 1, 3, embed])),
        "vdim": draw(st.sampled_from([None, 2, 5, embed])),
    }


@torch_settings
@given(config=configs(), length=st.integers(1, 6), keys=st.integers(1, 6))
def test_matches_torch(config, length, keys):
    e = config["embed_dim"]
    kdim, vdim = config["kdim"] or e, config["vdim"] or e
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = nn.MultiheadAttention(**config, batch_first=True)
    except AssertionError as err:
        assert "divisible" in str(err)
        with pytest.raises(sc.ShapeError, match=r"^MultiheadAttention\(.*embed_dim must be"):
            sc.MultiheadAttention(**config, batch_first=True)
        return
    layer = sc.MultiheadAttention(**config, batch_first=True)
    net = network(layer, (length, e), (keys, kdim), (keys, vdim))
    q, k, v = torch.randn(1, length, e), torch.randn(1, keys, kdim), torch.randn(1, keys, vdim)
    with torch.no_grad():
        out, _ = module.eval()(q, k, v, need_weights=False)
    assert net.output_shape == sc.Shape(tuple(out.shape[1:]))
    assert net.params == sum(p.numel() for p in module.parameters())
    attended = keys + config["add_bias_kv"] + config["add_zero_attn"]
    assert flops(module, q, k, v, need_weights=True, grad=True) == net.products
    uncounted = 2 * length * attended * e  # scaled_dot_product_attention's two matmuls
    assert flops(module, q, k, v, need_weights=False, grad=True) == net.products - uncounted
