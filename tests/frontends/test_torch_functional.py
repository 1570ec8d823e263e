"""from_torch on layers written with functions on a module's own tensors, as timm writes them.

``F.conv2d(x, self.weight, self.bias, ...)``, ``F.conv_transpose2d``, ``F.batch_norm`` with
the module's buffers, ``F.group_norm``, ``F.instance_norm``, ``F.prelu``; and weights
computed from parameters before they are used (timm's ``StdConv2d`` and
``ScaledStdConv2d``, ``self.weight * self.scale``, ``w.flatten(1)``, ``w.t()``,
``torch.cat([self.a, self.b])``, a low-rank ``self.u @ self.v``).

Every case is checked against torch on a symbolic (C, H, W) input at two sizes: the output
shape, parameters against ``sum(p.numel())``, buffers against the buffers the forward pass
reads, products against ``FlopCounterMode`` flops / 2; and a hypothesis property over
random functional convolutions.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.slow
torch = require("torch")
F = torch.nn.functional
nn = torch.nn

H, W = sc.symbols("H W")
SIZES = [(16, 16), (23, 18)]


def flop_count(model: Any, shape: tuple[int, ...], device: str = "cpu") -> tuple[Any, int]:
    """(per-sample output shape, FlopCounterMode flops) of a batch-1 eval forward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *shape, device=device))
    return tuple(out.shape[1:]), counter.get_total_flops()


def check(model: Any, shape: tuple[Any, ...], *, buffers: int | None = None) -> Any:
    """from_torch against torch at two sizes; ``buffers`` those the forward pass reads."""
    net = sc.from_torch(model, shape)
    assert net.params == sum(p.numel() for p in model.parameters())
    read = sum(b.numel() for b in model.buffers()) if buffers is None else buffers
    assert net.buffers == read
    for size in SIZES:
        point = dict(zip((H, W), size, strict=True))
        out, flops = flop_count(model, (shape[0], *size))
        assert net.subs(point).output_shape == out
        assert net.products.subs(point) * 2 == flops
    return net


# -- convolutions written with F.conv2d -----------------------------------------------------
class FunctionalConv(nn.Module):
    """nn.Conv2d re-implemented: its own weight and bias, F.conv2d in forward."""

    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin // groups, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)  # fmt: skip


class Stack(nn.Module):
    """A few functional convolutions in a row, after a module convolution."""

    def __init__(self, *convs):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3)
        self.convs = nn.ModuleList(convs)

    def forward(self, x):
        x = self.stem(x)
        for conv in self.convs:
            x = conv(x)
        return x


def test_functional_conv2d_is_a_conv2d():
    model = FunctionalConv(3, 8, 3, stride=2, padding=1)
    net = check(model, (3, H, W))
    (conv,) = net.layers
    assert conv.layer == sc.Conv2d(3, 8, 3, stride=2, padding=1)
    assert net.output_shape == sc.Conv2d(3, 8, 3, stride=2, padding=1).output_shape(
        sc.Shape((3, H, W))
    )
    assert conv.params == 8 * (3 * 9 + 1)


def test_functional_conv2d_grouped_dilated_and_same_padding():
    model = Stack(
        FunctionalConv(6, 12, 3, dilation=2, groups=3),
        FunctionalConv(12, 12, 5, padding="same", groups=12, bias=False),
        FunctionalConv(12, 4, 3, padding="valid", dilation=(2, 1)),
    )
    net = check(model, (3, H, W))
    layers = [r.layer for r in net.layers]
    assert layers[1] == sc.Conv2d(6, 12, 3, dilation=2, groups=3)
    assert layers[2] == sc.Conv2d(12, 12, 5, padding="same", groups=12, bias=False)
    assert layers[3] == sc.Conv2d(12, 4, 3, padding="valid", dilation=(2, 1))
    assert net.output_shape == (4, H - 10, W - 8)


