"""1-D, 3-D and transposed convolutions and pooling, cross-checked against real PyTorch.

As in ``test_torch_crosscheck.py``: every test takes the ``torch`` fixture (skipped locally
without torch, failed under CI=true); generated configurations include invalid ones, and
symcnn and torch must both refuse or both agree. Products are computed from the torch
module's weight shape and the shapes torch actually produced, never from symcnn's formulas:
a convolution makes ``numel(weight)`` products per output position, a transposed
convolution ``numel(weight)`` per input position (fvcore's count).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st

import symcnn as sc

from torchcheck import (
    TORCH_ERRORS,
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


# Largest input size generated per axis, by number of spatial axes: small 3-D volumes keep
# the 200-example CI budget fast.
MAX_SIZE = {1: 40, 2: 20, 3: 9}


# -- helpers ----------------------------------------------------------------------------------
def run_torch_transposed(
    torch: Any, build: Any, input_shape: tuple[int, ...]
) -> tuple[Any, Any, Any]:
    """:func:`run_torch` for a transposed convolution, with torch's own kernels as referee.

    torch's native kernels refuse an output smaller than 1 ("Output size is too small").
    The oneDNN kernel that torch picks on CPU for some configurations (``groups > 1``
    among them) skips that check: an output of size 0 comes back as an empty tensor (a
    negative one fails inside oneDNN). symcnn follows the native check; here an empty
    output must be refused by the native kernel (oneDNN disabled), with that message.
    """
    module, out, err = run_torch(torch, build, input_shape)
    if out is not None and 0 in out.shape:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the flags' own notice about TF32 on Intel GPUs
            with torch.backends.mkldnn.flags(enabled=False):
                module, out, err = run_torch(torch, build, input_shape)
        assert out is None and "Output size is too small" in str(err), (
            f"torch's oneDNN and native kernels disagree beyond the empty output: {err!r}"
        )
        if currently_in_test_context():
            event("oneDNN returned an empty output that the native kernel refuses")
    return module, out, err


def torch_counts(torch: Any, module: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]):
    """(products, bias additions) of one torch module, from its weight and the real shapes."""
    nn = torch.nn
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        # weight [C_out, C_in/g, k...]: every weight once per output position
        assert module.weight.shape[0] == out_shape[0]
        positions = math.prod(out_shape[1:])
        products = module.weight.numel() * positions
    elif isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        # weight [C_in, C_out/g, k...]: every weight once per input position
        assert module.weight.shape[0] == in_shape[0]
        products = module.weight.numel() * math.prod(in_shape[1:])
    elif isinstance(module, nn.Linear):
        products = module.weight.numel() * math.prod(out_shape[:-1])
    else:
        assert n_params(module) == 0
        return 0, 0
    bias = getattr(module, "bias", None)
    return products, 0 if bias is None else math.prod(out_shape)


def sizes(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(1, MAX_SIZE[ndim])] * ndim)


# -- 1. convolutions and transposed convolutions, generated -----------------------------------
@st.composite
def conv_configs(draw: Any, ndim: int, *, transposed: bool) -> dict[str, Any]:
    """Keyword arguments of Conv{n}d or ConvTranspose{n}d, with invalid values mixed in."""
    groups = draw(st.integers(1, 3))
    if rarely(draw):  # any channel counts: groups often fails to divide them
        in_channels, out_channels = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    else:
        in_channels = groups * draw(st.integers(1, 2))
        out_channels = groups * draw(st.integers(1, 2))
    if rarely(draw) and rarely(draw):
        stride = draw(st.sampled_from([0, (0,) * ndim, (1,) * (ndim - 1) + (0,)]))
    else:
        stride = per_axis(draw, st.integers(1, 3), ndim)
    if transposed:
        padding = per_axis(draw, st.integers(0, 3), ndim)
    elif draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = per_axis(draw, st.integers(0, 3), ndim)
    cfg = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": per_axis(draw, st.integers(1, 4 if ndim < 3 else 3), ndim),
        "stride": stride,
        "padding": padding,
        "dilation": per_axis(draw, st.integers(1, 3), ndim),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    if transposed:
        if rarely(draw):  # up to 3: often not smaller than either the stride or the dilation
            cfg["output_padding"] = per_axis(draw, st.integers(0, 3), ndim)
        else:  # below the stride or the dilation of each axis
            limits = [
                max(s, d)
                for s, d in zip(each(stride, ndim), each(cfg["dilation"], ndim), strict=True)
            ]
            cfg["output_padding"] = tuple(draw(st.integers(0, m - 1)) for m in limits)
    return cfg


def each(value: Any, ndim: int) -> tuple[int, ...]:
    """One value per spatial axis, as torch expands an int."""
    return tuple(value) if isinstance(value, tuple) else (value,) * ndim


def conv_name(ndim: int, transposed: bool) -> str:
    return f"ConvTranspose{ndim}d" if transposed else f"Conv{ndim}d"


def check_conv(
    torch: Any, ndim: int, transposed: bool, cfg: dict[str, Any], input_shape: tuple[int, ...]
) -> Any:
    """Build one layer both ways, assert they agree, return the symcnn network (or None)."""
    name = conv_name(ndim, transposed)
    run = run_torch_transposed if transposed else run_torch
    module, out, torch_err = run(torch, lambda: getattr(torch.nn, name)(**cfg), input_shape)
    net, sc_err = run_symcnn(lambda: [getattr(sc, name)(**cfg)], input_shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"{name}(**{cfg}) on {input_shape}")
    if net is None:
        return None
    assert out.shape[0] == 1
    out_shape = tuple(out.shape[1:])
    assert net.output_shape == out_shape
    assert net.params == n_params(module)
    products, bias_adds = torch_counts(torch, module, input_shape, out_shape)
    assert net.products == products
    assert net.bias_adds == bias_adds
    return net


@st.composite
def conv_cases(draw: Any, ndim: int, *, transposed: bool) -> tuple[dict[str, Any], tuple]:
    cfg = draw(conv_configs(ndim, transposed=transposed))
    channels = cfg["in_channels"] + (1 if rarely(draw) and rarely(draw) else 0)
    return cfg, (channels, *draw(sizes(ndim)))


@pytest.mark.parametrize("ndim", [1, 3])
def test_conv_nd_matches_torch(torch, ndim):
    @torch_settings
    @given(case=conv_cases(ndim, transposed=False))
    def check(case):
        net = check_conv(torch, ndim, False, *case)
        event("both refuse" if net is None else "both accept")

    check()


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_transpose_nd_matches_torch(torch, ndim):
    @torch_settings
    @given(case=conv_cases(ndim, transposed=True))
    def check(case):
        net = check_conv(torch, ndim, True, *case)
        event("both refuse" if net is None else "both accept")

    check()


@pytest.mark.parametrize(
    ("cfg", "input_shape", "expected"),
    [
        # (shape, params, products), or None where both must refuse.
        (
            {"in_channels": 64, "out_channels": 32, "kernel_size": 2, "stride": 2},
            (64, 16, 16),
            ((32, 32, 32), 64 * 32 * 4 + 32, 64 * 32 * 16 * 16 * 4),
        ),
        (
            {
                "in_channels": 4,
                "out_channels": 6,
                "kernel_size": (3, 2),
                "stride": (2, 3),
                "padding": (1, 0),
                "output_padding": (1, 2),
                "groups": 2,
                "dilation": (1, 2),
            },
            (4, 5, 7),
            ((6, 10, 23), 4 * 3 * 6 + 6, 4 * 3 * 5 * 7 * 6),
        ),
        # output_padding may reach the stride when it stays below the dilation
        (
            {
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": 3,
                "output_padding": 1,
                "dilation": 2,
                "bias": False,
            },
            (1, 5, 5),
            ((1, 10, 10), 9, 25 * 9),
        ),
        # ... but not both, on any axis
        (
            {
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": 3,
                "stride": 2,
                "output_padding": 2,
            },
            (1, 5, 5),
            None,
        ),
        (
            {
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": 3,
                "stride": (2, 1),
                "output_padding": (0, 1),
            },
            (1, 5, 5),
            None,
        ),
        (
            {
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": 3,
                "stride": 2,
                "output_padding": 2,
                "dilation": 2,
            },
            (1, 5, 5),
            None,
        ),
        # Cropping more than the output: torch refuses ("Output size is too small").
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 2}, (1, 1, 1), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 1, "padding": 1}, (1, 3, 2), None),
        # an output of exactly 1 is fine
        (
            {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 1},
            (1, 1, 1),
            ((1, 1, 1), 10, 9),
        ),
        ({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 3}, (4, 5, 5), None),
        ({"in_channels": 6, "out_channels": 4, "kernel_size": 3, "groups": 3}, (6, 5, 5), None),
        ({"in_channels": 2, "out_channels": 1, "kernel_size": 3}, (1, 5, 5), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 3, "stride": 0}, (1, 5, 5), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 0}, (1, 5, 5), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 3, "dilation": 0}, (1, 5, 5), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 3, "groups": 0}, (1, 5, 5), None),
        ({"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": -1}, (1, 5, 5), None),
        (
            {
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": 3,
                "stride": 2,
                "output_padding": -1,
            },
            (1, 5, 5),
            None,
        ),
    ],
    ids=[
        "unet-up",
        "rect-everything",
        "output-padding-below-dilation",
        "output-padding-equals-stride",
        "output-padding-one-axis",
        "output-padding-equals-both",
        "output-negative",
        "output-zero-one-axis",
        "output-exactly-one",
        "groups-not-dividing-in",
        "groups-not-dividing-out",
        "channel-mismatch",
        "stride-0",
        "kernel-0",
        "dilation-0",
        "groups-0",
        "padding-negative",
        "output-padding-negative",
    ],
)
def test_conv_transpose2d_pinned(torch, cfg, input_shape, expected):
    net = check_conv(torch, 2, True, cfg, input_shape)
    if expected is None:
        assert net is None
    else:
        assert (net.output_shape, net.params, net.products) == expected


def test_conv_transpose_empty_output_is_refused_like_torch_native_kernels(torch):
    # Output size (2 - 1)·2 - 2·2 + 0 + 1 + 1 = 0. torch's native kernel refuses it; with
    # groups > 1 torch picks oneDNN on CPU, which may hand back an empty tensor instead.
    cfg = {
        "in_channels": 2,
        "out_channels": 2,
        "kernel_size": 1,
        "stride": 2,
        "padding": 2,
        "output_padding": 1,
        "groups": 2,
    }
    with pytest.raises(sc.ShapeError, match=r"output height must be at least 1 .*= 0\)$"):
        sc.Sequential(sc.ConvTranspose2d(**cfg), input_shape=(2, 2, 2))
    build = lambda: torch.nn.ConvTranspose2d(**cfg)  # noqa: E731
    _, out, _ = run_torch(torch, build, (2, 2, 2))
    assert out is None or tuple(out.shape) == (1, 2, 0, 0)
    _, out, err = run_torch_transposed(torch, build, (2, 2, 2))
    assert out is None and "Output size is too small" in str(err)


def test_conv_transpose_string_padding_and_padding_mode_refused_by_both(torch):
    for padding in ("same", "valid"):
        with pytest.raises(sc.UnsupportedLayerError, match=f"padding='{padding}'"):
            sc.ConvTranspose2d(1, 1, 3, padding=padding)
        with pytest.raises(TypeError, match="padding"):
            torch.nn.ConvTranspose2d(1, 1, 3, padding=padding)(torch.zeros(1, 1, 5, 5))
    with pytest.raises(sc.UnsupportedLayerError, match="supports only 'zeros'"):
        sc.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        torch.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


def test_conv_transpose_positional_arguments_follow_torch_order(torch):
    # (in, out, kernel, stride, padding, output_padding, groups, bias, dilation)
    args = (4, 6, 3, 2, 1, 1, 2, False, 2)
    module = torch.nn.ConvTranspose2d(*args)
    layer = sc.ConvTranspose2d(*args)
    assert layer == sc.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2
    )
    for field in ("stride", "padding", "output_padding", "dilation"):
        assert getattr(layer, field) == getattr(module, field)
    assert (layer.groups, layer.bias) == (module.groups, module.bias is not None)


# -- 2. pooling in 1-D and 3-D, generated ------------------------------------------------------
@st.composite
def pool_configs(draw: Any, ndim: int, *, dilation: bool) -> dict[str, Any]:
    """MaxPool{n}d (with dilation) or AvgPool{n}d keyword arguments, mostly valid."""
    kernels = [draw(st.integers(1, 4)) for _ in range(ndim)]
    kernel_size = kernels[0] if draw(st.booleans()) else tuple(kernels)
    if isinstance(kernel_size, int):
        kernels = [kernel_size] * ndim
    if rarely(draw):  # anything up to 3: often more than half the kernel
        padding = per_axis(draw, st.integers(0, 3), ndim)
    elif draw(st.booleans()):
        padding = draw(st.integers(0, min(kernels) // 2))
    else:
        padding = tuple(draw(st.integers(0, k // 2)) for k in kernels)
    if rarely(draw) and rarely(draw):
        stride = draw(st.sampled_from([0, (1,) * (ndim - 1) + (0,)]))
    elif draw(st.booleans()):
        stride = None
    else:
        stride = per_axis(draw, st.integers(1, 4), ndim)
    cfg = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if dilation:
        cfg["dilation"] = per_axis(draw, st.integers(1, 3), ndim)
    return cfg


@pytest.mark.parametrize("ndim", [1, 3])
@pytest.mark.parametrize("kind", ["Max", "Avg"])
def test_pool_nd_matches_torch(torch, kind, ndim):
    name = f"{kind}Pool{ndim}d"

    @torch_settings
    @given(
        cfg=pool_configs(ndim, dilation=kind == "Max"),
        size=sizes(ndim),
        channels=st.integers(1, 3),
    )
    def check(cfg, size, channels):
        net = check_pool(torch, name, cfg, (channels, *size))
        event("both refuse" if net is None else "both accept")

    check()


@pytest.mark.parametrize("kind", ["Max", "Avg"])
@pytest.mark.parametrize(
    ("cfg", "length", "expected"),
    [
        ({"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, 5, 3),
        ({"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True}, 7, 3),
        ({"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": False}, 6, 2),
        ({"kernel_size": 3, "stride": 2, "ceil_mode": True}, 2, 1),
        ({"kernel_size": 3, "stride": 2, "ceil_mode": False}, 2, None),
        ({"kernel_size": 2, "padding": 2}, 9, None),
        ({"kernel_size": 3, "stride": 0}, 9, None),
    ],
)
def test_pool1d_pinned(torch, kind, cfg, length, expected):
    net = check_pool(torch, f"{kind}Pool1d", cfg, (2, length))
    if expected is None:
        assert net is None
    else:
        assert net.output_shape == (2, expected)


@pytest.mark.parametrize("kind", ["Max", "Avg"])
@pytest.mark.parametrize(
    ("cfg", "dhw", "expected"),
    [
        ({"kernel_size": (1, 2, 2)}, (5, 16, 17), (5, 8, 8)),
        ({"kernel_size": 2, "stride": (1, 2, 2), "ceil_mode": True}, (4, 5, 5), (3, 3, 3)),
        ({"kernel_size": 3, "padding": (0, 1, 1)}, (3, 4, 4), (1, 2, 2)),
        # too shallow: the depth axis is the first to refuse
        ({"kernel_size": 2}, (1, 8, 8), None),
        ({"kernel_size": (3, 2, 2), "padding": (2, 0, 0)}, (9, 9, 9), None),
    ],
)
def test_pool3d_pinned(torch, kind, cfg, dhw, expected):
    net = check_pool(torch, f"{kind}Pool3d", cfg, (2, *dhw))
    if expected is None:
        assert net is None
    else:
        assert net.output_shape == (2, *expected)


# -- 3. small networks, layer by layer, at many sizes ------------------------------------------
def compare_chain(torch: Any, torch_layers: Any, symbolic: sc.Network, point: dict) -> bool:
    """Run a chain both ways at ``point``; when both accept, compare every layer.

    Returns whether torch ran. The symbolic network is substituted, so this also checks
    that derive-then-substitute agrees with torch.
    """
    input_shape = tuple(int(s) for s in symbolic.input_shape.subs(point))
    module, out, torch_err = run_torch(
        torch, lambda: torch.nn.Sequential(*torch_layers()), input_shape
    )
    try:
        net, sc_err = symbolic.subs(point), None
    except sc.ShapeError as err:
        net, sc_err = None, err
    assert_same_verdict(net, sc_err, out, torch_err, f"at {point}")
    assert symbolic.is_valid(point) == (out is not None)
    if net is None:
        return False
    x = torch.zeros(1, *input_shape)
    shapes, params, products, bias_adds = [], [], [], []
    with torch.no_grad():
        for layer in module:
            in_shape = tuple(x.shape[1:])
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
            params.append(n_params(layer))
            counted = torch_counts(torch, layer, in_shape, shapes[-1])
            products.append(counted[0])
            bias_adds.append(counted[1])
    assert [r.output_shape for r in net.layers] == shapes
    assert [r.params for r in net.layers] == params
    assert [r.products for r in net.layers] == products
    assert [r.bias_adds for r in net.layers] == bias_adds
    assert net.params == n_params(module)
    return True


L = sc.symbols("L")


def test_conv1d_net_layer_by_layer(torch):
    nn = torch.nn

    def torch_layers():
        return [
            nn.Conv1d(2, 8, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 3, stride=2, dilation=2, groups=2),
            nn.AvgPool1d(3, ceil_mode=True),
            nn.ConvTranspose1d(16, 4, 4, stride=2, padding=1, bias=False),
            nn.MaxPool1d(3, stride=1, padding=1, dilation=2),
            nn.Conv1d(4, 6, 1),
        ]

    net = sc.Sequential(
        sc.Conv1d(2, 8, 5, padding=2),
        sc.ReLU(),
        sc.MaxPool1d(2),
        sc.Conv1d(8, 16, 3, stride=2, dilation=2, groups=2),
        sc.AvgPool1d(3, ceil_mode=True),
        sc.ConvTranspose1d(16, 4, 4, stride=2, padding=1, bias=False),
        sc.MaxPool1d(3, stride=1, padding=1, dilation=2),
        sc.Conv1d(4, 6, 1),
        input_shape=(2, L),
    )
    runs = [size for size in range(1, 41) if compare_chain(torch, torch_layers, net, {L: size})]
    assert runs[0] == net.min_input(L) == 22
    assert runs == list(range(22, 41))
    # pinned at one size, to read the counts
    r = net.subs({L: 40})
    assert [x.output_shape for x in r.layers] == [
        (8, 40),
        (8, 40),
        (8, 20),
        (16, 8),
        (16, 3),
        (4, 6),
        (4, 4),
        (6, 4),
    ]
    assert r.params == 8 * (2 * 5 + 1) + 16 * (4 * 3 + 1) + 16 * 4 * 4 + 6 * (4 + 1)


DHW = sc.symbols("D H W")


def test_conv3d_net_layer_by_layer(torch):
    nn = torch.nn
    depth, height, width = DHW

    def torch_layers():
        return [
            nn.Conv3d(1, 4, 3, padding=(0, 1, 1)),
            nn.ReLU(),
            nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(4, 8, (1, 3, 3), stride=(1, 2, 2), groups=4),
            nn.AvgPool3d(2, ceil_mode=True),
            nn.ConvTranspose3d(8, 4, (1, 2, 2), stride=(1, 2, 2), output_padding=(0, 1, 0)),
            nn.Conv3d(4, 2, 1, bias=False),
        ]

    net = sc.Sequential(
        sc.Conv3d(1, 4, 3, padding=(0, 1, 1)),
        sc.ReLU(),
        sc.MaxPool3d((1, 2, 2)),
        sc.Conv3d(4, 8, (1, 3, 3), stride=(1, 2, 2), groups=4),
        sc.AvgPool3d(2, ceil_mode=True),
        sc.ConvTranspose3d(8, 4, (1, 2, 2), stride=(1, 2, 2), output_padding=(0, 1, 0)),
        sc.Conv3d(4, 2, 1, bias=False),
        input_shape=(1, depth, height, width),
    )
    # AvgPool3d needs its unpadded input to hold the kernel: D - 2 >= 2, and H, W >= 10 so
    # that the strided conv leaves at least 2 rows and columns.
    sweeps = {
        depth: ({height: 16, width: 12}, range(1, 9), 4),
        height: ({depth: 4, width: 12}, range(1, 21), 10),
        width: ({depth: 4, height: 16}, range(1, 17), 10),
    }
    for symbol, (fixed, values, smallest) in sweeps.items():
        runs = [v for v in values if compare_chain(torch, torch_layers, net, {**fixed, symbol: v})]
        assert runs == list(range(smallest, values.stop)), symbol
        assert net.min_input(symbol, fixed) == smallest
    r = net.subs({depth: 7, height: 16, width: 12})
    assert [x.output_shape for x in r.layers] == [
        (4, 5, 16, 12),
        (4, 5, 16, 12),
        (4, 5, 8, 6),
        (8, 5, 3, 2),
        (8, 3, 2, 1),
        (4, 3, 5, 2),
        (2, 3, 5, 2),
    ]
    # the transposed conv: weight 8·4·1·2·2 once per input position, 3·2·1
    assert r.layers[5].products == 8 * 4 * 4 * 6


# -- 4. a 2-level U-Net: ConvTranspose2d upsampling and torch.cat skips ----------------------
N = sc.symbols("n")


def torch_unet(torch: Any) -> Any:
    nn = torch.nn

    def block(cin: int, cout: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.ReLU(),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc1, self.enc2, self.bott = block(1, 8), block(8, 16), block(16, 32)
            self.pool1, self.pool2 = nn.MaxPool2d(2), nn.MaxPool2d(2)
            self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
            self.dec2 = block(32, 16)
            self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
            self.dec1 = block(16, 8)
            self.head = nn.Conv2d(8, 2, 1)

        def forward(self, x: Any) -> Any:
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool1(e1))
            b = self.bott(self.pool2(e2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    return UNet()


def symcnn_unet() -> sc.Network:
    # node names are torch's module names, to compare node by node
    def block(cin: int, cout: int, x: Any, name: str) -> Any:
        x = sc.ReLU()(sc.Conv2d(cin, cout, 3, padding=1)(x, name=f"{name}.0"), name=f"{name}.1")
        return sc.ReLU()(sc.Conv2d(cout, cout, 3, padding=1)(x, name=f"{name}.2"), name=f"{name}.3")

    x = sc.Input((1, N, N))
    e1 = block(1, 8, x, "enc1")
    e2 = block(8, 16, sc.MaxPool2d(2)(e1, name="pool1"), "enc2")
    b = block(16, 32, sc.MaxPool2d(2)(e2, name="pool2"), "bott")
    up2 = sc.ConvTranspose2d(32, 16, 2, stride=2)(b, name="up2")
    d2 = block(32, 16, sc.Concat()(up2, e2, name="cat2"), "dec2")
    up1 = sc.ConvTranspose2d(16, 8, 2, stride=2)(d2, name="up1")
    d1 = block(16, 8, sc.Concat()(up1, e1, name="cat1"), "dec1")
    return sc.Network(x, sc.Conv2d(8, 2, 1)(d1, name="head"))


def torch_unet_run(torch: Any, model: Any, size: int) -> tuple[Any, dict, int]:
    """(output shape or None, per-module output shapes, products) of one forward pass."""
    from hookcount import observe  # imports torch: only once the fixture has it

    try:
        out, calls, counts = observe(model, (1, size, size))
    except TORCH_ERRORS:
        return None, {}, 0
    shapes = {name: seen[-1][1:] for name, seen in calls.items() if name}
    return tuple(out.shape[1:]), shapes, counts.products


def test_unet_matches_torch(torch):
    n = N
    model, net = torch_unet(torch), symcnn_unet()
    assert net.params == n_params(model) == 29330
    runs = []
    for size in range(1, 41):
        out, shapes, products = torch_unet_run(torch, model, size)
        assert net.is_valid({n: size}) == (out is not None), size
        if out is None:
            continue
        runs.append(size)
        at = net.subs({n: size})
        assert at.output_shape == out
        assert at.products == products
        # every module torch ran, by the same name; and the two concatenations
        assert len(shapes) == len(at.layers) - 2
        for name, shape in shapes.items():
            assert at[name].output_shape == shape, name
        assert at["cat2"].output_shape == (32, size // 2, size // 2)
        assert at["cat1"].output_shape == (16, size, size)
    assert runs == list(range(4, 41, 4))
    assert net.min_input(n) == min(runs) == 4
    assert net.output_shape == (2, 4 * (n // 4), 4 * (n // 4))
