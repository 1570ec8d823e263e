"""MViT's layers, ``MultiscaleAttention``, ``TokenPool``, ``ClassPositionalEncoding``, vs torch.

The formulas are pinned at mvit_v1_b's first block. A property builds random small
configurations (pooled or unpooled queries, keys and values, MViT V2's relative position
tables, its residual pooling) both as symcnn's layer and as a torch module written here
from the operations torchvision's MViT performs (the heads folded into the batch to pool
the grid, the class token kept, the tables interpolated and gathered), and compares the
output shape, the parameters and ``FlopCounterMode``'s products. torchvision's own modules
are compared in tests/frontends/test_torchvision_zoo.py.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.layers import ClassPositionalEncoding, MultiscaleAttention, TokenPool

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn, F = torch.nn, torch.nn.functional

T, H, W = sc.symbols("T H W")


def ints(values: Any) -> list[int]:
    return [int(v) for v in values]


class GridPool(nn.Module):
    """torchvision's MViT ``Pool``: (B, heads, 1 + T·H·W, d), the grid pooled per head."""

    def __init__(self, pool: Any, norm: Any) -> None:
        super().__init__()
        self.pool, self.norm = pool, norm

    def forward(self, x: Any, thw: list[int]) -> tuple[Any, list[int]]:
        b, heads, _, d = x.shape
        token, grid = x[:, :, :1], x[:, :, 1:]
        grid = self.pool(grid.transpose(2, 3).reshape(b * heads, d, *thw))
        out = list(grid.shape[2:])
        x = torch.cat((token, grid.reshape(b, heads, d, -1).transpose(2, 3)), dim=2)
        return (x if self.norm is None else self.norm(x)), out


def relative(table: Any, q: int, k: int) -> Any:
    """(q, k, d): the table interpolated to 2·max(q, k) - 1 rows, gathered by offset."""
    rows = 2 * max(q, k) - 1
    if table.shape[0] != rows:
        table = F.interpolate(table.T[None], size=rows, mode="linear")[0].T
    q_ratio, k_ratio = max(k / q, 1.0), max(q / k, 1.0)
    dist = torch.arange(q)[:, None] * q_ratio - (torch.arange(k)[None, :] + (1.0 - k)) * k_ratio
    return table[dist.long()]


