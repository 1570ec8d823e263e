"""Adaptive pooling on 1, 2 and 3 spatial axes, and a small video network, against torch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require

torch = require("torch")
nn = torch.nn
pytestmark = pytest.mark.torch
T, H, W = sc.symbols("T H W")

CLASSES = {
    1: (sc.AdaptiveAvgPool1d, sc.AdaptiveMaxPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d),
    2: (sc.AdaptiveAvgPool2d, sc.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d),
    3: (sc.AdaptiveAvgPool3d, sc.AdaptiveMaxPool3d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool3d),
}


@st.composite
def cases(draw):
    ndim = draw(st.sampled_from([1, 2, 3]))
    sizes = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    out = tuple(draw(st.none() | st.integers(1, 6)) for _ in range(ndim))
    if draw(st.booleans()) and all(o is not None for o in out):
        out = out[0]  # one size for every axis
    return ndim, draw(st.integers(1, 4)), sizes, out, draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(cases())
def test_adaptive_pools_shape_like_torch(case):
    ndim, channels, sizes, out, use_max = case
    ours_avg, ours_max, torch_avg, torch_max = CLASSES[ndim]
    ours, theirs = (ours_max, torch_max) if use_max else (ours_avg, torch_avg)
    shape = (channels, *sizes)
    if ndim == 1 and out == (None,):  # torch's 1-d pools take ints only: so does symcnn
        with pytest.raises(TypeError):
            theirs(out)(torch.zeros(1, *shape))
        with pytest.raises(sc.ShapeError, match=r"output_size must be a size \(None keeps"):
            ours(out)
        return
    expected = tuple(theirs(out)(torch.zeros(1, *shape)).shape[1:])
    net = sc.Sequential(ours(out), input_shape=shape)
    assert net.output_shape == expected
    assert (net.params, net.products) == (0, 0)
    via_torch = sc.from_torch(nn.Sequential(theirs(out)), shape)
    assert via_torch.output_shape == expected
    assert via_torch.layers[0].layer == ours(out)


def test_adaptive_pools_refuse_what_torch_refuses():
    with pytest.raises(sc.ShapeError, match=r"'output_size' needs 3 values \(got \(1, 2\)\)"):
        sc.AdaptiveAvgPool3d((1, 2))
    with pytest.raises(sc.ShapeError, match=r"AdaptiveMaxPool1d.*output_size must be positive"):
        sc.AdaptiveMaxPool1d(0)
    with pytest.raises(sc.ShapeError, match=r"needs a per-sample input of 4 axes \(C, D, H, W\)"):
        sc.Sequential(sc.AdaptiveAvgPool3d(1), input_shape=(3, 8, 8))
    with pytest.raises(RuntimeError):
        nn.AdaptiveAvgPool3d((1, 2))(torch.zeros(1, 3, 4, 4, 4))


def test_a_video_network_like_r3d_18_matches_torch():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv3d(3, 16, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(16),
        nn.ReLU(inplace=True),
        nn.Conv3d(16, 32, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm3d(32),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool3d((1, 1, 1)),
        nn.Flatten(1),
        nn.Linear(32, 10),
    ).eval()
    net = sc.from_torch(model, (3, T, H, W))
    assert str(net.products) == (
        "7056*T*floor(H/2 + 1/2)*floor(W/2 + 1/2) "
        "+ 13824*floor(H/4 + 3/4)*floor(T/2 + 1/2)*floor(W/4 + 3/4) + 320"
    )
    assert net.params == sum(p.numel() for p in model.parameters())
    from torch.utils.flop_counter import FlopCounterMode

    for t, h, w in [(8, 112, 112), (5, 37, 50)]:
        with FlopCounterMode(display=False) as counter:
            out = model(torch.zeros(1, 3, t, h, w))
        point = {T: t, H: h, W: w}
        assert net.subs(point).output_shape == tuple(out.shape[1:])
        assert net.products.subs(point) == counter.get_total_flops() // 2
