"""Training rules of the attention layers against PyTorch's: MultiheadAttention, Einsum.

Each network is built in torch, converted with ``from_torch`` and run by torch on the
meta device in training mode (tests/torchtrain.py): forward and backward products and the
bytes autograd keeps must be torch's exactly. Hypothesis draws small configurations
(heads, widths, lengths, biases, batch sizes). Swin's window attention is torchvision's
module: its checks against torch live in tests/frontends/test_torchvision_training.py;
here its formula is pinned.
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
torchtrain = require("torchtrain")

B, L = sc.symbols("B L")


def assert_same_step(model: Any, shape: tuple[int, ...], batches=(1, 2, 3)) -> None:
    """symcnn's training step equals torch's at every batch size, exactly."""
    t = sc.from_torch(model, shape).training()
    for b in batches:
        ref = torchtrain.measure(model, (b, *shape))
        at = t.subs({"B": b})
        got = torchtrain.Step(
            int(at.forward_products), int(at.backward_products), int(at.saved_bytes)
        )
        assert got == ref, f"batch {b}: symcnn {got}, torch {ref}"


# -- MultiheadAttention --------------------------------------------------------------------
class SelfAttention(nn.Module):
    """ViT's use: ``attn(x, x, x, need_weights=...)``, after a layer or on the input."""

    def __init__(self, e: int, heads: int, need_weights: bool, bias: bool, first: bool) -> None:
        super().__init__()
        self.first = nn.LayerNorm(e) if first else nn.Identity()
        self.attn = nn.MultiheadAttention(e, heads, bias=bias, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: Any) -> Any:
        y = self.first(x)
        return self.attn(y, y, y, need_weights=self.need_weights)[0] + x


@settings(torch_settings, max_examples=25, deadline=None)
@given(
    heads=st.integers(1, 3),
    per_head=st.integers(1, 4),
    length=st.integers(1, 6),
    need_weights=st.booleans(),
    bias=st.booleans(),
    first=st.booleans(),
)
def test_multihead_attention_is_torchs(heads, per_head, length, need_weights, bias, first):
    e = heads * per_head
    model = SelfAttention(e, heads, need_weights, bias, first)
    assert_same_step(model, (length, e))


def test_multihead_attention_pinned():
    """On the input itself: its copy, q and k scaled, the packed projection, P, the output."""
    e, heads = 16, 4
    model = SelfAttention(e, heads, need_weights=False, bias=True, first=False)
    t = sc.from_torch(model, (L, e)).training(batch=B)
    assert sympy.expand(t.saved_bytes - 4 * B * (7 * L * e + heads * L**2)) == 0
    # the input needs no gradient: the projections' weights, the output projection's
    # input, both operands of both attention products
    assert sympy.expand(t.backward_products - B * (5 * L * e * e + 4 * L**2 * e)) == 0
    weights = sc.from_torch(
        SelfAttention(e, heads, need_weights=True, bias=True, first=False), (L, e)
    ).training(batch=B)
    assert sympy.expand(weights.saved_bytes - 4 * B * (6 * L * e + heads * L**2)) == 0


class CrossAttention(nn.Module):
    def __init__(self, e: int, **options: Any) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(e, 2, batch_first=True, **options)

    def forward(self, x: Any) -> Any:
        y = x[:, :2]
        return self.attn(x, y, y, need_weights=False)[0]


@pytest.mark.parametrize(
    ("model", "why"),
    [
        (CrossAttention(8), "key and value other than the query"),
        (SelfAttention(8, 2, False, True, True), "dropout"),
    ],
)
def test_multihead_attention_outside_its_rule_is_refused(model, why):
    if why == "dropout":
        model.attn.dropout = 0.1
    net = sc.from_torch(model, (5, 8))
    with pytest.raises(sc.UnsupportedLayerError, match="no training rule for MultiheadAttention"):
        net.training()


