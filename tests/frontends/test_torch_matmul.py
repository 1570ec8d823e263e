"""from_torch on matrix products: ``@``, ``torch.bmm``, ``torch.einsum``, attention.

Each module is traced with a symbolic sequence length N; at two lengths the network's
output shape is torch's, its parameters ``sum(p.numel())`` and its products
FlopCounterMode's flops / 2 (attention on torch's math kernel, which it counts). What has
no rule (a mask, a reduced batch letter, a module's own tensor as an operand, bmm of other
ranks) is refused, naming the node.
"""

from __future__ import annotations

from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
F = nn.functional

N = sc.symbols("N")
D, HEADS = 16, 2


class _Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)

    def split(self, x: Any) -> Any:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        shape = (x.size(0), x.size(1), HEADS, D // HEADS)
        return (t.view(*shape).transpose(1, 2) for t in (q, k, v))

    def merge(self, o: Any, x: Any) -> Any:
        return self.proj(o.transpose(1, 2).reshape(x.size(0), x.size(1), D))


class MatMulAttention(_Heads):
    def forward(self, x):
        q, k, v = self.split(x)
        a = (q @ k.transpose(-2, -1)) * (D // HEADS) ** -0.5
        return self.merge(a.softmax(-1) @ v, x)


class EinsumAttention(_Heads):
    def forward(self, x):
        q, k, v = self.split(x)
        a = torch.einsum("bhnd,bhmd->bhnm", q, k).softmax(-1)
        return self.merge(torch.einsum("bhnm,bhmd->bhnd", a, v), x)


class SDPA(_Heads):
    def forward(self, x):
        q, k, v = self.split(x)
        return self.merge(F.scaled_dot_product_attention(q, k, v, is_causal=True), x)


class Bmm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(D, D)

    def forward(self, x):
        y = self.lin(x)
        return torch.bmm(x, y.transpose(1, 2)).matmul(y) + x.bmm(y.transpose(1, 2)).bmm(x)


MODULES = {
    "matmul": MatMulAttention,
    "einsum": EinsumAttention,
    "sdpa": SDPA,
    "bmm": Bmm,
}


def flop_count(model: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    # The math kernel: FlopCounterMode has no formula for CPU's flash kernel (it counts 0).
    math = sdpa_kernel(SDPBackend.MATH)
    with torch.no_grad(), math, FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.randn(2, *shape))
    return tuple(out.shape[1:]), counter.get_total_flops() // 2


@pytest.mark.parametrize("name", list(MODULES))
def test_products_match_torch(name):
    model = MODULES[name]()
    net = sc.from_torch(model, (N, D))
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.output_shape == (N, D)
    for n in (5, 12):
        out, flops = flop_count(model, (n, D))
        at = net.subs({N: n})
        assert at.output_shape == out
        assert 2 * at.products == flops  # two samples in torch's batch


def test_attention_products_are_symbolic():
    net = sc.from_torch(SDPA(), (N, D))
    # qkv and proj (4·D² per token), then L·S·(E + Ev) per head.
    assert sc.symbols("N") in net.products.free_symbols
    expected = N * D * 3 * D + N * D * D + HEADS * N * N * 2 * (D // HEADS)
    assert (net.products - expected).expand() == 0


class Two(nn.Module):
    def __init__(self, fn: Any):
        super().__init__()
        self.fn = fn

    def forward(self, a, b):
        return self.fn(a, b)


class OwnWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(D, D))

    def forward(self, x):
        return x @ self.w


@pytest.mark.parametrize(
    ("fn", "shapes", "error", "message"),
    [
        (lambda a, b: torch.einsum("bij,bjk", a, b), [(3, 4), (4, 5)], sc.ShapeError, "batch"),
        (
            lambda a, b: torch.einsum("bij,bjk->bki", a, b),
            [(3, 4), (5, 6)],
            sc.ShapeError,
            "one size",
        ),
        (lambda a, b: torch.bmm(a, b), [(2, 3, 4), (2, 4, 5)], sc.UnsupportedLayerError, "3-D"),
        (lambda a, b: a @ b, [(3, 4), (5, 6)], sc.ShapeError, "inner sizes"),
        (lambda a, b: a @ b, [(3, 4), (2, 4, 6)], sc.ShapeError, "one rank"),
        (
            lambda a, b: F.scaled_dot_product_attention(a, b, b, attn_mask=a),
            [(3, 4), (3, 4)],
            sc.UnsupportedLayerError,
            "attn_mask",
        ),
        (
            lambda a, b: torch.einsum("bi,bi,bi->b", a, b, b),
            [(3,), (3,)],
            sc.UnsupportedLayerError,
            "3 operands",
        ),
    ],
)
def test_refusals_name_the_node(fn, shapes, error, message):
    with pytest.raises(error, match=message) as info:
        sc.from_torch(Two(fn), shapes)
    assert "at node" in str(info.value) or " at layer " in str(info.value)


def test_a_modules_own_weight_is_refused():
    with pytest.raises(sc.UnsupportedLayerError, match="directly"):
        sc.from_torch(OwnWeight(), (N, D))
