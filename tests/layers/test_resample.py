"""Upsample (fractional scales, 1-3 spatial axes, symbolic sizes) and the pixel shuffles.

Every rule is checked against torch: pinned exact formulas, PyTorch's double-precision
size ``⌊H·s⌋`` against symcnn's exact one, and hypothesis properties that run both on
random configurations, invalid ones included: torch refuses exactly when symcnn does
(symcnn may refuse a scale it cannot prove exact, with an UnsupportedLayerError).
"""

from __future__ import annotations

import fractions
import math
import warnings

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.symbolic.printing import text
from symcnn.symbolic.scales import PROVEN, exact_up_to, scale_value

from conftest import require

T, H, W, L, C = sc.symbols("T H W L C")

#: Scales symcnn takes (a float, the rational it reads) and one it refuses.
EXACT = [(1.5, "3/2"), (0.5, "1/2"), (0.1, "1/10"), (1 / 3, "1/3"), (2 / 3, "2/3"),
         (2.2, "11/5"), (0.8, "4/5"), (1.25, "5/4"), (0.3, "3/10"), (2.5, "5/2"),
         (1 / 7, "1/7"), (0.9, "9/10"), (0.75, "3/4")]  # fmt: skip


def shape_text(net: sc.Network) -> str:
    return "×".join(text(d, atom=True) for d in net.output_shape)


# -- pinned formulas ---------------------------------------------------------------------------
def test_fractional_scales_give_exact_floors():
    net = sc.Sequential(sc.Upsample(scale_factor=1.5), input_shape=(3, H, W))
    assert shape_text(net) == "3×⌊3·H/2⌋×⌊3·W/2⌋"
    assert net.layers[0].layer == sc.Upsample(scale_factor=sympy.Rational(3, 2))
    assert str(net.constraints) == ("(H <= 3002399751580330, W <= 3002399751580330)")
    assert net.subs({H: 7, W: 4}).output_shape == (3, 10, 6)
    # integer factors read as before, with no condition
    net = sc.Sequential(sc.Upsample(scale_factor=2.0), input_shape=(3, H, W))
    assert shape_text(net) == "3×2·H×2·W" and net.constraints == ()
    assert net.layers[0].layer.scale_factor == 2


@pytest.mark.parametrize(
    ("scale", "formula"),
    [
        (sympy.Rational(1, 3), "3×⌊H/3⌋×⌊W/3⌋"),
        (fractions.Fraction(5, 2), "3×⌊5·H/2⌋×⌊5·W/2⌋"),
        (0.1, "3×⌊H/10⌋×⌊W/10⌋"),
        ((0.5, 3), "3×⌊H/2⌋×3·W"),
        (sympy.Rational(4, 2), "3×2·H×2·W"),
    ],
)
def test_fractions_and_sympy_rationals_are_scales(scale, formula):
    net = sc.Sequential(sc.Upsample(scale_factor=scale, mode="bilinear"), input_shape=(3, H, W))
    assert shape_text(net) == formula


def test_downscaling_needs_an_output_of_one():
    net = sc.Sequential(sc.Upsample(scale_factor=sympy.Rational(1, 3)), input_shape=(3, H, 8))
    assert str(net.constraints) == "(H >= 3, H <= 6004799503160661)"
    with pytest.raises(sc.ShapeError, match=r"the output height must be at least 1 \(got output "):
        sc.Sequential(sc.Upsample(scale_factor=0.25), input_shape=(3, 3, 8))


def test_scale_values_are_the_rational_the_double_stands_for():
    for value, rational in EXACT:
        assert str(scale_value(value)) == rational
        assert exact_up_to(scale_value(value)) >= PROVEN
    assert scale_value(0.30000000000000004) == fractions.Fraction(0.30000000000000004)
    assert exact_up_to(sympy.Rational(3, 2)) == 3002399751580330
    assert exact_up_to(sympy.Rational(1, 3)) == 6004799503160661
    assert exact_up_to(sympy.Rational(7, 10)) == 9  # 0.7 falls short at H = 90