class Attention(nn.Module):
    """MViT's pooling attention in plain torch, on (B, 1 + T·H·W, embed_dim) tokens."""

    def __init__(self, layer: MultiscaleAttention) -> None:
        super().__init__()
        e, c, heads = int(layer.embed_dim), int(layer.output_dim), int(layer.num_heads)
        self.heads, self.d, self.thw, self.layer = heads, c // heads, ints(layer.thw), layer
        self.qkv = nn.Linear(e, 3 * c, bias=layer.qkv_bias)
        self.proj = nn.Linear(c, c, bias=layer.proj_bias)
        self.pool_q = self._pool(layer.kernel_q, layer.stride_q)
        self.pool_k = self._pool(layer.kernel_kv, layer.stride_kv)
        self.pool_v = self._pool(layer.kernel_kv, layer.stride_kv)
        self.tables = None
        if layer.rel_pos is not None:
            rows = ints(layer.rel_pos)
            self.tables = nn.ParameterList(torch.randn(r, self.d) for r in rows)

    def _pool(self, kernel: Any, stride: Any) -> Any:
        if kernel is None:
            return None
        k, d = ints(kernel), self.d
        conv = nn.Conv3d(d, d, k, stride=ints(stride), padding=[v // 2 for v in k], groups=d)
        conv.bias = None
        return GridPool(conv, nn.LayerNorm(d))

    def forward(self, x: Any) -> Any:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, self.d).permute(2, 0, 3, 1, 4)
        q_thw = k_thw = self.thw
        if self.pool_k is not None:
            k, k_thw = self.pool_k(k, self.thw)
            v, _ = self.pool_v(v, self.thw)
        if self.pool_q is not None:
            q, q_thw = self.pool_q(q, self.thw)
        attn = (q * self.d**-0.5) @ k.transpose(2, 3)
        if self.tables is not None:
            attn = attn + F.pad(self._bias(q, q_thw, k_thw), (1, 0, 1, 0))
        x = attn.softmax(-1) @ v
        if self.layer.residual_pool:
            if self.layer.residual_with_cls_embed:
                x = x + q
            else:
                x = torch.cat((x[:, :, :1], x[:, :, 1:] + q[:, :, 1:]), dim=2)
        return self.proj(x.transpose(1, 2).reshape(b, x.shape[2], -1))

    def _bias(self, q: Any, q_thw: list[int], k_thw: list[int]) -> Any:
        (qt, qh, qw), (kt, kh, kw) = q_thw, k_thw
        rt, rh, rw = (relative(t, a, c) for t, a, c in zip(self.tables, q_thw, k_thw, strict=True))
        b, heads, _, d = q.shape
        grid = q[:, :, 1:].reshape(b, heads, qt, qh, qw, d)
        along_h = torch.einsum("bythwc,hkc->bythwk", grid, rh)
        along_w = torch.einsum("bythwc,wkc->bythwk", grid, rw)
        flat = grid.permute(2, 0, 1, 3, 4, 5).reshape(qt, -1, d)
        along_t = (flat @ rt.transpose(1, 2)).transpose(0, 1)
        along_t = along_t.view(b, heads, qh, qw, qt, kt).permute(0, 1, 4, 2, 3, 5)
        total = (
            along_h[:, :, :, :, :, None, :, None]
            + along_w[:, :, :, :, :, None, None, :]
            + along_t[:, :, :, :, :, :, None, None]
        )
        return total.reshape(b, heads, qt * qh * qw, kt * kh * kw)


def counted(module: Any, x: Any) -> tuple[Any, int]:
    """The module's output on ``x``, and FlopCounterMode's flops / 2 for it."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module(x)
    return out, counter.get_total_flops() // 2


def n_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


# -- pinned formulas ---------------------------------------------------------------------
def test_mvit_v1_b_first_block_formulas():
    layer = MultiscaleAttention(96, 96, 1, (8, 56, 56), kernel_kv=(3, 3, 3), stride_kv=(1, 8, 8))
    net = sc.Sequential(layer, input_shape=(25089, 96))
    assert net.output_shape == sc.Shape((25089, 96))
    assert layer.grid_kv() == (8, 7, 7) and layer.grid_q() == (8, 56, 56)
    assert net.params == 4 * 96 * 96 + 4 * 96 + 2 * (27 * 96 + 2 * 96) == 42816
    # qkv, pooled k and v (8·7·7 positions), scores and values (25089·393), projection
    assert net.products == (
        25089 * 96 * 288 + 2 * 96 * 392 * 27 + 2 * 25089 * 393 * 96 + 25089 * 96 * 96
    )
    assert net.bias_adds == 25089 * 4 * 96
    assert net.elementwise == 25089 * 96 + 2 * 393 * 96
    assert layer.describe() == "multiscale attention, 1 head, grid 8×56×56 → 8×56×56"


def test_symbolic_grid_formulas_and_pooled_queries():
    layer = MultiscaleAttention(
        8, 16, 2, (T, H, W), kernel_q=(3, 3, 3), stride_q=(1, 2, 2), rel_pos=(5, 7, 7)
    )
    net = sc.Sequential(layer, input_shape=(1 + T * H * W, 8))
    hq, wq = sympy.floor((H + 1) / 2), sympy.floor((W + 1) / 2)  # ⌈H/2⌉, ⌈W/2⌉
    n_q, n = 1 + T * hq * wq, 1 + T * H * W
    assert sympy.expand(net.output_shape[0] - n_q) == 0
    assert net.params == 3 * 16 * 8 + 3 * 16 + 16 * 16 + 16 + 8 * 27 + 2 * 8 + (5 + 7 + 7) * 8
    expected = (
        n * 8 * 48
        + 16 * T * hq * wq * 27
        + 2 * n_q * n * 16
        + 16 * T * hq * wq * (T + H + W)
        + n_q * 16 * 16
    )
    assert sympy.expand(net.products - expected) == 0
    assert "relative positions" in layer.describe()


def test_token_pool_and_positional_encoding():
    pool = TokenPool((8, 56, 56), (1, 3, 3), (1, 2, 2), (0, 1, 1))
    net = sc.Sequential(pool, input_shape=(25089, 96))
    assert net.output_shape == sc.Shape((1 + 8 * 28 * 28, 96))
    assert (net.params, net.products) == (0, 0)
    v1 = ClassPositionalEncoding(96, 8, (56, 56))
    assert sc.Sequential(v1, input_shape=(25088, 96)).params == 96 + (56 * 56 + 8 + 1) * 96
    v2 = sc.Sequential(
        ClassPositionalEncoding(96, 8, (56, 56), absolute=False), input_shape=(T, 96)
    )
    assert v2.output_shape == sc.Shape((T + 1, 96)) and v2.params == 96


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MultiscaleAttention(8, 12, 5, (2, 3, 3)), r"divisible by num_heads"),
        (lambda: MultiscaleAttention(8, 8, 2, (2, 3)), r"thw must be 3 sizes"),
        (
            lambda: MultiscaleAttention(8, 8, 2, (2, 3, 3), kernel_q=(3, 3, 3)),
            r"stride_q is given with kernel_q or not at all",
        ),
        (lambda: MultiscaleAttention(8, 8, 2, (2, 0, 3)), r"thw must be positive"),
        (
            lambda: MultiscaleAttention(8, 8, 2, (2, 3, 3), rel_pos=(1, 0, 1)),
            r"rel_pos must be positive",
        ),
        (lambda: TokenPool((2, 3, 3), (1, 2, 2), (1, 2, 2), (0, 2, 1)), r"at most half"),
        (lambda: ClassPositionalEncoding(8, 2, 3), r"spatial_size must be 2 sizes"),
    ],
)
def test_bad_configurations_are_refused(make, message):
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_tokens_off_the_grid_are_refused_naming_the_layer_and_the_values():
    layer = MultiscaleAttention(8, 8, 2, (2, 3, 3))
    with pytest.raises(sc.ShapeError, match=r"MultiscaleAttention.*at layer 0.*1 \+ 2 × 3 × 3"):
        sc.Sequential(layer, input_shape=(18, 8))
    with pytest.raises(sc.ShapeError, match=r"embed_dim = 8"):
        sc.Sequential(layer, input_shape=(19, 6))
    net = sc.Sequential(layer, input_shape=(T * H * W + 1, 8))  # any grid of 18 positions
    assert net.is_valid({T: 2, H: 3, W: 3}) and net.is_valid({T: 1, H: 2, W: 9})
    assert not net.is_valid({T: 2, H: 3, W: 4})
    with pytest.raises(sc.ShapeError, match=r"got tokens = 25, 1 \+ grid = 19"):
        net.subs({T: 2, H: 3, W: 4})
    pe = sc.Sequential(ClassPositionalEncoding(8, 2, (3, 3)), input_shape=(T * H * W, 8))
    with pytest.raises(sc.ShapeError, match=r"ClassPositionalEncoding.*2 × 3 × 3 grid"):
        pe.subs({T: 2, H: 3, W: 4})


# -- against torch -----------------------------------------------------------------------
@st.composite
def attentions(draw: Any) -> MultiscaleAttention:
    heads = draw(st.integers(1, 3))

    def pool() -> tuple[Any, Any]:
        if draw(st.booleans()):
            return None, None
        kernel = tuple(draw(st.integers(1, 4)) for _ in range(3))
        return kernel, tuple(draw(st.integers(1, 3)) for _ in range(3))

    (kernel_q, stride_q), (kernel_kv, stride_kv) = pool(), pool()
    rel = draw(st.none() | st.tuples(*(st.integers(1, 9),) * 3))
    return MultiscaleAttention(
        draw(st.integers(1, 6)),
        heads * draw(st.integers(1, 3)),
        heads,
        tuple(draw(st.integers(1, 5)) for _ in range(3)),
        kernel_q=kernel_q,
        stride_q=stride_q,
        kernel_kv=kernel_kv,
        stride_kv=stride_kv,
        residual_pool=draw(st.booleans()),
        residual_with_cls_embed=draw(st.booleans()),
        rel_pos=rel,
        qkv_bias=draw(st.booleans()),
        proj_bias=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(attentions())
def test_multiscale_attention_agrees_with_torch(layer):
    tokens = 1 + math.prod(ints(layer.thw))
    shape = (tokens, int(layer.embed_dim))
    reference = Attention(layer).eval()
    out, products = counted(reference, torch.randn(1, *shape))
    net = sc.Sequential(layer, input_shape=shape)
    assert tuple(out.shape[1:]) == tuple(net.output_shape)
    assert net.params == n_params(reference)
    assert net.products == products
    symbolic = sc.Sequential(layer, input_shape=(T * H * W + 1, shape[1]))
    point = dict(zip((T, H, W), layer.thw, strict=True))
    assert symbolic.subs(point).products == products


@settings(max_examples=40, deadline=None)
@given(
    thw=st.tuples(*(st.integers(1, 6),) * 3),
    kernel=st.tuples(*(st.integers(1, 4),) * 3),
    stride=st.tuples(*(st.integers(1, 3),) * 3),
    channels=st.integers(1, 4),
)
def test_token_pool_agrees_with_torch(thw, kernel, stride, channels):
    padding = tuple(k // 2 for k in kernel)
    layer = TokenPool(thw, kernel, stride, padding)
    reference = GridPool(nn.MaxPool3d(kernel, stride, padding), None)
    shape = (1 + math.prod(thw), channels)
    with torch.no_grad():
        out, grid = reference(torch.randn(1, 1, *shape), list(thw))
    assert tuple(out.shape[2:]) == tuple(sc.Sequential(layer, input_shape=shape).output_shape)
    assert tuple(grid) == layer.grid()


# -- hostile names ------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    order=st.permutations(sc.symbols("B C N T H W x y _d0")),
    values=st.tuples(*(st.integers(1, 6),) * 9),
)
def test_symbols_named_like_internals_substitute_exactly(order, values):
    embed, heads, per_head, t, h, w, rt, rh, rw = order
    layer = MultiscaleAttention(
        embed,
        heads * per_head,
        heads,
        (t, h, w),
        kernel_q=(1, 3, 3),
        stride_q=(1, 2, 2),
        kernel_kv=(3, 3, 3),
        stride_kv=(1, 2, 3),
        residual_pool=True,
        rel_pos=(rt, rh, rw),
    )
    net = sc.Sequential(
        ClassPositionalEncoding(embed, t, (h, w)),
        layer,
        TokenPool(layer.grid_q(), (1, 3, 3), (1, 2, 2), (0, 1, 1)),
        input_shape=(t * h * w, embed),
    )
    point = dict(zip(order, values, strict=True))
    e, n_heads, width, *grid, a, b, c = values
    concrete = MultiscaleAttention(
        e,
        n_heads * width,
        n_heads,
        tuple(grid),
        kernel_q=(1, 3, 3),
        stride_q=(1, 2, 2),
        kernel_kv=(3, 3, 3),
        stride_kv=(1, 2, 3),
        residual_pool=True,
        rel_pos=(a, b, c),
    )
    expected = sc.Sequential(
        ClassPositionalEncoding(e, grid[0], tuple(grid[1:])),
        concrete,
        TokenPool(concrete.grid_q(), (1, 3, 3), (1, 2, 2), (0, 1, 1)),
        input_shape=(math.prod(grid), e),
    )
    at = net.subs(point)
    assert (at.params, at.products, at.elementwise, at.output_shape) == (
        expected.params,
        expected.products,
        expected.elementwise,
        expected.output_shape,
    )
    assert at.products.is_Integer and at.products > 0
