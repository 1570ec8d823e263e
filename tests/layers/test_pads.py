"""Padding layers in 1-3 d and a convolution's ``padding_mode``, against torch.

Pinned examples and symbolic formulas first; then properties: every class and every
mode, on sizes torch accepts and sizes it refuses, has torch's output shape and refuses
exactly what torch refuses (an empty output counts as refused: symcnn's sizes are at
least 1), and a network built on symbols agrees at each point.
"""

from __future__ import annotations

import math
import warnings

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require

torch = require("torch")
nn = torch.nn
F = torch.nn.functional
pytestmark = pytest.mark.torch

L, D, H, W, k = sc.symbols("L D H W k")

KINDS = ("Constant", "Zero", "Reflection", "Replication", "Circular")
MODE = {
    "Constant": "constant",
    "Zero": "constant",
    "Reflection": "reflect",
    "Replication": "replicate",
    "Circular": "circular",
}


def make(kind: str, ndim: int, padding, value=0.5):
    """The symcnn layer and the torch module of one padding class."""
    name = f"{kind}Pad{ndim}d"
    args = (padding, value) if kind == "Constant" else (padding,)
    return getattr(sc, name)(*args), getattr(nn, name)(*args)


# -- pinned examples ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "shape", "out"),
    [
        (sc.ZeroPad1d(2), (8, 10), (8, 14)),
        (sc.ZeroPad2d((1, 2)), (3, 4, 4), (3, 4, 7)),
        (sc.ZeroPad2d((1, 2, 0, 3)), (3, 5, 5), (3, 8, 8)),
        (sc.ZeroPad3d((1, 1, 0, 0, 2, 0)), (3, 4, 5, 5), (3, 6, 5, 7)),
        (sc.ConstantPad1d((2, -1), 0.5), (4, 10), (4, 11)),
        (sc.ConstantPad2d(-1, 3.0), (2, 5, 6), (2, 3, 4)),
        (sc.ConstantPad3d(1, 0), (3, 2, 5, 5), (3, 4, 7, 7)),
        (sc.ReflectionPad1d((3, 1)), (2, 4), (2, 8)),
        (sc.ReflectionPad2d(3), (3, 32, 32), (3, 38, 38)),
        (sc.ReflectionPad2d((-1, 2, 0, 1)), (3, 4, 5), (3, 5, 6)),
        (sc.ReflectionPad3d(1), (3, 2, 5, 5), (3, 4, 7, 7)),
        (sc.ReplicationPad1d((5, -2)), (2, 3), (2, 6)),
        (sc.ReplicationPad2d((1, 1, 2, 0)), (3, 1, 1), (3, 3, 3)),
        (sc.ReplicationPad3d(2), (3, 1, 4, 4), (3, 5, 8, 8)),
        (sc.CircularPad1d((4, 0)), (2, 4), (2, 8)),
        (sc.CircularPad2d((1, 1, 2, 2)), (3, 2, 2), (3, 6, 4)),
        (sc.CircularPad3d(1), (3, 1, 4, 4), (3, 3, 6, 6)),
        # the constant modes pad the last axes of a larger input, as torch does
        (sc.ZeroPad1d((1, 2)), (3, 4, 4), (3, 4, 7)),
        (sc.ConstantPad2d(1, 0.0), (3, 2, 4, 4), (3, 2, 6, 6)),
    ],
    ids=repr,
)
def test_pinned_shapes_counts_and_torch(layer, shape, out):
    net = sc.Sequential(layer, input_shape=shape)
    assert net.output_shape == out
    record = net.layers[0]
    assert (record.params, record.products, record.elementwise, record.buffers) == (0, 0, 0, 0)
    assert record.receptive_field == (1,) * (len(shape) - 1)
    padding = tuple(int(v) for v in layer.padding)
    value = (layer.value,) if hasattr(layer, "value") else ()
    module = getattr(nn, type(layer).__name__)(padding, *value)
    assert tuple(module(torch.zeros(1, *shape)).shape[1:]) == out


