"""The functional API: layers called on symbolic tensors, merges, and graph errors."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc

n, m = sc.symbols("n m")


def test_names_follow_creation_order_and_user_names():
    x = sc.Input((3, n, n))
    a = sc.Conv2d(3, 8, 3, padding=1)(x)
    b = sc.Conv2d(3, 8, 1)(x, name="shortcut")
    net = sc.Network(x, sc.ReLU()(sc.Add()(a, b)))
    assert [r.name for r in net.layers] == ["conv1", "shortcut", "add1", "relu1"]
    assert list(net.graph.predecessors("add1")) == ["conv1", "shortcut"]
    assert net["add1"].input_shapes == ((8, n, n), (8, n, n))
    assert net.output_shape == (8, n, n)
    assert net.params == 8 * (27 + 1) + 8 * (3 + 1)


def test_several_inputs_and_outputs():
    x, y = sc.Input((3, n, n)), sc.Input((5, n, n))
    both = sc.Concat()(x, y)
    net = sc.Network([x, y], [both, sc.ReLU()(y)])
    assert net.outputs == ("cat1", "relu1")
    assert net.output_shapes == ((8, n, n), (5, n, n))
    assert net.inputs == (x, y)
    with pytest.raises(sc.GraphError, match=r"2 outputs \(\['cat1', 'relu1'\]\), not one"):
        _ = net.output_shape
    assert net.subs({n: 4}).output_shapes == ((8, 4, 4), (5, 4, 4))


def test_a_tensor_read_twice_by_one_layer_is_two_edges():
    import networkx as nx

    n = sc.symbols("n")
    x = sc.Input((3, n, n))
    y = sc.ReLU()(x)
    net = sc.Network(x, sc.Concat()(sc.Mul()(y, y), y, y))
    assert net.output_shape == (9, n, n)
    assert net["mul1"].input_shapes == ((3, n, n), (3, n, n))
    assert net["mul1"].elementwise == 3 * n**2
    assert sorted(net.graph.in_edges("mul1", keys=True, data="port")) == [
        ("relu1", "mul1", 0, 0),
        ("relu1", "mul1", 1, 1),
    ]
    assert net.graph.number_of_edges("relu1", "cat1") == 2
    # the annotated graph builds the same network again, as does a MultiDiGraph by hand
    assert sc.Network(nx.MultiDiGraph(net.graph)).products == net.products
    g = nx.MultiDiGraph()
    g.add_node("x", layer=sc.Input((3, n, n)))
    g.add_node("sq", layer=sc.Mul())
    g.add_edge("x", "sq")
    g.add_edge("x", "sq")
    assert sc.Network(g)["sq"].elementwise == 3 * n**2


def test_graph_errors():
    x = sc.Input((3, 8, 8))
    y = sc.ReLU()(x)
    other = sc.Input((3, 8, 8))
    with pytest.raises(sc.GraphError, match="the outputs do not depend on the input"):
        sc.Network([x, other], y)
    with pytest.raises(sc.GraphError, match=r"depend on Input\(\(3, 8, 8\)\), which is not among"):
        sc.Network(x, sc.Add()(y, sc.Tanh()(other)))
    with pytest.raises(sc.GraphError, match=r"ReLU\(\) was called on 3"):
        sc.ReLU()(3)
    with pytest.raises(sc.GraphError, match=r"ReLU\(\) takes 1 input\(s\), got 2"):
        sc.ReLU()(x, y)
    with pytest.raises(sc.GraphError, match=r"Add\(\) merges two or more tensors, got 1"):
        sc.Add()(x)
    with pytest.raises(sc.GraphError, match="two nodes are named 'same'"):
        sc.Network(x, sc.Tanh()(sc.ReLU()(x, name="same"), name="same"))
    with pytest.raises(sc.GraphError, match="give the network's outputs"):
        sc.Network(x)


def test_merge_shape_rules():
    x = sc.Input((8, 10, 10))
    small = sc.MaxPool2d(2)(x)
    with pytest.raises(sc.ShapeError) as info:
        sc.Network(x, sc.Add()(x, small))
    assert str(info.value) == (
        "Add() at layer 1 (add1): the inputs of Add must agree on axis 1 "
        "(got input 1 size = 5, input 0 size = 10)"
    )
    with pytest.raises(
        sc.ShapeError,
        match=r"Concat\(\) at layer 1 \(cat1\): the inputs of "
        r"Concat must agree on every axis but 0, here 1",
    ):
        sc.Network(x, sc.Concat()(x, small))
    with pytest.raises(sc.ShapeError, match="the inputs must have one rank"):
        sc.Network(x, sc.Add()(x, sc.Flatten()(x)))
    gate = sc.AdaptiveAvgPool2d(1)(x)
    assert sc.Network(x, sc.Mul()(x, gate)).output_shape == (8, 10, 10)
    assert sc.Network(x, sc.Concat(dim=-1)(x, x2 := sc.ReLU()(x))).output_shape == (8, 10, 20)
    assert x2 is not None
    with pytest.raises(sc.ShapeError, match="dim must be a nonzero int"):
        sc.Concat(dim=0)


def test_symbolic_merge_disagreement_is_a_constraint():
    x = sc.Input((4, n, n))
    down = sc.MaxPool2d(2)(x)
    up = sc.Upsample(scale_factor=2)(down)
    net = sc.Network(x, sc.Concat()(up, x))
    assert net.constraints == (sympy.Eq(sympy.Mod(n, 2), 0),)  # n >= 2 follows
    assert net.is_valid({n: 8}) and not net.is_valid({n: 9})
    assert net.min_input(n) == 2
    assert "the inputs of Concat must agree on every axis but 0, here 1" in net.violation({n: 9})


def test_a_shared_layer_in_a_graph_counts_once():
    conv = sc.Conv2d(4, 4, 3, padding=1)
    x = sc.Input((4, n, n))
    net = sc.Network(x, sc.Add()(conv(x), conv(sc.ReLU()(x))))
    assert net.params == 4 * (4 * 9 + 1)
    assert net.products == 2 * 4 * 4 * 9 * n**2
    assert [r.shared for r in net.layers] == [False, False, True, False]


def test_batchnorm_parameters_and_buffers_apart():
    net = sc.Sequential(
        sc.Conv2d(3, 16, 3, bias=False),
        sc.BatchNorm2d(16),
        sc.BatchNorm2d(16, affine=False, track_running_stats=False),
        input_shape=(3, n, n),
    )
    assert net.params == 16 * 27 + 32
    assert net.buffers == 33
    assert net["bn1"].params_text == "2·16 = 32"
    assert net.products == 16 * 27 * (n - 2) ** 2
    with pytest.raises(sc.ShapeError, match=r"num_features = 8 channels \(got input channels = 3"):
        sc.Sequential(sc.BatchNorm2d(8), input_shape=(3, 4, 4))


def test_resampling_layers():
    x = (3, n, m)
    assert sc.Sequential(sc.Upsample(size=(7, 9)), input_shape=x).output_shape == (3, 7, 9)
    assert sc.Sequential(sc.Upsample(scale_factor=(2, 3)), input_shape=x).output_shape == (
        3,
        2 * n,
        3 * m,
    )
    assert sc.Sequential(sc.AdaptiveMaxPool2d((None, 1)), input_shape=x).output_shape == (3, n, 1)
    padded = sc.Sequential(sc.ZeroPad2d((1, 2, -1, 0)), input_shape=x)
    assert padded.output_shape == (3, n - 1, m + 3)
    assert padded.min_input(n, {m: 1}) == 2
    with pytest.raises(sc.ShapeError, match="exactly one of size and scale_factor"):
        sc.Upsample()
    with pytest.raises(sc.ShapeError, match="output_size must be positive"):
        sc.AdaptiveAvgPool2d(0)


def test_four_level_unet_domain_is_divisibility_by_16():
    x = sc.Input((1, n, n))
    skips, y, channels = [], x, 1
    for _ in range(4):
        y = sc.ReLU()(sc.Conv2d(channels, 8, 3, padding=1)(y))
        channels = 8
        skips.append(y)
        y = sc.MaxPool2d(2)(y)
    y = sc.Conv2d(8, 8, 3, padding=1)(y)
    for skip in reversed(skips):
        y = sc.Conv2d(16, 8, 3, padding=1)(sc.Concat()(sc.Upsample(scale_factor=2)(y), skip))
    net = sc.Network(x, y)
    assert net.constraints == (sympy.Eq(sympy.Mod(n, 16), 0),)
    assert net.min_input(n) == 16
    assert [s for s in range(1, 100) if net.is_valid({n: s})] == [16, 32, 48, 64, 80, 96]