class FunctionalConvNd(nn.Module):
    def __init__(self, ndim, transposed=False):
        super().__init__()
        self.ndim, self.transposed = ndim, transposed
        k = (3,) * ndim
        self.weight = nn.Parameter(torch.randn(4, 6, *k) if transposed else torch.randn(6, 4, *k))
        self.bias = nn.Parameter(torch.zeros(6))

    def forward(self, x):
        if self.transposed:
            fn = getattr(F, f"conv_transpose{self.ndim}d")
            return fn(x, self.weight, self.bias, 2, 1, 1, 1, 1)
        return getattr(F, f"conv{self.ndim}d")(x, self.weight, self.bias, padding=1)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_functional_conv_nd_and_transposed(ndim, transposed):
    model = FunctionalConvNd(ndim, transposed)
    net = sc.from_torch(model, (4, *sc.symbols("D H W")[3 - ndim :]))
    kind = f"ConvTranspose{ndim}d" if transposed else f"Conv{ndim}d"
    (conv,) = net.layers
    if transposed:
        assert conv.layer == getattr(sc, kind)(4, 6, 3, stride=2, padding=1, output_padding=1)
    else:
        assert conv.layer == getattr(sc, kind)(4, 6, 3, padding=1)
    assert net.params == sum(p.numel() for p in model.parameters())
    for n in (5, 7):
        shape = (4, *(n,) * ndim)
        out, flops = flop_count(model, shape)
        point = dict(zip(sc.symbols("D H W")[3 - ndim :], (n,) * ndim, strict=True))
        assert net.subs(point).output_shape == out
        assert net.products.subs(point) * 2 == flops


