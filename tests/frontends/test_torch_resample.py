"""from_torch on resampling: fractional Upsample, F.interpolate to a traced size, pixel shuffles.

Each network is read with symbolic input sizes, its formula pinned, then checked at
concrete sizes against a torch forward pass: output shape, ``sum(p.numel())`` and
products against ``FlopCounterMode`` (flops/2).
"""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc
from symcnn.symbolic.printing import text

from conftest import require

torch = require("torch")
nn = torch.nn
F = nn.functional
pytestmark = pytest.mark.torch
H, W, L = sc.symbols("H W L")


def shape_text(net: sc.Network) -> str:
    return "×".join(text(d, atom=True) for d in net.output_shape)


def check_against_torch(net, model, points, shape):
    """At each point: torch's output shape, parameters and products (flops/2)."""
    from torch.utils.flop_counter import FlopCounterMode

    assert net.params == sum(p.numel() for p in model.parameters())
    for point in points:
        sizes = [point.get(d, d) if isinstance(d, sympy.Symbol) else d for d in shape]
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, *[int(s) for s in sizes]))
        at = net.subs(point)
        assert at.output_shape == tuple(out.shape[1:]), point
        assert at.products == counter.get_total_flops() // 2, point


class UNet(nn.Module):
    """Down by strided convolution, up to the skip's own size: odd sizes survive."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(11, 2, 1)

    def forward(self, x):
        y = self.mid(F.relu(self.down(x)))
        y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([y, x], dim=1))


def test_interpolate_to_a_skips_size_is_symbolic():
    model = UNet().eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.output_shape == (2, H, W)
    up = net["interpolate"]
    assert up.layer == sc.Upsample(size=(H, W), mode="bilinear", align_corners=False)
    assert str(net.products) == "22*H*W + 792*floor(H/2 + 1/2)*floor(W/2 + 1/2)"
    points = [{H: 7, W: 9}, {H: 32, W: 17}, {H: 1, W: 2}]
    check_against_torch(net, model, points, (3, H, W))


class HalfSize(nn.Module):
    """Upsample to the size of a downsampled copy: the traced size is a formula."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return F.interpolate(x, size=self.pool(x).shape[2:], mode="nearest-exact")


def test_a_traced_size_formula_keeps_its_conditions():
    model = HalfSize().eval()
    net = sc.from_torch(model, (3, H, W))
    assert shape_text(net) == "3×⌊(H - 1)/2⌋×⌊(W - 1)/2⌋"
    assert str(net.constraints) == "(H >= 3, W >= 3)"
    check_against_torch(net, model, [{H: 3, W: 8}, {H: 20, W: 11}], (3, H, W))


def test_a_fractional_upsample_module():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.Conv2d(4, 2, 1)
    ).eval()
    net = sc.from_torch(model, (3, H, W))
    assert shape_text(net) == "2×(⌊3·H/2⌋ - 3)×(⌊3·W/2⌋ - 3)"
    assert net["1"].layer == sc.Upsample(scale_factor=sympy.Rational(3, 2), mode="bilinear")
    assert str(net.products) == "108*(H - 2)*(W - 2) + 8*(floor(3*H/2) - 3)*(floor(3*W/2) - 3)"
    points = [{H: 3, W: 3}, {H: 10, W: 7}, {H: 31, W: 16}]
    check_against_torch(net, model, points, (3, H, W))


def test_interpolate_calls_with_fractional_scales_and_every_rank():
    class Calls(nn.Module):
        def forward(self, x):
            y = F.interpolate(x, scale_factor=1 / 3, mode="linear", recompute_scale_factor=True)
            return F.interpolate(y, scale_factor=(2.5,), mode="area")

    model = Calls().eval()
    net = sc.from_torch(model, (4, L))
    assert shape_text(net) == "4×⌊5·⌊L/3⌋/2⌋"
    check_against_torch(net, model, [{L: 3}, {L: 10}, {L: 101}], (4, L))
    model = nn.Sequential(nn.Upsample(scale_factor=(1, 0.5, 2), mode="trilinear")).eval()
    net = sc.from_torch(model, (2, 3, H, W))
    assert net.output_shape == (2, 3, sympy.floor(H / 2), 2 * W)
    check_against_torch(net, model, [{H: 5, W: 2}], (2, 3, H, W))


def test_upsample_bilinear_and_the_upsampling_modules():
    class Old(nn.Module):
        def forward(self, x):
            return F.upsample_bilinear(F.upsample_nearest(x, scale_factor=2), size=(5, 7))

    net = sc.from_torch(Old(), (3, H, W))
    assert [r.layer for r in net.layers] == [
        sc.Upsample(scale_factor=2),
        sc.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
    ]
    model = nn.Sequential(nn.UpsamplingBilinear2d(scale_factor=1.5), nn.UpsamplingNearest2d(size=4))
    net = sc.from_torch(model, (3, H, W))
    assert [r.layer for r in net.layers] == [
        sc.UpsamplingBilinear2d(scale_factor=1.5),
        sc.UpsamplingNearest2d(size=4),
    ]
    check_against_torch(net, model, [{H: 3, W: 5}], (3, H, W))


def test_pixel_shuffle_networks():
    class Espcn(nn.Module):
        """ESPCN's sub-pixel head, and a space-to-depth stem read back."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(12, 27, 3, padding=1)
            self.shuffle = nn.PixelShuffle(3)

        def forward(self, x):
            y = F.pixel_unshuffle(x, 2)
            y = self.shuffle(self.conv(y))
            return torch.pixel_shuffle(F.pixel_shuffle(y, 1), 1)

    model = Espcn().eval()
    net = sc.from_torch(model, (3, H, W))
    assert shape_text(net) == "3×3·⌊H/2⌋×3·⌊W/2⌋"
    assert str(net.constraints) == "(Eq(Mod(H, 2), 0), Eq(Mod(W, 2), 0))"
    assert [r.layer for r in net.layers][:3:2] == [sc.PixelUnshuffle(2), sc.PixelShuffle(3)]
    check_against_torch(net, model, [{H: 2, W: 4}, {H: 16, W: 10}], (3, H, W))
    with pytest.raises(sc.ShapeError, match=r"the width must be divisible by downscale_factor"):
        net.subs({H: 4, W: 5})


def test_refusals_name_the_layer():
    with pytest.raises(sc.UnsupportedLayerError, match=r"scale_factor=0\.7 has no exact formula"):
        sc.from_torch(nn.Sequential(nn.Upsample(scale_factor=0.7)), (3, 8, 8))
    with pytest.raises(sc.ShapeError, match=r"channels must be divisible by upscale_factor²"):
        sc.from_torch(nn.Sequential(nn.PixelShuffle(2)), (3, 8, 8))
    with pytest.raises(sc.ShapeError, match=r"mode='linear' needs a per-sample input of 2 axes"):
        sc.from_torch(nn.Sequential(nn.Upsample(scale_factor=2, mode="linear")), (3, 8, 8))
