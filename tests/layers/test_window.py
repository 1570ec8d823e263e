"""``ShiftedWindowAttention`` against a window attention written in torch.

The formulas are pinned with symbolic sizes. A property builds random configurations
(2-d and 3-d windows, shifts, heads, biases, Swin V2's cosine attention with its position
bias MLP, video Swin's windows that shrink to the input) both as symcnn's layer and as a
torch module written here from the operations Swin performs (pad up to the windows, roll,
partition, attention per window, merge, crop), and compares the output shape, the
parameters, the buffers and ``FlopCounterMode``'s products. torchvision's own modules are
compared in tests/frontends/test_torchvision_swin.py.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn, F = torch.nn, torch.nn.functional

H, W, T = sc.symbols("H W T")


class Reference(nn.Module):
    """Window attention in plain torch, on (B, *sizes, C) channels-last inputs."""

    def __init__(self, layer: sc.ShiftedWindowAttention) -> None:
        super().__init__()
        c, heads = int(layer.dim), int(layer.num_heads)
        self.window = [int(w) for w in layer.window_size]
        self.shift = [int(s) for s in layer.shift_size]
        self.heads, self.version, self.adapt = heads, layer.version, layer.adapt_window
        self.qkv = nn.Linear(c, 3 * c, bias=layer.qkv_bias)
        self.proj = nn.Linear(c, c, bias=layer.proj_bias)
        offsets = math.prod(2 * w - 1 for w in self.window)
        tokens = math.prod(self.window)
        if self.version == 1:
            self.table = nn.Parameter(torch.zeros(offsets, heads))
        else:
            self.logit_scale = nn.Parameter(torch.zeros(heads, 1, 1))
            self.cpb = nn.Sequential(
                nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, heads, bias=False)
            )
            sides = [2 * w - 1 for w in self.window]
            self.register_buffer("coords", torch.zeros(1, *sides, 2))
        self.register_buffer("index", torch.zeros(tokens * tokens, dtype=torch.long))

    def forward(self, x: Any) -> Any:
        b, *sizes, c = x.shape
        nd = len(sizes)
        window = [min(s, w) if self.adapt else w for s, w in zip(sizes, self.window, strict=True)]
        pads = [(-s) % w for s, w in zip(sizes, window, strict=True)]
        pairs = [0, 0]
        for p in reversed(pads):
            pairs += [0, p]
        x = F.pad(x, pairs)
        padded = x.shape[1:-1]
        if any(self.shift):
            x = torch.roll(x, [-s for s in self.shift], list(range(1, nd + 1)))
        counts = [p // w for p, w in zip(padded, window, strict=True)]
        tokens = math.prod(window)
        split = [v for n, w in zip(counts, window, strict=True) for v in (n, w)]
        order = [1 + 2 * i for i in range(nd)] + [2 + 2 * i for i in range(nd)]
        x = x.reshape(b, *split, c).permute(0, *order, 2 * nd + 1).reshape(-1, tokens, c)
        qkv = self.qkv(x).reshape(-1, tokens, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        if self.version == 1:
            attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
            table = self.table
        else:
            attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
            attn = attn * self.logit_scale.exp()
            table = 16 * torch.sigmoid(self.cpb(self.coords).view(-1, self.heads))
        bias = table[self.index.view(*self.window * 2)[tuple(slice(w) for w in window * 2)]]
        attn = attn + bias.reshape(tokens, tokens, -1).permute(2, 0, 1)
        x = (attn.softmax(-1) @ v).transpose(1, 2).reshape(-1, tokens, c)
        x = self.proj(x).reshape(b, *counts, *window, c)
        merge = [v for i in range(nd) for v in (1 + i, 1 + nd + i)]
        x = x.permute(0, *merge, 2 * nd + 1).reshape(b, *padded, c)
        if any(self.shift):
            x = torch.roll(x, self.shift, list(range(1, nd + 1)))
        return x[(slice(None), *(slice(s) for s in sizes))]


def counted_forward(module: Any, x: Any) -> tuple[Any, int]:
    """The module's output on ``x``, and FlopCounterMode's flops / 2 for it."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module(x)
    return out, counter.get_total_flops() // 2


# -- pinned formulas ---------------------------------------------------------------------
def test_swin_t_stage_one_formulas():
    layer = sc.ShiftedWindowAttention(96, (7, 7), (3, 3), 3)
    net = sc.Sequential(layer, input_shape=(H, W, 96))
    assert net.output_shape == sc.Shape((H, W, 96))
    assert net.params == 4 * 96**2 + 4 * 96 + 13 * 13 * 3 == 37755
    assert net.buffers == 49 * 49
    # 49 tokens a window, ⌈H/7⌉·⌈W/7⌉ windows: 49·96·(4·96 + 2·49) each
    windows = sympy.ceiling(H / 7) * sympy.ceiling(W / 7)
    assert sympy.expand(net.products - 49 * 96 * 482 * windows) == 0
    assert net.leading_term("products", H) == sympy.Rational(2267328, 49) * H * W
    assert sympy.expand(net.bias_adds - 49 * 4 * 96 * windows) == 0
    assert sympy.expand(net.elementwise - (49 * 96 + 3 * 49 * 49) * windows) == 0
    assert layer.describe() == "window attention, 3 heads over 7×7 windows, shifted by 3×3"


