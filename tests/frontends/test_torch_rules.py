"""from_torch with the user's own rules: ``rules={MyBlock: ..., torch.special.erf: ...}``.

A custom torch block mapped onto a custom ``sc.Layer`` subclass, end to end: the formulas
pinned as exact sympy expressions, cross-checked against torch at concrete sizes (forward
shape, ``sum(p.numel())``, products = FlopCounterMode flops / 2), and a LaTeX row. Then
function and method rules, precedence over symcnn's own, chains, and the errors for rules
of no use. The README's section "Your own layers and torch modules" runs here too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pytest
import sympy

import symcnn as sc
from symcnn.symbolic.derivation import product, total
from symcnn.validity.condition import equal

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn
F = torch.nn.functional

H, W = sc.symbols("H W")


# -- a custom block, and the user's layer for it ---------------------------------------------
class PointDepth(nn.Module):
    """A 1×1 convolution (with bias) then a depthwise 3×3 one (padding 1, no bias)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.point = nn.Conv2d(cin, cout, 1)
        self.depth = nn.Conv2d(cout, cout, 3, padding=1, groups=cout, bias=False)

    def forward(self, x):
        return self.depth(self.point(x))


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class PointDepthLayer(sc.Layer):
    """The user's layer for PointDepth: its formulas, written once."""

    in_channels: Any
    out_channels: Any
    kind = "pointdepth"
    input_rank = 3
    repr_positional = 2

    def input_conditions(self, *inputs: sc.Shape) -> tuple[sc.Condition, ...]:
        (x,) = inputs
        rule = f"the input must have in_channels = {self.in_channels} channels"
        return (equal(x[0], self.in_channels, rule, "input channels", "in_channels"),)

    def output_shape(self, *inputs: sc.Shape) -> sc.Shape:
        (x,) = inputs
        return sc.Shape((self.out_channels, *x[1:]))

    def params(self, *inputs: sc.Shape) -> sc.Derivation:
        return total(
            product(self.out_channels, total(self.in_channels, 1)), product(9, self.out_channels)
        )

    def products(self, *inputs: sc.Shape) -> sc.Derivation:
        (x,) = inputs
        return product(self.out_channels, total(self.in_channels, 9), x[1], x[2])

    def describe(self) -> str:
        return f"PointDepth({self.in_channels}, {self.out_channels})"


