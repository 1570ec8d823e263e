"""from_torch against the real thing: the zoo of tests/torchzoo.py, traced and run in torch.

For each network, at several input sizes (non-square among them): the parameter total is
``sum(p.numel())``, every module node's output shape is what a forward hook records, the
products are the convention computed from the hooks, and validity (``is_valid``,
``min_input``) is exactly where torch raises or, for ``x.view(-1, m)``, re-batches.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import sympy

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.slow
torch = require("torch")
F = torch.nn.functional
nn = torch.nn

import hookcount  # noqa: E402
import torchzoo as zoo  # noqa: E402 - needs torch, imported through require() above

H, W, n = sc.symbols("H W n")


# -- the forward pass, observed by hooks ---------------------------------------------------
def observe(model, input_shape):
    """(output, {module name: [output shape per call]}, products) of one hooked forward pass;
    the products are tests/hookcount.py's, the seed's convention, as ``net.products``."""
    out, calls, counts = hookcount.observe(model, input_shape)
    return out, calls, counts.products


def check_against_torch(net, model, point, input_shape, unused=0):
    """Every module node's shape, the parameter total and the products at ``point``.

    ``unused``: parameters of modules the eval-mode forward never calls (GoogLeNet's
    auxiliary heads), which from_torch leaves out with a warning.
    """
    out, calls, products = observe(model, input_shape)
    assert net.output_shape.subs(point) == tuple(out.shape[1:])
    seen: dict[str, int] = {}
    checked = 0
    for record in net.layers:
        module_name, _, call = record.name.partition(":")
        if module_name not in calls:
            continue  # a functional call: checked through the nodes after it
        index = int(call or 1) - 1
        assert record.output_shape.subs(point) == calls[module_name][index][1:], record.name
        seen[module_name] = seen.get(module_name, 0) + 1
        checked += 1
    assert seen == {name: len(calls[name]) for name in seen}
    # Modules torch.fx traces through have no node of their own: a parameter-free leaf such
    # as torchvision's StochasticDepth (the identity in eval mode), or ConvNeXt's
    # LayerNorm2d, whose forward reads its own weight and bias (functional nodes count
    # them). Every parameter is still counted exactly once: the total below says so.
    assert net.params.subs(point) + unused == sum(p.numel() for p in model.parameters())
    assert net.products.subs(point) == products
    return checked


# -- the zoo at several sizes ---------------------------------------------------------------
ZOO = {
    "seed-lenet": (zoo.SeedLeNet, 1, [(28, 28), (33, 29)]),
    "resnet18": (zoo.resnet18, 3, [(64, 64), (97, 130)]),
    "resnet50": (zoo.resnet50, 3, [(64, 80), (33, 33)]),
    "densenet-small": (zoo.densenet_small, 3, [(64, 64), (70, 45)]),
    "mobilenet_v2": (lambda: zoo.MobileNetV2(width=0.5), 3, [(64, 64), (57, 90)]),
    "squeezenet1_0": (zoo.SqueezeNet, 3, [(64, 64), (71, 99)]),
    "inception": (zoo.MiniGoogLeNet, 3, [(32, 32), (45, 61)]),
    "unet": (zoo.UNet, 1, [(32, 32), (48, 64)]),
    "mbconv-se": (zoo.MBConvNet, 3, [(32, 32), (37, 50)]),
    "alexnet": (zoo.AlexNet, 3, [(63, 63), (127, 100)]),
    "vgg16": (lambda: zoo.VGG16(width=0.25), 3, [(32, 32), (64, 48)]),
}


@pytest.fixture(scope="module")
def traced():
    """Each zoo network built once in torch and traced once with symbolic H and W."""
    torch.manual_seed(0)
    out = {}
    for name, (build, channels, _) in ZOO.items():
        model = build()
        out[name] = (model, sc.from_torch(model, (channels, H, W)), channels)
    return out


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_matches_forward_hooks(traced, name):
    model, net, channels = traced[name]
    for h, w in ZOO[name][2]:
        checked = check_against_torch(net, model, {H: h, W: w}, (channels, h, w))
        assert checked >= 2


@pytest.mark.parametrize("name", ["seed-lenet", "resnet50", "squeezenet1_0", "unet"])
def test_evaluate_agrees_with_subs(traced, name):
    _, net, _ = traced[name]
    sizes = ZOO[name][2]
    hs = [h for h, _ in sizes]
    ws = [w for _, w in sizes]
    products = net.evaluate("products", H=hs, W=ws)
    assert [int(p) for p in products] == [net.products.subs({H: h, W: w}) for h, w in sizes]


def test_the_module_is_left_as_it_was():
    model = zoo.resnet18(width=0.25).train()
    model.layer1.eval()
    before = {name: m.training for name, m in model.named_modules()}
    hooks = [(m._forward_hooks, m._forward_pre_hooks) for m in model.modules()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    sc.from_torch(model, (3, H, W))
    assert {name: m.training for name, m in model.named_modules()} == before
    assert [(m._forward_hooks, m._forward_pre_hooks) for m in model.modules()] == hooks
    assert all(len(a) == 0 and len(b) == 0 for a, b in hooks)
    after = model.state_dict()
    assert after.keys() == state.keys()
    assert all(torch.equal(after[k], v) for k, v in state.items())


def test_module_names_are_node_names(traced):
    _, net, _ = traced["resnet50"]
    names = [r.name for r in net.layers]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert "layer1.0.conv1" in names
    assert "layer1.0.downsample.0" in names
    # A module called several times (ResNet's shared ReLU) is one layer at several nodes.
    assert "layer1.0.relu:3" in names
    assert names[-3:] == ["avgpool", "flatten", "fc"]
    record = net["layer1.0.relu:3"]
    assert record.layer is net["layer1.0.relu"].layer
    assert isinstance(net["add"].layer, sc.Add)


# -- the pinned ResNet-50 formula --------------------------------------------------------
def test_resnet50_products_formula(traced):
    _, net, _ = traced["resnet50"]

    def up(x, s):  # ⌈x/2^s⌉, as symcnn's canonical form writes it: one floor
        return sympy.floor((x + 2**s - 1) / 2**s)

    expected = (
        9408 * up(H, 1) * up(W, 1)
        + 245760 * up(H, 2) * up(W, 2)
        + 1310720 * up(H, 3) * up(W, 3)
        + 7471104 * up(H, 4) * up(W, 4)
        + 14417920 * up(H, 5) * up(W, 5)
        + 2048000
    )
    assert net.products == expected
    assert sc.format_formula(net.products) == (
        "14417920·⌈H/32⌉·⌈W/32⌉ + 7471104·⌈H/16⌉·⌈W/16⌉ + 1310720·⌈H/8⌉·⌈W/8⌉ "
        "+ 245760·⌈H/4⌉·⌈W/4⌉ + 9408·⌈H/2⌉·⌈W/2⌉ + 2048000"
    )
    assert net.params == 25557032
    assert net.products.subs({H: 224, W: 224}) == 4089184256
    assert net.constraints == ()


# -- validity: where torch raises, or silently re-batches -----------------------------------
def torch_accepts(model, input_shape):
    """True when a forward pass works and keeps one output row per sample."""
    try:
        out, _, _ = observe(model, input_shape)
    except (RuntimeError, ValueError):
        return False
    return out.shape[0] == 1


SWEEP = {
    "seed-lenet": (zoo.SeedLeNet, 1, 40, 28),
    "squeezenet1_0": (zoo.SqueezeNet, 3, 30, 21),
    "inception": (zoo.MiniGoogLeNet, 3, 16, 7),
    "unet": (lambda: zoo.UNet(base=2), 1, 24, 8),
    "alexnet": (zoo.AlexNet, 3, 70, 63),
    "vgg16": (lambda: zoo.VGG16(width=1 / 16), 3, 40, 32),
    "densenet-small": (zoo.densenet_small, 3, 40, 29),
    "resnet18": (lambda: zoo.resnet18(width=0.125), 3, 8, 1),
}


@pytest.mark.parametrize("name", list(SWEEP))
def test_validity_is_where_torch_works(name):
    build, channels, top, first = SWEEP[name]
    model = build()
    net = sc.from_torch(model, (channels, n, n))
    verdicts = {size: net.is_valid({n: size}) for size in range(1, top + 1)}
    truth = {size: torch_accepts(model, (channels, size, size)) for size in range(1, top + 1)}
    assert verdicts == truth
    assert net.min_input(n) == first == min(s for s, ok in truth.items() if ok)


def test_seed_view_rebatches_in_torch_and_is_invalid_in_symcnn():
    model = zoo.SeedLeNet()
    out40, _, _ = observe(model, (1, 40, 40))
    out64, _, _ = observe(model, (1, 64, 64))
    assert (out40.shape[0], out64.shape[0]) == (4, 16)  # torch: no error, more rows
    net = sc.from_torch(model, (1, n, n))
    assert net.constraints == (n >= 28, n <= 33)
    assert not net.is_valid({n: 40})
    message = net.violation({n: 40})
    assert "x.view(-1, 256)" in message and "re-batches" in message
    assert message.endswith(
        "(got elements per sample = 1024, target elements = 256, "
        "rows per sample in PyTorch = 4) (n=40)"
    )
    with pytest.raises(sc.ShapeError, match=r"view.*re-batches.*1024"):
        sc.from_torch(model, (1, 40, 40))


def test_non_square_domain():
    net = sc.from_torch(zoo.SqueezeNet(), (3, H, W))
    assert net.constraints == (H >= 21, W >= 21)
    assert net.is_valid({H: 21, W: 300}) and not net.is_valid({H: 300, W: 20})


# -- the calls symcnn maps -----------------------------------------------------------------
class Functional(nn.Module):
    """One of each functional call and Tensor method from_torch maps."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.conv(x))
        y = F.max_pool2d(x, 2, 2, ceil_mode=True)
        y = F.avg_pool2d(y, 3, stride=1, padding=1)
        y = torch.sigmoid(y) * torch.tanh(y)
        y = F.leaky_relu(y, 0.2) + F.gelu(y)
        y = F.interpolate(F.silu(y), scale_factor=2)
        y = F.pad(F.hardswish(y), (0, 1, 1, 0))
        z = torch.cat([y, F.relu6(y)], dim=1)
        z = F.adaptive_avg_pool2d(z, (2, 3)) + F.adaptive_max_pool2d(z, (2, 3))
        z = F.dropout(z.contiguous(), 0.1, self.training).mean((2, 3), keepdim=True)
        z = z.view(z.size(0), 16).reshape(-1, 2, 8).mean(1)
        return self.fc(z)


