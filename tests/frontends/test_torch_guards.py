"""Python that branches on sizes, traced as torch.export does: decided, kept as guards.

TensorFlow-style "same" padding computes its pad from the input size and branches on it.
The formulas ``from_torch`` derives must hold exactly where its guards hold, and
``is_valid`` must be false elsewhere; both are checked against torch forward passes.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

torch = require("torch")
nn, F = torch.nn, torch.nn.functional

H, W = sc.symbols("H W")


def same_pad(x: int, k: int, s: int, d: int) -> int:
    """timm's get_same_padding, as model libraries write it."""
    return max((math.ceil(x / s) - 1) * s + (k - 1) * d + 1 - x, 0)


class PadSame(nn.Module):
    def __init__(self, k: int, s: int, d: int = 1):
        super().__init__()
        self.k, self.s, self.d = k, s, d

    def forward(self, x):
        ih, iw = x.size()[-2:]
        pad_h = same_pad(ih, self.k, self.s, self.d)
        pad_w = same_pad(iw, self.k, self.s, self.d)
        if pad_h > 0 or pad_w > 0:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return x


class SameConv(nn.Module):
    def __init__(self, k: int, s: int, d: int = 1):
        super().__init__()
        self.pad = PadSame(k, s, d)
        self.conv = nn.Conv2d(3, 4, k, s, dilation=d)

    def forward(self, x, mask=None):
        if mask is not None:  # an optional argument: traced with its default
            x = x * mask
        return self.conv(self.pad(x))


def torch_shape(module, h: int, w: int):
    with torch.no_grad():
        return tuple(module(torch.zeros(1, 3, h, w)).shape[1:])


def test_a_branch_true_for_every_size_needs_no_guard():
    net = sc.from_torch(SameConv(3, 2), (3, H, W))
    assert str(net.output_shape) == "4×⌈H/2⌉×⌈W/2⌉"
    assert net.guards == ()
    assert net.constraints == ()


def test_a_branch_that_depends_on_the_size_needs_a_point():
    with pytest.raises(sc.UnsupportedLayerError) as err:
        sc.from_torch(SameConv(1, 2), (3, H, W))
    assert str(err.value) == (
        "the traced forward branches on sizes at test_torch_guards.py:29 (return "
        "max((math.ceil(x / s) - 1) * s + (k - 1) * d + 1 - x, 0)): whether "
        "H mod 2 = 0 depends on H; give from_torch a point to trace at, "
        "at={symbol: size, ...}; the branch taken there becomes a condition of the "
        "network's domain"
    )


def test_the_branch_taken_at_the_point_is_a_guard_naming_the_line():
    net = sc.from_torch(SameConv(1, 2), (3, H, W), at={H: 224, "W": 223})
    assert [(where.split(" (")[0], str(c)) for where, c in net.guards] == [
        ("branch at test_torch_guards.py:29", "H mod 2 = 0"),
        ("branch at test_torch_guards.py:29", "W mod 2 = 1"),
    ]
    assert str(net.output_shape) == "4×⌈H/2⌉×⌈W/2⌉"
    assert net.is_valid({"H": 224, "W": 223})
    assert not net.is_valid({"H": 223, "W": 223})  # H odd: the other branch
    assert net.evaluate("products", H=224, W=223) == 4 * 3 * 112 * 112
    with pytest.raises(sc.ShapeError, match=r"^branch at test_torch_guards\.py:29 .*\(H=223\)$"):
        net.subs({"H": 223})
    # the guards hold downstream: a layer after the branch is checked against them
    assert net.layers[-1].domain[0] == net.domain[0]


@given(
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    point=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    other=st.tuples(st.integers(1, 24), st.integers(1, 24)),
)
@torch_settings
def test_formulas_hold_exactly_where_the_guards_hold(k, s, d, point, other):
    module = SameConv(k, s, d)
    net = sc.from_torch(module, (3, H, W), at={"H": point[0], "W": point[1]})
    assert net.is_valid({"H": point[0], "W": point[1]})
    for h, w in (point, other):
        if not net.is_valid({"H": h, "W": w}):
            continue
        assert tuple(net.subs({"H": h, "W": w}).output_shape) == torch_shape(module, h, w)
        flops = torch_flops(module, h, w)
        assert net.evaluate("products", H=h, W=w) == flops // 2


def torch_flops(module, h: int, w: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(1, 3, h, w))
    return int(counter.get_total_flops())


class Checked(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        n, c, h, w = x.shape
        torch._assert(h == 32, f"Wrong image height! Expected 32 but got {h}!")
        torch._assert(w % 2 == 0, "the width must be even")
        return self.conv(x)


def test_asserts_on_sizes_are_part_of_the_domain():
    net = sc.from_torch(Checked(), (3, H, W))
    assert [(where, str(c)) for where, c in net.guards] == [
        ("torch._assert at node '_assert'", "H = 32"),
        ("torch._assert at node '_assert_1'", "W mod 2 = 0"),
    ]
    assert net.guards[0][1].rule == (
        "the traced forward asserts it: Wrong image height! Expected 32 but got H! "
        "(torch._assert at node '_assert')"
    )
    assert net.is_valid({"H": 32, "W": 8})
    assert not net.is_valid({"H": 31, "W": 8})
    assert not net.is_valid({"H": 32, "W": 7})
    assert str(net.subs({"H": 32}).output_shape) == "4×30×(W - 2)"
    with pytest.raises(sc.ShapeError, match=r"^torch\._assert at node '_assert': .*Wrong image"):
        net.subs({"H": 31})


def test_at_is_checked():
    with pytest.raises(sc.ShapeError, match=r"^at= names 'K', which is no symbol of the input"):
        sc.from_torch(SameConv(1, 2), (3, H, W), at={"K": 3})
    for bad in (0, True, 2.0):
        with pytest.raises(sc.ShapeError, match=r"^at= gives H = .*; a size is an integer"):
            sc.from_torch(SameConv(1, 2), (3, H, W), at={"H": bad, "W": 4})


def test_optional_forward_arguments_take_their_defaults():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x, mask=None, scale: int = 2):
            if mask is not None:
                x = x * mask
            return self.conv(x)[:, :scale]

    net = sc.from_torch(Masked(), (3, H, W))
    assert str(net.output_shape) == "2×(H - 2)×(W - 2)"
    assert [r.name for r in net.layers] == ["conv", "getitem"]
    # given as an input, the mask is a tensor and the branch multiplies by it
    both = sc.from_torch(Masked(), [(3, H, W), (3, H, W)])
    assert [r.name for r in both.layers] == ["mul", "conv", "getitem"]
