"""The Network graph: construction, records, sharing, substitution, graph errors."""

from __future__ import annotations

from collections import OrderedDict

import networkx as nx
import pytest
import sympy

import symcnn as sc
from symcnn.graph.network import EDGE_PORT, NODE_LAYER, NODE_RECORD

n, k = sc.symbols("n k")


def test_graph_is_an_annotated_digraph(seed_net):
    g = seed_net.graph
    assert isinstance(g, nx.DiGraph)
    assert list(g.nodes) == [
        "input",
        "conv1",
        "pool1",
        "relu1",
        "conv2",
        "pool2",
        "relu2",
        "view1",
        "linear1",
        "relu3",
        "linear2",
    ]
    assert nx.is_directed_acyclic_graph(g)
    assert g.nodes["conv1"][NODE_LAYER] == sc.Conv2d(1, 32, k)
    assert g.nodes["conv1"][NODE_RECORD] is seed_net.layers[0]
    assert g.nodes["input"][NODE_LAYER] == sc.Input((1, n, n))
    assert g.edges["input", "conv1", 0][EDGE_PORT] == 0
    assert seed_net.input_shape == (1, n, n)
    assert seed_net.inputs == (sc.Input((1, n, n)),)


def test_records_are_frozen(seed_net):
    record = seed_net.layers[0]
    with pytest.raises(AttributeError):
        record.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        record.layer.out_channels = 3  # type: ignore[misc]


def test_lookup_by_name_and_index(seed_net):
    assert seed_net["pool2"] is seed_net[4]
    assert len(seed_net) == 10
    with pytest.raises(KeyError):
        seed_net["pool9"]


def test_named_layers_from_a_mapping():
    net = sc.Sequential(
        OrderedDict([("features", sc.Conv2d(1, 4, 3)), ("act", sc.ReLU())]), input_shape=(1, 8, 8)
    )
    assert [r.name for r in net.layers] == ["features", "act"]
    with pytest.raises(sc.GraphError, match="Sequential takes symcnn layers"):
        sc.Sequential(sc.ReLU(), "relu", input_shape=(1, 8, 8))


def test_a_layer_used_twice_counts_its_parameters_once():
    shared = sc.Conv2d(8, 8, 3, padding=1)
    net = sc.Sequential(
        sc.Conv2d(1, 8, 3, padding=1), shared, sc.ReLU(), shared, input_shape=(1, 10, 10)
    )
    assert [r.shared for r in net.layers] == [False, False, False, True]
    assert net.params == 8 * (9 + 1) + 8 * (8 * 9 + 1)
    assert net.products == 8 * 100 * 9 + 2 * 8 * 8 * 100 * 9
    # sharing survives substitution
    m = sc.symbols("m")
    sym = sc.Sequential(sc.Conv2d(1, 8, 3, padding=1), shared, shared, input_shape=(1, m, m))
    assert sym.subs({m: 10}).params == net.params


def test_an_equal_but_distinct_layer_is_not_shared():
    net = sc.Sequential(
        sc.Conv2d(8, 8, 3, padding=1), sc.Conv2d(8, 8, 3, padding=1), input_shape=(8, 10, 10)
    )
    assert net.params == 2 * 8 * (8 * 9 + 1)


def test_subs_accepts_symbols_or_names_and_checks_values(seed_net):
    by_symbol = seed_net.subs({n: 28, k: 5})
    by_name = seed_net.subs({"n": 28, "k": 5})
    assert by_symbol.params == by_name.params == 105506
    assert isinstance(by_symbol, sc.Sequential)
    assert by_symbol.bindings == {n: 28, k: 5}
    partial = seed_net.subs({k: 5})
    assert partial.free_symbols == {n}
    assert partial.params == 105506
    assert partial.subs({n: 28}).bindings == {k: 5, n: 28}
    with pytest.raises(sc.ShapeError, match=r"cannot substitute 'm'.*its symbols: k, n"):
        seed_net.subs({"m": 3})
    with pytest.raises(sc.ShapeError, match="n is a positive integer and cannot be 0"):
        seed_net.subs({n: 0})
    with pytest.raises(sc.ShapeError, match="n is a positive integer and cannot be -4"):
        seed_net.subs({n: -4})
    with pytest.raises(sc.ShapeError, match=r"'n' must be an integer .*\(got 28\.0\)"):
        seed_net.subs({n: 28.0})


def test_subs_with_an_expression_keeps_it_symbolic(seed_net):
    m = sc.symbols("m")
    doubled = seed_net.subs({n: 2 * m, k: 5})
    assert doubled.free_symbols == {m}
    assert doubled.subs({m: 14}).products == 1333200


