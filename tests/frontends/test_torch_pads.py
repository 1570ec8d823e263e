"""from_torch on padding: the pad modules, Conv's ``padding_mode``, and ``F.pad``.

Each network is converted with symbolic sizes, then compared with torch's forward pass at
several sizes: output shape, ``sum(p.numel())`` parameters, FlopCounterMode's flops
(twice the products), and validity: ``net.is_valid`` holds exactly where torch runs and
returns a non-empty tensor.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
F = torch.nn.functional

L, D, H, W = sc.symbols("L D H W")
SYMBOLS = {1: (L,), 2: (H, W), 3: (D, H, W)}


def torch_run(model: Any, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int] | None:
    """(output shape, parameters, flops / 2) per sample, or None where torch refuses."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = model.eval()(torch.zeros(1, *shape))
    except (RuntimeError, ValueError, NotImplementedError):
        return None
    if out.numel() == 0:
        return None  # an empty tensor: symcnn's sizes are at least 1
    params = sum(p.numel() for p in model.parameters())
    return tuple(out.shape[1:]), params, counter.get_total_flops() // 2


def assert_agrees(net: sc.Network, model: Any, channels: int, sizes: tuple[int, ...]) -> bool:
    """The network at ``sizes`` against torch; returns whether torch ran."""
    point = dict(zip(SYMBOLS[len(sizes)], sizes, strict=True))
    expected = torch_run(model, (channels, *sizes))
    assert net.is_valid(point) == (expected is not None), (point, net.constraints)
    if expected is not None:
        at = net.subs(point)
        assert (at.output_shape, at.params, at.products) == expected
    return expected is not None


def _sizes(ndim: int) -> list[tuple[int, ...]]:
    one = [1, 2, 3, 4, 7]
    if ndim == 1:
        return [(s,) for s in one]
    if ndim == 2:
        return [(h, w) for h in one for w in (1, 3, 5)]
    return [(d, h, w) for d in (1, 2, 4) for h in (1, 3) for w in (2, 5)]


# -- the modules -------------------------------------------------------------------------------
MODULES = [
    nn.ZeroPad1d((2, -1)),
    nn.ZeroPad2d((1, 2)),
    nn.ZeroPad3d(1),
    nn.ConstantPad1d(3, 0.5),
    nn.ConstantPad2d((1, -1, 2, 0), -1.0),
    nn.ConstantPad3d((0, 1, 1, 0, 2, 2), 2.0),
    nn.ReflectionPad1d((2, 1)),
    nn.ReflectionPad2d(2),
    nn.ReflectionPad3d((1, 0, 0, 1, 1, 1)),
    nn.ReplicationPad1d((3, -1)),
    nn.ReplicationPad2d((0, 2, 1, 1)),
    nn.ReplicationPad3d(1),
    nn.CircularPad1d(2),
    nn.CircularPad2d((3, 0, 1, 2)),
    nn.CircularPad3d((1, 1, 2, 0, 0, 1)),
]


@pytest.mark.parametrize("module", MODULES, ids=repr)
def test_each_pad_module_is_read_and_valid_exactly_where_torch_runs(module):
    name = type(module).__name__
    ndim = int(name[-2])
    model = nn.Sequential(getattr(nn, f"Conv{ndim}d")(2, 3, 1), module)
    net = sc.from_torch(model, (2, *SYMBOLS[ndim]))
    layer = net.layers[-1].layer
    assert type(layer).__name__ == name
    assert layer.padding == tuple(module.padding) + (0,) * (2 * ndim - len(module.padding))
    if hasattr(layer, "value"):
        assert layer.value == module.value
    ran = [assert_agrees(net, model, 2, sizes) for sizes in _sizes(ndim)]
    assert any(ran)


def test_symbolic_domain_pinned():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReflectionPad2d((2, 2, 1, 1)), nn.Conv2d(8, 8, 3))
    net = sc.from_torch(model, (3, H, W))
    assert str(net.output_shape) == "8×(H - 2)×W"
    assert set(map(str, net.constraints)) == {"H >= 4", "W >= 5"}
    assert net.is_valid({H: 4, W: 5}) and not net.is_valid({H: 4, W: 4})
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        model(torch.zeros(1, 3, 4, 4))


# -- Conv's padding_mode -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, 2, (0, 3), "same", "valid"], ids=str)
def test_conv2d_padding_mode(mode, padding):
    model = nn.Sequential(
        nn.Conv2d(3, 4, (3, 5) if padding == "same" else 3, padding=padding, padding_mode=mode),
        nn.ReLU(),
        nn.Conv2d(4, 2, 1, padding_mode=mode),
    )
    net = sc.from_torch(model, (3, H, W))
    assert net.layers[0].layer.padding_mode == mode
    assert [assert_agrees(net, model, 3, sizes) for sizes in _sizes(2)].count(True) >= 3


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_and_conv3d_padding_mode(mode):
    model1 = nn.Sequential(nn.Conv1d(2, 4, 3, padding=2, padding_mode=mode))
    net1 = sc.from_torch(model1, (2, L))
    assert any([assert_agrees(net1, model1, 2, sizes) for sizes in _sizes(1)])
    model3 = nn.Sequential(nn.Conv3d(2, 4, 3, padding=(1, 2, 1), padding_mode=mode))
    net3 = sc.from_torch(model3, (2, D, H, W))
    assert any([assert_agrees(net3, model3, 2, sizes) for sizes in _sizes(3)])


