"""Tensor arithmetic against torch: Add, Sub, Mul, Div, Maximum, Minimum, Scalar, ParamOp,
Scale, Stack, Expand and Repeat.

Two tensors broadcast as torch does: drawn pairs of per-sample shapes run in torch with a
batch of 2; torch refuses exactly where symcnn refuses, naming the layer, and otherwise
gives symcnn's shape. Inputs of different ranks are refused (with their batch axes, torch
would line one's batch up with the other's sample axis). Elementwise counts are the
multiplications: one per output element for Mul and Div (and a tensor times a number),
none for additions; no products, no parameters but a module's tensor's.
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

H, W, C = sc.symbols("H W C")

BINARY = {
    "Add": (sc.Add, torch.add),
    "Sub": (sc.Sub, torch.sub),
    "Mul": (sc.Mul, torch.mul),
    "Div": (sc.Div, torch.div),
    "Maximum": (sc.Maximum, torch.maximum),
    "Minimum": (sc.Minimum, torch.minimum),
}


def merged(layer: Any, *shapes: Any) -> sc.Network:
    inputs = [sc.Input(s) for s in shapes]
    return sc.Network(inputs, layer(*inputs))


def torch_out(fn: Any, *shapes: tuple[int, ...], batch: int = 2) -> tuple[int, ...] | None:
    """The per-sample shape of ``fn`` on ones of ``(batch, *shape)``; None if torch refuses."""
    try:
        out = fn(*(torch.ones(batch, *s) for s in shapes))
    except (RuntimeError, IndexError, ValueError, TypeError):
        return None
    assert out.shape[0] == batch
    return tuple(out.shape[1:])


# -- pinned ---------------------------------------------------------------------------------
def test_equal_shapes_add_as_a_residual_did():
    net = merged(sc.Add(), (64, H, W), (64, H, W))
    assert net.output_shape == (64, H, W)
    assert net.constraints == () and net.elementwise == 0 and net.products == 0


def test_broadcasting_shapes():
    assert merged(sc.Sub(), (64, H, W), (64, 1, 1)).output_shape == (64, H, W)
    assert merged(sc.Add(), (1, H, W), (C, 1, 1)).output_shape == (C, H, W)
    div = merged(sc.Div(), (C, H, W), (1, H, W))
    assert div.output_shape == (C, H, W)
    assert div.elementwise == C * H * W
    assert merged(sc.Mul(), (3, 1, 5), (3, 4, 1), (1, 4, 5)).elementwise == 2 * 60
    assert merged(sc.Maximum(), (3, 1, 5), (3, 4, 1)).output_shape == (3, 4, 5)
    assert merged(sc.Minimum(), (3, 1, 5), (3, 4, 1)).elementwise == 0


def test_symbolic_sizes_must_match_as_conditions():
    net = merged(sc.Sub(), (C, H, W), (C, W, H))
    assert net.output_shape == (C, H, W)
    assert net.is_valid({C: 2, H: 5, W: 5}) and not net.is_valid({C: 2, H: 5, W: 6})
    assert "the inputs of Sub must agree on axis 1" in net.violation({C: 2, H: 5, W: 6})
    # a literal 1 stretches; a symbolic size is never taken to be 1
    assert merged(sc.Add(), (1, H), (C, 1)).constraints == ()


def test_mismatches_are_refused_naming_the_layer_and_axis():
    with pytest.raises(
        sc.ShapeError,
        match=r"^Sub\(\) at layer 0 \(sub1\): the inputs of "
        r"Sub must agree on axis 1 \(got input 1 size = 4, input 0 size = 8\)",
    ):
        merged(sc.Sub(), (3, 8, 8), (3, 4, 4))
    with pytest.raises(
        sc.ShapeError,
        match=r"^Add\(\) .*agree on axis 0 or be 1 there "
        r"\(got input 2 size = 2, input 0 size = 3\)",
    ):
        merged(sc.Add(), (3, 1), (1, 1), (2, 1))
    with pytest.raises(sc.ShapeError, match=r"^Div\(\) .*agree on axis 0 \(got input 1"):
        merged(sc.Div(), (3, 1), (2, 5))
    with pytest.raises(sc.ShapeError, match=r"one rank, got 3×8×8, 8×8; with their batch axes"):
        merged(sc.Add(), (3, 8, 8), (8, 8))
    with pytest.raises(sc.GraphError, match=r"Sub\(\) takes 2 input\(s\), got 3"):
        merged(sc.Sub(), (3,), (3,), (3,))


def test_scalar_ops():
    x = sc.Sequential(sc.Scalar("mul", 0.5), input_shape=(C, H, W))
    assert x.output_shape == (C, H, W) and x.elementwise == C * H * W and x.params == 0
    assert sc.Sequential(sc.Scalar("add", 3), input_shape=(4, 5)).elementwise == 0
    assert [sc.Scalar(op, 2).describe() for op in ("rsub", "rdiv", "pow", "floordiv")] == [
        "2 - x",
        "2 / x",
        "x ** 2",
        "x // 2",
    ]
    assert repr(sc.Scalar("neg")) == "Scalar('neg')" and sc.Scalar("neg").describe() == "-x"
    assert sc.Scalar("div", H).describe() == "x / H"
    assert sc.Scalar("mul", H).subs({H: 4}).value == 4
    for bad, rule in [
        (("mul", True), "value must be a real number"),
        (("mul", "2"), "value must be a real number"),
        (("mul", 1j), "value must be a real number"),
        (("neg", 1), "value must be None for neg"),
        (("mod", 2), "op must be"),
    ]:
        with pytest.raises(sc.ShapeError, match=rf"^Scalar: {rule}"):
            sc.Scalar(*bad)


def test_param_ops_count_the_tensor_once_and_broadcast():
    b = sc.ParamOp("add", (64, 1, 1))
    assert b.output_shape(sc.Shape((64, 7, 7))) == (64, 7, 7)
    assert b.params().value == 64 and b.elementwise(sc.Shape((64, 7, 7))).value == 0
    d = sc.ParamOp("rdiv", (1, 64, 1, 1), learned=False)
    assert d.buffers().value == 64 and d.params().value == 0
    assert d.elementwise(sc.Shape((64, 7, 7))).value == 64 * 49
    assert d.describe() == "w / x, w of shape (1, 64, 1, 1)"
    # an input axis of size 1 stretches to the tensor's, as torch does
    assert sc.ParamOp("sub", (5, 1)).output_shape(sc.Shape((1, 3))) == (5, 3)
    assert sc.Scale((5, 1)).output_shape(sc.Shape((1, 3))) == (5, 3)
    net = sc.Sequential(sc.ParamOp("add", (8, 1, 1)), input_shape=(C, H, W))
    assert net.constraints == (sympy.Eq(C, 8),)
    with pytest.raises(sc.ShapeError, match="its first size must be 1 to broadcast"):
        sc.Sequential(sc.ParamOp("add", (2, 8, 1, 1)), input_shape=(8, 4, 4))
    with pytest.raises(sc.ShapeError, match="more axes than the input"):
        sc.Sequential(sc.ParamOp("add", (1, 1, 8, 1, 1)), input_shape=(8, 4, 4))
    with pytest.raises(sc.ShapeError, match=r"^ParamOp: op must be"):
        sc.ParamOp("mul", (3,))


def test_stack():
    net = merged(sc.Stack(1), (C, H, W), (C, H, W))
    assert net.output_shape == (2, C, H, W)
    assert merged(sc.Stack(-1), (3, 4), (3, 4), (3, 4)).output_shape == (3, 4, 3)
    assert merged(sc.Stack(2), (C, W), (C, H)).constraints == (sympy.Eq(H, W),)
    with pytest.raises(sc.ShapeError, match="before the batch axis"):
        merged(sc.Stack(-4), (3, 4), (3, 4))
    with pytest.raises(sc.ShapeError, match="dim must be a nonzero int"):
        sc.Stack(0)


def test_expand_and_repeat():
    net = sc.Sequential(sc.Expand(-1, C, H, -1), input_shape=(1, 1, W))
    assert net.output_shape == (C, H, W) and net.elementwise == 0
    net = sc.Sequential(sc.Expand(-1, 8, H), input_shape=(C, 1))
    assert net.constraints == (sympy.Eq(C, 8),)
    with pytest.raises(sc.ShapeError, match="stretches only axes of size 1"):
        sc.Sequential(sc.Expand(-1, 8, 4), input_shape=(3, 1))
    with pytest.raises(sc.ShapeError, match="sizes must start with -1"):
        sc.Expand(2, 3)
    assert sc.Sequential(sc.Repeat(1, 2, H), input_shape=(C, 3)).output_shape == (2 * C, 3 * H)
    with pytest.raises(sc.ShapeError, match="gives 1 size"):
        sc.Sequential(sc.Repeat(1, 2), input_shape=(3, 4))


# -- against torch --------------------------------------------------------------------------
def pair_shapes(draw: Any, rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    a = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    b = [draw(st.sampled_from([s, s, 1, 1, 2, 3])) for s in a]
    return tuple(a), tuple(b)


@given(data=st.data())
@torch_settings
def test_binary_ops_broadcast_as_torch(data):
    name = data.draw(st.sampled_from(sorted(BINARY)))
    make, fn = BINARY[name]
    rank = data.draw(st.integers(1, 4))
    a, b = pair_shapes(data.draw, rank)
    if data.draw(st.booleans()):
        a, b = b, a
    expected = torch_out(fn, a, b)
    try:
        net = merged(make(), a, b)
    except sc.ShapeError as err:
        assert expected is None, f"{name} {a} {b}: torch gives {expected}, symcnn {err}"
        assert str(err).startswith(f"{name}() at layer 0")
        return
    assert net.output_shape == expected
    numel = 1
    for s in expected:
        numel *= s
    assert net.elementwise == (numel if name in ("Mul", "Div") else 0)
    assert net.params == net.products == 0


@given(a=st.lists(st.integers(1, 3), min_size=1, max_size=3), extra=st.integers(1, 2))
@torch_settings
def test_inputs_of_different_ranks_are_refused(a, extra):
    b = tuple([1] * extra + a)
    with pytest.raises(sc.ShapeError, match="one rank"):
        merged(sc.Add(), tuple(a), b)
    # torch's answer depends on the batch size: the batch axis meets a sample axis
    results = {torch_out(torch.add, tuple(a), b, batch=n) for n in (2, 3)}
    assert results != {tuple(max(x, y) for x, y in zip([1] * extra + a, b, strict=True))}


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    op=st.sampled_from(["add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "neg"]),
    value=st.one_of(st.integers(-3, 3), st.floats(-2, 2)),
)
@torch_settings
def test_scalar_ops_keep_the_shape(shape, op, value):
    layer = sc.Scalar(op) if op == "neg" else sc.Scalar(op, value)
    fns = {
        "add": lambda x: x + value,
        "sub": lambda x: x - value,
        "rsub": lambda x: value - x,
        "mul": lambda x: x * value,
        "div": lambda x: x / value,
        "rdiv": lambda x: value / x,
        "pow": lambda x: x**value,
        "rpow": lambda x: abs(value) ** x,
        "neg": lambda x: -x,
    }
    assert sc.Sequential(layer, input_shape=shape).output_shape == torch_out(fns[op], shape)


@given(data=st.data())
@torch_settings
def test_param_ops_broadcast_as_torch(data):
    x = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rank = data.draw(st.integers(0, len(x) + 1))
    w = tuple(data.draw(st.sampled_from([1, 1, 2, 3, 4])) for _ in range(rank))
    op = data.draw(st.sampled_from(["add", "sub", "rsub", "div", "rdiv", "mul"]))
    tensor = torch.ones(w)
    fn = {
        "add": lambda t: t + tensor,
        "sub": lambda t: t - tensor,
        "rsub": lambda t: tensor - t,
        "div": lambda t: t / tensor,
        "rdiv": lambda t: tensor / t,
        "mul": lambda t: t * tensor,
    }[op]
    expected = torch_out(fn, x)
    layer = sc.Scale(w) if op == "mul" else sc.ParamOp(op, w)
    try:
        net = sc.Sequential(layer, input_shape=x)
    except sc.ShapeError as err:
        # symcnn refuses beyond torch only a tensor that would reach the batch axis
        rank_ok = len(w) < len(x) + 1 or (len(w) == len(x) + 1 and w[0] == 1)
        assert expected is None or not rank_ok, f"{op} {x} {w}: torch {expected}, {err}"
        return
    assert net.output_shape == expected
    assert net.params == tensor.numel()


@given(data=st.data())
@torch_settings
def test_stack_as_torch(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    other = tuple(data.draw(st.sampled_from([s, s, s + 1])) for s in shape)
    count = data.draw(st.integers(2, 3))
    rank = len(shape) + 2
    dim = data.draw(st.integers(-rank - 1, rank))
    shapes = [shape] * (count - 1) + [other]
    if dim % rank == 0:  # the batch axis's place, or out of range: refused
        with pytest.raises(sc.ShapeError, match="nonzero int|before the batch|out of range"):
            merged(sc.Stack(dim), *shapes)
        return
    expected = torch_out(lambda *xs: torch.stack(xs, dim), *shapes)
    try:
        net = merged(sc.Stack(dim), *shapes)
    except sc.ShapeError as err:
        assert expected is None, f"stack {shapes} at {dim}: torch {expected}, symcnn {err}"
    else:
        assert net.output_shape == expected


@given(data=st.data())
@torch_settings
def test_expand_and_repeat_as_torch(data):
    shape = tuple(data.draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=1, max_size=3)))
    sizes = [data.draw(st.sampled_from([-1, 1, 2, 3, s])) for s in shape]
    expected = torch_out(lambda x: x.expand(-1, *sizes), shape)
    try:
        net = sc.Sequential(sc.Expand(-1, *sizes), input_shape=shape)
    except sc.ShapeError as err:
        assert expected is None, f"expand {shape} to {sizes}: torch {expected}, symcnn {err}"
    else:
        assert net.output_shape == expected
    counts = [data.draw(st.integers(1, 3)) for _ in shape]
    expected = torch_out(lambda x: x.repeat(1, *counts), shape)
    assert sc.Sequential(sc.Repeat(1, *counts), input_shape=shape).output_shape == expected