def test_padding_is_stored_in_f_pad_order_and_printed_as_given():
    assert sc.ZeroPad2d(1).padding == (1, 1, 1, 1)
    assert sc.ZeroPad2d((1, 2)).padding == (1, 2, 0, 0)  # torch pads the width only
    assert sc.ConstantPad3d((1, 2), 0.5).padding == (1, 2, 0, 0, 0, 0)
    assert sc.ReflectionPad1d(2).padding == (2, 2)
    assert repr(sc.ZeroPad2d(-3)) == "ZeroPad2d(-3)"
    assert repr(sc.ConstantPad2d((1, 2), 0.5)) == "ConstantPad2d((1, 2, 0, 0), value=0.5)"
    assert repr(sc.ReflectionPad2d((1, 1, 2, 2))) == "ReflectionPad2d((1, 1, 2, 2))"
    assert sc.ReplicationPad3d(1).describe() == "nn.ReplicationPad3d(1)"
    assert sc.ConstantPad2d(1, None).value is None  # F.pad reads None as 0
    assert sc.ZeroPad2d(1) == sc.ZeroPad2d((1, 1, 1, 1))
    spec = "ReflectionPad2d(3) | ConstantPad1d((1, -1), 0.5) | CircularPad2d(p)"
    net = sc.parse_spec(spec, input_shape="3,H,W")
    assert net.layers[1].layer == sc.ConstantPad1d((1, -1), 0.5)
    assert str(net.output_shape) == "3×(H + 2·p + 6)×(W + 2·p + 6)"


def test_receptive_field_and_jump_pass_through():
    net = sc.Sequential(
        sc.Conv2d(1, 1, 3, stride=2), sc.ReflectionPad2d(1), sc.Conv2d(1, 1, 3),
        input_shape=(1, 16, 16),
    )  # fmt: skip
    pad, conv = net.layers[1], net.layers[2]
    assert (pad.receptive_field, pad.jump) == ((3, 3), (2, 2))
    assert (conv.receptive_field, conv.jump) == ((7, 7), (2, 2))


# -- symbolic sizes and symbolic amounts ----------------------------------------------------
def test_symbolic_sizes_give_each_modes_condition():
    reflect = sc.Sequential(sc.ReflectionPad2d((1, 3, 2, 0)), input_shape=(3, H, W))
    assert str(reflect.output_shape) == "3×(H + 2)×(W + 4)"
    assert set(map(str, reflect.constraints)) == {"H >= 3", "W >= 4"}
    assert reflect.is_valid({H: 3, W: 4}) and not reflect.is_valid({H: 2, W: 9})
    circular = sc.Sequential(sc.CircularPad2d(3), input_shape=(3, H, W))
    assert set(map(str, circular.constraints)) == {"H >= 3", "W >= 3"}
    replicate = sc.Sequential(sc.ReplicationPad1d((-2, -1)), input_shape=(4, L))
    assert str(replicate.output_shape) == "4×(L - 3)"
    assert set(map(str, replicate.constraints)) == {"L >= 4"}
    # a constant crop takes at most the input from one side, whatever the other adds
    crop = sc.Sequential(sc.ConstantPad1d((-7, 7), 0.0), input_shape=(4, L))
    assert crop.output_shape == (4, L)
    assert set(map(str, crop.constraints)) == {"L >= 7"}
    zero = sc.Sequential(sc.ZeroPad3d(1), input_shape=(2, D, H, W))
    assert str(zero.output_shape) == "2×(D + 2)×(H + 2)×(W + 2)" and zero.constraints == ()


