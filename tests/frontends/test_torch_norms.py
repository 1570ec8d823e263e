"""from_torch on normalizations: bare modules, sequences with symbolic sizes, small networks.

Each network is converted with symbolic sizes, then substituted to concrete ones and
compared with torch's own forward pass: output shape, ``sum(p.numel())`` parameters,
``sum(b.numel())`` buffers, and FlopCounterMode's flops, which are twice the products of
the convolutions and linear layers (a normalization adds none, in symcnn or in torch).
"""

from __future__ import annotations

from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn

H, W, D, L = sc.symbols("H W D L")


def torch_counts(model: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int, int]:
    """(output shape, parameters, buffers, flops), per sample, of a forward pass in eval."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.randn(2, *shape))
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    return tuple(out.shape[1:]), params, buffers, counter.get_total_flops() // 2


def assert_agrees(net: sc.Network, model: Any, point: dict[Any, int], shape: tuple[int, ...]):
    at = net.subs(point) if point else net
    out, params, buffers, flops = torch_counts(model, shape)
    assert at.output_shape == out
    assert at.params == params
    assert at.buffers == buffers
    assert 2 * at.products == flops


BARE = [
    (nn.BatchNorm1d(6), sc.BatchNorm1d(6), (6, 5)),
    (nn.BatchNorm1d(6, affine=False), sc.BatchNorm1d(6, affine=False), (6,)),
    (nn.BatchNorm2d(6, bias=False), sc.BatchNorm2d(6, bias=False), (6, 3, 3)),
    (nn.BatchNorm3d(4, momentum=None), sc.BatchNorm3d(4, momentum=None), (4, 2, 3, 3)),
    (nn.InstanceNorm1d(6), sc.InstanceNorm1d(6), (6, 5)),
    (nn.InstanceNorm2d(6, affine=True), sc.InstanceNorm2d(6, affine=True), (6, 3, 3)),
    (
        nn.InstanceNorm3d(4, track_running_stats=True),
        sc.InstanceNorm3d(4, track_running_stats=True),
        (4, 2, 3, 3),
    ),
    (nn.GroupNorm(2, 6), sc.GroupNorm(2, 6), (6, 3, 3)),
    (nn.GroupNorm(3, 6, affine=False), sc.GroupNorm(3, 6, affine=False), (6, 4)),
    (nn.GroupNorm(3, 6, bias=False, eps=1e-3), sc.GroupNorm(3, 6, eps=1e-3, bias=False), (6, 4)),
    (nn.LayerNorm(5), sc.LayerNorm(5), (4, 5)),
    (nn.LayerNorm([4, 5], bias=False), sc.LayerNorm((4, 5), bias=False), (3, 4, 5)),
    (
        nn.LayerNorm(5, elementwise_affine=False),
        sc.LayerNorm(5, elementwise_affine=False),
        (4, 5),
    ),
    (nn.LocalResponseNorm(3, k=2.0), sc.LocalResponseNorm(3, k=2.0), (6, 3, 3)),
]


@pytest.mark.parametrize(("module", "layer", "shape"), BARE, ids=[repr(c[1]) for c in BARE])
def test_a_bare_module_becomes_its_layer(module, layer, shape):
    net = sc.from_torch(module, shape)
    assert [r.layer for r in net.layers] == [layer]  # read field by field, defaults kept
    assert_agrees(net, module, {}, shape)


@pytest.mark.parametrize(("module", "layer", "shape"), BARE, ids=[repr(c[1]) for c in BARE])
def test_inside_a_sequential(module, layer, shape):
    model = nn.Sequential(nn.Identity(), module, nn.ReLU())
    net = sc.from_torch(model, shape)
    assert net.layers[1].layer == layer
    assert_agrees(net, model, {}, shape)


def test_a_2d_sequence_with_symbolic_sizes():
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2),
        nn.GroupNorm(4, 16),
        nn.InstanceNorm2d(16, affine=True, track_running_stats=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
    )
    net = sc.from_torch(model, (3, H, W))
    assert net.params == 3 * 3 * 3 * 16 + 2 * 16 + 16 * (16 * 9 + 1) + 2 * 16 + 2 * 16
    assert net.buffers == (2 * 16 + 1) * 2
    for h, w in [(5, 5), (8, 13), (32, 17)]:
        assert_agrees(net, model, {H: h, W: w}, (3, h, w))


def test_a_1d_sequence_and_batch_norm_on_features():
    conv = nn.Sequential(
        nn.Conv1d(4, 8, 3), nn.BatchNorm1d(8), nn.InstanceNorm1d(8), nn.GroupNorm(2, 8)
    )
    net = sc.from_torch(conv, (4, L))
    for n in (5, 9):
        assert_agrees(net, conv, {L: n}, (4, n))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.BatchNorm1d(7), nn.ReLU())
    flat = sc.from_torch(mlp, (3, 4))
    assert flat.layers[-2].layer == sc.BatchNorm1d(7) and flat.output_shape == (7,)
    assert_agrees(flat, mlp, {}, (3, 4))


def test_a_3d_network():
    model = nn.Sequential(
        nn.Conv3d(2, 8, 3, padding=1),
        nn.BatchNorm3d(8),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.Conv3d(8, 4, (1, 3, 3)),
        nn.InstanceNorm3d(4, affine=True),
    )
    net = sc.from_torch(model, (2, D, H, W))
    assert [type(r.layer).__name__ for r in net.layers] == [
        "Conv3d",
        "BatchNorm3d",
        "ReLU",
        "MaxPool3d",
        "Conv3d",
        "InstanceNorm3d",
    ]
    for d, h, w in [(2, 8, 8), (4, 7, 10), (6, 8, 9)]:
        assert_agrees(net, model, {D: d, H: h, W: w}, (2, d, h, w))


def test_layer_norm_on_a_channels_last_sequence():
    C = 12  # noqa: N806
    model = nn.Sequential(nn.Linear(6, C), nn.LayerNorm(C), nn.GELU(), nn.Linear(C, 6))
    net = sc.from_torch(model, (L, 6))
    assert net.layers[1].layer == sc.LayerNorm(C)
    assert net.output_shape == (L, 6) and net.conditions == ()
    for n in (1, 7):
        assert_agrees(net, model, {L: n}, (n, 6))
    with pytest.raises(sc.ShapeError, match=r"must equal normalized_shape = 12 \(got input"):
        sc.from_torch(nn.Sequential(nn.Linear(6, 10), nn.LayerNorm(C)), (L, 6))


class GroupNormBlock(nn.Module):
    """A ResNet basic block with GroupNorm (as detection models and ResNet-GN use)."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.gn1 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.gn2 = nn.GroupNorm(groups, cout)
        self.down = nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.GroupNorm(groups, cout)
        )

    def forward(self, x):
        y = torch.relu(self.gn1(self.conv1(x)))
        return torch.relu(self.gn2(self.conv2(y)) + self.down(x))


def test_group_norm_in_a_residual_block():
    model = nn.Sequential(GroupNormBlock(8, 16, 2), GroupNormBlock(16, 16, 1))
    net = sc.from_torch(model, (8, H, W))
    kinds = [type(r.layer).__name__ for r in net.layers]
    assert kinds.count("GroupNorm") == 6 and "Add" in kinds
    assert net.buffers == 0
    for h, w in [(4, 4), (9, 12), (16, 15)]:
        assert_agrees(net, model, {H: h, W: w}, (8, h, w))


def test_group_norm_with_symbolic_channels_keeps_the_divisor_rule():
    c = sc.symbols("c")
    net = sc.Sequential(sc.Conv2d(3, c, 3), sc.GroupNorm(4, c), input_shape=(3, H, W))
    assert net.is_valid({c: 8, H: 5, W: 5}) and not net.is_valid({c: 6, H: 5, W: 5})
    assert "num_groups must divide num_channels" in net.violation({c: 6, H: 5, W: 5})
