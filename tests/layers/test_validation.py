"""Constructor arguments are checked with PyTorch's rules, at construction.

The explicit cases pin each rule's message: it names the layer, the argument, the rule and
the value. The property test draws hostile arguments for every layer class and asks that
symcnn refuse exactly what torch refuses, at construction or on a forward pass of a small
valid input, and never raise anything but a symcnn error.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc

from conftest import require

NAN, INF = math.nan, math.inf


# -- each rule, with its message ---------------------------------------------------------------
REFUSED = [
    (
        lambda: sc.AdaptiveAvgPool2d(None),
        sc.ShapeError,
        r"^AdaptiveAvgPool2d: output_size must be a size or a tuple of 2 \(None keeps an axis\) "
        r"\(got None\)$",
    ),
    (
        lambda: sc.AdaptiveMaxPool2d(None),
        sc.ShapeError,
        r"^AdaptiveMaxPool2d: output_size must be a size or a tuple of 2",
    ),
    (
        lambda: sc.LeakyReLU("x"),
        sc.ShapeError,
        r"^LeakyReLU: negative_slope must be a real number \(got 'x'\)$",
    ),
    (
        lambda: sc.LeakyReLU(None),
        sc.ShapeError,
        r"^LeakyReLU: negative_slope must be a real number \(got None\)$",
    ),
    (
        lambda: sc.BatchNorm2d(4, eps="x"),
        sc.ShapeError,
        r"^BatchNorm2d: eps must be a real number \(got 'x'\)$",
    ),
    (
        lambda: sc.BatchNorm2d(4, eps=0),
        sc.ShapeError,
        r"^BatchNorm2d: eps must be a positive, finite number \(got 0\)$",
    ),
    (
        lambda: sc.BatchNorm2d(4, eps=-INF),
        sc.ShapeError,
        r"^BatchNorm2d: eps must be a positive, finite number \(got -inf\)$",
    ),
    (
        lambda: sc.BatchNorm2d(4, momentum="x"),
        sc.ShapeError,
        r"^BatchNorm2d: momentum must be a real number or None \(got 'x'\)$",
    ),
    (
        lambda: sc.Dropout(NAN),
        sc.ShapeError,
        r"^Dropout\(p=nan\): the probability p must lie in \[0, 1\]$",
    ),
    (lambda: sc.Dropout(None), sc.ShapeError, r"^Dropout: p must be a real number \(got None\)$"),
    (
        lambda: sc.GELU(None),
        sc.ShapeError,
        r"^GELU: approximate must be 'none' or 'tanh' \(got None\)$",
    ),
    (
        lambda: sc.MaxPool2d(2, ceil_mode=1),
        sc.ShapeError,
        r"^MaxPool2d: ceil_mode must be True or False \(got 1\)$",
    ),
    (
        lambda: sc.AvgPool1d(2, count_include_pad=None),
        sc.ShapeError,
        r"^AvgPool1d: count_include_pad must be True or False \(got None\)$",
    ),
    (
        lambda: sc.AvgPool3d(2, count_include_pad="yes"),
        sc.ShapeError,
        r"^AvgPool3d: count_include_pad must be True or False \(got 'yes'\)$",
    ),
    (
        lambda: sc.Mean(2, keepdim=0),
        sc.ShapeError,
        r"^Mean: keepdim must be True or False \(got 0\)$",
    ),
    (
        lambda: sc.Mean((2, 2)),
        sc.ShapeError,
        r"^Mean: dim names an axis twice \(as PyTorch refuses\) \(got \(2, 2\)\)$",
    ),
    (
        lambda: sc.Conv2d(1, 1, 3, padding_mode="mirror"),
        sc.ShapeError,
        r"^Conv2d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular' "
        r"\(got 'mirror'\)$",
    ),
    (
        lambda: sc.ConvTranspose1d(1, 1, 3, padding_mode=None),
        sc.ShapeError,
        r"^ConvTranspose1d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular' "
        r"\(got None\)$",
    ),
    (
        lambda: sc.Upsample(scale_factor=2, mode="bogus"),
        sc.ShapeError,
        r"^Upsample: mode must be 'nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', "
        r"'area', 'nearest-exact' or 'lanczos' \(got 'bogus'\)$",
    ),
    (
        lambda: sc.Sequential(sc.Upsample(scale_factor=2, mode="linear"), input_shape=(3, 4, 4)),
        sc.ShapeError,
        r"^Upsample\(scale_factor=2, mode='linear'\) at layer 0 \(up1\): mode='linear' needs "
        r"a per-sample input of 2 axes \(C, L\), got 3×4×4$",
    ),
    (
        lambda: sc.Upsample(scale_factor=2, align_corners=True),
        sc.ShapeError,
        r"^Upsample: align_corners must be None with mode='nearest' \(PyTorch sets it only for "
        r"the interpolating modes\) \(got True\)$",
    ),
    (
        lambda: sc.Upsample(scale_factor=2, mode="bilinear", align_corners=1),
        sc.ShapeError,
        r"^Upsample: align_corners must be True or False or None \(got 1\)$",
    ),
    (
        lambda: sc.ZeroPad2d((1, 2, 3)),
        sc.ShapeError,
        r"^ZeroPad2d: padding needs 4 values \(left, right, top, bottom\) or 2 "
        r"\(got \(1, 2, 3\)\)$",
    ),
    (
        lambda: sc.ZeroPad2d((1, 1, 1, 1, 1, 1)),
        sc.UnsupportedLayerError,
        r"^ZeroPad2d: padding=\(1, 1, 1, 1, 1, 1\) pads the channel axis too, which symcnn does "
        r"not model",
    ),
    (
        lambda: sc.Conv2d(1, 1, 3, stride=(1, 1, 1)),
        sc.ShapeError,
        r"^'stride' needs 2 values, one per spatial axis \(got \(1, 1, 1\)\)$",
    ),
    (
        lambda: sc.Conv2d(1, 1, (3,)),
        sc.ShapeError,
        r"^'kernel_size' needs 2 values, one per spatial axis \(got \(3,\)\)$",
    ),
    (
        lambda: sc.AvgPool1d((2, 2)),
        sc.ShapeError,
        r"^'kernel_size' needs 1 values, one per spatial axis \(got \(2, 2\)\)$",
    ),
]


@pytest.mark.parametrize(("make", "error", "message"), REFUSED)
def test_each_argument_rule_refuses_at_construction(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_values_torch_accepts_are_accepted():
    # Torch runs these; symcnn follows, however odd they look.
    assert sc.BatchNorm2d(4, momentum=NAN).buffers(sc.Shape((4, 2, 2))).value == 9
    assert sc.BatchNorm2d(4, eps=1e300, momentum=-3.0).params(sc.Shape((4, 2, 2))).value == 8
    for eps in (NAN, INF):  # torch runs these, to NaN or zero outputs: symcnn refuses
        with pytest.raises(sc.ShapeError, match=r"eps must be a positive, finite number"):
            sc.BatchNorm2d(4, eps=eps)
    assert repr(sc.LeakyReLU(-INF)) == "LeakyReLU(negative_slope=-inf)"
    assert repr(sc.ReLU(inplace="yes")) == "ReLU(inplace='yes')"
    assert sc.Conv2d(1, 2, 3, bias=None).params().value == 18
    # PyTorch's integer-list arguments repeat a tuple of one size.
    assert sc.Conv2d(1, 1, 3, stride=(2,), dilation=[1], padding=(1,)).stride == (2, 2)
    assert sc.ConvTranspose2d(1, 1, 3, stride=2, output_padding=(1,)).output_padding == (1, 1)
    assert sc.MaxPool3d((2,)).kernel_size == (2, 2, 2)
    # Two values pad the width only; 'area' resamples by whole factors like 'nearest'.
    assert sc.Sequential(sc.ZeroPad2d((1, 2)), input_shape=(3, 4, 4)).output_shape == (3, 4, 7)
    up = sc.Upsample(scale_factor=2, mode="area")
    assert sc.Sequential(up, input_shape=(3, 4, 5)).output_shape == (3, 8, 10)
    assert sc.Upsample(size=3, mode="bicubic", align_corners=False).size == 3
    assert sc.AdaptiveAvgPool2d((None, 2)).output_size == (None, 2)


def test_symbols_stay_accepted_wherever_torch_takes_an_int():
    c, k, s, p, d, g = sc.symbols("c k s p d g")
    conv = sc.Conv2d(c, 2 * c, k, stride=(s,), padding=p, dilation=d, groups=g)
    assert conv.stride == (s, s) and conv.free_symbols == {c, k, s, p, d, g}
    assert sc.ConvTranspose1d(c, c, k, stride=s, output_padding=(p,)).output_padding == (p,)
    assert sc.MaxPool2d((k,), stride=s, padding=p, dilation=d).kernel_size == (k, k)
    assert sc.AvgPool2d(k, divisor_override=3).kernel_size == (k, k)
    assert sc.AdaptiveAvgPool2d((k, None)).output_size == (k, None)
    assert sc.Upsample(scale_factor=s).scale_factor == s
    assert sc.ZeroPad2d((p, k)).padding == (p, k, 0, 0)
    assert sc.Linear(c, k).in_features == c and sc.LazyLinear(k).out_features == k
    assert sc.BatchNorm2d(c).num_features == c
    assert sc.View(-1, c, k).shape == (c, k)


# -- symcnn refuses iff torch refuses ------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A layer class, the arguments of a valid instance, and a valid input for both."""

    name: str
    base: dict[str, Any]
    shape: tuple[int, ...]
    #: argument -> its kind: 'size', 'real', 'flag' (a strict bool), 'word', 'any', 'dim'
    args: dict[str, str]
    torch_name: str | None = None
    words: tuple[str, ...] = field(default=())