def test_symbolic_padding_amounts_give_conditions_not_errors():
    layer = sc.ReflectionPad1d((k, k))
    assert layer.padding == (k, k)
    net = sc.Sequential(layer, input_shape=(2, L))
    assert net.output_shape == (2, L + 2 * k)
    assert net.is_valid({L: 5, k: 4}) and not net.is_valid({L: 5, k: 5})
    # a TF-"same" pad computed from the size: ⌊(H-1)/2⌋ above, ⌊H/2⌋ below
    top, bottom = sympy.floor((H - 1) / 2), sympy.floor(H / 2)
    same = sc.Sequential(sc.ReflectionPad2d((0, 0, top, bottom)), input_shape=(3, H, W))
    assert str(same.output_shape) == "3×(H + ⌊H/2⌋ + ⌊(H - 1)/2⌋)×W"
    for h in range(1, 9):
        torch_ok = _torch_runs(nn.ReflectionPad2d((0, 0, (h - 1) // 2, h // 2)), (3, h, 4))
        assert same.is_valid({H: h, W: 4}) == torch_ok, h
    q = sympy.Symbol("q", integer=True)  # an amount of either sign
    circular = sc.Sequential(sc.CircularPad1d((q, 0)), input_shape=(2, L))
    assert [circular.is_valid({L: 3, q: v}) for v in (-1, 0, 3, 4)] == [False, True, True, False]
    crop = sc.Sequential(sc.ZeroPad1d((q, 0)), input_shape=(2, L))
    assert [crop.is_valid({L: 3, q: v}) for v in (-3, -2, 0, 9)] == [False, True, True, True]


def _torch_runs(module, shape) -> bool:
    try:
        out = module(torch.zeros(1, *shape))
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return out.numel() > 0


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make_it", "error", "message"),
    [
        (
            lambda: sc.ZeroPad2d((1, 2, 3)),
            sc.ShapeError,
            r"^ZeroPad2d: padding needs 4 values \(left, right, top, bottom\) or 2 "
            r"\(got \(1, 2, 3\)\)$",
        ),
        (
            lambda: sc.ConstantPad3d((1,), 0),
            sc.ShapeError,
            r"^ConstantPad3d: padding needs 6 values \(left, right, top, bottom, front, back\), "
            r"4 or 2 \(got \(1,\)\)$",
        ),
        (
            lambda: sc.ReflectionPad2d((1, 2)),
            sc.ShapeError,
            r"^ReflectionPad2d: padding needs 4 values \(left, right, top, bottom\), PyTorch's "
            r"reflect mode pads all 2 axes \(got \(1, 2\)\)$",
        ),
        (
            lambda: sc.ReplicationPad3d(()),
            sc.ShapeError,
            r"^ReplicationPad3d: padding needs 6 values",
        ),
        (
            lambda: sc.ReflectionPad1d((1, 1, 1, 1)),
            sc.UnsupportedLayerError,
            r"^ReflectionPad1d: padding=\(1, 1, 1, 1\) pads the channel axis too, which symcnn "
            r"does not model \(give 2 values: left, right\)$",
        ),
        (
            lambda: sc.ZeroPad2d((1, 1, 1, 1, 1, 1)),
            sc.UnsupportedLayerError,
            r"^ZeroPad2d: padding=\(1, 1, 1, 1, 1, 1\) pads the channel axis too",
        ),
        (
            lambda: sc.ConstantPad1d((0, 0, 0, 0, 0, 0), 1.0),
            sc.UnsupportedLayerError,
            r"^ConstantPad1d: padding=\(0, 0, 0, 0, 0, 0\) pads the batch axis too",
        ),
        (
            lambda: sc.CircularPad2d((1, -1, 0, 0)),
            sc.UnsupportedLayerError,
            r"^CircularPad2d: padding=\(1, -1, 0, 0\) crops, which symcnn does not model in "
            r"circular mode \(PyTorch's results vary there\)$",
        ),
        (
            lambda: sc.ConstantPad2d(1, "x"),
            sc.ShapeError,
            r"^ConstantPad2d: value must be a real number or None \(got 'x'\)$",
        ),
        (lambda: sc.ZeroPad2d(1.5), sc.ShapeError, r"^'padding' must be an integer"),
    ],
)
def test_bad_arguments_are_refused_naming_the_layer(make_it, error, message):
    with pytest.raises(error, match=message):
        make_it()


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            sc.ReflectionPad2d((0, 0, 3, 3)),
            (1, 3, 5),
            r"^ReflectionPad2d\(\(0, 0, 3, 3\)\) at layer 0 \(pad1\): reflection padding must be "
            r"smaller than the input height \(got padding = 3, input height = 3\)$",
        ),
        (
            sc.CircularPad1d((0, 5)),
            (1, 4),
            r"^CircularPad1d\(\(0, 5\)\) at layer 0 \(pad1\): circular padding must be at most "
            r"the input length \(it wraps around once\) \(got padding = 5, input length = 4\)$",
        ),
        (
            sc.ConstantPad1d((-7, 7), 0.0),
            (2, 3, 6),
            r"^ConstantPad1d\(\(-7, 7\), value=0.0\) at layer 0 \(pad1\): a negative padding "
            r"crops at most the whole input width \(got input width \+ padding = -1\)$",
        ),
        (
            sc.ReplicationPad2d(-2),
            (1, 5, 3),
            r"^ReplicationPad2d\(-2\) at layer 0 \(pad1\): the padded width must be at least 1 "
            r"\(got padded width = -1\)$",
        ),
        (
            sc.ZeroPad2d(-3),
            (1, 5, 5),
            r"^ZeroPad2d\(-3\) at layer 0 \(pad1\): the padded height must be at least 1 ",
        ),
        (
            sc.ConstantPad3d(1, 0.0),
            (4, 4),
            r"^ConstantPad3d\(1, value=0.0\) at layer 0 \(pad1\): the input must have at least "
            r"3 axes per sample: ConstantPad3d pads the last 3 \(got 4×4, 2 axes\)$",
        ),
        (
            sc.ReflectionPad2d(1),
            (3, 4, 4, 4),
            r"^ReflectionPad2d\(1\) at layer 0 \(pad1\) needs a per-sample input of 3 axes "
            r"\(C, H, W\)",
        ),
    ],
    ids=repr,
)
def test_sizes_torch_refuses_are_refused_naming_rule_and_values(layer, shape, message):
    with pytest.raises(sc.ShapeError, match=message):
        sc.Sequential(layer, input_shape=shape)