@pytest.mark.parametrize(("value", "rational"), EXACT)
def test_the_proof_holds_where_python_floats_can_check_it(value, rational):
    # torch's size is math.floor(H * s) in double precision (checked against torch below)
    q = fractions.Fraction(rational)
    assert all(math.floor(h * value) == h * q.numerator // q.denominator for h in range(1, 20001))
    bound = exact_up_to(sympy.Rational(q.numerator, q.denominator))
    for h in range(bound - 3000, bound + 1):
        assert math.floor(h * value) == h * q.numerator // q.denominator


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.7, r"at H = 90, ⌊H·s⌋ is 62 in PyTorch but ⌊H·7/10⌋ = 63"),
        (0.30000000000000004, r"scale_factor=0\.30000000000000004 has no exact formula"),
        (1.0000001, r"cannot match to ⌊H·4503600077730459/4503599627370496⌋"),
        (sympy.Rational(7, 10), r"scale_factor=7/10 has no exact formula"),
    ],
)
def test_scales_pytorch_rounds_differently_are_refused(value, message):
    with pytest.raises(sc.UnsupportedLayerError, match=message):
        sc.Upsample(scale_factor=value)


def test_bad_scale_factors_are_refused_naming_the_rule():
    for value in (0, -1.5, 0.0):
        with pytest.raises(sc.ShapeError, match=r"^Upsample\(.*\): scale_factor must be positive"):
            sc.Upsample(scale_factor=value)
    for value in (math.nan, math.inf):
        with pytest.raises(sc.ShapeError, match=r"'scale_factor' must be a finite number"):
            sc.Upsample(scale_factor=value)
    with pytest.raises(sc.ShapeError, match=r"needs 1, 2 or 3 values"):
        sc.Upsample(scale_factor=(1, 1, 1, 1))
    with pytest.raises(sc.ShapeError, match=r"recompute_scale_factor is meaningless with a size"):
        sc.Upsample(size=3, recompute_scale_factor=True)
    with pytest.raises(sc.ShapeError, match=r"mode 'lanczos' needs antialias=True"):
        sc.Upsample(scale_factor=2, mode="lanczos")


def test_upsample_on_one_two_and_three_spatial_axes():
    up = sc.Upsample(scale_factor=1.5, mode="linear", align_corners=True)
    assert shape_text(sc.Sequential(up, input_shape=(4, L))) == "4×⌊3·L/2⌋"
    up = sc.Upsample(scale_factor=(1, 2, 0.5), mode="trilinear")
    assert shape_text(sc.Sequential(up, input_shape=(4, T, H, W))) == "4×T×2·H×⌊W/2⌋"
    area = sc.Upsample(size=5, mode="area")
    assert sc.Sequential(area, input_shape=(2, 3, 3, 3)).output_shape == (2, 5, 5, 5)
    with pytest.raises(sc.ShapeError, match=r"mode='bilinear' needs a per-sample input of 3 axes"):
        sc.Sequential(sc.Upsample(scale_factor=2, mode="bilinear"), input_shape=(4, L))
    with pytest.raises(sc.ShapeError, match=r"scale_factor=\(2, 2\) needs 3 values, one per"):
        sc.Sequential(sc.Upsample(scale_factor=(2, 2)), input_shape=(4, T, H, W))
    with pytest.raises(sc.ShapeError, match=r"needs a per-sample input of 2, 3 or 4 axes"):
        sc.Sequential(sc.Upsample(scale_factor=2), input_shape=(4,))


def test_symbolic_sizes_are_sizes_with_positive_conditions():
    down = sympy.floor((H - 1) / 2) + 1
    up = sc.Upsample(size=(down, W - 2), mode="nearest")
    net = sc.Sequential(up, input_shape=(3, 5, 5))
    assert shape_text(net) == "3×(⌊(H - 1)/2⌋ + 1)×(W - 2)"
    assert str(net.constraints) == "(W >= 3,)"
    assert net.subs({H: 9, W: 4}).output_shape == (3, 5, 2)
    with pytest.raises(sc.ShapeError, match=r"size must be positive \(got size = 0\)"):
        net.subs({H: 9, W: 2})


def test_the_upsampling_modules_with_fixed_modes():
    bilinear = sc.UpsamplingBilinear2d(scale_factor=1.5)
    assert (bilinear.mode, bilinear.align_corners) == ("bilinear", True)
    assert repr(bilinear) == "UpsamplingBilinear2d(scale_factor=3/2)"
    nearest = sc.UpsamplingNearest2d(size=(4, 6))
    assert sc.Sequential(nearest, input_shape=(2, 3, 3)).output_shape == (2, 4, 6)
    with pytest.raises(TypeError):
        sc.UpsamplingNearest2d(scale_factor=2, mode="bilinear")