def test_substituted_network_does_not_touch_the_original(seed_net):
    before = seed_net.layers
    seed_net.subs({n: 28, k: 5})
    assert seed_net.layers == before
    assert seed_net.free_symbols == {n, k}


def test_user_graph_is_copied_not_mutated():
    g = nx.DiGraph()
    g.add_node("x", layer=sc.Input((1, 8, 8)))
    g.add_node("c", layer=sc.Conv2d(1, 2, 3))
    g.add_edge("x", "c", port=0)
    net = sc.Network(g)
    assert net.output_shape == (2, 6, 6)
    assert "record" not in g.nodes["c"]
    assert net.graph is not g


def test_cycle_is_spelled_out():
    g = nx.DiGraph()
    g.add_node("x", layer=sc.Input((1, 8, 8)))
    for name in ("a", "b"):
        g.add_node(name, layer=sc.ReLU())
    g.add_edges_from([("x", "a"), ("a", "b"), ("b", "a")])
    with pytest.raises(sc.GraphError, match="the graph has a cycle: a → b → a"):
        sc.Network(g)


def test_disconnected_node_and_missing_layer():
    g = nx.DiGraph()
    g.add_node("x", layer=sc.Input((1, 8, 8)))
    g.add_node("c", layer=sc.Conv2d(1, 2, 3))
    g.add_node("lonely", layer=sc.ReLU())
    g.add_edge("x", "c")
    with pytest.raises(
        sc.GraphError,
        match=r"ReLU\(\) at node 'lonely' takes 1 input\(s\), "
        r"but 0 edge\(s\) lead to it",
    ):
        sc.Network(g)
    h = nx.DiGraph()
    h.add_node("x")
    with pytest.raises(sc.GraphError, match="node 'x' carries no symcnn layer"):
        sc.Network(h)


def test_two_sinks_have_no_single_output_shape():
    g = nx.DiGraph()
    g.add_node("x", layer=sc.Input((1, 8, 8)))
    g.add_node("a", layer=sc.ReLU())
    g.add_node("b", layer=sc.Tanh())
    g.add_edges_from([("x", "a"), ("x", "b")])
    net = sc.Network(g)
    assert [r.output_shape for r in net.layers] == [(1, 8, 8), (1, 8, 8)]
    with pytest.raises(sc.GraphError, match=r"2 outputs \(\['a', 'b'\]\), not one"):
        _ = net.output_shape
    assert repr(net) == "<Network: 2 layers>"


def test_input_shape_must_be_positive_integers():
    with pytest.raises(sc.ShapeError, match=r"input size must be positive \(got input size = 0"):
        sc.Sequential(sc.ReLU(), input_shape=(1, 0, 8))
    with pytest.raises(sc.ShapeError, match=r"'shape entry' must be an integer .*\(got 8\.5\)"):
        sc.Sequential(sc.ReLU(), input_shape=(1, 8.5, 8))
    loose = sympy.Symbol("h")
    with pytest.raises(sc.ShapeError, match="h must be declared integer"):
        sc.Sequential(sc.ReLU(), input_shape=(1, loose, 8))
    # a shape that is only positive under a condition keeps that condition
    net = sc.Sequential(sc.ReLU(), input_shape=(1, n - 3, 8))
    assert net.constraints == (sympy.Ge(n, 4),)
    with pytest.raises(
        sc.ShapeError,
        match=r"^Input\(\(1, 0, 8\)\) \(input\): input size "
        r"must be positive \(got input size = 0\) \(n=3\)$",
    ):
        net.subs({n: 3})


def test_str_is_the_text_table(seed_net):
    text = str(seed_net.subs({n: 28, k: 5}))
    assert text.splitlines()[2].split() == [
        "0",
        "nn.Conv2d(1,",
        "32,",
        "kernel_size=5)",
        "1×28×28",
        "32×24×24",
        "32·(5²+1)",
        "=",
        "832",
        "32·24²·5²",
        "=",
        "460800",
    ]
    assert text.splitlines()[-1].split() == ["total", "105506", "1333200"]
    assert repr(seed_net) == "<Sequential: 10 layers, input 1×n×n → output 10>"