def _conv(name: str, nd: int, transposed: bool) -> Case:
    args = dict.fromkeys(
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
        "size",
    )
    args |= {"bias": "any", "padding_mode": "word"}
    if transposed:
        args["output_padding"] = "size"
    base = {"in_channels": 2, "out_channels": 2, "kernel_size": 2}
    return Case(name, base, (2,) + (7,) * nd, args, words=("zeros", "reflect", "same", "valid"))


def _pool(name: str, nd: int) -> Case:
    args = dict.fromkeys(("kernel_size", "stride", "padding"), "size") | {"ceil_mode": "flag"}
    if name.startswith("Max"):
        args |= {"dilation": "size", "return_indices": "any"}
    else:
        args["count_include_pad"] = "flag"
        if nd > 1:
            args["divisor_override"] = "size"
    return Case(name, {"kernel_size": 2}, (2,) + (7,) * nd, args)


PAD_VALUE = {"padding": "size", "value": "real"}
#: Reductions over named axes, by their Tensor method.
REDUCTIONS = {"Mean": "mean", "Sum": "sum", "Amax": "amax", "Amin": "amin"}

CASES = [
    *(_conv(f"Conv{nd}d", nd, False) for nd in (1, 2, 3)),
    *(_conv(f"ConvTranspose{nd}d", nd, True) for nd in (1, 2, 3)),
    *(_pool(f"{kind}Pool{nd}d", nd) for kind in ("Max", "Avg") for nd in (1, 2, 3)),
    Case("AdaptiveAvgPool2d", {"output_size": 2}, (2, 5, 5), {"output_size": "size"}),
    Case(
        "AdaptiveMaxPool2d",
        {"output_size": 2},
        (2, 5, 5),
        {"output_size": "size", "return_indices": "any"},
    ),
    Case(
        "Upsample",
        {"scale_factor": 2},
        (2, 3, 3),
        {"size": "size", "scale_factor": "real", "mode": "word", "align_corners": "flag"},
        words=("nearest", "bilinear", "bicubic", "area", "linear", "nearest-exact"),
    ),
    *(
        Case(f"{kind}Pad{nd}d", {"padding": 1}, (2,) + (4,) * nd, {"padding": "size"})
        for kind in ("Zero", "Reflection", "Replication", "Circular")
        for nd in (1, 2, 3)
    ),
    *(
        Case(f"ConstantPad{nd}d", {"padding": 1, "value": 0.5}, (2,) + (4,) * nd, PAD_VALUE)
        for nd in (1, 2, 3)
    ),
    Case("PixelShuffle", {"upscale_factor": 2}, (8, 3, 3), {"upscale_factor": "size"}),
    Case("PixelUnshuffle", {"downscale_factor": 2}, (2, 4, 4), {"downscale_factor": "size"}),
    Case(
        "Linear",
        {"in_features": 3, "out_features": 2},
        (3,),
        {"in_features": "size", "out_features": "size", "bias": "any"},
    ),
    Case("LazyLinear", {"out_features": 2}, (3,), {"out_features": "size", "bias": "any"}),
    Case(
        "BatchNorm2d",
        {"num_features": 2},
        (2, 3, 3),
        {
            "num_features": "size",
            "eps": "real",
            "momentum": "real",
            "affine": "any",
            "track_running_stats": "any",
        },
    ),
    *(
        Case(name, {}, (2, 3), {"inplace": "any"})
        for name in ("ReLU", "ReLU6", "SiLU", "Hardswish")
    ),
    Case("LeakyReLU", {}, (2, 3), {"negative_slope": "real", "inplace": "any"}),
    Case("GELU", {}, (2, 3), {"approximate": "word"}, words=("none", "tanh")),
    Case("Dropout", {}, (2, 3), {"p": "real", "inplace": "any"}),
    Case("Flatten", {}, (2, 3, 4), {"start_dim": "dim", "end_dim": "dim"}),
    *(
        Case(name, {"dim": 1}, (2, 3, 4), {"dim": "dim", "keepdim": "flag"}, torch_name=method)
        for name, method in REDUCTIONS.items()
    ),
    Case("Concat", {}, (2, 3, 4), {"dim": "dim"}, torch_name="cat"),
    Case("Stack", {"dim": 1}, (2, 3, 4), {"dim": "dim"}, torch_name="stack"),
    Case("View", {"shape": (6,)}, (2, 3), {"shape": "size"}, torch_name="view"),
]