def test_every_mapped_call_against_torch():
    model = Functional()
    net = sc.from_torch(model, (3, H, W))
    kinds = {type(r.layer).__name__ for r in net.layers}
    assert kinds >= {
        "ReLU", "MaxPool2d", "AvgPool2d", "Sigmoid", "Tanh", "Mul", "LeakyReLU", "GELU",
        "Add", "SiLU", "Upsample", "Hardswish", "ZeroPad2d", "ReLU6", "Concat",
        "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Mean", "View", "Reshape", "Linear",
    }  # fmt: skip
    for h, w in [(8, 8), (9, 13), (1, 2)]:
        check_against_torch(net, model, {H: h, W: w}, (3, h, w))


def test_size_queries_and_flatten_forms():
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3)

        def forward(self, x):
            x = self.conv(x)
            a = x.view(x.size(0), -1)
            b = x.reshape(x.shape[0], x.size(1), -1)
            c = torch.flatten(x, 2).flatten(1)
            d = x.view(-1, x.size(1) * x.size(2) * x.size(3))
            return a, b, c, d

    net = sc.from_torch(Heads(), (2, H, W))
    a, b, c, d = net.output_shapes
    assert a == c == d == ((H - 2) * (W - 2) * 4,)
    assert b == (4, (H - 2) * (W - 2))
    assert net.constraints == (H >= 3, W >= 3)


