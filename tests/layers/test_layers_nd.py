"""1-D and 3-D convolutions and pooling, and transposed convolutions: rules and errors."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.layers.conv import axis_names, conv_transpose_output_size

n, k, s, c, g = sc.symbols("n k s c g")
d, o, p = sc.symbols("d o p")


def one(layer, shape):
    """Derive a one-layer network and return its record."""
    return sc.Sequential(layer, input_shape=shape).layers[0]


# -- axis names ---------------------------------------------------------------------------
def test_axis_names_follow_pytorch_order():
    assert axis_names(1) == ("length",)
    assert axis_names(2) == ("height", "width")
    assert axis_names(3) == ("depth", "height", "width")


# -- Conv1d -------------------------------------------------------------------------------
def test_conv1d_shape_params_products():
    r = one(sc.Conv1d(4, 8, 3, stride=2, padding=1, groups=2), (4, 11))
    assert r.output_shape == (8, 6)
    assert r.params_text == "8·(2·3+1) = 56"
    assert r.products_text == "8·2·6·3 = 288"
    assert r.bias_adds == 8 * 6
    assert r.layer.describe() == "nn.Conv1d(4, 8, kernel_size=3, stride=2, padding=1, groups=2)"


def test_conv1d_symbolic_and_same_padding():
    r = one(sc.Conv1d(c, 2 * c, k, stride=s), (c, n))
    length = sympy.floor((n - k + s) / s)
    assert r.output_shape == (2 * c, length)
    assert r.params == 2 * c * (c * k + 1)
    assert r.products == 2 * c * c * length * k
    assert one(sc.Conv1d(2, 4, 4, padding="same"), (2, n)).output_shape == (4, n)
    assert one(sc.Conv1d(2, 4, 3, padding="valid", dilation=2), (2, 9)).output_shape == (4, 5)


def test_conv1d_repr_and_subs():
    assert (
        repr(sc.Conv1d(16, 32, kernel_size=5, stride=2))
        == "Conv1d(16, 32, kernel_size=5, stride=2)"
    )
    assert sc.Conv1d(1, 8, k, stride=s).subs({k: 3, s: 2}) == sc.Conv1d(1, 8, 3, stride=2)


def test_conv1d_errors_name_the_layer_and_the_length():
    with pytest.raises(
        sc.ShapeError,
        match=r"^Conv1d\(1, 1, kernel_size=6\) at layer 0 \(conv1\): the kernel must fit in the "
        r"padded input length \(got padded length = 5, effective kernel size = 6\)$",
    ):
        sc.Sequential(sc.Conv1d(1, 1, 6), input_shape=(1, 5))
    with pytest.raises(sc.ShapeError, match=r"'kernel_size' needs 1 values"):
        sc.Conv1d(1, 2, (3, 3))
    with pytest.raises(sc.ShapeError, match=r"^Conv1d\(1, 2, kernel_size=3, stride=0\): stride"):
        sc.Conv1d(1, 2, 3, stride=0)
    with pytest.raises(sc.ShapeError, match=r"Conv1d\(1, 1, kernel_size=3\) at layer 0 .*2 axes"):
        sc.Sequential(sc.Conv1d(1, 1, 3), input_shape=(1, 8, 8))


def test_conv1d_receptive_field():
    net = sc.Sequential(sc.Conv1d(1, 1, 3, stride=2), sc.Conv1d(1, 1, 3), input_shape=(1, n))
    assert net.layers[0].receptive_field == (3,)
    assert (net.layers[1].receptive_field, net.layers[1].jump) == ((7,), (2,))


# -- Conv3d -------------------------------------------------------------------------------
def test_conv3d_shape_params_products():
    layer = sc.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
    r = one(layer, (2, 5, 9, 10))
    assert r.output_shape == (4, 5, 5, 5)
    assert r.params_text == "4·(2·3·3+1) = 76"
    assert r.products_text == "4·2·5³·3·3 = 9000"
    assert repr(layer) == "Conv3d(2, 4, kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))"


def test_conv3d_symbolic_cube():
    r = one(sc.Conv3d(1, 8, k), (1, n, n, n))
    assert r.output_shape == (8, n - k + 1, n - k + 1, n - k + 1)
    assert r.params_text == "8·(k³+1) = 8·k³ + 8"
    assert r.products == 8 * (n - k + 1) ** 3 * k**3
    net = sc.Sequential(sc.Conv3d(1, 8, k), input_shape=(1, n, n, n))
    assert net.constraints == (sympy.Ge(n, k),)


@pytest.mark.parametrize(
    ("dhw", "axis", "size"),
    [((2, 5, 5), "depth", 2), ((5, 2, 5), "height", 2), ((5, 5, 1), "width", 1)],
)
def test_conv3d_errors_name_the_axis_in_pytorch_order(dhw, axis, size):
    with pytest.raises(
        sc.ShapeError,
        match=rf"^Conv3d\(1, 1, kernel_size=3\) at layer 0 \(conv1\): the kernel must fit in the "
        rf"padded input {axis} \(got padded {axis} = {size}, effective kernel size = 3\)$",
    ):
        sc.Sequential(sc.Conv3d(1, 1, 3), input_shape=(1, *dhw))


def test_conv3d_needs_four_axes_and_three_values():
    with pytest.raises(sc.ShapeError, match=r"^Conv3d\(1, 1, kernel_size=3\) at layer 0.*4 axes"):
        sc.Sequential(sc.Conv3d(1, 1, 3), input_shape=(1, 8, 8))
    with pytest.raises(sc.ShapeError, match=r"'stride' needs 3 values"):
        sc.Conv3d(1, 1, 3, stride=(1, 2))
    with pytest.raises(sc.ShapeError, match=r"^Conv3d\(3, 6, kernel_size=3, groups=2\): groups"):
        sc.Conv3d(3, 6, 3, groups=2)


# -- pooling in 1-D and 3-D ------------------------------------------------------------------
def test_pool1d_shapes_and_reprs():
    assert one(sc.MaxPool1d(3, stride=2, padding=1, dilation=2), (4, 10)).output_shape == (4, 4)
    assert one(sc.AvgPool1d(2, ceil_mode=True), (3, 5)).output_shape == (3, 3)
    assert one(sc.MaxPool1d(k), (1, n)).output_shape == (1, sympy.floor(n / k))
    assert repr(sc.MaxPool1d(3, stride=2)) == "MaxPool1d(kernel_size=3, stride=2)"
    assert repr(sc.AvgPool1d(4)) == "AvgPool1d(kernel_size=4)"
    assert sc.MaxPool1d(2).stride == (2,)
    r = one(sc.AvgPool1d(2), (3, 8))
    assert (r.params, r.products, r.bias_adds) == (0, 0, 0)


def test_pool3d_shapes_and_reprs():
    r = one(sc.MaxPool3d((1, 2, 2)), (8, 5, 16, 17))
    assert r.output_shape == (8, 5, 8, 8)
    assert repr(r.layer) == "MaxPool3d(kernel_size=(1, 2, 2))"
    assert one(sc.AvgPool3d(2, stride=(1, 2, 2)), (4, 6, 8, 9)).output_shape == (4, 5, 4, 4)
    assert repr(sc.AvgPool3d(2, stride=(1, 2, 2))) == "AvgPool3d(kernel_size=2, stride=(1, 2, 2))"
    assert one(sc.MaxPool3d(2, ceil_mode=True), (1, 3, 5, 4)).output_shape == (1, 2, 3, 2)
    assert sc.MaxPool3d(3).stride == (3, 3, 3)
    assert sc.MaxPool3d(2, dilation=(1, 2, 3)).dilation == (1, 2, 3)


def test_pool_nd_receptive_field():
    net = sc.Sequential(sc.MaxPool3d(2), sc.MaxPool3d(3, stride=1), input_shape=(1, n, n, n))
    assert net.layers[1].receptive_field == (6, 6, 6)
    assert net.layers[1].jump == (2, 2, 2)


@pytest.mark.parametrize("pool", [sc.MaxPool1d, sc.AvgPool1d, sc.MaxPool3d, sc.AvgPool3d])
def test_pool_nd_padding_at_most_half_the_kernel(pool):
    with pytest.raises(
        sc.ShapeError,
        match=r"padding must be at most half the kernel size "
        r"\(got kernel_size = 3, 2·padding = 4\)",
    ):
        pool(3, padding=2)


def test_pool_nd_errors_name_the_layer_and_axis():
    with pytest.raises(
        sc.ShapeError,
        match=r"^MaxPool3d\(kernel_size=2\) at layer 0 \(pool1\): the kernel must fit in the "
        r"padded input depth \(got padded depth = 1, effective kernel size = 2\)$",
    ):
        sc.Sequential(sc.MaxPool3d(2), input_shape=(1, 1, 4, 4))
    with pytest.raises(
        sc.ShapeError,
        match=r"^MaxPool1d\(kernel_size=5, stride=2, ceil_mode=True\) at layer 0 \(pool1\): "
        r"the output length must be at least 1 \(got output length = -1\)$",
    ):
        sc.Sequential(sc.MaxPool1d(5, stride=2, ceil_mode=True), input_shape=(1, 1))


def test_avg_pool3d_needs_the_unpadded_input_to_hold_the_kernel():
    # torch's avg_pool3d checks input >= kernel before padding, even in ceil mode; its
    # 1-D and 2-D siblings and max_pool3d do not.
    assert one(sc.MaxPool3d(3, padding=1), (1, 2, 2, 2)).output_shape == (1, 1, 1, 1)
    assert one(sc.AvgPool1d(3, padding=1), (1, 2)).output_shape == (1, 1)
    with pytest.raises(
        sc.ShapeError,
        match=r"^AvgPool3d\(kernel_size=3, padding=1\) at layer 0 \(pool1\): the kernel must fit "
        r"in the input depth before padding .* \(got input depth = 2, kernel_size = 3\)$",
    ):
        sc.Sequential(sc.AvgPool3d(3, padding=1), input_shape=(1, 2, 2, 2))
    with pytest.raises(sc.ShapeError, match=r"input width before padding"):
        sc.Sequential(sc.AvgPool3d((1, 1, 2), ceil_mode=True), input_shape=(1, 1, 1, 1))
    net = sc.Sequential(sc.AvgPool3d((1, 3, 3), padding=(0, 1, 1)), input_shape=(1, n, n, n))
    assert net.constraints == (sympy.Ge(n, 3),)


def test_pool_nd_symbolic_constraints():
    assert sc.Sequential(sc.MaxPool1d(k), input_shape=(1, n)).constraints == (sympy.Ge(n, k),)
    net = sc.Sequential(sc.MaxPool3d((1, k, k)), input_shape=(1, n, n, n))
    assert net.constraints == (sympy.Ge(n, k),)


# -- ConvTranspose2d ------------------------------------------------------------------------
def test_conv_transpose2d_unet_upsampling():
    up = sc.ConvTranspose2d(64, 32, kernel_size=2, stride=2)
    assert repr(up) == "ConvTranspose2d(64, 32, kernel_size=2, stride=2)"
    assert up.describe() == "nn.ConvTranspose2d(64, 32, kernel_size=2, stride=2)"
    r = one(up, (64, 16, 16))
    assert r.output_shape == (32, 32, 32)
    assert r.params_text == "64·32·2²+32 = 8224"
    assert r.products_text == "64·32·16²·2² = 2097152"
    assert r.bias_adds == 32 * 32 * 32
    assert r.name == "convt1"


def test_conv_transpose2d_every_hyperparameter():
    layer = sc.ConvTranspose2d(
        4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
        dilation=(1, 2), bias=False,
    )  # fmt: skip
    assert repr(layer) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), "
        "output_padding=(1, 2), groups=2, bias=False, dilation=(1, 2))"
    )
    r = one(layer, (4, 5, 7))
    # (5 - 1)·2 - 2 + 1·2 + 1 + 1 and (7 - 1)·3 - 0 + 2·1 + 2 + 1
    assert r.output_shape == (6, 10, 23)
    assert r.params_text == "4·3·3·2 = 72"
    assert r.products_text == "4·3·5·7·3·2 = 2520"
    assert r.bias_adds == 0


def test_conv_transpose2d_positional_order_puts_dilation_after_bias():
    assert sc.ConvTranspose2d(4, 8, 3, 2, 1, 1, 2, False, 2) == sc.ConvTranspose2d(
        4, 8, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2
    )


def test_conv_transpose2d_symbolic_formulas():
    r = one(sc.ConvTranspose2d(c, 2 * c, k, stride=s, padding=p), (c, n, n))
    side = (n - 1) * s - 2 * p + k
    assert r.output_shape == (2 * c, side, side)
    assert sympy.expand(r.params - (c * 2 * c * k**2 + 2 * c)) == 0
    assert r.products == c * 2 * c * n**2 * k**2
    assert conv_transpose_output_size(n, k, stride=s) == (n - 1) * s + k
    assert conv_transpose_output_size(7, 3, stride=2, padding=1, output_padding=1) == 14


def test_conv_transpose2d_output_padding_below_stride_or_dilation():
    assert sc.ConvTranspose2d(1, 1, 3, stride=2, output_padding=1).output_padding == (1, 1)
    assert sc.ConvTranspose2d(1, 1, 3, output_padding=1, dilation=2).output_padding == (1, 1)
    with pytest.raises(
        sc.ShapeError,
        match=r"^ConvTranspose2d\(1, 1, kernel_size=3, stride=2, output_padding=2\): "
        r"output_padding must be smaller than either stride or dilation \(height\) "
        r"\(got output_padding = 2, stride = 2, dilation = 1\)$",
    ):
        sc.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(sc.ShapeError, match=r"stride or dilation \(width\) .*stride = 1, dilation"):
        sc.ConvTranspose2d(1, 1, 3, stride=(2, 1), output_padding=1)
    with pytest.raises(sc.ShapeError, match=r"output_padding must be at least 0"):
        sc.ConvTranspose2d(1, 1, 3, stride=2, output_padding=-1)


def test_conv_transpose2d_symbolic_output_padding_is_a_constraint():
    layer = sc.ConvTranspose2d(1, 1, 3, stride=s, output_padding=o, dilation=d)
    net = sc.Sequential(layer, input_shape=(1, n, n))
    rule = sympy.Or(sympy.Lt(o, s), sympy.Lt(o, d))
    assert net.constraints == (rule,)
    assert [str(cond) for cond in net.conditions] == ["(o < d) | (o < s)"]
    assert net.is_valid({n: 5, s: 2, o: 1, d: 1})
    assert net.is_valid({n: 5, s: 1, o: 2, d: 3})
    assert net.violation({n: 5, s: 2, o: 2, d: 2}) == (
        "ConvTranspose2d(1, 1, kernel_size=3, stride=2, output_padding=2, dilation=2) at layer 0 "
        "(convt1): output_padding must be smaller than either stride or dilation (height) "
        "(got output_padding = 2, stride = 2, dilation = 2) (n=5, s=2, o=2, d=2)"
    )
    # decided as soon as sympy can: s - 1 < s always, s < s never (and dilation 1)
    always = sc.ConvTranspose2d(1, 1, 3, stride=s, output_padding=s - 1)
    assert sc.Sequential(always, input_shape=(1, n, n)).constraints == ()
    with pytest.raises(sc.ShapeError, match="smaller than either stride or dilation"):
        sc.ConvTranspose2d(1, 1, 3, stride=s, output_padding=s)
    with pytest.raises(sc.ShapeError, match="smaller than either stride or dilation"):
        layer.subs({s: 3, o: 3, d: 1})
    assert layer.subs({s: 3, o: 2, d: 1}) == sc.ConvTranspose2d(1, 1, 3, stride=3, output_padding=2)


def test_conv_transpose2d_output_must_be_at_least_one():
    # torch: "Calculated output size per channel: (-1 x -1). Output size is too small"
    with pytest.raises(
        sc.ShapeError,
        match=r"^ConvTranspose2d\(1, 1, kernel_size=3, padding=2\) at layer 0 \(convt1\): "
        r"the output height must be at least 1 \(got output height = -1\)$",
    ):
        sc.Sequential(sc.ConvTranspose2d(1, 1, 3, padding=2), input_shape=(1, 1, 1))
    with pytest.raises(sc.ShapeError, match=r"output width must be at least 1 .*= 0\)$"):
        sc.Sequential(sc.ConvTranspose2d(1, 1, 1, padding=1), input_shape=(1, 3, 2))
    assert one(sc.ConvTranspose2d(1, 1, 3, padding=1), (1, 1, 1)).output_shape == (1, 1, 1)
    net = sc.Sequential(sc.ConvTranspose2d(1, 1, 3, stride=2, padding=k), input_shape=(1, n, n))
    assert net.min_input(n, {k: 4}) == 4
    assert net.is_valid({n: 3, k: 4}) is False


def test_conv_transpose2d_groups_channels_and_padding_errors():
    with pytest.raises(sc.ShapeError, match=r"groups must divide in_channels.*in_channels = 4"):
        sc.ConvTranspose2d(4, 6, 3, groups=3)
    with pytest.raises(sc.ShapeError, match=r"groups must divide out_channels.*out_channels = 4"):
        sc.ConvTranspose2d(6, 4, 3, groups=3)
    with pytest.raises(sc.ShapeError, match=r"padding must be at least 0"):
        sc.ConvTranspose2d(1, 1, 3, padding=-1)
    with pytest.raises(
        sc.ShapeError,
        match=r"^ConvTranspose2d\(2, 1, kernel_size=3\) at layer 0 \(convt1\): the input must "
        r"have in_channels = 2 channels \(got input channels = 1, in_channels = 2\)$",
    ):
        sc.Sequential(sc.ConvTranspose2d(2, 1, 3), input_shape=(1, 5, 5))
    with pytest.raises(
        sc.UnsupportedLayerError,
        match=r"padding='same' is not a padding ConvTranspose2d knows",
    ):
        sc.ConvTranspose2d(1, 1, 3, padding="same")
    with pytest.raises(sc.UnsupportedLayerError, match=r"padding_mode='reflect'"):
        sc.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


def test_conv_transpose2d_symbolic_groups():
    net = sc.Sequential(sc.ConvTranspose2d(c, 8, 3, groups=g), input_shape=(c, n, n))
    assert sympy.Eq(sympy.Mod(c, g), 0) in net.constraints
    assert sympy.Eq(sympy.Mod(8, g), 0) in net.constraints
    assert net.layers[0].params_text == "c·8/g·3²+8 = 72·c/g + 8"
    assert net.subs({c: 4, g: 2}).params == 4 * 4 * 9 + 8


def test_conv_transpose_has_no_receptive_field_or_exact_fit():
    layer = sc.ConvTranspose2d(1, 1, 2, stride=2)
    assert layer.receptive((1, 1), (1, 1)) == (None, None)
    net = sc.Sequential(sc.Conv2d(1, 1, 3), layer, sc.Conv2d(1, 1, 3), input_shape=(1, 9, 9))
    assert net.layers[0].receptive_field == (3, 3)
    assert [r.receptive_field for r in net.layers[1:]] == [None, None]
    assert net.check_exact_fit() == ()


# -- ConvTranspose1d / 3d -------------------------------------------------------------------
def test_conv_transpose1d_and_3d():
    r = one(sc.ConvTranspose1d(16, 8, 4, stride=2, padding=1), (16, n))
    assert r.output_shape == (8, 2 * n)
    assert r.params_text == "16·8·4+8 = 520"
    assert r.products == 16 * 8 * n * 4
    r = one(sc.ConvTranspose3d(8, 4, (1, 2, 2), stride=(1, 2, 2), bias=False), (8, 3, 5, 6))
    assert r.output_shape == (4, 3, 10, 12)
    assert r.params_text == "8·4·2·2 = 128"
    assert r.products_text == "8·4·3·5·6·2·2 = 11520"
    with pytest.raises(sc.ShapeError, match=r"stride or dilation \(depth\)"):
        sc.ConvTranspose3d(1, 1, 3, output_padding=(1, 0, 0))
    with pytest.raises(sc.ShapeError, match=r"the output depth must be at least 1"):
        sc.Sequential(sc.ConvTranspose3d(1, 1, 1, padding=(1, 0, 0)), input_shape=(1, 2, 4, 4))
    assert (
        repr(sc.ConvTranspose1d(2, 2, 3, dilation=2))
        == "ConvTranspose1d(2, 2, kernel_size=3, dilation=2)"
    )


# -- substitute-then-derive equals derive-then-substitute -----------------------------------
@st.composite
def transpose_points(draw):
    return {
        n: draw(st.integers(1, 12)),
        k: draw(st.integers(1, 5)),
        s: draw(st.integers(1, 4)),
        p: draw(st.integers(1, 5)),
        o: draw(st.integers(1, 4)),
        d: draw(st.integers(1, 3)),
    }


@given(point=transpose_points())
def test_conv_transpose_subs_equals_direct(point):
    symbolic = sc.Sequential(
        # symbols are positive: padding and output_padding p - 1, o - 1 reach 0
        sc.ConvTranspose2d(2, 4, k, stride=s, padding=p - 1, output_padding=o - 1, dilation=d),
        sc.MaxPool2d(2),
        input_shape=(2, n, n + 1),
    )
    values = {str(key): v for key, v in point.items()}

    def direct():
        layer = sc.ConvTranspose2d(
            2,
            4,
            values["k"],
            stride=values["s"],
            padding=values["p"] - 1,
            output_padding=values["o"] - 1,
            dilation=values["d"],
        )
        return sc.Sequential(layer, sc.MaxPool2d(2), input_shape=(2, values["n"], values["n"] + 1))

    try:
        expected = direct()
    except sc.ShapeError:
        assert not symbolic.is_valid(point)
        with pytest.raises(sc.ShapeError):
            symbolic.subs(point)
        return
    at = symbolic.subs(point)
    assert symbolic.is_valid(point)
    assert at.output_shape == expected.output_shape
    assert (at.params, at.products, at.bias_adds) == (
        expected.params,
        expected.products,
        expected.bias_adds,
    )
    for r in expected.layers:
        assert at.layers[r.index].output_shape == r.output_shape