RULES = {PointDepth: lambda m: PointDepthLayer(m.point.in_channels, m.point.out_channels)}


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2)
        self.block = PointDepth(8, 16)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block(F.relu(self.stem(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def torch_counts(model, input_shape):
    """(output shape per sample, parameters, FlopCounterMode flops / 2) of one forward."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *input_shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return tuple(out.shape[1:]), sum(p.numel() for p in model.parameters()), flops // 2


def test_custom_block_end_to_end():
    model = Net()
    net = sc.from_torch(model, (3, H, W), rules=RULES)
    names = ["stem", "relu", "block", "adaptive_avg_pool2d", "flatten", "head"]
    assert [r.name for r in net.layers] == names
    block = net["block"]
    assert block.layer == PointDepthLayer(8, 16)
    h, w = sympy.floor((H - 1) / 2), sympy.floor((W - 1) / 2)
    assert block.output_shape == (16, h, w)
    assert block.params == 16 * 9 + 9 * 16 == 288
    assert block.products == 16 * 17 * h * w
    assert net.params == 8 * 28 + 288 + 170
    assert net.products == 8 * 27 * h * w + 16 * 17 * h * w + 160
    assert net.constraints == (H >= 3, W >= 3)
    for size in [(3, 8, 8), (3, 17, 30), (3, 3, 5)]:
        point = {H: size[1], W: size[2]}
        out, params, products = torch_counts(model, size)
        assert net.output_shape.subs(point) == out
        assert net.subs(point).params == params
        assert net.products.subs(point) == products
    # the block's own counts, against torch on the block alone
    out, params, products = torch_counts(model.block, (8, 9, 11))
    at = net.subs({H: 19, W: 23})  # 9×11 after the stride-2 stem
    assert at["block"].output_shape == out
    assert (at["block"].params, at["block"].products) == (params, products)


def test_custom_block_latex_row():
    net = sc.from_torch(Net(), (3, H, W), rules=RULES)
    latex = sc.to_latex(net.subs({H: 32, W: 32}))
    rows = [line for line in latex.splitlines() if "PointDepth(8, 16)" in line]
    assert len(rows) == 1
    assert "288" in rows[0] and str(16 * 17 * 15 * 15) in rows[0]


def test_a_bare_block_and_a_chain():
    net = sc.from_torch(PointDepth(4, 6), (4, H, W), rules=RULES)
    assert len(net.layers) == 1 and net.layers[0].layer == PointDepthLayer(4, 6)
    as_chain = {
        PointDepth: lambda m: [
            sc.Conv2d(m.point.in_channels, m.point.out_channels, 1),
            sc.Conv2d(6, 6, 3, padding=1, groups=6, bias=False),
        ]
    }
    model = nn.Sequential(PointDepth(4, 6), nn.ReLU())
    chained = sc.from_torch(model, (4, H, W), rules=as_chain)
    assert [r.name for r in chained.layers] == ["0.0", "0.1", "1"]
    single = sc.from_torch(model, (4, H, W), rules=RULES)
    assert chained.params == single.params == sum(p.numel() for p in model.parameters())
    assert chained.products == single.products


def test_a_block_called_twice_is_one_shared_layer():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = PointDepth(4, 4)

        def forward(self, x):
            return self.block(self.block(x))

    model = Twice()
    net = sc.from_torch(model, (4, 8, 8), rules=RULES)
    assert [r.name for r in net.layers] == ["block", "block:2"]
    assert [r.shared for r in net.layers] == [False, True]
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.products == torch_counts(model, (4, 8, 8))[2]


# -- functions and methods ----------------------------------------------------------------
def gate(x, y):
    """A user's function, kept as one call by torch.fx.wrap."""
    return x * torch.sigmoid(y)


torch.fx.wrap("gate")


class Calls(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = torch.special.erf(self.conv(x))
        z = gate(y, y.erf())
        return F.gelu(z)


def test_function_method_and_wrapped_rules():
    seen = {}

    def erf_rule(x):
        seen["erf"] = x  # the tensor argument arrives as its per-sample shape
        return sc.Tanh()

    rules = {
        torch.special.erf: erf_rule,
        torch.Tensor.erf: lambda x: sc.Sigmoid(),
        gate: lambda x, y: sc.Mul(),
        F.gelu: lambda x, approximate="none": sc.ReLU(),  # before symcnn's own GELU
    }
    net = sc.from_torch(Calls(), (3, H, W), rules=rules)
    assert seen["erf"] == sc.Shape((4, H, W))
    kinds = {r.name: type(r.layer).__name__ for r in net.layers}
    assert kinds == {
        "conv": "Conv2d", "special_erf": "Tanh", "erf": "Sigmoid", "gate": "Mul", "gelu": "ReLU",
    }  # fmt: skip
    assert net.output_shape == (4, H, W)
    unmapped = "torch.special_erf at node 'special_erf' has no symcnn rule"
    with pytest.raises(sc.UnsupportedLayerError, match=unmapped):
        sc.from_torch(Calls(), (3, H, W))


def test_rule_arguments_keep_sizes_and_keywords():
    class Pool(nn.Module):
        def forward(self, x):
            return F.lp_pool2d(x, 2, kernel_size=x.size(2) // 2)

    got = {}

    def lp(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        got.update(x=x, norm_type=norm_type, kernel_size=kernel_size, stride=stride)
        return sc.AvgPool2d(kernel_size)

    net = sc.from_torch(Pool(), (2, 8, 8), rules={F.lp_pool2d: lp})
    assert got == {"x": sc.Shape((2, 8, 8)), "norm_type": 2, "kernel_size": 4, "stride": None}
    assert net.output_shape == (2, 2, 2)


# -- rules of no use: named ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([(PointDepth, RULES[PointDepth])], "rules must be a mapping"),
        ({"relu": lambda x: sc.ReLU()}, "the rules key 'relu' is neither"),
        ({int: lambda m: sc.ReLU()}, "the rules key int is a class but not a torch.nn.Module"),
        ({PointDepth: "PointDepthLayer"}, "the rule for PointDepth must be callable"),
    ],
)
def test_rules_of_no_use_are_type_errors(rules, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        sc.from_torch(Net(), (3, 8, 8), rules=rules)


@pytest.mark.parametrize(
    "result", [42, None, [], [sc.ReLU(), "relu"], sc.Sequential(sc.ReLU(), input_shape=(3,))]
)
def test_a_rule_returning_no_layer_is_named(result):
    with pytest.raises(sc.UnsupportedLayerError) as info:
        sc.from_torch(Net(), (3, 8, 8), rules={PointDepth: lambda m: result})
    message = str(info.value)
    assert message.startswith("the rule for module 'block' (PointDepth) at node 'block' returned ")
    assert repr(result) in message and "not a symcnn Layer or a non-empty sequence" in message


def test_a_call_rule_returning_no_layer_is_named():
    rules = {
        torch.special.erf: lambda x: sc.ReLU(),
        torch.Tensor.erf: lambda x: sc.ReLU(),
        gate: lambda x, y: sc.Add(),
        F.gelu: lambda x, **_: "gelu",
    }
    message = r"^the rule for torch.gelu at node 'gelu' returned 'gelu' \(str\)"
    with pytest.raises(sc.UnsupportedLayerError, match=message):
        sc.from_torch(Calls(), (3, 8, 8), rules=rules)


def test_a_rule_with_the_wrong_parameter_count_is_refused():
    wrong = {PointDepth: lambda m: sc.Conv2d(m.point.in_channels, m.point.out_channels, 1)}
    message = r"'block' \(PointDepth\) holds 288 parameters but the rule for PointDepth gives 144"
    with pytest.raises(sc.UnsupportedLayerError, match=message):
        sc.from_torch(Net(), (3, 8, 8), rules=wrong)


def test_a_rule_layer_that_cannot_take_its_input_is_a_shape_error():
    wrong = {PointDepth: lambda m: PointDepthLayer(5, 16)}
    message = r"PointDepthLayer\(5, 16\) at layer \d+ \(block\).*in_channels = 5"
    with pytest.raises(sc.ShapeError, match=message):
        sc.from_torch(Net(), (3, 8, 8), rules=wrong)


# -- the README's example -------------------------------------------------------------------
def test_the_readme_section_runs():
    """README's block runs; each print shows its comment, the last one the LaTeX row below it.

    Its fence is ``py``, not ``python``: tests/test_readme.py pins the README's programs.
    """
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("### Your own layers and torch modules\n", 1)[1].split("\n#", 1)[0]
    code = section.split("```py\n", 1)[1].split("```", 1)[0]
    latex_row = section.split("```\n", 2)[2].split("\n```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "readme_rules"}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "README.md (Your own layers)", "exec", dont_inherit=True), namespace)  # noqa: S102
    prints = [line.partition("  # ")[2] for line in code.splitlines() if line.startswith("print(")]
    assert out.getvalue().splitlines() == [*prints[:-1], latex_row]
    assert namespace["net"].params == namespace["torch_params"]
