"""from_torch on tensor arithmetic, reductions, stack and expand, against torch.

Each module is traced with a symbolic (3, H, W) input; at several points the network's
output shape is torch's, its parameters ``sum(p.numel())`` and its products
FlopCounterMode's flops / 2. Operators on sizes stay size arithmetic; what has no rule
(a reduction over every axis, the indices of ``x.max(dim)``, tensors of different ranks,
axes before the batch) is refused, naming the node.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
F = nn.functional

H, W = sc.symbols("H W")


class PoolFormer(nn.Module):
    """PoolFormer's token mixer: ``pool(x) - x``, then a layer scale and a residual."""

    def __init__(self, c: int = 8):
        super().__init__()
        self.proj = nn.Conv2d(3, c, 3, padding=1)
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.gamma = nn.Parameter(torch.ones(c, 1, 1))
        self.beta = nn.Parameter(torch.zeros(c, 1, 1))

    def forward(self, x):
        x = self.proj(x)
        return x + (self.pool(x) - x) * self.gamma + self.beta


class HardSwish(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        x = self.conv(x)
        return x * F.relu6(x + 3) / 6


class L2Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1, bias=False)

    def forward(self, x):
        x = self.conv(x)
        return x / x.norm(dim=1, keepdim=True)


class StackSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return torch.stack([self.a(x), self.b(x)], 1).sum(1)


class Attention(nn.Module):
    """CBAM's spatial attention: the channel mean and max, stacked, a conv, a gate."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x):
        pooled = torch.cat([x.mean(1, keepdim=True), x.max(dim=1, keepdim=True)[0]], 1)
        gate = torch.sigmoid(self.conv(pooled))
        return x * gate.expand_as(x) - torch.amax(x, (2, 3), keepdim=True)


class Everything(nn.Module):
    """The rest of the calls: scalars either way round, alpha, in-place, max/min, var."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.w = nn.Parameter(torch.ones(3, 1, 1))
        self.register_buffer("scale", torch.ones(1, 3, 1, 1))

    def forward(self, x):
        y = self.conv(x)
        z = 1 - y**2 + torch.add(y, x, alpha=0.5) - (-y) / 2
        z = z.mul(0.5).add_(1).sub(x, alpha=2) + self.w / z - self.scale
        z = z - x.sum((2, 3), keepdim=True) + torch.sum(x, 1, keepdim=True)
        z = z + x.max(1, keepdim=True).values * x.min(dim=1, keepdim=True)[0]
        z = z + torch.maximum(y, x) - torch.minimum(y, x.amin(1, keepdim=True))
        z = z / x.var(1, keepdim=True, unbiased=False) + x.std((2, 3), True, True)
        z = z // 2 + torch.logsumexp(x, 1, keepdim=True) + torch.linalg.vector_norm(x, 1, 1, True)
        z = torch.div(z, y, rounding_mode="trunc") + z // y
        u, v = x.chunk(2, 2)  # pieces are tensors too
        z = z + (u - v).mean(2, keepdim=True)
        n = x.size(2) // 2  # size arithmetic stays sympy
        return z + x[:, :, :n].repeat(1, 1, 2, 1)[:, :, : x.size(2)].mean([-2, -1], True)


MODULES = {
    "poolformer": PoolFormer,
    "hard-swish": HardSwish,
    "l2norm": L2Norm,
    "stack-sum": StackSum,
    "cbam": Attention,
    "everything": Everything,
}