# -- properties against torch ---------------------------------------------------------------
@st.composite
def pad_cases(draw):
    kind = draw(st.sampled_from(KINDS))
    ndim = draw(st.integers(1, 3))
    low = -5  # crops: torch's rules on them are part of each mode's rule
    if kind == "Circular":  # rarely negative: symcnn refuses those at construction
        low = -1 if draw(st.integers(0, 5)) == 0 else 0
    amounts = st.integers(low, 6)
    if kind in ("Constant", "Zero") and draw(st.booleans()):
        count = draw(st.integers(0, ndim))  # torch pads the last `count` axes only
        padding = tuple(draw(amounts) for _ in range(2 * count))
    elif draw(st.booleans()):
        padding = draw(amounts)
    else:
        padding = tuple(draw(amounts) for _ in range(2 * ndim))
    extra = draw(st.integers(0, 4 - ndim)) if kind in ("Constant", "Zero") else 0
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(ndim + extra))
    return kind, ndim, padding, (draw(st.integers(1, 3)), *sizes)


@settings(max_examples=300, deadline=None)
@given(pad_cases())
def test_every_pad_refuses_exactly_what_torch_refuses(case):
    kind, ndim, padding, shape = case
    if kind == "Circular" and min(padding if isinstance(padding, tuple) else (padding,)) < 0:
        with pytest.raises(sc.UnsupportedLayerError, match="crops, which symcnn does not model"):
            make(kind, ndim, padding)
        return  # torch crops with some, and fails or wraps wrongly with others
    ours, theirs = make(kind, ndim, padding)
    try:
        out = theirs(torch.zeros(2, *shape))
        expected = tuple(out.shape[1:]) if out.numel() else None
    except (RuntimeError, ValueError, NotImplementedError):
        expected = None
    try:
        got = sc.Sequential(ours, input_shape=shape).output_shape
    except sc.ShapeError:
        got = None
    assert got == expected, (ours, shape)
    # the same layer on symbols: the conditions decide the same, the formula gives the shape
    symbolic_shape = (shape[0], *sizes_named(len(shape) - 1))
    try:
        net = sc.Sequential(ours, input_shape=symbolic_shape)
    except sc.ShapeError:
        assert expected is None  # refused for every size (a crop of more than it can)
        return
    point = dict(zip(symbolic_shape[1:], shape[1:], strict=True))
    assert net.is_valid(point) == (expected is not None), (ours, shape, net.constraints)
    if expected is not None:
        assert net.output_shape.subs(point) == expected


def sizes_named(count: int) -> tuple[sympy.Symbol, ...]:
    """``count`` size symbols s0, s1, ..."""
    return tuple(sc.symbols(f"s{i}") for i in range(count))


def _axis_sizes(draw, ndim):
    return tuple(draw(st.integers(1, 7)) for _ in range(ndim))


@st.composite
def conv_cases(draw):
    ndim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    kernel = draw(st.integers(1, 4))
    padding = draw(st.one_of(st.integers(0, 5), st.sampled_from(["same", "valid"])))
    stride = 1 if padding == "same" else draw(st.integers(1, 2))
    return ndim, mode, kernel, padding, stride, (2, *_axis_sizes(draw, ndim))