# -- normalizations with the module's tensors ------------------------------------------------
class FunctionalBatchNorm(nn.Module):
    """A batch norm holding exactly the tensors F.batch_norm reads in eval mode."""

    def __init__(self, c, affine=True):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.weight = nn.Parameter(torch.ones(c)) if affine else None
        self.bias = nn.Parameter(torch.zeros(c)) if affine else None

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, 0.1, 1e-5)  # fmt: skip


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's BatchNormAct2d, shortened: nn.BatchNorm2d's tensors, F.batch_norm in forward.

    It holds num_batches_tracked too, which the eval-mode forward pass never reads.
    """

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         False, self.momentum, self.eps)  # fmt: skip
        return F.relu(x)


def test_functional_batch_norm_counts_its_buffers():
    model = Stack(FunctionalBatchNorm(6), FunctionalBatchNorm(6, affine=False))
    net = check(model, (3, H, W))
    bn = [r for r in net.layers if r.layer.kind == "bn"]
    assert [(r.params, r.buffers) for r in bn] == [(12, 12), (0, 12)]
    assert bn[0].layer.layer == sc.BatchNorm2d(6)


def test_functional_batch_norm_reads_no_step_counter():
    model = Stack(BatchNormAct2d(6))
    check(model, (3, H, W), buffers=2 * 6)  # not num_batches_tracked: never read
    assert sum(b.numel() for b in model.buffers()) == 2 * 6 + 1


def test_functional_batch_norm_by_rank():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = FunctionalBatchNorm(6)

        def forward(self, x):
            return self.bn(x.flatten(2))

    net = sc.from_torch(Flat(), (6, H, W))
    assert net.layers[-1].layer.layer == sc.BatchNorm1d(6)
    assert net.output_shape == (6, H * W)


def test_functional_batch_norm_without_running_stats_in_eval_is_refused():
    class NoStats(nn.Module):
        def forward(self, x):
            return F.batch_norm(x, None, None)

    with pytest.raises(RuntimeError, match="running_mean must be defined"):
        NoStats()(torch.zeros(1, 3, 4, 4))
    with pytest.raises(sc.ShapeError, match="batch_norm at node 'batch_norm'.*running_mean"):
        sc.from_torch(NoStats(), (3, H, W))


class GroupNormed(nn.Module):
    def __init__(self, affine=True):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.weight = nn.Parameter(torch.ones(8)) if affine else None
        self.bias = nn.Parameter(torch.zeros(8)) if affine else None

    def forward(self, x):
        return F.group_norm(self.conv(x), 4, self.weight, self.bias, 1e-5)


class InstanceNormed(nn.Module):
    def __init__(self, stats=False, affine=False):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        if stats:
            self.register_buffer("running_mean", torch.zeros(8))
            self.register_buffer("running_var", torch.ones(8))
        else:
            self.running_mean = self.running_var = None
        self.weight = nn.Parameter(torch.ones(8)) if affine else None
        self.bias = nn.Parameter(torch.zeros(8)) if affine else None
        self.stats = stats

    def forward(self, x):
        return F.instance_norm(self.conv(x), self.running_mean, self.running_var, self.weight,
                               self.bias, not self.stats)  # fmt: skip


@pytest.mark.parametrize("affine", [True, False])
def test_functional_group_norm(affine):
    net = check(GroupNormed(affine), (3, H, W))
    assert net.layers[-1].layer == sc.GroupNorm(4, 8, affine=affine)


@pytest.mark.parametrize(("stats", "affine"), [(False, False), (True, True), (False, True)])
def test_functional_instance_norm(stats, affine):
    net = check(InstanceNormed(stats, affine), (3, H, W))
    layer = net.layers[-1].layer
    layer = getattr(layer, "layer", layer)  # the running stats count 2C, without the counter
    assert layer == sc.InstanceNorm2d(8, affine=affine, track_running_stats=stats)


# -- weights computed from parameters: timm's standardised convolutions -----------------------
def get_padding(kernel_size, stride=1, dilation=1):
    return ((stride - 1) + dilation * (kernel_size - 1)) // 2


class StdConv2d(nn.Conv2d):
    """timm.layers.std_conv.StdConv2d, as timm writes it (without dynamic 'same' padding)."""

    def __init__(self, in_channel, out_channels, kernel_size, stride=1, padding=None,
                 dilation=1, groups=1, bias=False, eps=1e-6):  # fmt: skip
        if padding is None:
            padding = get_padding(kernel_size, stride, dilation)
        super().__init__(in_channel, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)  # fmt: skip
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1), None, None,
            training=True, momentum=0., eps=self.eps).reshape_as(self.weight)  # fmt: skip
        x = F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        return x


class ScaledStdConv2d(nn.Conv2d):
    """timm.layers.std_conv.ScaledStdConv2d, as timm writes it (NFNets)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=None,
                 dilation=1, groups=1, bias=True, gamma=1.0, eps=1e-6, gain_init=1.0):  # fmt: skip
        if padding is None:
            padding = get_padding(kernel_size, stride, dilation)
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)  # fmt: skip
        self.gain = nn.Parameter(torch.full((self.out_channels, 1, 1, 1), gain_init))
        self.scale = gamma * self.weight[0].numel() ** -0.5  # gamma * 1 / sqrt(fan-in)
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1), None, None,
            weight=(self.gain * self.scale).view(-1),
            training=True, momentum=0., eps=self.eps)  # fmt: skip
        return F.conv2d(x, weight.reshape_as(self.weight), self.bias, self.stride, self.padding,
                        self.dilation, self.groups)  # fmt: skip


def test_std_conv2d_is_a_conv2d_of_its_weight():
    model = nn.Sequential(StdConv2d(3, 8, 3, stride=2), nn.ReLU(), StdConv2d(8, 8, 3, groups=2))
    net = check(model, (3, H, W))
    assert [r.layer for r in net.layers if r.layer.kind == "conv"] == [
        sc.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        sc.Conv2d(8, 8, 3, padding=1, groups=2, bias=False),
    ]


def test_scaled_std_conv2d_counts_its_gain():
    model = nn.Sequential(ScaledStdConv2d(3, 16, 3, stride=2), nn.SiLU(), ScaledStdConv2d(16, 8, 1))
    net = check(model, (3, H, W))
    first = net.layers[0]
    assert first.layer.layer == sc.Conv2d(3, 16, 3, stride=2, padding=1)
    assert first.params == 16 * (3 * 9 + 1) + 16  # the conv's weight and bias, and the gain
    assert "gain" in first.layer.describe()


