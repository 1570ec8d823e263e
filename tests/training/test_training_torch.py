"""Training steps against PyTorch's: products forward and backward, bytes autograd keeps.

Every network is built in torch, converted with ``from_torch`` and run by torch on the
meta device in training mode (tests/torchtrain.py): symcnn's forward and backward
products must equal ``FlopCounterMode``'s flops / 2 (the grouped convolution's weight
gradient corrected), and its saved bytes the storages ``saved_tensors_hooks`` sees, each
once, parameters and buffers left out. Hypothesis draws networks of every layer type
that has a training rule, at several batch sizes and in float32 and bfloat16.
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
torchtrain = require("torchtrain")
torchzoo = require("torchzoo")

B, N = sc.symbols("B n")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def assert_same_step(model: Any, shape: tuple[int, ...], batches=(1, 2, 5), dtype="float32"):
    """symcnn's training step equals torch's at every batch size, exactly."""
    net = sc.from_torch(model, shape)
    t = net.training(dtype=dtype)
    for b in batches:
        ref = torchtrain.measure(model, (b, *shape), dtype=DTYPES[dtype])
        at = t.subs({"B": b})
        got = torchtrain.Step(
            int(at.forward_products), int(at.backward_products), int(at.saved_bytes)
        )
        assert got == ref, f"batch {b}, {dtype}: symcnn {got}, torch {ref}"


# -- networks by hand: each family once, pinned --------------------------------------------
def test_conv_bn_relu_pool_linear():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.BatchNorm2d(8),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, groups=8),
        nn.Dropout(0.5),
        nn.GELU(),
        nn.Flatten(),
        nn.Linear(8 * 5 * 5, 5),
    )
    assert_same_step(model, (3, 16, 16), batches=(2, 3))


def test_pinned_formula_in_batch_and_size():
    """The seed's network: each quantity of a training step is one formula in B and n."""
    n = N
    model = nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(10)
    )
    t = sc.from_torch(model, (1, n, n)).training(batch=B)
    pooled = (sympy.floor(n / 2) - 2) ** 2
    assert t.forward_products == B * (800 * (n - 4) ** 2 + 320 * pooled)
    # the image needs no gradient: the convolution's weights only; Linear both ways
    assert sympy.expand(t.backward_products - B * (800 * (n - 4) ** 2 + 640 * pooled)) == 0
    # image, ReLU's output (the pool's input too), int64 indices, the pool's output
    kept = 4 * n**2 + 128 * (n - 4) ** 2 + 8 * 32 * pooled + 4 * 32 * pooled
    assert sympy.expand(t.saved_bytes - B * kept) == 0
    assert t.subs({B: 3, n: 28}).saved_bytes == 3 * (4 * 784 + 128 * 576 + 384 * 144)
    concrete = nn.Sequential(*list(model)[:-1], nn.Linear(32 * 12 * 12, 10))
    assert_same_step(concrete, (1, 28, 28), batches=(3,))


def test_resnet_and_densenet_blocks():
    assert_same_step(torchzoo.resnet18(0.25), (3, 40, 40), batches=(1, 2))
    assert_same_step(torchzoo.densenet_small(), (3, 40, 40), batches=(2,))


def test_bfloat16_keeps_float32_statistics():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.SiLU(), nn.Flatten(1), nn.LayerNorm(4 * 36)
    )
    assert_same_step(model, (3, 8, 8), batches=(2,), dtype="bfloat16")


# -- networks drawn by hypothesis ----------------------------------------------------------
def _activation(draw: Any, c: int) -> Any:
    inplace = draw(st.booleans())
    return draw(
        st.sampled_from(
            [
                nn.ReLU(inplace),
                nn.ReLU6(inplace),
                nn.LeakyReLU(0.1, inplace),
                nn.Sigmoid(),
                nn.Tanh(),
                nn.GELU(),
                nn.SiLU(inplace),
                nn.Hardswish(inplace),
                nn.Hardsigmoid(inplace),
                nn.Mish(inplace),
                nn.ELU(inplace=inplace),
                nn.Softplus(),
                nn.Softmax(dim=1),
                nn.LogSoftmax(dim=1),
                nn.PReLU(draw(st.sampled_from([1, c]))),
                nn.Identity(),
                nn.Dropout(draw(st.sampled_from([0.0, 0.3, 1.0])), inplace),
            ]
        )
    )


