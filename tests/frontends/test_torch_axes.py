"""from_torch on axis operations: permute, transpose, chunk, split, slicing, (un)squeeze.

Small plain-torch modules are converted with symbolic sizes, then substituted to concrete
ones and compared with torch's forward pass: output shape, ``sum(p.numel())`` parameters
and FlopCounterMode's flops, twice the products. A plain-torch copy of torchvision's
ShuffleNetV2 block and channel shuffle (torchvision is not a test dependency) derives
with symbolic H and W and is checked at two sizes.
"""

from __future__ import annotations

from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn

H, W = sc.symbols("H W")


def torch_counts(model: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    """(output shape, parameters, products) per sample of a forward pass in eval."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.randn(2, *shape))
    params = sum(p.numel() for p in model.parameters())
    return tuple(out.shape[1:]), params, counter.get_total_flops() // 4  # batch of 2


def assert_agrees(model: Any, shape: tuple[Any, ...], points: list[dict[Any, int]]) -> sc.Network:
    net = sc.from_torch(model, shape)
    for point in points or [{}]:
        at = net.subs(point) if point else net
        concrete = tuple(int(sc.Shape((s,)).subs(point)[0]) for s in shape)
        out, params, products = torch_counts(model, concrete)
        assert at.output_shape == out
        assert at.params == params
        assert at.products == products
    return net


class Lambda(nn.Module):
    def __init__(self, fn: Any, conv: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1) if conv else nn.Identity()
        self.fn = fn

    def forward(self, x: Any) -> Any:
        return self.fn(self.conv(x))


POINTS = [{H: 5, W: 7}, {H: 9, W: 4}]

CASES = {
    "x.permute": lambda x: x.permute(0, 2, 3, 1),
    "x.permute tuple": lambda x: x.permute((0, 3, 1, 2)).contiguous(),
    "torch.permute": lambda x: torch.permute(x, (0, 1, 3, 2)),
    "x.transpose": lambda x: x.transpose(1, 3),
    "torch.transpose": lambda x: torch.transpose(x, -1, -2),
    "swapaxes": lambda x: x.swapaxes(1, 2),
    "x.flatten": lambda x: x.flatten(2, 3),
    "torch.flatten": lambda x: torch.flatten(x, 1, 2),
    "unsqueeze": lambda x: x.unsqueeze(2).squeeze(2),
    "torch.unsqueeze": lambda x: torch.unsqueeze(x, -1),
    "chunk": lambda x: x.chunk(3, dim=1)[2],
    "torch.chunk used twice": lambda x: torch.chunk(x, 2, 1)[0] + torch.chunk(x, 2, 1)[1],
    "chunk unpacked": lambda x: torch.cat(x.chunk(2, 1)[::-1], 1),
    "split": lambda x: torch.split(x, 3, dim=1)[-1],
    "split sections": lambda x: x.split([2, 6], 1)[1],
    "slice head": lambda x: x[:, :3],
    "slice tail": lambda x: x[:, 5:],
    "slice middle": lambda x: x[:, 2:-2],
    "slice by size": lambda x: x[:, : x.size(1) // 2] * x[:, x.size(1) // 2 :],
    "slice spatial": lambda x: x[..., 1:, :-1],
    "narrow": lambda x: x.narrow(1, 1, 4),
}


@pytest.mark.parametrize("name", list(CASES))
def test_axis_calls_as_torch(name: str) -> None:
    assert_agrees(Lambda(CASES[name]), (4, H, W), POINTS)


def test_squeeze_without_dim_needs_numbers() -> None:
    model = Lambda(lambda x: x.mean((2, 3), keepdim=True).squeeze())
    net = assert_agrees(model, (4, H, W), POINTS)
    assert net.output_shape == (8,)
    model = Lambda(lambda x: x.squeeze(), conv=False)
    with pytest.raises(sc.UnsupportedLayerError, match=r"x.squeeze\(\) of 4×H×W"):
        sc.from_torch(model, (4, H, W))


def test_unused_pieces_add_no_nodes() -> None:
    net = sc.from_torch(Lambda(lambda x: x.chunk(4, 1)[1]), (4, H, W))
    narrows = [r for r in net.layers if isinstance(r.layer, sc.Narrow)]
    assert [r.layer for r in narrows] == [sc.Narrow(1, 2, 2)]


def test_symbolic_slices_become_conditions() -> None:
    net = sc.from_torch(Lambda(lambda x: x[:, :, 2:], conv=False), (4, H, W))
    assert net.output_shape == (4, H - 2, W)
    assert net.is_valid({H: 3, W: 1}) and not net.is_valid({H: 2, W: 1})


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda x: x.transpose(0, 1), sc.ShapeError, r"dim0 is the batch axis"),
        (lambda x: x.permute(1, 0, 2, 3), sc.ShapeError, r"dims must start with 0"),
        (lambda x: x.chunk(2), sc.ShapeError, r"x.chunk at node 'chunk'.*batch axis"),
        (lambda x: x.split(2, 2)[0], sc.ShapeError, r"a count symcnn needs to know"),
        (lambda x: x.split([1, 2], 1)[0], sc.ShapeError, r"must add up to the size 4"),
        (lambda x: x[1:], sc.ShapeError, r"slicing the batch axis"),
        (lambda x: x[0], sc.UnsupportedLayerError, r"the batch axis whole\)$"),
        (lambda x: x[:, None], sc.UnsupportedLayerError, r"\(no None, no tensors,"),
        (lambda x: x[:, 4:], sc.ShapeError, r"is empty"),
        (lambda x: x.unsqueeze(0), sc.ShapeError, r"before the batch axis"),
    ],
)
def test_refusals_name_the_call(fn: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        sc.from_torch(Lambda(fn, conv=False), (4, H, W))


# -- torchvision's ShuffleNetV2, written out in plain torch --------------------------------
def channel_shuffle(x: Any, groups: int) -> Any:
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, -1, height, width)


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        branch = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, bias=False, groups=inp),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch, 1, bias=False),
                nn.BatchNorm2d(branch),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch, branch, 1, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
            nn.Conv2d(branch, branch, 3, stride, 1, bias=False, groups=branch),
            nn.BatchNorm2d(branch),
            nn.Conv2d(branch, branch, 1, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Any) -> Any:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class TinyShuffleNet(nn.Module):
    """ShuffleNetV2's layout at a small width: stem, one stage of three blocks, head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stage2 = nn.Sequential(
            InvertedResidual(8, 16, 2), InvertedResidual(16, 16, 1), InvertedResidual(16, 16, 1)
        )
        self.fc = nn.Linear(16, 10)

    def forward(self, x: Any) -> Any:
        x = self.stage2(self.maxpool(self.conv1(x)))
        return self.fc(x.mean([2, 3]))


def test_shufflenet_block_symbolic() -> None:
    net = assert_agrees(TinyShuffleNet(), (3, H, W), [{H: 64, W: 64}, {H: 45, W: 71}])
    assert net.output_shape == (10,)
    assert not net.constraints or all(c.free_symbols <= {H, W} for c in net.constraints)
    shuffles = [r for r in net.layers if isinstance(r.layer, sc.Transpose)]
    assert len(shuffles) == 3
    assert shuffles[0].output_shape[:2] == (8, 2)


def test_shufflenet_stride_one_block_alone() -> None:
    block = InvertedResidual(24, 24, 1)
    net = assert_agrees(block, (24, H, W), POINTS)
    assert net.output_shape == (24, H, W)
    assert [r.layer for r in net.layers if isinstance(r.layer, sc.Narrow)] == [
        sc.Narrow(1, 0, 12),
        sc.Narrow(1, 12, 12),
    ]