def test_shared_modules_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(4, 4, 3, padding=1)
            self.b = nn.Conv2d(4, 4, 3, padding=1)
            self.b.weight = self.a.weight
            self.b.bias = self.a.bias

        def forward(self, x):
            return self.b(self.a(self.a(x)))

    model = Tied()
    net = sc.from_torch(model, (4, 8, 8))
    assert [r.name for r in net.layers] == ["a", "a:2", "b"]
    assert [r.shared for r in net.layers] == [False, True, True]
    assert net.params == sum(p.numel() for p in model.parameters()) == 148
    assert net.products == 3 * 4 * 64 * 4 * 9


def test_partly_shared_parameters_are_refused():
    class HalfTied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(4, 4, 3)
            self.b = nn.Conv2d(4, 4, 3)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    with pytest.raises(sc.UnsupportedLayerError, match=r"'b' shares some of its parameters"):
        sc.from_torch(HalfTied(), (4, 9, 9))


def test_a_bare_layer_is_a_one_layer_network():
    net = sc.from_torch(nn.Conv2d(3, 8, 3, stride=2), (3, H, W))
    assert [r.name for r in net.layers] == ["conv1"]
    assert net.params == 8 * 28
    assert net.output_shape == (8, sympy.floor((H - 1) / 2), sympy.floor((W - 1) / 2))