def test_std_convs_on_the_meta_device():
    with torch.device("meta"):
        model = nn.Sequential(StdConv2d(3, 8, 3), ScaledStdConv2d(8, 8, 3, groups=4))
    net = sc.from_torch(model, (3, H, W))
    assert all(p.device.type == "meta" for p in model.parameters())
    assert net.params == sum(p.numel() for p in model.parameters())
    out, flops = flop_count(model, (3, 16, 16), device="meta")
    assert net.subs({H: 16, W: 16}).output_shape == out
    assert net.products.subs({H: 16, W: 16}) * 2 == flops


# -- simple computed weights, read twice, low rank, buffers -----------------------------------
class Computed(nn.Module):
    """Weights made from parameters with arithmetic, views, transposes and cat."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.scale = 0.5
        self.a = nn.Parameter(torch.randn(4, 6))
        self.b = nn.Parameter(torch.randn(2, 6))
        self.fc = nn.Parameter(torch.randn(8, 6))  # used transposed: (6, 8) -> (8, 6)

    def forward(self, x):
        x = F.conv2d(x, self.weight * self.scale, padding=1)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        x = F.linear(x, self.fc.t())
        return F.linear(F.relu(x), torch.cat([self.a, self.b]).flatten(1))


def test_weights_computed_with_arithmetic_views_and_cat():
    net = check(Computed(), (3, H, W))
    assert net.output_shape == (6,)
    assert [type(r.layer).__name__ for r in net.layers if r.params] == [
        "Conv2d",
        "Linear",
        "Linear",
    ]


class ReadTwice(nn.Module):
    """One weight in two convolutions: the same one, then with another dilation."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, 3, 3, 3))
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        y = F.conv2d(x, self.weight, self.bias, padding=1)
        y = F.conv2d(y, self.weight, self.bias, padding=1)
        return F.conv2d(y, self.weight, self.bias, padding=2, dilation=2)  # TridentNet's sharing


def test_a_parameter_read_twice_counts_once():
    net = check(ReadTwice(), (3, H, W))
    first, second, third = net.layers
    assert first.layer is second.layer  # one layer, counted once
    assert (first.params, third.params) == (3 * 27 + 3, 0)
    assert third.layer.layer == sc.Conv2d(3, 3, 3, padding=2, dilation=2)


class LowRank(nn.Module):
    """A 1×1 convolution whose weight is a product of two thin parameters."""

    def __init__(self):
        super().__init__()
        self.u = nn.Parameter(torch.randn(16, 2))
        self.v = nn.Parameter(torch.randn(2, 3))

    def forward(self, x):
        return F.conv2d(x, (self.u @ self.v).view(16, 3, 1, 1))


def test_a_low_rank_weight_counts_its_factors_and_their_product():
    net = check(LowRank(), (3, H, W))
    (conv,) = net.layers
    assert conv.params == 16 * 2 + 2 * 3
    assert conv.products == 16 * 3 * H * W + 16 * 2 * 3  # the matrix product, once per pass


class Blur(nn.Module):
    """timm's BlurPool2d: a fixed kernel held in a buffer, a depthwise strided conv."""

    def __init__(self, channels=3):
        super().__init__()
        coeffs = torch.tensor([1.0, 2.0, 1.0])
        blur = (coeffs[:, None] * coeffs[None, :])[None, None, :, :] / 16
        self.register_buffer("filt", blur.repeat(channels, 1, 1, 1), persistent=False)
        self.channels = channels

    def forward(self, x):
        return F.conv2d(F.pad(x, (1, 1, 1, 1)), self.filt, stride=2, groups=self.channels)


def test_a_buffer_as_a_weight_counts_as_a_buffer():
    net = check(Blur(), (3, H, W))
    conv = net.layers[-1]
    assert (conv.params, conv.buffers) == (0, 27)