@settings(max_examples=200, deadline=None)
@given(conv_cases())
def test_conv_padding_modes_agree_with_torch(case):
    from torch.utils.flop_counter import FlopCounterMode

    ndim, mode, kernel, padding, stride, shape = case
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding, padding_mode=mode)
    ours = getattr(sc, f"Conv{ndim}d")(2, 3, **kwargs)
    theirs = getattr(nn, f"Conv{ndim}d")(2, 3, **kwargs)
    try:
        with warnings.catch_warnings(), torch.no_grad(), FlopCounterMode(display=False) as counter:
            warnings.simplefilter("ignore")  # 'same' with an even kernel: a padded copy
            out = theirs(torch.zeros(1, *shape))
        expected = tuple(out.shape[1:]) if out.numel() else None
    except RuntimeError:
        expected = None
    try:
        net = sc.Sequential(ours, input_shape=shape)
    except sc.ShapeError:
        net = None
    assert (net is None) == (expected is None), (ours, shape)
    if net is not None:
        assert net.output_shape == expected
        assert net.params == sum(p.numel() for p in theirs.parameters())
        assert 2 * net.products == counter.get_total_flops()
    sizes = sizes_named(ndim)
    symbolic = sc.Sequential(ours, input_shape=(2, *sizes))
    assert symbolic.is_valid(dict(zip(sizes, shape[1:], strict=True))) == (net is not None)


def test_conv_padding_modes_pinned():
    reflect = sc.Sequential(
        sc.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"), input_shape=(3, H, W)
    )
    assert str(reflect.output_shape) == "4×(H + 2)×(W + 2)"
    assert set(map(str, reflect.constraints)) == {"H >= 3", "W >= 3"}
    same = sc.Sequential(
        sc.Conv2d(3, 4, 7, padding="same", padding_mode="circular"), input_shape=(3, H, W)
    )
    assert same.output_shape == (4, H, W)
    assert set(map(str, same.constraints)) == {"H >= 3", "W >= 3"}
    replicate = sc.Conv1d(1, 1, 3, padding=9, padding_mode="replicate")
    assert sc.Sequential(replicate, input_shape=(1, 1)).output_shape == (1, 17)
    assert repr(replicate) == "Conv1d(1, 1, kernel_size=3, padding=9, padding_mode='replicate')"
    with pytest.raises(
        sc.ShapeError,
        match=r"^Conv2d\(3, 4, kernel_size=3, padding=2, padding_mode='reflect'\) at layer 0 "
        r"\(conv1\): reflection padding must be smaller than the input height \(got padding = "
        r"2, input height = 2\)$",
    ):
        sc.Sequential(sc.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"), input_shape=(3, 2, 5))
    with pytest.raises(sc.UnsupportedLayerError, match=r"ConvTranspose2d supports only 'zeros'"):
        sc.ConvTranspose2d(1, 1, 3, padding_mode="circular")
    with pytest.raises(ValueError, match=r'Only "zeros" padding mode'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="circular")
    assert math.prod(reflect.output_shape.subs({H: 5, W: 6})) == 4 * 7 * 8


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    ndim=st.integers(1, 3),
    padding=st.lists(st.integers(0, 2), max_size=10).map(tuple),
)
def test_padding_lengths_torch_refuses_are_refused(kind, ndim, padding):
    """On (C, *ndim axes): torch refuses ⇒ symcnn refuses; symcnn refuses only as torch does,
    or as UnsupportedLayerError where torch would pad the channel or batch axis."""
    shape = (3, *(4,) * ndim)
    args = (padding, 0.5) if kind == "Constant" else (padding,)
    try:
        getattr(nn, f"{kind}Pad{ndim}d")(*args)(torch.zeros(2, *shape))
        torch_error = None
    except (RuntimeError, ValueError, NotImplementedError) as err:
        torch_error = err
    try:
        sc.Sequential(getattr(sc, f"{kind}Pad{ndim}d")(*args), input_shape=shape)
        error = None
    except sc.SymcnnError as err:
        error = err
    if torch_error is not None:
        assert error is not None, (kind, ndim, padding, torch_error)
    elif error is not None:
        assert isinstance(error, sc.UnsupportedLayerError), (kind, ndim, padding, error)
        assert "axis too" in str(error)
