"""from_torch on activations: modules, functional forms and Tensor methods, against torch.

Every activation reaches the same symcnn layer as a module inside ``nn.Sequential``, as a
bare module and as a call (``F.softmax``, ``torch.log_softmax``, ``x.sigmoid()``): same
output shape, ``sum(p.numel())`` parameters and FlopCounterMode flops / 2 products. Other
elementwise calls raise, naming the call. A MobileNetV3-style block (Hardswish, and a
squeeze-excitation gated by Hardsigmoid) checks the layout torchvision uses.
"""

from __future__ import annotations

from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Implicit dimension choice")]
torch = require("torch")
F = torch.nn.functional
nn = torch.nn

SHAPE = (4, 6, 5)


def torch_counts(model: Any, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    """(output shape per sample, parameters, FlopCounterMode flops / 2) of one forward."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *input_shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return tuple(out.shape[1:]), sum(p.numel() for p in model.parameters()), flops // 2


def assert_agrees(model: Any, input_shape: tuple[int, ...]) -> sc.Network:
    net = sc.from_torch(model, input_shape)
    shape, params, products = torch_counts(model, input_shape)
    assert net.output_shape == shape
    assert net.params == params
    assert net.products == products
    return net


MODULES = [
    (nn.Hardsigmoid(), sc.Hardsigmoid()),
    (nn.Hardsigmoid(inplace=True), sc.Hardsigmoid(inplace=True)),
    (nn.Mish(), sc.Mish()),
    (nn.ELU(alpha=0.5), sc.ELU(alpha=0.5)),
    (nn.Softplus(beta=2, threshold=10), sc.Softplus(beta=2, threshold=10)),
    (nn.Softmax(dim=1), sc.Softmax(dim=1)),
    (nn.Softmax(), sc.Softmax()),
    (nn.LogSoftmax(dim=-1), sc.LogSoftmax(dim=-1)),
    (nn.PReLU(), sc.PReLU()),
    (nn.PReLU(8, init=0.1), sc.PReLU(8, init=0.1)),
    (nn.GELU(approximate="tanh"), sc.GELU(approximate="tanh")),
]


@pytest.mark.parametrize(("module", "layer"), MODULES, ids=lambda v: repr(v))
def test_a_module_in_a_sequential(module, layer):
    model = nn.Sequential(nn.Conv2d(4, 8, 3), module, nn.Conv2d(8, 2, 1))
    net = assert_agrees(model, SHAPE)
    assert net.layers[1].layer == layer
    assert net.layers[1].params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("module", "layer"), MODULES[:-3], ids=lambda v: repr(v))
def test_a_bare_module(module, layer):
    net = assert_agrees(module, SHAPE)
    assert [r.layer for r in net.layers] == [layer]


CALLS: dict[str, tuple[Any, Any]] = {
    "F.hardsigmoid": (lambda x: F.hardsigmoid(x), sc.Hardsigmoid()),
    "F.hardsigmoid(inplace)": (lambda x: F.hardsigmoid(x, True), sc.Hardsigmoid(inplace=True)),
    "F.softmax": (lambda x: F.softmax(x, 1), sc.Softmax(1)),
    "F.softmax(None)": (lambda x: F.softmax(x), sc.Softmax()),
    "F.softmax(dtype)": (lambda x: F.softmax(x, -1, dtype=torch.float64), sc.Softmax(-1)),
    "F.log_softmax": (lambda x: F.log_softmax(x, dim=2), sc.LogSoftmax(2)),
    "torch.softmax": (lambda x: torch.softmax(x, -2), sc.Softmax(-2)),
    "torch.log_softmax": (lambda x: torch.log_softmax(x, 1), sc.LogSoftmax(1)),
    "F.mish": (lambda x: F.mish(x), sc.Mish()),
    "F.elu": (lambda x: F.elu(x, 0.5), sc.ELU(0.5)),
    "F.elu_": (lambda x: F.elu_(x.clone(), alpha=2.0), sc.ELU(2.0)),
    "F.softplus": (lambda x: F.softplus(x, 2, 10), sc.Softplus(2, 10)),
    "F.gelu": (lambda x: F.gelu(x, approximate="tanh"), sc.GELU("tanh")),
    "torch.sigmoid": (lambda x: torch.sigmoid(x), sc.Sigmoid()),
    "torch.tanh": (lambda x: torch.tanh(x), sc.Tanh()),
    "torch.relu": (lambda x: torch.relu(x), sc.ReLU()),
    "x.sigmoid()": (lambda x: x.sigmoid(), sc.Sigmoid()),
    "x.tanh()": (lambda x: x.tanh(), sc.Tanh()),
    "x.relu()": (lambda x: x.relu(), sc.ReLU()),
    "x.relu_()": (lambda x: x.clone().relu_(), sc.ReLU()),
    "x.softmax(dim)": (lambda x: x.softmax(1), sc.Softmax(1)),
    "x.log_softmax(dim=)": (lambda x: x.log_softmax(dim=-1), sc.LogSoftmax(-1)),
}


class Call(nn.Module):
    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3)
        self.fn = fn

    def forward(self, x: Any) -> Any:
        return self.fn(self.conv(x))


@pytest.mark.parametrize("case", list(CALLS))
def test_a_functional_form(case):
    fn, layer = CALLS[case]
    net = assert_agrees(Call(fn), SHAPE)
    assert net.layers[-1].layer == layer
    assert net.layers[-1].products == 0 and net.layers[-1].elementwise == 0


@pytest.mark.parametrize(
    ("fn", "what"),
    [
        (torch.exp, "torch.exp"),
        (torch.abs, "torch.abs"),
        (torch.erf, "torch.erf"),
        (torch.log, "torch.log"),
        (lambda x: x.exp(), "Tensor.exp"),
        (lambda x: x.abs(), "Tensor.abs"),
        (F.hardtanh, "F.hardtanh"),
        (F.selu, "F.selu"),
    ],
)
def test_other_elementwise_calls_raise_naming_them(fn, what):
    with pytest.raises(
        sc.UnsupportedLayerError, match=rf"^{what} at node '\w+' has no symcnn rule"
    ):
        sc.from_torch(Call(fn), SHAPE)


def test_functional_prelu_reads_its_weight_as_a_prelu():
    class Functional(nn.Module):
        def __init__(self, n: int = 4) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.full((n,), 0.25))

        def forward(self, x: Any) -> Any:
            return F.prelu(x, self.weight)

    net = sc.from_torch(Functional(), SHAPE)
    assert [r.layer for r in net.layers] == [sc.PReLU(4)]
    assert net.params == 4 and net.output_shape == SHAPE
    # a weight of another shape is refused, as torch refuses it
    with pytest.raises(RuntimeError):
        Functional(3)(torch.zeros(1, *SHAPE))
    with pytest.raises(sc.ShapeError, match=r"PReLU\(num_parameters=3\).*input channels = 4"):
        sc.from_torch(Functional(3), SHAPE)


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        (nn.Softmax(0), r"Softmax\(dim=0\) at layer \d+ \(\w+\): dim must not be the batch"),
        (Call(lambda x: F.softmax(x, 0)), r"Softmax\(dim=0\).*batch axis"),
        (Call(lambda x: x.log_softmax(-4)), r"LogSoftmax\(dim=-4\).*batch axis"),
        (Call(lambda x: F.softmax(x, 4)), r"Softmax\(dim=4\).*must lie in \[-4, 3\]"),
    ],
)
def test_softmax_over_the_batch_is_refused(model, pattern):
    with pytest.raises(sc.ShapeError, match=pattern):
        sc.from_torch(model, SHAPE)


def test_implicit_softmax_dim_on_a_3_axis_batch_is_the_batch_axis():
    # torch's legacy rule picks dim 0 for (N, C, L): across samples
    with pytest.raises(sc.ShapeError, match=r"Softmax\(\).*implicit choice for 3 axes, is 0"):
        sc.from_torch(nn.Softmax(), (4, 6))


def test_prelu_channel_mismatch_is_refused_as_torch_refuses_it():
    model = nn.Sequential(nn.Conv2d(4, 8, 3), nn.PReLU(4))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        model(torch.zeros(1, *SHAPE))
    with pytest.raises(sc.ShapeError, match=r"PReLU\(num_parameters=4\).*got input channels = 8"):
        sc.from_torch(model, SHAPE)


def test_symbolic_sizes_through_from_torch():
    h, w = sc.symbols("H W")
    model = nn.Sequential(nn.Conv2d(4, 8, 3), nn.PReLU(8), nn.Softmax(1))
    net = sc.from_torch(model, (4, h, w))
    assert net.output_shape == (8, h - 2, w - 2)
    assert net.params == 4 * 8 * 9 + 8 + 8
    assert net.subs({h: 6, w: 5}).products == torch_counts(model, SHAPE)[2]


# -- torchvision's MobileNetV3 layout, in plain torch ---------------------------------------
class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with MobileNetV3's Hardsigmoid gate."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: Any) -> Any:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class InvertedResidual(nn.Module):
    """MobileNetV3's bneck: expand, depthwise, squeeze-excite, project, residual."""

    def __init__(self, channels: int, expanded: int, kernel: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(channels, expanded, 1, bias=False),
            nn.BatchNorm2d(expanded),
            nn.Hardswish(),
            nn.Conv2d(expanded, expanded, kernel, padding=kernel // 2, groups=expanded, bias=False),
            nn.BatchNorm2d(expanded),
            nn.Hardswish(),
            SqueezeExcitation(expanded, expanded // 4),
            nn.Conv2d(expanded, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Any) -> Any:
        return x + self.block(x)


class MiniMobileNetV3(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.Hardswish()
        )
        self.blocks = nn.Sequential(InvertedResidual(16, 64, 3), InvertedResidual(16, 48, 5))
        self.classifier = nn.Sequential(
            nn.Linear(16, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, 10), nn.LogSoftmax(1)
        )

    def forward(self, x: Any) -> Any:
        x = F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1)
        return self.classifier(torch.flatten(x, 1))


@pytest.mark.parametrize("size", [(3, 32, 32), (3, 17, 24)])
def test_a_mobilenet_v3_block_agrees_with_torch(size):
    model = MiniMobileNetV3()
    net = assert_agrees(model, size)
    gates = [r for r in net.layers if isinstance(r.layer, sc.Hardsigmoid)]
    assert [r.name for r in gates] == [f"blocks.{i}.block.6.scale_activation" for i in (0, 1)]
    assert all(r.output_shape[1:] == (1, 1) for r in gates)
    assert isinstance(net.layers[-1].layer, sc.LogSoftmax)


def test_a_mobilenet_v3_block_is_symbolic_in_the_input_size():
    h, w = sc.symbols("H W")
    model = MiniMobileNetV3()
    net = sc.from_torch(model, (3, h, w))
    for size in [(3, 32, 32), (3, 17, 24)]:
        shape, params, products = torch_counts(model, size)
        at = net.subs({h: size[1], w: size[2]})
        assert (at.output_shape, at.params, at.products) == (shape, params, products)