# -- refusals ----------------------------------------------------------------------------------
def test_a_weight_computed_from_the_activations_is_refused():
    class Dynamic(nn.Module):
        def forward(self, x):
            return F.conv2d(x, x)

    with pytest.raises(
        sc.UnsupportedLayerError, match=r"conv2d at node 'conv2d': weight is tensor"
    ):
        sc.from_torch(Dynamic(), (3, 8, 8))


def test_an_in_place_call_on_a_parameter_is_refused():
    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(8, 3, 1, 1))

        def forward(self, x):
            return F.conv2d(x, self.weight.mul_(2))

    model = InPlace()
    with pytest.raises(sc.UnsupportedLayerError, match=r"x.mul_ at node .* writes in place"):
        sc.from_torch(model, (3, H, W))
    assert bool((model.weight == 1).all())  # the module's data untouched


def test_a_value_dependent_call_on_a_parameter_is_refused():
    class Valued(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(8, 3, 1, 1))

        def forward(self, x):
            return F.conv2d(x, self.weight[self.weight > 0].view(8, 3, 1, 1))

    with pytest.raises(sc.UnsupportedLayerError, match="meta device"):
        sc.from_torch(Valued(), (3, H, W))


def test_a_weight_of_the_wrong_rank_is_refused_naming_it():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(8, 3))

        def forward(self, x):
            return F.conv2d(x, self.weight)

    message = r"conv2d at node 'conv2d': the weight must have 4 axes .*parameter 'weight'"
    with pytest.raises(sc.ShapeError, match=message):
        sc.from_torch(Flat(), (3, H, W))


def test_a_channel_mismatch_is_refused_as_torch_refuses_it():
    model = FunctionalConv(4, 8, 3)
    with pytest.raises(RuntimeError):
        model(torch.zeros(1, 3, 8, 8))
    with pytest.raises(sc.ShapeError, match=r"Conv2d\(4, 8, kernel_size=3\).*in_channels = 4"):
        sc.from_torch(model, (3, 8, 8))


# -- the property: random functional convolutions against torch ----------------------------
class Functional(nn.Module):
    """F.conv{n}d or F.conv_transpose{n}d on the module's own weight, by keyword."""

    def __init__(self, ndim, transposed, weight_shape, bias, kwargs):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(*weight_shape))
        self.bias = nn.Parameter(torch.zeros(bias)) if bias else None
        name = f"conv_transpose{ndim}d" if transposed else f"conv{ndim}d"
        self.fn, self.kwargs = getattr(F, name), kwargs

    def forward(self, x):
        return self.fn(x, self.weight, self.bias, **self.kwargs)