# -- Einsum ----------------------------------------------------------------------------------
class GridAttention(nn.Module):
    """MaxViT's attention: q, k, v sliced off one projection, heads permuted, two einsums."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)

    def forward(self, x: Any) -> Any:
        b, g, p, d = x.shape
        q, k, v = torch.chunk(self.qkv(x), 3, dim=-1)
        q, k, v = (t.reshape(b, g, p, self.heads, -1).permute(0, 1, 3, 2, 4) for t in (q, k, v))
        k = k * 0.5
        scores = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
        out = torch.einsum("B G H I J, B G H J D -> B G H I D", scores.softmax(-1), v)
        return out.permute(0, 1, 3, 2, 4).reshape(b, g, p, d)


@settings(torch_settings, max_examples=20, deadline=None)
@given(
    heads=st.integers(2, 3),
    per_head=st.integers(2, 3),  # one entry per head: torch multiplies elementwise
    groups=st.integers(1, 3),
    tokens=st.integers(2, 5),
    batches=st.sampled_from([(1,), (2, 3)]),
)
def test_maxvits_einsums_are_torchs(heads, per_head, groups, tokens, batches):
    if batches == (1,) and groups == 1:  # a view, not a copy: the test below
        batches = (2,)
    d = heads * per_head
    assert_same_step(GridAttention(d, heads), (groups, tokens, d), batches)


def test_einsum_folding_to_one_batch_axis_keeps_a_view():
    """Where torch's batch axes fold into one without a copy, q is a view: a limit.

    For one sample of one group, MaxViT's q and v are views of the packed projection
    (3·D per token kept, once) instead of copies (2·D per token): symcnn's per-sample layout, a
    permuted slice that is not dense, does not tell the two apart.
    """
    model = GridAttention(4, 2)
    t = sc.from_torch(model, (1, 2, 4)).training()
    gap = torchtrain.measure(model, (1, 1, 2, 4)).saved - t.subs({"B": 1}).saved_bytes
    assert gap == 4 * 2 * 4  # 2 tokens × (12 − 8) entries, float32
    assert torchtrain.measure(model, (2, 1, 2, 4)).saved == t.subs({"B": 2}).saved_bytes


class Product(nn.Module):
    def __init__(self, equation: str, shapes: tuple[tuple[int, ...], ...]) -> None:
        super().__init__()
        self.equation = equation
        self.a = nn.Linear(shapes[0][-1], shapes[0][-1])
        self.b = nn.Linear(shapes[1][-1], shapes[1][-1])
        self.split = shapes[0][0]

    def forward(self, x: Any) -> Any:
        left, right = x[:, : self.split], x[:, self.split :]
        return torch.einsum(self.equation, self.a(left), self.b(right))


@pytest.mark.parametrize(
    ("equation", "left", "right"),
    [
        ("bij,bjk->bik", (3, 4), (4, 4)),
        ("bij,bkj->bik", (3, 4), (5, 4)),
        ("bij,bkj->bki", (3, 4), (5, 4)),
        ("bij,bij->bi", (3, 4), (3, 4)),
    ],
)
def test_einsums_torch_runs_as_one_batched_product(equation, left, right):
    shape = (left[0] + right[0], left[1])
    assert_same_step(Product(equation, (left, right)), shape)


def test_einsum_pinned_and_refused():
    layer = sc.Einsum("bij,bjk->bik")
    flow = sc.layers.autograd.Flow((True, True), (True, False))
    a, b = sc.Shape((3, 4)), sc.Shape((4, 5))
    kept = layer.saved(flow, a, b)
    assert kept == (*sc.layers.autograd.keeps_inputs(0), sc.layers.autograd.new_tensor(20))
    assert layer.grad_products(flow, a, b)[0].value == 2 * 60
    # nothing contracted (an outer product), a letter summed in one operand: no rule
    assert sc.Einsum("bi,bj->bij").saved(flow, sc.Shape((3,)), sc.Shape((4,))) is None
    assert sc.Einsum("bij,bk->bik").saved(flow, a, sc.Shape((5,))) is None


# -- ShiftedWindowAttention ------------------------------------------------------------------
def test_window_attention_pinned():
    """Swin-T's first block on its 56×56 map: 64 windows of 49 tokens, 96 channels, 3 heads."""
    layer = sc.ShiftedWindowAttention(96, (7, 7), (0, 0), 3)
    x = sc.Shape((56, 56, 96))
    flow = sc.layers.autograd.Flow((True,), (True,))
    (kept,) = layer.saved(flow, x)
    assert kept.per_sample == 64 * (5 * 49 * 96 + 3 * 49**2)
    grads, weights = layer.grad_products(flow, x)
    assert weights.value == 64 * 49 * 4 * 96**2
    assert grads.value == 64 * 49 * (4 * 96**2 + 4 * 49 * 96)
    video = sc.ShiftedWindowAttention(8, (4, 4, 4), (2, 2, 2), 2, adapt_window=True)
    _, index = video.saved(flow, sc.Shape((2, 4, 4, 8)))
    assert (index.per_batch, index.dtype) == (32**2, "int64")
    v2 = sc.ShiftedWindowAttention(96, (8, 8), (0, 0), 3, version=2)
    assert v2.saved(flow, sc.Shape((64, 64, 96))) is None
