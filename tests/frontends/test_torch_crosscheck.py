"""Cross-checks of symcnn's shapes, parameters, products and validity against real PyTorch.

Every test takes the ``torch`` fixture (conftest): it skips locally when torch is missing
and fails under CI=true, so none of these checks can vanish silently in CI.

The products convention is the seed's: a convolution makes
``C_out·H_out·W_out · (C_in/groups)·k_h·k_w`` products per sample, a linear layer ``in·out``
per vector; here both are computed from the torch module's weight shape and the shape torch
actually produced, never from symcnn's own formulas.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import symcnn as sc

from conftest import seed_layers
from torchcheck import (
    assert_same_verdict,
    check_pool,
    n_params,
    per_axis,
    rarely,
    run_symcnn,
    run_torch,
    torch_settings,
)

pytestmark = pytest.mark.torch


# -- helpers ---------------------------------------------------------------------------------
def conv_products(conv: Any, out_shape: tuple[int, ...]) -> int:
    """C_out·H_out·W_out · (C_in/groups)·k_h·k_w from the weight and the output shape."""
    c_out, c_in_per_group, kh, kw = conv.weight.shape
    out_c, h_out, w_out = out_shape
    assert out_c == c_out
    return c_out * h_out * w_out * c_in_per_group * kh * kw


def linear_products(linear: Any, out_shape: tuple[int, ...]) -> int:
    """in·out per vector, once per position of the leading per-sample axes."""
    out_features, in_features = linear.weight.shape
    assert out_shape[-1] == out_features
    positions = 1
    for size in out_shape[:-1]:
        positions *= size
    return in_features * out_features * positions


# -- 1. the seed LeNet, op by op ---------------------------------------------------------------
def test_seed_lenet_matches_torch_layer_by_layer(torch, seed_net):
    nn, functional = torch.nn, torch.nn.functional

    class Net(nn.Module):  # the lecture's network, as written there
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 5)
            self.conv2 = nn.Conv2d(32, 64, 5)
            self.fc1 = nn.Linear(256, 200)
            self.fc2 = nn.Linear(200, 10)

        def forward(self, x: Any) -> Any:
            x = functional.relu(functional.max_pool2d(self.conv1(x), kernel_size=3))
            x = functional.relu(functional.max_pool2d(self.conv2(x), kernel_size=2))
            x = x.view(-1, 256)
            x = functional.relu(self.fc1(x))
            return self.fc2(x)

    model = Net()
    conv1, conv2, fc1, fc2 = model.conv1, model.conv2, model.fc1, model.fc2
    with torch.no_grad():
        assert tuple(model(torch.zeros(1, 1, 28, 28)).shape) == (1, 10)

    # The lecture's forward, written out so every intermediate shape is recorded.
    steps = [
        conv1,
        lambda x: functional.max_pool2d(x, kernel_size=3),
        functional.relu,
        conv2,
        lambda x: functional.max_pool2d(x, kernel_size=2),
        functional.relu,
        lambda x: x.view(-1, 256),
        fc1,
        functional.relu,
        fc2,
    ]
    modules = [conv1, None, None, conv2, None, None, None, fc1, None, fc2]
    x = torch.zeros(1, 1, 28, 28)
    shapes = []
    with torch.no_grad():
        for step in steps:
            x = step(x)
            assert x.shape[0] == 1  # one sample stays one sample all the way
            shapes.append(tuple(x.shape[1:]))
    assert shapes == [
        (32, 24, 24),
        (32, 8, 8),
        (32, 8, 8),
        (64, 4, 4),
        (64, 2, 2),
        (64, 2, 2),
        (256,),
        (200,),
        (200,),
        (10,),
    ]

    net = sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))
    # The conftest's symbolic seed network, evaluated at n=28, k=5, is the same network.
    numeric_seed = seed_net.subs({"n": 28, "k": 5})
    for candidate in (net, numeric_seed):
        assert len(candidate.layers) == len(steps)
        assert [r.output_shape for r in candidate.layers] == shapes

        expected_params, expected_products = [], []
        for module, shape in zip(modules, shapes, strict=True):
            if module is None:
                expected_params.append(0)
                expected_products.append(0)
            elif isinstance(module, nn.Conv2d):
                expected_params.append(n_params(module))
                expected_products.append(conv_products(module, shape))
            else:
                expected_params.append(n_params(module))
                expected_products.append(linear_products(module, shape))
        assert [r.params for r in candidate.layers] == expected_params
        assert [r.products for r in candidate.layers] == expected_products
        assert [r.params for r in candidate.layers] == [832, 0, 0, 51264, 0, 0, 0, 51400, 0, 2010]
        assert [r.products for r in candidate.layers] == [
            460800,
            0,
            0,
            819200,
            0,
            0,
            0,
            51200,
            0,
            2000,
        ]

        assert candidate.params == n_params(model) == 105506
        assert candidate.products == sum(expected_products) == 1333200
        assert candidate.output_shape == (10,)


# -- 2. Conv2d, generated configurations ---------------------------------------------------
ZERO_STRIDES = st.sampled_from([0, (0, 1), (2, 0)])


@st.composite
def conv_configs(draw: Any) -> dict[str, Any]:
    """Conv2d keyword arguments; mostly valid, with every kind of invalid value mixed in."""
    groups = draw(st.integers(1, 4))
    if rarely(draw):  # any channel counts: groups often fails to divide them
        in_channels, out_channels = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    else:
        in_channels = groups * draw(st.integers(1, 3))
        out_channels = groups * draw(st.integers(1, 3))
    stride = draw(ZERO_STRIDES) if rarely(draw) else per_axis(draw, st.integers(1, 3))
    padding = (
        draw(st.sampled_from(["same", "valid"]))
        if draw(st.booleans())
        else per_axis(draw, st.integers(0, 3))
    )
    return {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": per_axis(draw, st.integers(1, 5)),
        "stride": stride,
        "padding": padding,
        "dilation": per_axis(draw, st.integers(1, 3)),
        "groups": groups,
        "bias": draw(st.booleans()),
    }


spatial = st.tuples(st.integers(1, 40), st.integers(1, 40))


def check_conv(torch: Any, cfg: dict[str, Any], hw: tuple[int, int]) -> Any:
    """Build one Conv2d both ways, assert they agree, return the symcnn network (or None)."""
    input_shape = (cfg["in_channels"], *hw)
    module, out, torch_err = run_torch(torch, lambda: torch.nn.Conv2d(**cfg), input_shape)
    net, sc_err = run_symcnn(lambda: [sc.Conv2d(**cfg)], input_shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"Conv2d(**{cfg}) on {input_shape}")
    if net is None:
        return None
    out_shape = tuple(out.shape[1:])
    assert out.shape[0] == 1
    assert net.output_shape == out_shape
    assert net.layers[0].output_shape == out_shape
    assert net.params == n_params(module)
    assert net.products == conv_products(module, out_shape)
    return net


@torch_settings
@given(cfg=conv_configs(), hw=spatial)
def test_conv2d_matches_torch(torch, cfg, hw):
    net = check_conv(torch, cfg, hw)
    event("both refuse" if net is None else "both accept")


@pytest.mark.parametrize(
    ("cfg", "input_shape", "expected"),
    [
        # (shape, params, products), or None where both must refuse.
        (
            {"in_channels": 3, "out_channels": 8, "kernel_size": (3, 5), "stride": 2, "padding": 1},
            (3, 17, 20),
            ((8, 9, 9), 8 * (3 * 15 + 1), 8 * 9 * 9 * 3 * 15),
        ),
        (
            {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 2, "bias": False},
            (4, 7, 5),
            ((6, 5, 3), 6 * 2 * 9, 6 * 5 * 3 * 2 * 9),
        ),
        # 'same' with an even kernel and dilation: torch pads asymmetrically.
        (
            {
                "in_channels": 2,
                "out_channels": 3,
                "kernel_size": (4, 2),
                "dilation": (3, 1),
                "padding": "same",
            },
            (2, 1, 3),
            ((3, 1, 3), 3 * (2 * 8 + 1), 3 * 1 * 3 * 2 * 8),
        ),
        ({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "groups": 3}, (4, 8, 8), None),
        ({"in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 3}, (3, 8, 8), None),
        (
            {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": "same"},
            (1, 8, 8),
            None,
        ),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": (3, 9)}, (1, 8, 8), None),
        (
            {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "dilation": 4, "padding": 3},
            (1, 2, 2),
            None,
        ),
        # Zero where PyTorch needs a positive value: every one must be refused by both.
        ({"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 0}, (2, 8, 8), None),
        ({"in_channels": 2, "out_channels": 2, "kernel_size": 0}, (2, 8, 8), None),
        ({"in_channels": 2, "out_channels": 2, "kernel_size": 3, "dilation": 0}, (2, 8, 8), None),
        ({"in_channels": 2, "out_channels": 2, "kernel_size": 3, "groups": 0}, (2, 8, 8), None),
    ],
    ids=[
        "rect-kernel-stride-pad",
        "groups-no-bias",
        "same-even-dilated",
        "groups-not-dividing-in",
        "groups-not-dividing-out",
        "same-strided",
        "kernel-too-wide",
        "dilated-kernel-too-tall",
        "stride-0",
        "kernel-0",
        "dilation-0",
        "groups-0",
    ],
)
def test_conv2d_pinned(torch, cfg, input_shape, expected):
    net = check_conv(torch, cfg, input_shape[1:])
    if expected is None:
        assert net is None
    else:
        assert (net.output_shape, net.params, net.products) == expected


# -- 3. MaxPool2d and AvgPool2d --------------------------------------------------------------
@st.composite
def pool_configs(draw: Any, *, dilation: bool) -> dict[str, Any]:
    """MaxPool2d (with dilation) or AvgPool2d keyword arguments, mostly valid."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kernel_size = kh if draw(st.booleans()) else (kh, kw)
    if isinstance(kernel_size, int):
        kw = kh
    if rarely(draw):  # anything up to 3: often more than half the kernel
        padding = per_axis(draw, st.integers(0, 3))
    elif draw(st.booleans()):
        padding = draw(st.integers(0, min(kh, kw) // 2))
    else:
        padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    stride_kind = draw(st.integers(0, 4))
    if stride_kind == 0:
        stride = draw(ZERO_STRIDES)
    elif stride_kind == 1:
        stride = None
    else:
        stride = per_axis(draw, st.integers(1, 4))
    cfg = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if dilation:
        cfg["dilation"] = per_axis(draw, st.integers(1, 3))
    return cfg


POOLS = {"max": "MaxPool2d", "avg": "AvgPool2d"}


@torch_settings
@given(cfg=pool_configs(dilation=True), hw=spatial, channels=st.integers(1, 3))
def test_max_pool2d_matches_torch(torch, cfg, hw, channels):
    net = check_pool(torch, "MaxPool2d", cfg, (channels, *hw))
    event("both refuse" if net is None else "both accept")


@torch_settings
@given(cfg=pool_configs(dilation=False), hw=spatial, channels=st.integers(1, 3))
def test_avg_pool2d_matches_torch(torch, cfg, hw, channels):
    net = check_pool(torch, "AvgPool2d", cfg, (channels, *hw))
    event("both refuse" if net is None else "both accept")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    ("cfg", "hw", "expected"),
    [
        # The last ceil-mode window would start in the right padding and is dropped.
        ({"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (5, 5), (3, 3)),
        ({"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": False}, (5, 5), (3, 3)),
        # Ceil mode keeps a partial window that floor mode drops.
        ({"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True}, (6, 7), (3, 3)),
        ({"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": False}, (6, 7), (2, 3)),
        ({"kernel_size": 2, "ceil_mode": True}, (5, 4), (3, 2)),
        ({"kernel_size": 2, "ceil_mode": False}, (5, 4), (2, 2)),
        # A kernel larger than the input: ceil mode still makes one window, floor mode none.
        ({"kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 2), (1, 1)),
        ({"kernel_size": 3, "stride": 2, "ceil_mode": False}, (2, 2), None),
        ({"kernel_size": (1, 4), "stride": (1, 3), "ceil_mode": True}, (1, 2), (1, 1)),
        # Padding more than half the kernel: refused by both, whatever the input.
        ({"kernel_size": 2, "stride": 2, "padding": 2}, (5, 5), None),
        ({"kernel_size": 3, "padding": 2, "ceil_mode": True}, (9, 9), None),
        ({"kernel_size": (4, 2), "padding": (2, 2)}, (9, 9), None),
        ({"kernel_size": 1, "padding": 1}, (9, 9), None),
        # Zero stride or kernel: refused by both.
        ({"kernel_size": 3, "stride": 0}, (9, 9), None),
        ({"kernel_size": 0}, (9, 9), None),
    ],
)
def test_pool2d_pinned(torch, kind, cfg, hw, expected):
    net = check_pool(torch, POOLS[kind], cfg, (2, *hw))
    if expected is None:
        assert net is None
    else:
        assert net.output_shape == (2, *expected)


def test_pool_padding_above_half_kernel_raises_at_construction(torch):
    for name in ("MaxPool2d", "AvgPool2d"):
        with pytest.raises(sc.ShapeError, match="half the kernel"):
            getattr(sc, name)(kernel_size=2, stride=2, padding=2)
        with pytest.raises(RuntimeError, match="half of"):
            getattr(torch.nn, name)(kernel_size=2, stride=2, padding=2)(torch.zeros(1, 1, 5, 5))


@pytest.mark.parametrize(
    ("kernel_size", "padding", "dilation", "fits"),
    [
        # torch checks padding against half the *undilated* kernel (and the dilated one).
        (2, 1, 3, True),
        (2, 2, 3, False),
        (3, 2, 2, False),
        (4, 2, 2, True),
        (1, 1, 2, False),
    ],
)
def test_max_pool2d_padding_rule_with_dilation(torch, kernel_size, padding, dilation, fits):
    cfg = {"kernel_size": kernel_size, "stride": 1, "padding": padding, "dilation": dilation}
    net = check_pool(torch, "MaxPool2d", cfg, (1, 12, 12))
    assert (net is not None) == fits


# -- 4. Linear, LazyLinear, Flatten and View after a conv stack --------------------------------
# Conv2d(3, 8, 3) then MaxPool2d(2) on 3×10×12: 8×8×10, then 8×4×5 = 160 features.
STACK_INPUT = (3, 10, 12)
STACK_FEATURES = 160


def torch_stack(torch: Any, *tail: Any) -> Any:
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2), nn.ReLU(), *tail)


def sc_stack(*tail: Any) -> list[Any]:
    return [sc.Conv2d(3, 8, 3), sc.MaxPool2d(2), sc.ReLU(), *tail]


def check_stack(
    torch: Any, torch_tail: Any, sc_tail: Any, input_shape: tuple[int, ...] = STACK_INPUT
) -> Any:
    """Run the conv stack plus a head both ways; compare shapes, params and products."""
    module, out, torch_err = run_torch(
        torch, lambda: torch_stack(torch, *torch_tail()), input_shape
    )
    net, sc_err = run_symcnn(lambda: sc_stack(*sc_tail()), input_shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"stack + {sc_tail()} on {input_shape}")
    if net is None:
        return None
    assert out.shape[0] == 1
    out_shape = tuple(out.shape[1:])
    assert net.output_shape == out_shape
    assert net.params == n_params(module)

    # Replay the torch modules one by one (they match the symcnn layers one to one) to get
    # every layer's output shape and, from the weights, the products.
    x = torch.zeros(1, *input_shape)
    shapes, products = [], 0
    with torch.no_grad():
        for layer in module:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
            if isinstance(layer, torch.nn.Conv2d):
                products += conv_products(layer, shapes[-1])
            elif isinstance(layer, torch.nn.Linear):
                products += linear_products(layer, shapes[-1])
    assert [r.output_shape for r in net.layers] == shapes
    assert net.products == products
    return net


def test_flatten_linear_after_conv_stack(torch):
    nn = torch.nn
    net = check_stack(
        torch,
        lambda: [nn.Flatten(), nn.Linear(STACK_FEATURES, 10)],
        lambda: [sc.Flatten(), sc.Linear(STACK_FEATURES, 10)],
    )
    assert net.output_shape == (10,)
    assert net.params == 8 * (3 * 9 + 1) + 10 * (160 + 1)
    assert net.products == 8 * 8 * 10 * 3 * 9 + 160 * 10


def test_lazy_linear_after_conv_stack(torch):
    nn = torch.nn
    net = check_stack(
        torch,
        lambda: [nn.Flatten(), nn.LazyLinear(10)],
        lambda: [sc.Flatten(), sc.LazyLinear(10)],
    )
    assert net.layers[-1].params == 10 * (160 + 1)
    # Another input size: LazyLinear picks up the new in_features; torch agrees.
    net = check_stack(
        torch,
        lambda: [nn.Flatten(), nn.LazyLinear(10, bias=False)],
        lambda: [sc.Flatten(), sc.LazyLinear(10, bias=False)],
        input_shape=(3, 15, 9),
    )
    assert net.layers[-1].params == 10 * 8 * 6 * 3


@pytest.mark.parametrize("in_features", [150, 159, 161, 320, 8])
def test_linear_in_features_mismatch_raises_in_both(torch, in_features):
    nn = torch.nn
    net = check_stack(
        torch,
        lambda: [nn.Flatten(), nn.Linear(in_features, 10)],
        lambda: [sc.Flatten(), sc.Linear(in_features, 10)],
    )
    assert net is None


@pytest.mark.parametrize("start_dim", [1, 2, 3, -1, -2, -3, 4, -5])
@pytest.mark.parametrize("end_dim", [1, 2, 3, -1, -2, -3, 0, 4])
def test_flatten_dims_then_lazy_linear(torch, start_dim, end_dim):
    # Per-sample 8×4×5 after the stack (rank 4 with the batch axis). start_dim resolving to
    # the batch axis (0 or -4) is excluded: symcnn refuses it on purpose.
    nn = torch.nn
    net = check_stack(
        torch,
        lambda: [nn.Flatten(start_dim, end_dim), nn.LazyLinear(6)],
        lambda: [sc.Flatten(start_dim, end_dim), sc.LazyLinear(6)],
    )
    # Batch-counting dims of the per-sample axes 8, 4, 5 (1, 2, 3; or -3, -2, -1).
    axis = {1: 1, 2: 2, 3: 3, -1: 3, -2: 2, -3: 1}
    start, end = axis.get(start_dim), axis.get(end_dim)
    if start is None or end is None or start > end:
        assert net is None
        return
    dims = [8, 4, 5]
    merged = [*dims[: start - 1], math.prod(dims[start - 1 : end]), *dims[end:]]
    assert net.output_shape == (*merged[:-1], 6)
    assert net.layers[-1].params == 6 * (merged[-1] + 1)


def torch_view(torch: Any, *sizes: int) -> Any:
    """``x.view(-1, *sizes)`` as a module, for nn.Sequential."""

    class View(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return x.view(-1, *sizes)

    return View()


def test_view_after_conv_stack(torch):
    net = check_stack(
        torch,
        lambda: [torch_view(torch, STACK_FEATURES), torch.nn.Linear(STACK_FEATURES, 7)],
        lambda: [sc.View(-1, STACK_FEATURES), sc.Linear(STACK_FEATURES, 7)],
    )
    assert net.output_shape == (7,)
    net = check_stack(
        torch,
        lambda: [torch_view(torch, 16, 10)],
        lambda: [sc.Reshape(-1, 16, 10)],
    )
    assert net.output_shape == (16, 10)


@pytest.mark.parametrize(
    ("sizes", "batch", "torch_batch"),
    [
        # 160 elements per sample. torch re-batches whenever the total divides evenly...
        ((80,), 1, 2),
        ((40,), 1, 4),
        ((16, 5), 1, 2),
        ((320,), 2, 1),
        ((320,), 4, 2),
        ((32,), 3, 15),
        # ... and raises otherwise.
        ((100,), 1, None),
        ((320,), 1, None),
        ((7, 7), 2, None),
    ],
)
def test_view_element_mismatch_symcnn_raises_torch_rebatches(torch, sizes, batch, torch_batch):
    with pytest.raises(sc.ShapeError, match="elements per sample"):
        sc.Sequential(*sc_stack(sc.View(-1, *sizes)), input_shape=STACK_INPUT)
    with pytest.raises(sc.ShapeError, match="elements per sample"):
        sc.Sequential(*sc_stack(sc.Reshape(-1, *sizes)), input_shape=STACK_INPUT)

    stack = torch_stack(torch)
    with torch.no_grad():
        features = stack(torch.zeros(batch, *STACK_INPUT))
    assert tuple(features.shape) == (batch, 8, 4, 5)
    for method in ("view", "reshape"):
        try:
            out = getattr(features, method)(-1, *sizes)
        except RuntimeError:
            assert torch_batch is None, f"{method} raised where it should re-batch"
            continue
        # torch silently changed the number of samples: one row per sample is lost.
        assert out.shape[0] != batch
        assert out.shape[0] == torch_batch
        assert tuple(out.shape[1:]) == sizes


# -- 5. channel mismatch ----------------------------------------------------------------------
@pytest.mark.parametrize(("in_channels", "fed"), [(3, 1), (1, 3), (4, 2)])
def test_conv_channel_mismatch_raises_in_both(torch, in_channels, fed):
    cfg = {"in_channels": in_channels, "out_channels": 8, "kernel_size": 3}
    input_shape = (fed, 10, 10)
    _, out, torch_err = run_torch(torch, lambda: torch.nn.Conv2d(**cfg), input_shape)
    net, sc_err = run_symcnn(lambda: [sc.Conv2d(**cfg)], input_shape)
    assert out is None and isinstance(torch_err, RuntimeError)
    assert net is None and "in_channels" in str(sc_err)


def test_second_conv_channel_mismatch_raises_in_both(torch):
    nn = torch.nn
    net = check_stack(
        torch,
        lambda: [nn.Conv2d(6, 4, 3)],
        lambda: [sc.Conv2d(6, 4, 3)],
    )
    assert net is None
    net = check_stack(
        torch,
        lambda: [nn.Conv2d(8, 4, 3)],
        lambda: [sc.Conv2d(8, 4, 3)],
    )
    assert net.output_shape == (4, 2, 3)
