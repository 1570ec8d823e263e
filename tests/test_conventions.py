"""Counting conventions, activation memory and receptive fields."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc

from conftest import seed_layers

n, k = sc.symbols("n k")


def test_the_seed_first_convolution_under_each_convention():
    conv = sc.Sequential(sc.Conv2d(1, 32, kernel_size=5), input_shape=(1, 28, 28))
    assert conv.bias_adds == 32 * 24 * 24
    assert [conv.count(c) for c in ("products", "mult-adds", "flops", "flops+bias")] == [
        460800,
        479232,
        921600,
        940032,
    ]
    assert conv.layers[0].count("mult-adds") == 479232
    with pytest.raises(sc.SymcnnError, match="unknown counting convention 'macs'"):
        conv.count("macs")


def test_conventions_on_the_seed_network(seed_net):
    at28 = seed_net.subs({n: 28, k: 5})
    bias = 32 * 24 * 24 + 64 * 4 * 4 + 200 + 10
    assert at28.bias_adds == bias
    assert at28.count("mult-adds") == 1333200 + bias
    assert at28.count("flops") == 2 * 1333200
    no_bias = sc.Sequential(
        sc.Conv2d(1, 4, 3, bias=False),
        sc.Flatten(),
        sc.Linear(4 * (n - 2) ** 2, 2, bias=False),
        input_shape=(1, n, n),
    )
    assert no_bias.bias_adds == 0
    assert no_bias.count("flops+bias") == 2 * no_bias.products
    assert seed_net.evaluate("bias_adds", n=[28], k=5).tolist() == [bias]


def test_activation_memory_counts_input_and_every_output(seed_net):
    at28 = seed_net.subs({n: 28, k: 5})
    elements = 28 * 28 + at28.output_elements
    assert at28.activation_memory() == 4 * elements
    assert at28.activation_memory(bytes_per_element=2) == 2 * elements
    assert seed_net.activation_memory(1).free_symbols == {n, k}


def test_receptive_field_and_jump(nk):
    n, k = nk
    net = sc.Sequential(*seed_layers(k), input_shape=(1, n, n))
    assert net["conv1"].receptive_field == (k, k)
    assert net["pool1"].jump == (3, 3)
    assert net["conv2"].receptive_field == (4 * k - 1, 4 * k - 1)
    assert net.subs({k: 5})["conv2"].receptive_field == (19, 19)  # the seed's 19×19
    assert net["view1"].receptive_field is None
    dilated = sc.Sequential(
        sc.Conv2d(1, 1, 3, dilation=2),
        sc.MaxPool2d(2, stride=1),
        sc.Upsample(scale_factor=2),
        input_shape=(1, 20, 20),
    )
    assert [r.receptive_field for r in dilated.layers] == [(5, 5), (6, 6), (6, 6)]
    assert dilated.layers[-1].jump == (sympy.Rational(1, 2), sympy.Rational(1, 2))


def test_receptive_field_of_merged_branches():
    x = sc.Input((3, n, n))
    wide = sc.Conv2d(3, 3, 5, padding=2)(x)
    narrow = sc.Conv2d(3, 3, 3, padding=1)(x)
    net = sc.Network(x, sc.Add()(wide, narrow))
    assert net["add1"].receptive_field == (5, 5)  # the larger branch, not an average
    gated = sc.Network(x, sc.Mul()(narrow, sc.AdaptiveAvgPool2d(1)(narrow)))
    assert gated["mul1"].receptive_field is None  # a global gate sees everything


def test_elementwise_multiplications_are_their_own_quantity():
    x = sc.Input((8, n, n))
    y = sc.BatchNorm2d(8)(sc.Conv2d(8, 8, 3, padding=1)(x))
    gate = sc.Sigmoid()(sc.AdaptiveAvgPool2d(1)(y))
    net = sc.Network(x, sc.Mul()(y, gate))
    assert net["bn1"].elementwise == 8 * n**2
    assert net["mul1"].elementwise == 8 * n**2
    assert net.elementwise == 16 * n**2
    assert net.products == 8 * 8 * 9 * n**2  # the convolution's only
    assert net.evaluate("elementwise", n=[4, 5]).tolist() == [256, 400]


def test_average_pooling_multiplies_once_per_output():
    net = sc.Sequential(sc.AvgPool2d(2), sc.MaxPool2d(2), input_shape=(3, n, n))
    assert net["pool1"].elementwise == 3 * sympy.floor(n / 2) ** 2
    assert net["pool2"].elementwise == 0
    assert net.products == 0


def test_quantities_and_conventions_are_str_enums_also_taken_as_strings():
    n = sc.symbols("n")
    net = sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, n, n))
    assert [q.value for q in sc.Quantity] == [
        "params",
        "products",
        "output_elements",
        "bias_adds",
        "buffers",
        "elementwise",
    ]
    assert [c.value for c in sc.Convention] == ["products", "mult-adds", "flops", "flops+bias"]
    assert sc.Quantity.PRODUCTS == "products" and str(sc.Convention.FLOPS_BIAS) == "flops+bias"
    assert net.count(sc.Convention.FLOPS) == net.count("flops") == 144 * (n - 2) ** 2
    assert net.evaluate(sc.Quantity.PRODUCTS, n=[5, 6]).tolist() == [648, 1152]
    assert net.layers[0].count(sc.Convention.MULT_ADDS) == 80 * (n - 2) ** 2
    with pytest.raises(sc.SymcnnError, match=r"^unknown quantity 'flops': choose one of params,"):
        net.evaluate("flops", n=5)
    with pytest.raises(sc.SymcnnError, match=r"^unknown counting convention 'macs': choose one"):
        net.count("macs")