HOSTILE = [NAN, INF, -INF, -1, 0, True, False, "x", None, 1.5, 2.0, ()]
SMALL = [-1, 0, 1, 2, None, 1.5, True]


def values(kind: str, words: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Hostile values, with a few valid ones of ``kind`` so both verdicts occur."""
    valid = {
        "size": [1, 2, 3],
        "real": [0.0, 0.5, 1, -2.5],
        "flag": [True, False],
        "word": list(words),
        "any": [True, False],
        "dim": [-3, -2, -1, 1, 2, 3],
    }[kind]
    tuples = st.lists(st.sampled_from(SMALL + [1, 2]), min_size=1, max_size=6).map(tuple)
    return st.one_of(st.sampled_from(HOSTILE + valid), st.sampled_from(valid), tuples)


def torch_verdict(torch: Any, case: Case, kwargs: dict[str, Any]) -> BaseException | None:
    """The error torch raises building the module or running it (train and eval), or None."""
    nn = torch.nn

    def build() -> Any:
        if case.torch_name in REDUCTIONS.values():
            keep = kwargs.get("keepdim", False)
            return lambda x: getattr(x, case.torch_name)(kwargs["dim"], keepdim=keep)
        if case.torch_name in ("cat", "stack"):
            join = getattr(torch, case.torch_name)
            return lambda x: join([x, x], dim=kwargs.get("dim", 1))
        if case.torch_name == "view":
            return lambda x: x.view(-1, *kwargs["shape"])
        return getattr(nn, case.name)(**kwargs)

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            module = build()
            for training in (True, False):
                if isinstance(module, nn.Module):
                    module.train(training)
                module(torch.randn(2, *case.shape))
    except Exception as err:  # torch's refusals come as many types: any counts
        return err
    return None


def symcnn_verdict(case: Case, kwargs: dict[str, Any]) -> sc.SymcnnError | None:
    """The symcnn error of building the layer, or a network of it on the input; else None."""
    cls = getattr(sc, case.name)
    try:
        layer = cls(-1, *kwargs["shape"]) if case.name == "View" else cls(**kwargs)
        if case.name in ("Concat", "Stack"):
            x = sc.Input(case.shape)
            sc.Network(x, layer(x, sc.Identity()(x)))
        else:
            sc.Sequential(layer, input_shape=case.shape)
    except sc.SymcnnError as err:
        return err
    return None


def stricter(case: Case, arg: str, value: Any, error: sc.SymcnnError) -> bool:
    """Where symcnn refuses on purpose what torch runs; every other refusal must match.

    - something symcnn cannot model (UnsupportedLayerError: padding modes, 6-value pads);
    - a bool given for a number: torch reads True as 1 in some places, symcnn never does;
    - a tuple for BatchNorm2d's one size, which torch.empty happens to unpack;
    - a NaN or infinite BatchNorm2d eps, which torch runs to NaN or zero outputs;
    - a size of 0 that gives an empty output tensor (Linear(3, 0), AdaptiveAvgPool2d(0));
    - the batch axis (Flatten(0), a reduction over dim 0 or over all dims, Concat or
      Stack on dim 0, x.view(-1) with no per-sample size), or a view that re-batches;
    - an empty output torch hands back (a pad cropping a whole axis, a size of 0).
    """
    items = value if isinstance(value, tuple) else (value,)
    if isinstance(error, sc.UnsupportedLayerError):
        return True
    if case.args[arg] in ("size", "real", "dim") and any(isinstance(v, bool) for v in items):
        return True
    if arg in ("out_features", "output_size") and 0 in items:
        return True
    if case.name == "View" and all(type(v) is int for v in items):
        return math.prod(items) != math.prod(case.shape)
    if arg == "num_features" and isinstance(value, tuple):
        return True
    if arg == "eps" and isinstance(value, float) and not math.isfinite(value):
        return True  # NaN or infinite eps: torch runs them to NaN or zero outputs
    if case.name in ("Flatten", "Concat", "Stack", *REDUCTIONS) and arg in ("start_dim", "dim"):
        rank = len(case.shape) + 1 + (case.name == "Stack")
        batch = [d for d in items if isinstance(d, int) and -rank <= d < rank and d % rank == 0]
        return value is None or items == () or bool(batch)
    return False


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(deadline=None)
@given(data=st.data())
def test_symcnn_refuses_exactly_what_torch_refuses(case, data):
    torch = require("torch")
    arg = data.draw(st.sampled_from(sorted(case.args)), label="argument")
    value = data.draw(values(case.args[arg], case.words), label="value")
    kwargs = {**case.base, arg: value}
    if case.name == "Upsample" and arg == "size":
        kwargs.pop("scale_factor")
    if case.name == "View" and not isinstance(value, tuple):
        kwargs[arg] = (value,)
    torch_error = torch_verdict(torch, case, kwargs)
    symcnn_error = symcnn_verdict(case, kwargs)  # raises, failing the test, if not a symcnn error
    if torch_error is not None:
        assert symcnn_error is not None, f"torch refuses {case.name}(**{kwargs}): {torch_error}"
    elif symcnn_error is not None:
        assert stricter(case, arg, value, symcnn_error), (
            f"symcnn refuses {case.name}(**{kwargs}) ({symcnn_error}), which torch runs"
        )


def test_sympy_values_are_numbers_not_hostile():
    # A sympy integer is an int to symcnn; a sympy float is not.
    assert sc.Conv2d(sympy.Integer(1), 2, 3).in_channels == 1
    with pytest.raises(sc.ShapeError, match=r"^'kernel_size' must be an integer, not a float"):
        sc.Conv2d(1, 2, sympy.Float(3.0))