def test_public_api_snapshot():
    assert sorted(sc.__all__) == sorted(
        [
            "AdaptiveAvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveAvgPool3d",
            "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d",
            "AdaptiveMaxPool3d",
            "Add",
            "Amax",
            "Amin",
            "AvgPool1d",
            "AvgPool2d",
            "AvgPool3d",
            "BatchNorm1d",
            "BatchNorm2d",
            "BatchNorm3d",
            "CircularPad1d",
            "CircularPad2d",
            "CircularPad3d",
            "ClassPositionalEncoding",
            "Concat",
            "Condition",
            "ConstantPad1d",
            "ConstantPad2d",
            "ConstantPad3d",
            "Conv1d",
            "Conv2d",
            "Conv3d",
            "ConvTranspose1d",
            "ConvTranspose2d",
            "ConvTranspose3d",
            "Convention",
            "Derivation",
            "Div",
            "Dropout",
            "ELU",
            "Einsum",
            "Expand",
            "Flatten",
            "GELU",
            "GraphError",
            "GraphvizError",
            "GroupNorm",
            "Hardsigmoid",
            "Hardswish",
            "Identity",
            "Input",
            "InstanceNorm1d",
            "InstanceNorm2d",
            "InstanceNorm3d",
            "Layer",
            "LayerNorm",
            "LayerRecord",
            "LazyLinear",
            "LeakyReLU",
            "Linear",
            "LocalResponseNorm",
            "LogSoftmax",
            "LogSumExp",
            "MatMul",
            "Max",
            "MaxPool1d",
            "MaxPool2d",
            "MaxPool3d",
            "Maximum",
            "Mean",
            "Min",
            "Minimum",
            "Mish",
            "Mul",
            "MultiheadAttention",
            "MultiscaleAttention",
            "Narrow",
            "Network",
            "Normalize",
            "PReLU",
            "ParamConcat",
            "ParamOp",
            "Permute",
            "PixelShuffle",
            "PixelUnshuffle",
            "Quantity",
            "ReLU",
            "ReLU6",
            "ReflectionPad1d",
            "ReflectionPad2d",
            "ReflectionPad3d",
            "Repeat",
            "ReplicationPad1d",
            "ReplicationPad2d",
            "ReplicationPad3d",
            "Reshape",
            "Roll",
            "Scalar",
            "Scale",
            "ScaledDotProductAttention",
            "Sequential",
            "Shape",
            "ShapeError",
            "ShiftedWindowAttention",
            "SiLU",
            "Sigmoid",
            "Slice",
            "Softmax",
            "Softplus",
            "SolverError",
            "SpecError",
            "Squeeze",
            "Stack",
            "Std",
            "StochasticDepth",
            "Sub",
            "Sum",
            "SymcnnError",
            "Tanh",
            "Tensor",
            "TokenPool",
            "Training",
            "TrainingLayer",
            "Transpose",
            "Unsqueeze",
            "UnsupportedLayerError",
            "Upsample",
            "UpsamplingBilinear2d",
            "UpsamplingNearest2d",
            "Var",
            "VectorNorm",
            "View",
            "ZeroPad1d",
            "ZeroPad2d",
            "ZeroPad3d",
            "adaptive_windows",
            "as_size",
            "conv_output_size",
            "conv_transpose_output_size",
            "format_formula",
            "from_torch",
            "parse_spec",
            "plot",
            "pool_output_size",
            "render",
            "same_padding",
            "symbols",
            "to_csv",
            "to_dot",
            "to_html",
            "to_json",
            "to_latex",
            "to_markdown",
            "to_records",
            "to_text",
        ]
    )
    for name in sc.__all__:
        assert getattr(sc, name) is not None


def test_error_tree():
    assert issubclass(sc.ShapeError, ValueError) and issubclass(sc.ShapeError, sc.SymcnnError)
    assert issubclass(sc.GraphError, ValueError) and issubclass(sc.GraphError, sc.SymcnnError)
    assert issubclass(sc.UnsupportedLayerError, TypeError)
    assert issubclass(sc.SpecError, ValueError)


def test_import_symcnn_loads_neither_torch_nor_hypothesis():
    import subprocess
    import sys

    code = "import sys, symcnn; print('torch' in sys.modules, 'hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_substitution_that_breaks_a_hyperparameter_names_the_layer():
    s = sc.symbols("s")
    net = sc.Sequential(sc.Conv2d(1, 1, 3, stride=s - 1), input_shape=(1, 9, 9))
    assert net.constraints == (sympy.Ge(s, 2),)
    with pytest.raises(sc.ShapeError) as info:
        net.subs({s: 1})
    assert str(info.value) == (
        "Conv2d(1, 1, kernel_size=3, stride=0) at layer 0 (conv1): stride must be positive "
        "(got stride = 0) (s=1)"
    )