def test_pixel_shuffles_move_channels_to_pixels_and_back():
    net = sc.Sequential(sc.PixelShuffle(3), input_shape=(C, H, W))
    assert shape_text(net) == "⌊C/9⌋×3·H×3·W"
    assert str(net.constraints) == "(Eq(Mod(C, 9), 0),)"
    assert (net.params, net.products, net.elementwise) == (0, 0, 0)
    net = sc.Sequential(sc.PixelShuffle(2), sc.PixelUnshuffle(2), input_shape=(4 * C, H, W))
    assert net.output_shape == (4 * C, H, W) and net.constraints == ()
    net = sc.Sequential(sc.PixelUnshuffle(2), input_shape=(C, H, W))
    assert shape_text(net) == "4·C×⌊H/2⌋×⌊W/2⌋"
    assert str(net.constraints) == "(Eq(Mod(H, 2), 0), Eq(Mod(W, 2), 0))"
    with pytest.raises(sc.ShapeError, match=r"channels must be divisible by upscale_factor²"):
        sc.Sequential(sc.PixelShuffle(2), input_shape=(6, 4, 4))
    with pytest.raises(sc.ShapeError, match=r"PixelShuffle\(0\): upscale_factor must be positive"):
        sc.PixelShuffle(0)
    with pytest.raises(sc.ShapeError, match=r"needs a per-sample input of at least 3 axes"):
        sc.Sequential(sc.PixelUnshuffle(2), input_shape=(4, 4))
    net = sc.Sequential(sc.PixelShuffle(2), input_shape=(5, 8, 3, 4))  # a leading axis stays
    assert net.output_shape == (5, 2, 6, 8)


# -- against torch ----------------------------------------------------------------------------
MODES = ["nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact"]
SCALES = [2, 3, 1.0, 1.5, 0.5, 0.1, 1 / 3, 2 / 3, 2.2, 0.75, 0.7, 0.3, 1.7, 0.0, -1.0]


def torch_verdict(torch, kwargs, shape, module=None):
    """The output shape torch gives, or the error it raises (at build or forward)."""
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            m = (module or torch.nn.Upsample)(**kwargs)
            return tuple(m(torch.zeros(1, *shape)).shape[1:])
    except (RuntimeError, ValueError, TypeError, NotImplementedError) as err:
        return err


def symcnn_verdict(kwargs, shape, cls=None):
    try:
        return sc.Sequential((cls or sc.Upsample)(**kwargs), input_shape=shape)
    except sc.SymcnnError as err:
        return err


@st.composite
def upsample_cases(draw):
    ndim = draw(st.sampled_from([1, 2, 3]))
    shape = (
        draw(st.integers(1, 3)),
        *(draw(st.integers(1, 12 if ndim < 3 else 6)) for _ in range(ndim)),
    )
    kwargs = {"mode": draw(st.sampled_from(MODES))}
    if draw(st.booleans()):
        one = st.integers(0, 9)
        kwargs["size"] = draw(one | st.tuples(*[one] * draw(st.sampled_from([ndim, ndim, 2]))))
    else:
        one = st.sampled_from(SCALES) | st.fractions(1, 4, max_denominator=8).map(float)
        kwargs["scale_factor"] = draw(
            one | st.tuples(*[one] * draw(st.sampled_from([ndim, ndim, 1])))
        )
        if draw(st.booleans()):
            kwargs["recompute_scale_factor"] = draw(st.booleans())
    if kwargs["mode"] not in ("nearest", "area", "nearest-exact") and draw(st.booleans()):
        kwargs["align_corners"] = draw(st.booleans())
    return kwargs, shape