def test_v2_counts_its_bias_mlp_and_video_windows_shrink_to_the_input():
    v2 = sc.ShiftedWindowAttention(96, (8, 8), (0, 0), 3, version=2)
    x = sc.Shape((64, 64, 96))
    mlp = 15 * 15 * 512 * (2 + 3)  # the bias table, once per forward pass
    assert v2.params(x).value == 4 * 96**2 + 4 * 96 + 2 * 512 + 512 + 512 * 3 + 3
    assert v2.buffers(x).value == 64 * 64 + 2 * 15 * 15
    assert v2.products(x).value == 64 * 64 * 96 * (4 * 96 + 2 * 64) + mlp
    video = sc.ShiftedWindowAttention(96, (8, 7, 7), (4, 3, 3), 3, adapt_window=True)
    net = sc.Sequential(video, input_shape=(T, 56, 56, 96))
    at8 = net.subs({T: 8})  # T ≤ 8: one window along T, of T frames
    assert at8.products == 64 * (8 * 49) * 96 * (4 * 96 + 2 * 8 * 49)
    at5 = net.subs({T: 5})
    assert at5.products == 64 * (5 * 49) * 96 * (4 * 96 + 2 * 5 * 49)
    at9 = net.subs({T: 9})  # padded to 16: two windows of 8
    assert at9.products == 2 * 64 * (8 * 49) * 96 * (4 * 96 + 2 * 8 * 49)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: sc.ShiftedWindowAttention(96, (7, 7), (3, 3), 5),
            r"dim must be divisible by num_heads",
        ),
        (lambda: sc.ShiftedWindowAttention(96, 7, 3, 3), r"window_size must be 2 or 3 sizes"),
        (lambda: sc.ShiftedWindowAttention(96, (7, 7), (3,), 3), r"'shift_size' needs 2 values"),
        (
            lambda: sc.ShiftedWindowAttention(96, (7, 7, 7), (0, 0, 0), 3, version=2),
            r"2-d windows only",
        ),
        (lambda: sc.ShiftedWindowAttention(96, (7, 0), (0, 0), 3), r"window_size must be positive"),
        (
            lambda: sc.ShiftedWindowAttention(96, (7, 7), (-1, 0), 3),
            r"shift_size must be nonnegative",
        ),
    ],
)
def test_bad_configurations_are_refused(make, message):
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_inputs_of_the_wrong_rank_or_width_are_refused_naming_the_layer():
    layer = sc.ShiftedWindowAttention(96, (7, 7), (3, 3), 3)
    with pytest.raises(sc.ShapeError, match=r"ShiftedWindowAttention.*at layer 0.*dim = 96"):
        sc.Sequential(layer, input_shape=(56, 56, 64))
    with pytest.raises(sc.ShapeError, match=r"ShiftedWindowAttention.*3 axes"):
        sc.Sequential(layer, input_shape=(8, 56, 56, 96))


# -- against torch -----------------------------------------------------------------------
@st.composite
def configurations(draw: Any) -> tuple[sc.ShiftedWindowAttention, tuple[int, ...]]:
    nd = draw(st.sampled_from([2, 3]))
    version = draw(st.sampled_from([1, 2])) if nd == 2 else 1
    heads = draw(st.integers(1, 3))
    dim = heads * draw(st.integers(1, 4))
    window = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    shift = tuple(draw(st.integers(0, w - 1)) for w in window)
    sizes = tuple(draw(st.integers(1, 9)) for _ in range(nd))
    layer = sc.ShiftedWindowAttention(
        dim,
        window,
        shift,
        heads,
        qkv_bias=draw(st.booleans()),
        proj_bias=draw(st.booleans()),
        version=version,
        adapt_window=nd == 3 and draw(st.booleans()),
    )
    return layer, (*sizes, dim)


@settings(max_examples=60, deadline=None)
@given(configurations())
def test_window_attention_agrees_with_torch(config):
    layer, shape = config
    reference = Reference(layer).eval()
    net = sc.Sequential(layer, input_shape=shape)
    out, counted = counted_forward(reference, torch.randn(1, *shape))
    assert tuple(out.shape[1:]) == tuple(net.output_shape)
    assert net.params == sum(p.numel() for p in reference.parameters())
    assert net.buffers == sum(b.numel() for b in reference.buffers())
    assert net.products == counted
    sizes = sc.symbols("a b c")[: len(shape) - 1]
    symbolic = sc.Sequential(layer, input_shape=(*sizes, shape[-1]))
    point = dict(zip(sizes, shape[:-1], strict=True))
    assert symbolic.subs(point).products == counted


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(["t", "_t", "H", "ceiling", "Min", "window", "dim", "C", "N", "T"]),
        min_size=4,
        max_size=4,
        unique=True,
    ),
    values=st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 4), st.integers(1, 8)),
    adapt=st.booleans(),
)
def test_symbolic_sizes_with_hostile_names_substitute_to_the_numbers(names, values, adapt):
    a, b, heads, per_head = sc.symbols(" ".join(names))
    h, w, n_heads, width = values
    window = (3, 5, 4) if adapt else (3, 5)
    sizes = (a, b, 6)[: len(window)] if adapt else (a, b)
    layer = sc.ShiftedWindowAttention(
        heads * per_head, window, (1, 2, 0)[: len(window)], heads, adapt_window=adapt
    )
    net = sc.Sequential(layer, input_shape=(*sizes, heads * per_head))
    point = {a: h, b: w, heads: n_heads, per_head: width}
    concrete = sc.ShiftedWindowAttention(
        n_heads * width, window, (1, 2, 0)[: len(window)], n_heads, adapt_window=adapt
    )
    sized = (h, w, 6)[: len(window)] if adapt else (h, w)
    expected = sc.Sequential(concrete, input_shape=(*sized, n_heads * width))
    at = net.subs(point)
    assert (at.params, at.products, at.buffers) == (
        expected.params,
        expected.products,
        expected.buffers,
    )
    assert at.products.is_Integer and at.products > 0