def test_subclass_keeping_forward_is_the_layer():
    class MyConv(nn.Conv2d):
        pass

    net = sc.from_torch(nn.Sequential(MyConv(3, 5, 3)), (3, 7, 7))
    assert net.layers[0].layer == sc.Conv2d(3, 5, 3)
    assert net.params == 5 * (27 + 1)


def test_several_inputs_and_outputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 1)
            self.b = nn.Conv2d(5, 4, 1)

        def forward(self, x, y):
            return self.a(x) + self.b(y), self.a(x)

    net = sc.from_torch(Two(), [(3, H, W), (5, H, W)])
    assert len(net.inputs) == 2
    assert net.output_shapes == ((4, H, W), (4, H, W))
    with pytest.raises(sc.ShapeError, match=r"takes 2 input\(s\) \(x, y\); input_shape gives 1"):
        sc.from_torch(Two(), (3, H, W))


def test_parameters_outside_the_forward_are_warned_about():
    class WithAux(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.aux = nn.Linear(10, 10)

        def forward(self, x):
            if self.training:
                return self.conv(x), self.aux(torch.zeros(10))
            return self.conv(x)

    model = WithAux().train()
    with pytest.warns(UserWarning, match=r"110 parameters are not used .*: aux \(110\)") as seen:
        net = sc.from_torch(model, (3, 8, 8))
    assert [w.filename for w in seen] == [__file__]  # the warning points at the caller
    assert net.params == 4 * 28
    assert model.training


def test_lazy_linear_after_flatten():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(5))
    net = sc.from_torch(model, (1, n, n))
    assert net.params == 2 * 10 + 5 * (2 * (n - 2) ** 2 + 1)
    model(torch.zeros(1, 1, 6, 6))
    assert net.params.subs(n, 6) == sum(p.numel() for p in model.parameters())


# -- one tensor used twice by one call: two edges from one node ------------------------------
class UsedTwice(nn.Module):
    """conv → ``op`` on the conv's output (used twice) → conv, for ``op`` in OPS."""

    def __init__(self, op, channels_after, with_y):
        super().__init__()
        self.op = op
        self.a = nn.Conv2d(3, 4, 3)
        self.b = nn.Conv2d(3, 2, 3) if with_y else None
        self.c = nn.Conv2d(channels_after, 5, 1)

    def forward(self, x):
        a = self.a(x)
        return self.c(self.op(a, None if self.b is None else self.b(x)))


OPS = {
    "x * x": (lambda x, y: x * x, 4, "Mul", ["a", "a"]),
    "x + x": (lambda x, y: x + x, 4, "Add", ["a", "a"]),
    "cat([x, x])": (lambda x, y: torch.cat([x, x], 1), 8, "Concat", ["a", "a"]),
    "cat([x, x, y])": (lambda x, y: torch.cat([x, x, y], 1), 10, "Concat", ["a", "a", "b"]),
}