@st.composite
def functional_convs(draw: Any) -> tuple[Any, tuple[int, ...], str]:
    ndim = draw(st.integers(1, 2))
    transposed = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    axis = st.integers(1, 3)
    kwargs: dict[str, Any] = {
        "stride": draw(st.one_of(axis, st.tuples(*[axis] * ndim))),
        "dilation": draw(st.one_of(axis, st.tuples(*[axis] * ndim))),
        "groups": groups,
    }
    if transposed:
        kwargs["padding"] = draw(st.integers(0, 2))
        stride, dilation = (
            v if isinstance(v, tuple) else (v,) * ndim
            for v in (kwargs["stride"], kwargs["dilation"])
        )
        kwargs["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
        weight = (cin, cout // groups, *k)
    else:
        kwargs["padding"] = draw(st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"])))
        if kwargs["padding"] == "same":
            kwargs["stride"] = 1
        weight = (cout, cin // groups, *k)
    bias = cout if draw(st.booleans()) else 0
    shape = (cin, *(draw(st.integers(1, 12)) for _ in range(ndim)))
    model = Functional(ndim, transposed, weight, bias, kwargs)
    return model, shape, f"{model.fn.__name__}(w {weight}, bias {bias}, {kwargs}) on {shape}"


@torch_settings
@given(case=functional_convs())
def test_random_functional_convolutions_match_torch(case):
    model, shape, what = case
    try:
        # torch's native kernels as referee: on CPU, oneDNN hands back an empty output where
        # they refuse it (tests/frontends/test_torch_nd.py, run_torch_transposed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the flags' notice about TF32 on Intel GPUs
            with torch.backends.mkldnn.flags(enabled=False):
                out, flops = flop_count(model, shape)
    except RuntimeError:
        with pytest.raises(sc.ShapeError):
            sc.from_torch(model, shape)
        event("both refuse")
        return
    net = sc.from_torch(model, shape)
    event("both accept")
    assert net.output_shape == out, what
    assert net.params == sum(p.numel() for p in model.parameters()), what
    assert net.products * 2 == flops, what
    assert net.output_shape.numel == math.prod(out)


# -- more counting rules ---------------------------------------------------------------------
class Tied(nn.Module):
    """One parameter registered under two names, read by each: torch counts it once."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(3, 3, 3, 3))
        self.b = self.a

    def forward(self, x):
        return F.conv2d(F.conv2d(x, self.a, padding=1), self.b, padding=1)


def test_a_parameter_under_two_names_counts_once():
    model = Tied()
    assert len(list(model.parameters())) == 1
    net = check(model, (3, H, W))
    first, second = net.layers
    assert first.layer is second.layer and net.params == 81


class ComputedTwice(nn.Module):
    """The same weight computed twice from the same parameters, for two layer norms."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(8))
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return F.layer_norm(x, (8,), self.w * self.g) + F.layer_norm(x, (8,), self.w * self.g)


def test_a_weight_computed_twice_counts_its_tensors_once():
    net = sc.from_torch(ComputedTwice(), (4, 8))
    first, second, _ = net.layers
    assert first.layer is second.layer
    assert first.layer.layer == sc.LayerNorm(8, bias=False)
    assert (first.params, net.params) == (9, 9)


def test_group_and_instance_norm_without_weights_read_the_input_channels():
    class Plain(nn.Module):
        def forward(self, x):
            return F.instance_norm(F.group_norm(x, 4), None, None)

    c = sc.symbols("C")
    net = sc.from_torch(Plain(), (c, H, W))
    assert [r.layer for r in net.layers] == [sc.GroupNorm(4, c, affine=False), sc.InstanceNorm2d(c)]
    assert net.params == 0 and net.buffers == 0
    assert net.is_valid({c: 8, H: 2, W: 1}) and not net.is_valid({c: 6, H: 2, W: 2})


def test_batch_norm_with_a_weight_and_no_bias():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("running_mean", torch.zeros(3))
            self.register_buffer("running_var", torch.ones(3))
            self.weight = nn.Parameter(torch.ones(3))

        def forward(self, x):
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight)

    net = check(Scaled(), (3, H, W))
    assert net.layers[0].layer.layer == sc.BatchNorm2d(3, bias=False)


def test_instance_norm_in_training_mode_with_running_stats_is_refused():
    class Training(InstanceNormed):
        def forward(self, x):
            return F.instance_norm(x, self.running_mean, self.running_var, use_input_stats=True)

    with pytest.raises(sc.UnsupportedLayerError, match=r"use_input_stats=True and running stat"):
        sc.from_torch(Training(stats=True), (8, H, W))


def test_a_layer_reading_computed_weights_reads_as_its_layer():
    net = sc.from_torch(ScaledStdConv2d(3, 4, 1, bias=False), (3, H, W))
    (conv,) = net.layers
    assert repr(conv.layer) == (
        "Conv2d(3, 4, kernel_size=1, bias=False) reading weight, gain (params=16, buffers=0)"
    )
    assert (
        conv.layer.describe()
        == "nn.Conv2d(3, 4, kernel_size=1, bias=False), weights from weight, gain"
    )
    assert conv.receptive_field == (1, 1)
    assert net.subs({H: 5, W: 5}).layers[0].layer == conv.layer