# -- F.pad --------------------------------------------------------------------------------------
class Pad(nn.Module):
    """A convolution, then ``F.pad(x, pad, mode, value)``."""

    def __init__(self, ndim: int, pad: tuple[int, ...], mode: str, value: Any = None) -> None:
        super().__init__()
        self.conv = getattr(nn, f"Conv{ndim}d")(2, 3, 1)
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        return F.pad(self.conv(x), self.pad, mode=self.mode, value=self.value)


F_PADS = [
    # (input axes, pad, mode, value, layer)
    (1, (2, 1), "constant", None, "ZeroPad1d"),
    (2, (1, 2), "constant", 0.0, "ZeroPad1d"),  # the width only, as torch does
    (2, (1, 2, -1, 0), "constant", 1.5, "ConstantPad2d"),
    (3, (1, 1), "constant", 2.0, "ConstantPad1d"),
    (3, (0, 1, 2, 3, 1, 0), "constant", None, "ZeroPad3d"),
    (1, (2, 3), "reflect", None, "ReflectionPad1d"),
    (2, (1, 2, 3, 0), "reflect", 0, "ReflectionPad2d"),
    (3, (1, 1, 0, 1, 1, 0), "reflect", None, "ReflectionPad3d"),
    (1, (3, -1), "replicate", None, "ReplicationPad1d"),
    (2, (2, 2, 2, 2), "replicate", None, "ReplicationPad2d"),
    (3, (1, 0, 0, 1, 2, 2), "replicate", None, "ReplicationPad3d"),
    (1, (3, 3), "circular", None, "CircularPad1d"),
    (2, (0, 2, 1, 1), "circular", None, "CircularPad2d"),
    (3, (1, 2, 1, 0, 0, 1), "circular", None, "CircularPad3d"),
]


@pytest.mark.parametrize(("ndim", "pad", "mode", "value", "layer"), F_PADS)
def test_f_pad_maps_each_mode_and_length(ndim, pad, mode, value, layer):
    model = Pad(ndim, pad, mode, value)
    net = sc.from_torch(model, (2, *SYMBOLS[ndim]))
    assert type(net.layers[-1].layer).__name__ == layer
    assert [assert_agrees(net, model, 2, sizes) for sizes in _sizes(ndim)].count(True) > 1


def test_f_pad_with_amounts_from_the_size_tf_same():
    class SamePad(nn.Module):
        """TensorFlow's 'same' for a kernel of 5 and stride 2, then a valid convolution."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 5, stride=2)

        def forward(self, x):
            h, w = x.size(2), x.size(3)
            ph, pw = (h - 1) % 2 + 3, (w - 1) % 2 + 3
            return self.conv(F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), "reflect"))

    model = SamePad()
    net = sc.from_torch(model, (3, H, W))
    ran = [assert_agrees(net, model, 3, (h, w)) for h in range(1, 8) for w in (1, 2, 3, 6)]
    assert True in ran and False in ran


def test_f_pad_no_values_is_the_identity_and_refusals_name_the_call():
    class Empty(nn.Module):
        def forward(self, x):
            return F.pad(x, ())

    assert sc.from_torch(Empty(), (3, H, W)).output_shape == (3, H, W)
    # six values pad every axis of the conv's (3, H, W) output, as F.pad does in torch
    model = Pad(2, (1, 1, 1, 1, 1, 1), "constant")
    assert sc.from_torch(model, (2, H, W)).output_shape == (5, H + 2, W + 2)
    assert model(torch.ones(1, 2, 5, 6)).shape == (1, 5, 7, 8)
    cases = [
        (Pad(2, (1, 1, 1), "constant"), r"F\.pad.*pad needs two values per axis"),
        (Pad(2, (1, 1, 1, 1), "reflect", 1.0), r"mode 'reflect' takes no value"),
        (Pad(2, (1, 1), "reflect"), r"ReflectionPad1d.* needs a per-sample input of 2 axes"),
        (Pad(2, (1, 1, 1, 1), "wrap"), r"mode must be 'constant', 'reflect'"),
    ]
    for model, message in cases:
        with pytest.raises(sc.ShapeError, match=message):
            sc.from_torch(model, (2, H, W))


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
    ndim=st.integers(1, 3),
    data=st.data(),
)
def test_f_pad_property(mode, ndim, data):
    axes = ndim if mode != "constant" else data.draw(st.integers(1, ndim))
    low = 0 if mode == "circular" else -2
    pad = tuple(data.draw(st.integers(low, 4)) for _ in range(2 * axes))
    value = data.draw(st.sampled_from([None, 0.0, 3.0])) if mode == "constant" else None
    model = Pad(ndim, pad, mode, value)
    net = sc.from_torch(model, (2, *SYMBOLS[ndim]))
    for sizes in _sizes(ndim):
        assert_agrees(net, model, 2, sizes)