def flop_count(model, input_shape):
    """(output shape per sample, FlopCounterMode's flops) of one forward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *input_shape))
    return tuple(out.shape[1:]), counter.get_total_flops()


@pytest.mark.parametrize("case", list(OPS))
def test_a_tensor_used_twice_is_two_edges(case):
    op, channels, kind, sources = OPS[case]
    model = UsedTwice(op, channels, with_y="b" in sources)
    net = sc.from_torch(model, (3, H, W))
    (merge,) = [r for r in net.layers if type(r.layer).__name__ == kind]
    assert [r.name for r in net.layers] == sorted(set(sources)) + [merge.name, "c"]
    assert not any(".copy" in r.name or isinstance(r.layer, sc.Identity) for r in net.layers)
    edges = sorted(net.graph.in_edges(merge.name, data="port"), key=lambda e: e[2])
    assert [u for u, _, _ in edges] == sources
    assert merge.output_shape == (channels, H - 2, W - 2)
    assert net.params == sum(p.numel() for p in model.parameters())
    for h, w in [(3, 3), (8, 13)]:
        out, flops = flop_count(model, (3, h, w))
        at = net.subs({H: h, W: w})
        assert at.output_shape == out
        assert 2 * at.products == flops


# -- what symcnn refuses: named, never a silent zero ----------------------------------------
def refused(module, shape=(3, 8, 8)):
    with pytest.raises(sc.UnsupportedLayerError) as info:
        sc.from_torch(module, shape)
    return str(info.value)


def test_unsupported_module_is_named():
    message = refused(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Unfold(2)))
    assert message == "module '1' (torch.nn.modules.fold.Unfold) at node '_1' has no symcnn rule"


def test_unsupported_call_is_named():
    class Exp(nn.Module):
        def forward(self, x):
            return torch.exp(x)

    message = refused(Exp())
    assert message.startswith("torch.exp at node 'exp' has no symcnn rule")
    assert "3×8×8" in message


def test_parameters_reaching_an_unmapped_call_are_refused_naming_them():
    # F.conv2d(x, self.weight) is mapped now (tests/frontends/test_torch_functional.py);
    # an elementwise maximum with a parameter, read or computed, has no rule
    class Raw(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(8, 8))
            self.gain = nn.Parameter(torch.ones(8, 1))

        def forward(self, x):
            return torch.maximum(x, self.weight)

    class Computed(Raw):
        def forward(self, x):
            return torch.maximum(x, self.weight * self.gain)

    assert refused(Raw()).startswith(
        "torch.maximum at node 'maximum' reads the parameter 'weight' of shape (8, 8) "
        "directly and has no symcnn rule"
    )
    assert refused(Computed()).startswith(
        "torch.maximum at node 'maximum' reads the tensor of shape (8, 8) computed at node "
        "'mul' from the parameter 'weight', the parameter 'gain' directly"
    )


def test_scalar_arithmetic_is_mapped():
    class Scaled(nn.Module):
        def forward(self, x):
            return x * 0.5

    net = sc.from_torch(Scaled(), (3, 8, 8))
    assert net.layers[-1].layer == sc.Scalar("mul", 0.5)


def test_an_unmapped_call_names_the_nearest_supported_one():
    class Celu(nn.Module):
        def forward(self, x):
            return F.celu(x)

    class Sort(nn.Module):
        def forward(self, x):
            return torch.sort(x, 1).values

    assert refused(Celu()) == (
        "F.celu at node 'celu' has no symcnn rule; its input is 3×8×8; the nearest "
        "supported call is F.elu"
    )
    assert refused(Sort()) == (
        "torch.sort at node 'sort' has no symcnn rule; its input is 3×8×8; supported calls "
        "are listed in symcnn.frontends.torch"
    )


def test_untraceable_control_flow_is_refused():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.mean((1, 2, 3)) else -x

    assert refused(Branchy()).startswith(
        "the traced forward branches on a tensor's values at test_from_torch.py:"
    )

    class Looping(nn.Module):
        def forward(self, x):
            for _ in range(x.size(1)):
                x = x + x
            return x

    assert refused(Looping()).startswith("torch.fx cannot trace Looping: TypeError")


def test_non_module_is_a_type_error():
    with pytest.raises(TypeError, match="needs a torch.nn.Module, got function"):
        sc.from_torch(lambda x: x, (3, 8, 8))


def test_inexact_fractional_upsample_is_refused():
    message = refused(nn.Sequential(nn.Upsample(scale_factor=0.7)))
    assert "scale_factor=0.7 has no exact formula" in message


def test_batch_axis_in_view_must_be_kept():
    class Bad(nn.Module):
        def forward(self, x):
            return x.view(1, -1)

    assert "the first size must be -1 or x.size(0)" in refused(Bad())


# -- torchvision's own models, where torchvision imports ------------------------------------
# torchvision does not import beside CI's torch 2.13.0: .ci/run runs these in a second venv
# with torch 2.14.1 and torchvision 0.29.1 (pytest -m torchvision), and leaves them out of
# the main run (-m "not torchvision"). Locally they skip where torchvision is missing. The
# zoo above covers the same layouts written in plain torch, and runs everywhere.
TORCHVISION = {
    "alexnet": [(224, 224), (100, 130)],
    "vgg16": [(224, 224), (64, 96)],
    "resnet18": [(224, 224), (97, 130)],
    "resnet50": [(224, 224), (64, 80)],
    "densenet121": [(224, 224), (70, 45)],
    "mobilenet_v2": [(224, 224), (57, 90)],
    "squeezenet1_0": [(224, 224), (71, 99)],
    "googlenet": [(224, 224), (96, 120)],
    "efficientnet_b0": [(224, 224), (37, 50)],
    "mobilenet_v3_large": [(224, 224), (61, 90)],
    "mobilenet_v3_small": [(224, 224), (45, 77)],
    "shufflenet_v2_x0_5": [(224, 224), (193, 257)],
    "shufflenet_v2_x1_0": [(224, 224), (193, 257)],
    "shufflenet_v2_x1_5": [(224, 224), (193, 257)],
    "shufflenet_v2_x2_0": [(224, 224), (193, 257)],
    "resnext50_32x4d": [(224, 224), (97, 130)],
    "wide_resnet50_2": [(224, 224), (97, 130)],
    "inception_v3": [(299, 299), (150, 213)],
    "mnasnet1_0": [(224, 224), (57, 90)],
    "efficientnet_v2_s": [(224, 224), (61, 90)],
    "regnet_x_400mf": [(224, 224), (97, 130)],
    "regnet_y_400mf": [(224, 224), (97, 130)],
    "convnext_tiny": [(224, 224), (320, 256)],
    "convnext_small": [(224, 224), (320, 256)],
}


@pytest.mark.torchvision
@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_models(name):
    models = require("torchvision.models")
    torch.manual_seed(0)
    model = getattr(models, name)(weights=None).eval()
    unused = 0
    heads = {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}.get(name)
    if heads:  # auxiliary heads that run only in training
        unused = sum(p.numel() for h in heads for p in getattr(model, h).parameters())
        with pytest.warns(UserWarning, match=rf"{unused} parameters are not used .* {heads[0]}"):
            net = sc.from_torch(model, (3, H, W))
    else:
        net = sc.from_torch(model, (3, H, W))
    for h, w in TORCHVISION[name]:
        check_against_torch(net, model, {H: h, W: w}, (3, h, w), unused)
    square = sc.from_torch(model, (3, n, n))
    first = square.min_input(n)
    assert torch_accepts(model, (3, first, first))
    if first > 1:
        assert not torch_accepts(model, (3, first - 1, first - 1))


#: torchvision's CNN video models: two (T, H, W) sizes each, the second not square.
TORCHVISION_VIDEO = {
    "r3d_18": [(16, 112, 112), (8, 64, 80)],
    "mc3_18": [(16, 112, 112), (8, 64, 80)],
    "r2plus1d_18": [(16, 112, 112), (8, 64, 80)],
    "s3d": [(16, 224, 224), (14, 240, 256)],
}


@pytest.mark.torchvision
@pytest.mark.parametrize("name", list(TORCHVISION_VIDEO))
def test_torchvision_video_models(name):
    video = require("torchvision.models.video")
    from torch.utils.flop_counter import FlopCounterMode

    t_, h_, w_ = sc.symbols("T H W")
    model = getattr(video, name)(weights=None).eval()
    net = sc.from_torch(model, (3, t_, h_, w_))
    assert net.params == sum(p.numel() for p in model.parameters())
    for size in TORCHVISION_VIDEO[name]:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, 3, *size))
        point = dict(zip((t_, h_, w_), size, strict=True))
        assert net.subs(point).output_shape == tuple(out.shape[1:])
        assert net.products.subs(point) == counter.get_total_flops() // 2
    if name == "s3d":  # its final 2×7×7 average pool sets the smallest sizes, as in torch
        assert net.constraints == (t_ >= 13, h_ >= 209, w_ >= 209)
        for size in [(12, 209, 209), (13, 208, 209)]:
            assert not torch_accepts(model, (3, *size))
            assert not net.is_valid(dict(zip((t_, h_, w_), size, strict=True)))


TORCHVISION_SEGMENTATION = [
    "fcn_resnet50",
    "fcn_resnet101",
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large",
    "lraspp_mobilenet_v3_large",
]


@pytest.mark.torchvision
@pytest.mark.parametrize("name", TORCHVISION_SEGMENTATION)
def test_torchvision_segmentation_models(name):
    segmentation = require("torchvision.models.segmentation")
    from torch.utils.flop_counter import FlopCounterMode

    aux = name.startswith("fcn")  # one model family with its auxiliary head: two outputs
    model = getattr(segmentation, name)(weights=None, weights_backbone=None, aux_loss=aux)
    model = model.eval()
    net = sc.from_torch(model, (3, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    for h, w in [(224, 224), (97, 130)]:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, 3, h, w))
        point = {H: h, W: w}
        assert net.subs(point).output_shapes == tuple(tuple(v.shape[1:]) for v in out.values())
        assert net.products.subs(point) == counter.get_total_flops() // 2


#: The detection models whose .backbone (with FPN) derives, with the sizes checked.
TORCHVISION_DETECTION = {
    **dict.fromkeys(
        [
            "fasterrcnn_resnet50_fpn",
            "fasterrcnn_resnet50_fpn_v2",
            "fasterrcnn_mobilenet_v3_large_fpn",
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            "fcos_resnet50_fpn",
            "keypointrcnn_resnet50_fpn",
            "maskrcnn_resnet50_fpn",
            "maskrcnn_resnet50_fpn_v2",
            "retinanet_resnet50_fpn",
            "retinanet_resnet50_fpn_v2",
            "ssdlite320_mobilenet_v3_large",
        ],
        [(256, 256), (256, 320)],
    ),
    "ssd300_vgg16": [(300, 300), (300, 340)],  # its L2-norm scale: a parameter read directly
}


@pytest.mark.torchvision
@pytest.mark.parametrize("name", list(TORCHVISION_DETECTION))
def test_torchvision_detection_backbones(name):
    detection = require("torchvision.models.detection")
    from torch.utils.flop_counter import FlopCounterMode

    backbone = getattr(detection, name)(weights=None, weights_backbone=None).eval().backbone
    net = sc.from_torch(backbone, (3, H, W))
    assert net.params == sum(p.numel() for p in backbone.parameters())
    for h, w in TORCHVISION_DETECTION[name]:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = backbone(torch.zeros(1, 3, h, w))
        maps = list(out.values()) if isinstance(out, dict) else [out]
        point = {H: h, W: w}
        assert net.subs(point).output_shapes == tuple(tuple(m.shape[1:]) for m in maps)
        assert net.products.subs(point) == counter.get_total_flops() // 2


def test_the_torch_domain_example(capsys):
    example = Path(__file__).resolve().parents[2] / "examples" / "torch_domain.py"
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out
    assert "products per sample: 4608·⌊(H - 1)/4⌋·⌊(W - 1)/4⌋ + 2736·⌈H/2⌉·⌈W/2⌉ + 5120" in out
    assert "square sizes that work: [33, 34, 35, 36, 37, 38, 39, 40]" in out
    assert "at 512×512: Linear(512, 10) at layer 9 (head)" in out