@st.composite
def cnn_layers(draw: Any, c: int, h: int, w: int) -> list[Any]:
    """A chain of 2-d layers on (c, h, w), each kind with its options; shapes tracked by torch."""
    layers: list[Any] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(
            st.sampled_from(
                ["conv", "convt", "norm", "act", "act", "pool", "adaptive", "pad", "resample"]
            )
        )
        if kind == "conv":
            groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]))
            out = groups * draw(st.integers(1, 3))
            k = draw(st.integers(1, 3))
            layer = nn.Conv2d(
                c,
                out,
                k,
                draw(st.integers(1, 2)),
                draw(st.integers(0, 1)),
                groups=groups,
                bias=draw(st.booleans()),
            )
        elif kind == "convt":
            out = draw(st.integers(1, 4))
            layer = nn.ConvTranspose2d(c, out, draw(st.integers(1, 3)), draw(st.integers(1, 2)))
        elif kind == "norm":
            layer = draw(
                st.sampled_from(
                    [
                        nn.BatchNorm2d(c),
                        nn.BatchNorm2d(c, affine=False),
                        nn.GroupNorm(1, c),
                        nn.InstanceNorm2d(c),
                        nn.InstanceNorm2d(c, affine=True),
                        nn.LayerNorm(w),
                        nn.LocalResponseNorm(draw(st.integers(1, 3))),
                    ]
                )
            )
        elif kind == "act":
            layer = _activation(draw, c)
        elif kind == "pool":
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 2))
            p = draw(st.integers(0, k // 2))
            layer = draw(st.sampled_from([nn.MaxPool2d(k, s, p), nn.AvgPool2d(k, s, p)]))
        elif kind == "adaptive":
            size = draw(st.sampled_from([1, 2, (1, 3), 3]))
            layer = draw(st.sampled_from([nn.AdaptiveAvgPool2d(size), nn.AdaptiveMaxPool2d(size)]))
        elif kind == "pad":
            p = draw(st.integers(1, 2))
            layer = draw(
                st.sampled_from(
                    [
                        nn.ZeroPad2d(p),
                        nn.ReflectionPad2d(p),
                        nn.ReplicationPad2d(p),
                        nn.CircularPad2d(p),
                    ]
                )
            )
        else:
            layer = draw(
                st.sampled_from(
                    [
                        nn.Upsample(scale_factor=2),
                        nn.Upsample(scale_factor=2, mode="bilinear"),
                        nn.PixelShuffle(1),
                        nn.PixelUnshuffle(1),
                    ]
                )
            )
        with torch.device("meta"):
            try:
                y = nn.Sequential(*layers, layer)(torch.empty(2, c0, h0, w0))
            except (RuntimeError, ValueError):
                continue
        layers.append(layer)
        c, h, w = y.shape[1:]
    if draw(st.booleans()):
        layers += [nn.Flatten(), nn.Linear(c * h * w, draw(st.integers(1, 4)))]
    return layers


c0, h0, w0 = 3, 9, 8


@torch_settings
@given(st.data())
def test_drawn_networks_agree_with_torch(data):
    layers = data.draw(cnn_layers(c0, h0, w0))
    model = nn.Sequential(nn.Conv2d(c0, c0, 1), *layers)  # a parameter first: gradients flow
    dtype = data.draw(st.sampled_from(sorted(DTYPES)))
    try:
        torchtrain.measure(model, (2, c0, h0, w0), dtype=DTYPES[dtype])
    except RuntimeError as err:  # an in-place layer on a kept tensor: symcnn refuses it too
        assert "inplace operation" in str(err)
        with pytest.raises(sc.ShapeError, match="runs in place"):
            sc.from_torch(model, (c0, h0, w0)).training()
        return
    assert_same_step(model, (c0, h0, w0), batches=(2, 3), dtype=dtype)
