"""``from_torch`` on attention: a transformer encoder block written as torchvision's ViT.

``nn.MultiheadAttention`` is called ``attn(x, x, x, need_weights=False)`` and returns a
tuple unpacked ``x, _ = ...``. Parameters equal ``sum(p.numel())``; products equal
``FlopCounterMode``'s count over 2 when torch computes the weights with its own matmuls
(``need_weights=True``), and exceed it by the two attention matmuls, 2·L²·E, when
``scaled_dot_product_attention`` runs them uncounted (``need_weights=False``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn

E, HEADS, MLP = 16, 4, 32


class EncoderBlock(nn.Module):
    """torchvision's ``vision_transformer.EncoderBlock``, its MLP written out."""

    def __init__(self, need_weights: bool = False, **attention: Any) -> None:
        super().__init__()
        self.need_weights = need_weights
        self.ln_1 = nn.LayerNorm(E)
        attention.setdefault("batch_first", True)
        self.self_attention = nn.MultiheadAttention(E, HEADS, dropout=0.1, **attention)
        self.dropout = nn.Dropout(0.1)
        self.ln_2 = nn.LayerNorm(E)
        self.mlp = nn.Sequential(
            nn.Linear(E, MLP), nn.GELU(), nn.Dropout(0.1), nn.Linear(MLP, E), nn.Dropout(0.1)
        )

    def forward(self, input: Any) -> Any:
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=self.need_weights)
        x = self.dropout(x)
        x = x + input
        y = self.ln_2(x)
        y = self.mlp(y)
        return x + y


def counted(module: Any, length: int) -> int:
    """FlopCounterMode's flops over 2, in eval mode with grad (torch's unfused path)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.enable_grad(), FlopCounterMode(display=False) as counter:
        module.eval()(torch.randn(1, length, E))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("need_weights", [False, True])
def test_vit_encoder_block_is_exact(need_weights):
    length = sc.symbols("L")
    block = EncoderBlock(need_weights)
    net = sc.from_torch(block, (length, E))
    assert net.output_shape == sc.Shape((length, E))
    assert net.params == sum(p.numel() for p in block.parameters())
    layer = net["self_attention"].layer
    assert layer == sc.MultiheadAttention(
        E, HEADS, dropout=0.1, batch_first=True, need_weights=need_weights
    )
    for n in (3, 7):
        products = net.products.subs(length, n)
        attention = 2 * n * n * E  # Q·Kᵀ and weights·V
        uncounted = 0 if need_weights else attention
        assert counted(block, n) == products - uncounted
        out = block.eval()(torch.randn(1, n, E))
        assert tuple(out.shape[1:]) == (n, E)


def test_attention_options_are_read_off_the_module():
    block = EncoderBlock(bias=False, add_bias_kv=True, add_zero_attn=True)
    net = sc.from_torch(block, (5, E))
    assert net.params == sum(p.numel() for p in block.parameters())
    assert counted(block, 5) == net.products - 2 * 5 * (5 + 2) * E


def test_batch_first_false_is_refused():
    with pytest.raises(sc.UnsupportedLayerError, match="batch_first=False puts the sequence"):
        sc.from_torch(EncoderBlock(batch_first=False), (5, E))


class Using(nn.Module):
    def __init__(self, call: Any) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(E, HEADS, batch_first=True)
        self.call = call

    def forward(self, x: Any) -> Any:
        return self.call(self, x)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s, x: s.attn(x, x, x)[1],
            "the attention weights of module 'attn' (need_weights=True), which symcnn does not map",
        ),
        (
            lambda s, x: s.attn(x, x, x, is_causal=True, need_weights=False)[0],
            "is_causal must be False for symcnn",
        ),
        (
            lambda s, x: s.attn(x, x, x, attn_mask=x)[0],
            "attn_mask must be None for symcnn",
        ),
        (lambda s, x: s.attn(x, x)[0], "called with 2 positional arguments; symcnn maps 3"),
    ],
)
def test_unmapped_uses_are_refused(call, message):
    with pytest.raises(sc.UnsupportedLayerError, match=re.escape(message)):
        sc.from_torch(Using(call), (5, E))


def test_the_weights_may_be_asked_for_and_left_unused():
    net = sc.from_torch(Using(lambda s, x: s.attn(x, x, x)[0] + x), (5, E))
    assert net.output_shape == sc.Shape((5, E))


def test_the_tuple_returned_whole_is_refused():
    with pytest.raises(sc.UnsupportedLayerError, match="uses None where symcnn expects a tensor"):
        sc.from_torch(Using(lambda s, x: s.attn(x, x, x, need_weights=False)), (5, E))


def test_a_one_input_module_with_a_keyword_is_refused_by_name():
    class Keyword(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(E, E)

        def forward(self, x: Any) -> Any:
            return self.lin(input=x)

    with pytest.raises(
        sc.UnsupportedLayerError,
        match=re.escape("module 'lin' at node 'lin' is called with 0 positional arguments"),
    ):
        sc.from_torch(Keyword(), (5, E))
