"""Each layer's shape, parameter and product rules, and the errors bad input gets."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc
from symcnn.symbolic.sizes import conv_output_size, pool_output_size, same_padding

n, k, s, c, g = sc.symbols("n k s c g")


def one(layer, shape):
    """Derive a one-layer network and return its record."""
    return sc.Sequential(layer, input_shape=shape).layers[0]


# -- size formulas ------------------------------------------------------------------------
def test_conv_output_size_is_pytorch_formula():
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(224, 7, stride=2, padding=3) == 112
    assert conv_output_size(10, 3, dilation=2) == 6
    assert conv_output_size(n, k, stride=s) == sympy.floor((n - k + s) / s)
    assert conv_output_size(n, k) == n - k + 1


def test_pool_ceil_mode_drops_window_starting_in_right_padding():
    # PyTorch: H=5, kernel 2, stride 2, padding 1, ceil_mode -> 3 (a naive ceil gives 4).
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert pool_output_size(5, 2, stride=2, padding=1) == 3
    assert pool_output_size(6, 2, stride=2, padding=1, ceil_mode=True) == 4
    assert pool_output_size(4, 1, stride=2, ceil_mode=True) == 2
    # stride = kernel: ceil mode is ceil(n/k), in one floor
    assert pool_output_size(n, 2, ceil_mode=True) == sympy.floor((n + 1) / 2)
    assert pool_output_size(n, k, ceil_mode=True) == sympy.floor((n + k - 1) / k)


def test_same_padding_puts_the_odd_unit_on_the_right():
    assert same_padding(4) == (1, 2)
    assert same_padding(3, dilation=2) == (2, 2)
    assert same_padding(k) == (sympy.floor((k - 1) / 2), k - 1 - sympy.floor((k - 1) / 2))


# -- Conv2d -------------------------------------------------------------------------------
def test_conv2d_groups_params_and_products():
    r = one(sc.Conv2d(4, 8, 3, groups=2), (4, 10, 12))
    assert r.output_shape == (8, 8, 10)
    assert r.params == 8 * (2 * 9 + 1)
    assert r.params_text == "8·(2·3²+1) = 152"
    assert r.products == 8 * 2 * 8 * 10 * 9
    assert r.products_text == "8·2·8·10·3² = 11520"


def test_conv2d_non_square_stride_padding_dilation_no_bias():
    r = one(
        sc.Conv2d(3, 6, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2), bias=False),
        (3, 9, 11),
    )
    assert r.output_shape == (6, 5, 7)
    assert r.params_text == "6·3·3·5 = 270"
    assert r.products == 6 * 3 * 5 * 7 * 15


def test_conv2d_same_and_valid_padding():
    r = one(sc.Conv2d(2, 4, 4, padding="same"), (2, n, n + 1))
    assert r.output_shape == (4, n, n + 1)
    assert r.layer.pads() == ((1, 2), (1, 2))
    assert one(sc.Conv2d(2, 4, k, padding="same", dilation=3), (2, n, n)).output_shape == (4, n, n)
    assert one(sc.Conv2d(2, 4, 3, padding="valid"), (2, 7, 7)).output_shape == (4, 5, 5)
    with pytest.raises(sc.ShapeError, match=r"padding='same' needs stride 1.*stride = 2"):
        sc.Conv2d(2, 4, 3, stride=2, padding="same")
    with pytest.raises(sc.UnsupportedLayerError, match="'full'"):
        sc.Conv2d(2, 4, 3, padding="full")


def test_conv2d_symbolic_formulas():
    r = one(sc.Conv2d(c, 2 * c, k, stride=s), (c, n, n))
    width = sympy.floor((n - k + s) / s)
    assert r.output_shape == (2 * c, width, width)
    assert r.params == 2 * c * (c * k**2 + 1)
    assert r.products == 2 * c * c * width**2 * k**2


def test_conv2d_repr_reads_as_the_constructor():
    assert repr(sc.Conv2d(1, 32, kernel_size=5)) == "Conv2d(1, 32, kernel_size=5)"
    assert repr(sc.Conv2d(3, 64, (3, 5), stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 64, kernel_size=(3, 5), stride=2, padding=1, bias=False)"
    )
    assert repr(sc.Conv2d(1, 8, k, padding="same")) == "Conv2d(1, 8, kernel_size=k, padding='same')"
    assert sc.Conv2d(1, 32, k).subs({k: 5}) == sc.Conv2d(1, 32, 5)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: sc.Conv2d(1, 32, 5, stride=0), r"stride must be positive \(got stride = 0"),
        (lambda: sc.Conv2d(0, 32, 5), r"in_channels must be positive \(got in_channels = 0"),
        (lambda: sc.Conv2d(1, 32, -1), r"kernel_size must be positive \(got kernel_size = -1"),
        (lambda: sc.Conv2d(1, 32, 5, padding=-1), r"padding must be at least 0"),
        (lambda: sc.Conv2d(1, 32, 2.5), r"'kernel_size' must be an integer .*\(got 2\.5\)"),
        (lambda: sc.Conv2d(1, 32, True), r"'kernel_size' must be an integer .*\(got True\)"),
        (lambda: sc.Conv2d(1, 32, sympy.Rational(5, 2)), r"'kernel_size' must be an integer"),
        (lambda: sc.Conv2d(1, 32, sympy.Symbol("m")), r"m must be declared integer.*symbols"),
        (lambda: sc.Conv2d(1, 32, (3, 3, 3)), r"'kernel_size' needs 2 values"),
        (
            lambda: sc.Conv2d(1, 32, n / 2),
            r"'kernel_size' = n/2 is not known to be an integer "
            r"\(divide with floor",
        ),
        (lambda: sc.Conv2d(3, 6, 3, groups=2), r"groups must divide in_channels.*in_channels = 3"),
        (lambda: sc.Conv2d(4, 6, 3, groups=4), r"must divide out_channels.*out_channels = 6"),
    ],
)
def test_conv2d_bad_hyperparameters(make, pattern):
    with pytest.raises(sc.ShapeError, match=pattern):
        make()


def test_conv2d_bad_hyperparameter_message_names_the_layer():
    with pytest.raises(sc.ShapeError, match=r"^Conv2d\(1, 32, kernel_size=5, stride=0\): "):
        sc.Conv2d(1, 32, 5, stride=0)


def test_conv2d_symbolic_groups_become_constraints():
    net = sc.Sequential(sc.Conv2d(c, 8, 3, groups=g), input_shape=(c, 9, 9))
    assert sympy.Eq(sympy.Mod(c, g), 0) in net.constraints
    assert sympy.Eq(sympy.Mod(8, g), 0) in net.constraints
    assert net.subs({c: 4, g: 2}).params == 8 * (2 * 9 + 1)
    with pytest.raises(sc.ShapeError, match="groups must divide in_channels"):
        net.subs({c: 3, g: 2})
    # divisibility that holds for every value is decided, not kept
    assert (
        sc.Sequential(sc.Conv2d(2 * c, 2 * c, 3, groups=c), input_shape=(2 * c, 9, 9)).constraints
        == ()
    )


def test_conv2d_channel_mismatch():
    with pytest.raises(sc.ShapeError) as info:
        sc.Sequential(sc.Conv2d(3, 8, 3), input_shape=(1, 28, 28))
    assert str(info.value) == (
        "Conv2d(3, 8, kernel_size=3) at layer 0 (conv1): the input must have in_channels = 3 "
        "channels (got input channels = 1, in_channels = 3)"
    )


def test_conv2d_kernel_larger_than_padded_input():
    with pytest.raises(
        sc.ShapeError,
        match=r"kernel must fit in the padded input height "
        r"\(got padded height = 5, effective kernel size = 6",
    ):
        sc.Sequential(sc.Conv2d(1, 1, 6), input_shape=(1, 5, 9))
    assert one(sc.Conv2d(1, 1, 6, padding=1), (1, 5, 9)).output_shape == (1, 2, 6)
    with pytest.raises(sc.ShapeError, match="effective kernel size = 5"):
        sc.Sequential(sc.Conv2d(1, 1, 3, dilation=2), input_shape=(1, 9, 4))


def test_conv2d_needs_a_three_axis_input():
    with pytest.raises(
        sc.ShapeError,
        match=r"at layer 0 \(conv1\) needs a per-sample input of "
        r"3 axes \(C, H, W\), got 256",
    ):
        sc.Sequential(sc.Conv2d(1, 1, 3), input_shape=(256,))


def test_a_transposed_convolution_pads_with_zeros_only_as_in_torch():
    with pytest.raises(sc.UnsupportedLayerError, match="padding_mode='reflect'"):
        sc.ConvTranspose2d(1, 1, 3, padding=1, padding_mode="reflect")


# -- pooling ------------------------------------------------------------------------------
def test_pool_stride_defaults_to_kernel():
    assert sc.MaxPool2d(3).stride == (3, 3)
    assert repr(sc.MaxPool2d(3)) == "MaxPool2d(kernel_size=3)"
    assert repr(sc.MaxPool2d(3, stride=2)) == "MaxPool2d(kernel_size=3, stride=2)"
    assert repr(sc.AvgPool2d(2, ceil_mode=True)) == "AvgPool2d(kernel_size=2, ceil_mode=True)"
    assert one(sc.MaxPool2d(3), (32, 24, 25)).output_shape == (32, 8, 8)


def test_pool_ceil_mode_in_a_network():
    r = one(sc.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), (3, 5, 6))
    assert r.output_shape == (3, 3, 4)
    assert r.params == 0 and r.products == 0


@pytest.mark.parametrize("pool", [sc.MaxPool2d, sc.AvgPool2d])
def test_pool_padding_at_most_half_the_kernel(pool):
    assert pool(4, padding=2).padding == (2, 2)
    with pytest.raises(
        sc.ShapeError,
        match=r"padding must be at most half the kernel size "
        r"\(got kernel_size = 3, 2·padding = 4\)",
    ):
        pool(3, padding=2)


def test_max_pool_padding_rule_uses_the_kernel_not_the_dilated_kernel():
    # PyTorch checks kW/2 >= padW on the undilated kernel size.
    with pytest.raises(sc.ShapeError, match="at most half the kernel size"):
        sc.MaxPool2d(2, dilation=3, padding=2)


@pytest.mark.parametrize("pool", [sc.MaxPool2d, sc.AvgPool2d])
def test_pool_stride_zero_is_an_error(pool):
    with pytest.raises(sc.ShapeError, match=r"stride must be positive \(got stride = 0"):
        pool(2, stride=0)


def test_pool_needs_a_window_inside_the_input():
    with pytest.raises(
        sc.ShapeError,
        match=r"MaxPool2d\(kernel_size=2\) at layer 0 \(pool1\): "
        r"the kernel must fit in the padded input width",
    ):
        sc.Sequential(sc.MaxPool2d(2), input_shape=(1, 4, 1))
    with pytest.raises(
        sc.ShapeError,
        match=r"the output height must be at least 1 "
        r"\(got output height = -1\)$",
    ):
        sc.Sequential(sc.MaxPool2d(5, stride=2, ceil_mode=True), input_shape=(1, 1, 9))


def test_pool_symbolic_constraint():
    net = sc.Sequential(sc.MaxPool2d(k), input_shape=(1, n, n))
    assert net.constraints == (sympy.Ge(n, k),)
    assert net.output_shape == (1, sympy.floor(n / k), sympy.floor(n / k))


# -- linear, flatten, view ----------------------------------------------------------------
def test_linear_mismatch_after_flatten():
    with pytest.raises(sc.ShapeError) as info:
        sc.Sequential(sc.Flatten(), sc.Linear(256, 200), input_shape=(10, 5, 5))
    assert str(info.value) == (
        "Linear(256, 200) at layer 1 (linear1): the input's last axis must have in_features = 256"
        " entries (got input features = 250, in_features = 256)"
    )


def test_linear_on_the_last_axis_of_a_map():
    r = one(sc.Linear(n, 7), (3, 4, n))
    assert r.output_shape == (3, 4, 7)
    assert r.params == 7 * (n + 1)
    assert r.products == 7 * n * 3 * 4


def test_linear_symbolic_in_features_is_a_constraint_until_decided():
    net = sc.Sequential(sc.Conv2d(1, 4, 3), sc.Flatten(), sc.Linear(256, 10), input_shape=(1, n, n))
    assert net.constraints == (sympy.Ge(n, 3), sympy.Eq(4 * (n - 2) ** 2, 256))
    assert net.subs({n: 10}).constraints == ()
    with pytest.raises(
        sc.ShapeError,
        match=r"in_features = 256 entries \(got input features = "
        r"324, in_features = 256\) \(n=11\)",
    ):
        net.subs({n: 11})


def test_lazy_linear_reads_in_features_from_the_graph():
    r = one(sc.LazyLinear(10, bias=False), (n,))
    assert r.params == 10 * n
    assert r.products == 10 * n
    assert repr(r.layer) == "LazyLinear(10, bias=False)"


def test_flatten_dims_are_pytorch_dims_with_the_batch_axis():
    assert one(sc.Flatten(), (64, 2, 3)).output_shape == (384,)
    assert one(sc.Flatten(2), (64, 2, 3)).output_shape == (64, 6)
    assert one(sc.Flatten(1, 2), (64, 2, 3)).output_shape == (128, 3)
    assert one(sc.Flatten(-2), (64, 2, 3)).output_shape == (64, 6)
    with pytest.raises(sc.ShapeError, match="start_dim=0 would merge the batch axis"):
        sc.Flatten(0)
    with pytest.raises(
        sc.ShapeError,
        match=r"^Flatten\(start_dim=5\) at layer 0 \(flatten1\): "
        r"start_dim and end_dim must lie within the input's "
        r"4 axes \(batch included; 3 per sample\)",
    ):
        sc.Sequential(sc.Flatten(5), input_shape=(64, 2, 3))


def test_view_and_reshape():
    assert one(sc.Reshape(-1, 16, 4, 4), (256,)).output_shape == (16, 4, 4)
    assert sc.Reshape(-1, 16, 4, 4).describe() == "x.reshape(-1, 16, 4, 4)"
    assert sc.View((-1, 256)) == sc.View(-1, 256)
    with pytest.raises(sc.ShapeError, match=r"first size is the batch axis and must be -1"):
        sc.View(256)
    with pytest.raises(sc.ShapeError, match="only the batch axis may be -1"):
        sc.View(-1, -1)
    with pytest.raises(sc.ShapeError, match="View size must be positive"):
        sc.View(-1, 0)
    assert sc.View(-1, 4 * k).subs({k: 2}) == sc.View(-1, 8)


# -- elementwise ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [
        sc.ReLU(),
        sc.ReLU6(),
        sc.LeakyReLU(0.2),
        sc.Sigmoid(),
        sc.Tanh(),
        sc.GELU("tanh"),
        sc.SiLU(),
        sc.Hardswish(),
        sc.Dropout(0.3),
    ],
)
def test_elementwise_layers_preserve_shape_and_count_nothing(layer):
    r = one(layer, (3, n, 2 * n))
    assert r.output_shape == (3, n, 2 * n)
    assert (r.params, r.products) == (0, 0)
    assert r.name == type(layer).__name__.lower() + "1"


def test_elementwise_reprs_and_bad_values():
    assert repr(sc.LeakyReLU()) == "LeakyReLU()"
    assert repr(sc.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert sc.Dropout().describe() == "nn.Dropout()"
    with pytest.raises(sc.ShapeError, match=r"Dropout\(p=1\.5\): the probability p must lie"):
        sc.Dropout(1.5)
    with pytest.raises(sc.ShapeError, match="approximate must be 'none' or 'tanh'"):
        sc.GELU("fast")


# -- cs231n's exact fit, offered apart -------------------------------------------------------
def test_exact_fit_is_optional_and_separate():
    net = sc.Sequential(sc.Conv2d(1, 1, 3, stride=2), input_shape=(1, 28, 28))
    assert net.output_shape == (1, 13, 13)  # PyTorch floors; the net is valid
    with pytest.raises(
        sc.ShapeError,
        match=r"Conv2d\(1, 1, kernel_size=3, stride=2\) at layer 0 "
        r"\(conv1\): the stride must tile the padded input",
    ):
        net.check_exact_fit()
    assert (
        sc.Sequential(sc.Conv2d(1, 1, 3, stride=2), input_shape=(1, 27, 27)).check_exact_fit() == ()
    )
    sym = sc.Sequential(sc.MaxPool2d(2), input_shape=(1, n, n))
    assert sym.check_exact_fit() == (sympy.Eq(sympy.Mod(n, 2), 0),)


def test_layer_subs_checks_the_result():
    assert sc.MaxPool2d(k).subs({k: 3}) == sc.MaxPool2d(3)
    with pytest.raises(sc.ShapeError, match=r"Conv2d\(1, 1, kernel_size=3, stride=0\): stride"):
        sc.Conv2d(1, 1, 3, stride=s - 1).subs({s: 1})
