"""Properties of the shape rules: deriving with symbols then substituting equals deriving
with numbers, and each size formula equals direct integer arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.symbolic.sizes import conv_output_size, pool_output_size

H, W = sc.symbols("H W")


@st.composite
def windowed_layers(draw):
    """A random Conv2d, MaxPool2d or AvgPool2d with valid hyperparameters."""
    kind = draw(st.sampled_from(["conv", "max", "avg"]))
    k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if kind == "conv":
        g = draw(st.sampled_from([1, 2]))
        p = draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 3)))
        if p == "same":
            s = (1, 1)
        d = draw(st.integers(1, 3))
        return sc.Conv2d(
            2, 2 * g, k, stride=s, padding=p, dilation=d, groups=g, bias=draw(st.booleans())
        )
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    ceil = draw(st.booleans())
    if kind == "max":
        return sc.MaxPool2d(
            k, stride=s, padding=p, dilation=draw(st.integers(1, 3)), ceil_mode=ceil
        )
    return sc.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil)


@given(st.lists(windowed_layers(), min_size=1, max_size=4), st.integers(1, 64), st.integers(1, 64))
def test_substitute_after_deriving_equals_deriving_with_numbers(layers, h, w):
    layers = [sc.ReLU() if isinstance(x, sc.Conv2d) and i else x for i, x in enumerate(layers)]
    try:
        direct = sc.Sequential(*layers, input_shape=(2, h, w))
    except sc.ShapeError:
        direct = None
    symbolic = sc.Sequential(*layers, input_shape=(2, H, W))
    if direct is None:
        with pytest.raises(sc.ShapeError):
            symbolic.subs({H: h, W: w})
        return
    numeric = symbolic.subs({H: h, W: w})
    assert numeric.constraints == ()
    for a, b in zip(direct.layers, numeric.layers, strict=True):
        assert a.output_shape == b.output_shape
        assert a.params == b.params
        assert a.products == b.products
        assert a.params_text == b.params_text
        assert a.products_text == b.products_text


@given(
    st.integers(1, 200), st.integers(1, 9), st.integers(1, 5), st.integers(0, 4), st.integers(1, 3)
)
def test_conv_output_size_is_integer_arithmetic(size, k, s, p, d):
    assert conv_output_size(size, k, stride=s, padding=p, dilation=d) == (
        (size + 2 * p - d * (k - 1) - 1) // s + 1
    )


@given(st.integers(1, 200), st.integers(1, 9), st.integers(1, 5), st.integers(1, 3), st.data())
def test_ceil_mode_is_pytorchs_integer_rule(size, k, s, d, data):
    p = data.draw(st.integers(0, k // 2))
    reach = size + 2 * p - d * (k - 1) - 1
    assume(reach + s - 1 >= 0)
    expected = -(-reach // s) + 1  # ceil, then drop a window starting in the right padding
    if (expected - 1) * s >= size + p:
        expected -= 1
    assert pool_output_size(size, k, stride=s, padding=p, dilation=d, ceil_mode=True) == expected