@settings(max_examples=300, deadline=None)
@given(upsample_cases())
def test_upsample_shapes_and_refusals_are_torchs(case):
    torch = require("torch")
    kwargs, shape = case
    theirs = torch_verdict(torch, kwargs, shape)
    ours = symcnn_verdict(kwargs, shape)
    if isinstance(ours, sc.UnsupportedLayerError):  # a scale symcnn cannot prove exact
        assert "has no exact formula" in str(ours)
        return
    if isinstance(theirs, Exception):
        assert isinstance(ours, sc.ShapeError), f"torch refuses {kwargs} on {shape}: {theirs}"
        return
    if 0 in theirs:  # 'area' is an adaptive pool: torch returns an empty tensor
        assert kwargs["mode"] == "area"
        assert isinstance(ours, sc.ShapeError) and (
            "at least 1" in str(ours) or "positive" in str(ours)
        )
        return
    assert not isinstance(ours, Exception), f"symcnn refuses {kwargs} on {shape}: {ours}"
    assert ours.output_shape == theirs
    assert (ours.params, ours.products) == (0, 0)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([1.5, 0.5, 0.1, 1 / 3, 2 / 3, 2.2, 0.8, 2.5, 0.3, 0.9, 1 / 7]),
    st.integers(10, 3000),
    st.booleans(),
)
def test_symbolic_formula_at_a_size_is_torchs_size(scale, size, recompute):
    torch = require("torch")
    net = sc.Sequential(sc.Upsample(scale_factor=scale, mode="linear"), input_shape=(1, L))
    out = torch.nn.functional.interpolate(
        torch.zeros(1, 1, size), scale_factor=scale, mode="linear", recompute_scale_factor=recompute
    )
    assert net.subs({L: size}).output_shape == (1, out.shape[2])


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["PixelShuffle", "PixelUnshuffle"]),
    st.integers(-1, 3),
    st.integers(1, 20),
    st.integers(1, 9),
    st.integers(1, 9),
)
def test_pixel_shuffles_are_torchs(name, factor, channels, height, width):
    torch = require("torch")
    shape = (channels, height, width)
    theirs = torch_verdict(torch, {"x": factor}, shape, lambda x: getattr(torch.nn, name)(x))
    ours = symcnn_verdict({"x": factor}, shape, lambda x: getattr(sc, name)(x))
    if isinstance(theirs, Exception):
        assert isinstance(ours, sc.ShapeError), f"torch refuses {name}({factor}) on {shape}"
        assert name in str(ours)
        return
    assert not isinstance(ours, Exception), f"symcnn refuses {name}({factor}) on {shape}: {ours}"
    assert ours.output_shape == theirs
    assert (ours.params, ours.products, ours.elementwise) == (0, 0, 0)


def test_the_upsampling_modules_are_torchs():
    torch = require("torch")
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        for kwargs in ({"scale_factor": 1.5}, {"size": (5, 2)}, {"scale_factor": 0.5}):
            for shape in ((2, 3, 4), (2, 7, 1), (2, 3)):
                theirs = torch_verdict(torch, kwargs, shape, getattr(torch.nn, name))
                ours = symcnn_verdict(kwargs, shape, getattr(sc, name))
                if isinstance(theirs, Exception):
                    assert isinstance(ours, sc.ShapeError), (name, kwargs, shape)
                else:
                    assert ours.output_shape == theirs, (name, kwargs, shape)


def test_a_tuple_of_equal_values_reads_as_a_tuple():
    # (2, 2) is not 2: torch refuses it on a (C, L) or (C, T, H, W) input
    assert repr(sc.Upsample(scale_factor=(2, 2))) == "Upsample(scale_factor=(2, 2))"
    assert repr(sc.Upsample(size=(3,), mode="linear")) == "Upsample(size=(3,), mode='linear')"
    assert repr(sc.Upsample(scale_factor=2.0)) == "Upsample(scale_factor=2)"
    assert sc.Upsample(scale_factor=(2, 2)) != sc.Upsample(scale_factor=2)


@st.composite
def proven_scales(draw):
    """A rational a/b, its double, and sizes where a product could round: near the bound,
    at multiples of b (where H·a/b is an integer), below powers of two."""
    q = draw(
        st.fractions(min_value=fractions.Fraction(1, 1000), max_value=50, max_denominator=1000)
    )
    bound = exact_up_to(sympy.Rational(q.numerator, q.denominator))
    if bound < 1:
        return q, []
    b = q.denominator
    sizes = [draw(st.integers(1, bound)) for _ in range(20)]
    sizes += [max(1, bound - draw(st.integers(0, 1000))) for _ in range(5)]
    sizes += [b * draw(st.integers(1, max(1, bound // b))) for _ in range(20)]
    for _ in range(10):  # multiples of b just under a power of two of the product
        top = draw(st.integers(1, max(1, int(bound * q).bit_length())))
        k = max(1, (2**top) // q.numerator)
        sizes.append(b * k)
    return q, [h for h in sizes if h <= bound]


@settings(max_examples=300, deadline=None)
@given(proven_scales())
def test_exact_up_to_is_a_proof_python_floats_never_break(case):
    q, sizes = case
    s = float(q)
    for h in sizes:  # Python's float product is torch's (checked above against torch)
        assert math.floor(h * s) == h * q.numerator // q.denominator, (q, h)