def flop_count(model: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.randn(1, *shape))
    return tuple(out.shape[1:]), counter.get_total_flops()


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_match_torch(name):
    model = MODULES[name]()
    net = sc.from_torch(model, (3, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.products.free_symbols <= {H, W}
    for h, w in [(4, 4), (8, 13)]:
        out, flops = flop_count(model, (3, h, w))
        at = net.subs({H: h, W: w})
        assert at.output_shape == out
        assert 2 * at.products == flops


def test_poolformer_block():
    net = sc.from_torch(PoolFormer(), (3, H, W))
    layers = {r.name: r.layer for r in net.layers}
    assert layers["sub"] == sc.Sub()
    assert layers["mul"] == sc.Scale((8, 1, 1))
    assert layers["add_1"] == sc.ParamOp("add", (8, 1, 1))
    assert net.params == 8 * 27 + 8 + 8 + 8
    assert net.elementwise == 8 * H * W * 2  # the pool's 1/k and the scale


def test_hard_swish_counts_its_multiplications():
    net = sc.from_torch(HardSwish(), (3, H, W))
    described = [r.layer.describe() for r in net.layers[1:]]
    assert described == ["x + 3", "nn.ReLU6()", "torch.mul(...)", "x / 6"]
    assert (net.elementwise - 2 * 4 * (H - 2) * (W - 2)).expand() == 0


def test_l2_norm_and_stack():
    net = sc.from_torch(L2Norm(), (3, H, W))
    assert [r.layer for r in net.layers[1:]] == [sc.VectorNorm(1, keepdim=True), sc.Div()]
    assert net["norm"].output_shape == (1, H, W)
    net = sc.from_torch(StackSum(), (3, H, W))
    assert net["stack"].output_shape == (2, 4, H, W)
    assert net["sum_1"].layer == sc.Sum(1) and net.output_shape == (4, H, W)


def test_everything_describes_each_call():
    net = sc.from_torch(Everything(), (3, H, W))
    described = {r.layer.describe() for r in net.layers}
    for text in (
        "1 - x",
        "x ** 2",
        "x * 0.5",
        "-x",
        "x / 2",
        "x + 1",
        "w / x, w of shape (3, 1, 1)",
        "x - w, w of shape (1, 3, 1, 1)",
        "x.max(dim=1, keepdim=True).values",
        "x // 2",
        "x.var(dim=1, correction=0, keepdim=True)",
        "x.repeat(1, 1, 2, 1)",
        "torch.maximum(...)",
        "torch.div(..., rounding_mode='trunc')",
        "torch.div(..., rounding_mode='floor')",
    ):
        assert text in described
    assert net.buffers == 3


# -- refused, naming the node ---------------------------------------------------------------
class Lambda(nn.Module):
    def __init__(self, fn: Any):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda x: x.max(), sc.UnsupportedLayerError, r"^x\.max at node 'max_1' with no dim"),
        (lambda x: x.sum(), sc.UnsupportedLayerError, r"^Tensor\.sum at node 'sum_1'.*no dim"),
        (lambda x: torch.mean(x), sc.UnsupportedLayerError, r"reduces every axis, the batch"),
        (lambda x: x.max(1)[1], sc.UnsupportedLayerError, r"the indices of x\.max\(dim=1\)"),
        (lambda x: x + x.flatten(2), sc.ShapeError, r"^Add\(\) at layer 1 \(add\): .*one rank"),
        (lambda x: x.expand(2, -1, -1, -1, -1), sc.UnsupportedLayerError, r"before the batch"),
        (lambda x: x.expand(1, 3, 8, 8), sc.ShapeError, r"x\.expand at node.*start with -1"),
        (lambda x: x.repeat(2, 1, 1, 1), sc.ShapeError, r"x\.repeat at node.*start with 1"),
        (lambda x: x.mean(0), sc.ShapeError, r"dim=0 is the batch axis"),
        (lambda x: torch.stack([x, x]), sc.ShapeError, r"torch\.stack at node 'stack'"),
        (lambda x: x**x, sc.UnsupportedLayerError, r"^operator\.pow at node 'pow_1' of two"),
        (lambda x: x + "a", sc.UnsupportedLayerError, r"of tensor 3×8×8, 'a' has no symcnn rule"),
        (lambda x: x.norm(p="nuc", dim=(2, 3)), sc.UnsupportedLayerError, "matrix norm"),
    ],
)
def test_refusals_name_the_node(fn, error, message):
    with pytest.raises(error, match=message):
        sc.from_torch(Lambda(fn), (3, 8, 8))


def test_size_arithmetic_stays_sizes():
    class Half(nn.Module):
        def forward(self, x):
            h = x.size(2) - x.size(2) // 2
            return x[:, :, :h] * 2

    net = sc.from_torch(Half(), (3, H, W))
    assert net.subs({H: 7, W: 5}).output_shape == (3, 4, 5)
    assert net.subs({H: 8, W: 5}).output_shape == (3, 4, 5)


# -- a property: random broadcasting shapes through from_torch ----------------------------
OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "max": torch.maximum,
}


class Two(nn.Module):
    def __init__(self, op: Any):
        super().__init__()
        self.op = op

    def forward(self, a, b):
        return self.op(a, b)


@given(data=st.data())
@torch_settings
def test_from_torch_broadcasts_as_torch(data):
    rank = data.draw(st.integers(1, 3))
    a = tuple(data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    b = tuple(data.draw(st.sampled_from([s, 1, 2])) for s in a)
    op = OPS[data.draw(st.sampled_from(sorted(OPS)))]
    try:
        expected = tuple(op(torch.ones(2, *a), torch.ones(2, *b)).shape[1:])
    except RuntimeError:
        expected = None
    try:
        net = sc.from_torch(Two(op), [a, b])
    except sc.ShapeError:
        assert expected is None
    else:
        assert net.output_shape == expected
