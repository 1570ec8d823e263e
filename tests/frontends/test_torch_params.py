"""from_torch on code that reads a module's own tensors: ``self.layer_scale * x``,
``F.layer_norm(x, shape, self.weight, self.bias)``, ``self.w.view(1, -1, 1, 1) * x``.

Each parameter counts once, in the layer that uses it; a buffer counts as a buffer. Every
case is checked against torch: the output shape, ``sum(p.numel())`` and FlopCounterMode.
"""

from __future__ import annotations

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.slow
torch = require("torch")
F = torch.nn.functional
nn = torch.nn

H, W = sc.symbols("H W")


class LayerScale(nn.Module):
    """ConvNeXt's block: a depthwise conv, its output scaled by a (C, 1, 1) parameter."""

    def __init__(self, c=8):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=c)
        self.layer_scale = nn.Parameter(torch.ones(c, 1, 1) * 1e-6)

    def forward(self, x):
        return self.layer_scale * self.conv(x) + x


class LayerNorm2d(nn.LayerNorm):
    """torchvision's channels-first LayerNorm: permute, F.layer_norm, permute back."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, stride=4)
        self.norm = LayerNorm2d(8)

    def forward(self, x):
        return self.norm(self.conv(x))


class L2Norm(nn.Module):
    """SSD's rescaling of conv4_3: ``self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.scale_weight = nn.Parameter(torch.ones(8) * 20)

    def forward(self, x):
        return self.scale_weight.view(1, -1, 1, 1) * F.normalize(self.conv(x))


class ReadTwice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x):
        y = self.gamma * self.conv(x)
        return y * self.gamma


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.register_buffer("mask", torch.ones(8, 1, 1))

    def forward(self, x):
        return self.conv(x) * self.mask


class Functional(nn.Module):
    """F.linear with the module's own parameters, with and without a bias."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.w = nn.Parameter(torch.ones(7, 6))
        self.b = nn.Parameter(torch.zeros(7))
        self.fc = nn.Parameter(torch.ones(5, 7))

    def forward(self, x):
        y = F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1)
        return F.linear(F.linear(y, self.w, self.b), self.fc)


class Mismatched(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.gamma = nn.Parameter(torch.ones(5, 1, 1))

    def forward(self, x):
        return self.gamma * self.conv(x)


def flop_count(model, input_shape):
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *input_shape))
    return tuple(out.shape[1:]), counter.get_total_flops()


CASES = {
    "layer scale": (LayerScale, (8, H, W)),
    "LayerNorm2d": (Stem, (3, H, W)),
    "scale_weight.view * F.normalize": (L2Norm, (3, H, W)),
    "read twice": (ReadTwice, (3, H, W)),
    "buffer": (Masked, (3, H, W)),
    "F.linear": (Functional, (3, H, W)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_against_torch(case):
    build, shape = CASES[case]
    model = build()
    net = sc.from_torch(model, shape)
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.buffers == sum(b.numel() for b in model.buffers())
    for size in [(16, 16), (24, 20)]:
        point = dict(zip((H, W), size, strict=True))
        out, flops = flop_count(model, (shape[0], *size))
        assert net.subs(point).output_shape == out
        assert net.products.subs(point) == flops // 2


def test_layer_scale_is_a_scale_node_keeping_the_receptive_field():
    net = sc.from_torch(LayerScale(), (8, H, W))
    (scale,) = [r for r in net.layers if isinstance(r.layer, sc.Scale)]
    assert scale.layer == sc.Scale((8, 1, 1))
    assert scale.params == 8
    assert scale.elementwise == 8 * H * W
    assert scale.receptive_field == (3, 3)


def test_functional_layer_norm_is_a_layer_norm():
    net = sc.from_torch(Stem(), (3, H, W))
    (ln,) = [r for r in net.layers if isinstance(r.layer, sc.LayerNorm)]
    assert ln.layer == sc.LayerNorm(8)
    assert ln.params == 16


def test_normalize_keeps_the_shape_and_scales_each_element():
    net = sc.from_torch(L2Norm(), (3, H, W))
    (norm,) = [r for r in net.layers if isinstance(r.layer, sc.Normalize)]
    assert norm.output_shape == (8, H - 2, W - 2)
    assert norm.params == 0 and norm.products == 0
    assert (norm.elementwise - 8 * (H - 2) * (W - 2)).expand() == 0
    (scale,) = [r for r in net.layers if isinstance(r.layer, sc.Scale)]
    assert scale.layer == sc.Scale((1, 8, 1, 1))


def test_a_parameter_read_twice_counts_once():
    net = sc.from_torch(ReadTwice(), (3, H, W))
    scales = [r for r in net.layers if isinstance(r.layer, sc.Scale)]
    assert len(scales) == 2 and scales[0].layer is scales[1].layer
    assert net.params == 8 * 3 * 9 + 8 + 8


def test_a_buffer_counts_as_a_buffer():
    net = sc.from_torch(Masked(), (3, H, W))
    (scale,) = [r for r in net.layers if isinstance(r.layer, sc.Scale)]
    assert scale.layer == sc.Scale((8, 1, 1), learned=False)
    assert (scale.params, scale.buffers) == (0, 8)


def test_a_parameter_that_cannot_broadcast_is_refused_naming_the_node():
    message = r"Scale\(\(5, 1, 1\)\) at layer 1 \(mul\).*axis 0 = 8, tensor size = 5"
    with pytest.raises(sc.ShapeError, match=message):
        sc.from_torch(Mismatched(), (3, 16, 16))


def test_a_parameter_in_a_sum_is_a_param_op_counted_once():
    class Biased(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(torch.zeros(3, 1, 1))

        def forward(self, x):
            return x + self.b

    net = sc.from_torch(Biased(), (3, 16, 16))
    assert [r.layer for r in net.layers] == [sc.ParamOp("add", (3, 1, 1))]
    assert net.params == 3 and net.output_shape == (3, 16, 16)


def test_a_layer_norm_weight_of_the_wrong_shape_is_refused():
    class Wrong(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4))

        def forward(self, x):
            return F.layer_norm(x, (8,), self.weight)

    with pytest.raises(sc.ShapeError, match=r"F.layer_norm at node .*weight.*\(8,\)"):
        sc.from_torch(Wrong(), (3, 8))


def test_an_unmapped_call_reading_a_parameter_is_refused_naming_it():
    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(8, 8))

        def forward(self, x):
            return torch.maximum(x, self.weight)

    message = r"maximum at node 'maximum' reads the parameter 'weight' of shape \(8, 8\) directly"
    with pytest.raises(sc.UnsupportedLayerError, match=message):
        sc.from_torch(Conv(), (3, 8, 8))


def test_scale_broadcasting_rules():
    x = sc.Shape((8, 4, 4))
    assert sc.Scale((8, 1, 1)).output_shape(x) == x
    assert sc.Scale((4,)).output_shape(x) == x
    assert sc.Scale((1, 8, 1, 1)).params(x).value == 8
    with pytest.raises(sc.ShapeError, match="first size must be 1"):
        sc.Scale((2, 8, 1, 1)).output_shape(x)
    with pytest.raises(sc.ShapeError, match="more axes"):
        sc.Scale((1, 1, 8, 1, 1)).output_shape(x)
    with pytest.raises(sc.ShapeError, match="dim must be a nonzero int"):
        sc.Normalize(dim=0)
