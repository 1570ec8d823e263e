"""The one derivation pass (symcnn/graph/derive.py), attacked from every front door.

A random DAG whose merges may read one node on several ports is built three ways — by
calling layers on tensors, as a networkx MultiDiGraph, and node by node with the Builder —
and the three networks must agree record for record; the annotated graph must build the
same network again. Deep chains must not recurse, and hostile node names must stay names.
"""

from __future__ import annotations

import networkx as nx
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.graph.derive import Builder, Wiring

n = sc.symbols("n")

# node kinds: a one-input layer, or a merge reading several earlier nodes (repeats allowed)
_UNARY = (sc.ReLU, sc.Tanh, sc.Identity)
_MERGES = (sc.Add, sc.Mul, sc.Concat)


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[str, sc.Layer, tuple[str, ...]]]:
    """Nodes in topological order: (name, layer, input names); node 0 is the input."""
    channels = draw(st.integers(1, 3))
    nodes: list[tuple[str, sc.Layer, tuple[str, ...]]] = [
        ("input", sc.Input((channels, n, n)), ())
    ]
    width = {"input": channels}
    for i in range(draw(st.integers(1, 12))):
        names = [name for name, _, _ in nodes]
        if draw(st.booleans()):
            source = draw(st.sampled_from(names))
            kind = draw(st.sampled_from(_UNARY))
            nodes.append((f"u{i}", kind(), (source,)))
            width[f"u{i}"] = width[source]
            continue
        kind = draw(st.sampled_from(_MERGES))
        first = draw(st.sampled_from(names))
        same = [m for m in names if width[m] == width[first]]
        pool = names if kind is sc.Concat else same
        rest = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
        inputs = (first, *rest)
        nodes.append((f"m{i}", kind(), inputs))
        width[f"m{i}"] = sum(width[m] for m in inputs) if kind is sc.Concat else width[first]
    return nodes


def _by_builder(nodes: list[tuple[str, sc.Layer, tuple[str, ...]]]) -> sc.Network:
    builder = Builder()
    for name, layer, inputs in nodes:
        builder.add(name, layer, inputs)
    return builder.network()


def _by_graph(nodes: list[tuple[str, sc.Layer, tuple[str, ...]]]) -> sc.Network:
    g = nx.MultiDiGraph()
    for name, layer, _ in nodes:
        g.add_node(name, layer=layer)
    for name, _, inputs in nodes:
        for port, source in enumerate(inputs):
            g.add_edge(source, name, port=port)
    return sc.Network(g)


def _by_tensors(nodes: list[tuple[str, sc.Layer, tuple[str, ...]]]) -> sc.Network:
    x = nodes[0][1]
    tensors: dict[str, object] = {"input": x}
    for name, layer, inputs in nodes[1:]:
        tensors[name] = layer(*(tensors[i] for i in inputs), name=name)
    read = {i for _, _, inputs in nodes for i in inputs}
    outputs = [tensors[name] for name, _, _ in nodes if name not in read]
    return sc.Network(x, outputs)


def _summary(net: sc.Network) -> list[tuple[object, ...]]:
    return [
        (r.name, r.layer, r.input_shapes, r.output_shape, r.products, r.elementwise)
        for r in net.layers
    ]


@settings(max_examples=60, deadline=None)
@given(dags())
def test_three_front_doors_derive_the_same_network(nodes):
    try:
        reference = _by_builder(nodes)
    except sc.ShapeError:  # symbolic widths that cannot agree are refused alike
        for build in (_by_graph, _by_tensors):
            with pytest.raises(sc.ShapeError):
                build(nodes)
        return
    for build in (_by_graph, _by_tensors):
        other = build(nodes)
        assert _summary(other) == _summary(reference)
        assert other.constraints == reference.constraints
    again = sc.Network(nx.MultiDiGraph(reference.graph))
    assert _summary(again) == _summary(reference)
    assert reference.graph.number_of_edges() == sum(len(i) for _, _, i in nodes)
    for name, _, inputs in nodes:
        edges = sorted(reference.graph.in_edges(name, keys=True, data="port"), key=lambda e: e[2])
        assert [(u, key, port) for u, _, key, port in edges] == [
            (u, p, p) for p, u in enumerate(inputs)
        ]


def test_a_deep_chain_derives_without_recursion():
    builder = Builder()
    builder.add("x", sc.Input((1, n)))
    for i in range(3000):
        builder.add(f"r{i}", sc.ReLU(), ["x" if i == 0 else f"r{i - 1}"])
    net = builder.network()
    assert len(net) == 3000 and net.output_shape == (1, n)
    assert net.layers[-1].domain == net.layers[0].domain  # gathered on demand, iteratively


@pytest.mark.parametrize(
    "name", ["input", "record", "layer", "port", "0", "_t", "Dummy", "x x", "ñ", "conv1"]
)
def test_node_names_are_only_names(name):
    builder = Builder()
    builder.add("x" if name != "x" else "y", sc.Input((2, n, n)))
    source = "x" if name != "x" else "y"
    builder.add(name, sc.Mul(), [source, source])
    net = builder.network()
    assert net[name].elementwise == 2 * n**2
    assert net.outputs == (name,)
    assert list(net.graph.predecessors(name)) == [source]


def test_the_builder_refuses_bad_wiring_naming_the_node():
    builder = Builder()
    builder.add("x", sc.Input((2, 8, 8)))
    with pytest.raises(sc.GraphError, match=r"^node 'a' reads 'y', which is not derived before"):
        builder.add("a", sc.ReLU(), ["y"])
    with pytest.raises(sc.GraphError, match=r"^two nodes are named 'x'$"):
        builder.add("x", sc.ReLU(), ["x"])
    with pytest.raises(sc.GraphError, match=r"^ReLU\(\) at node 'r' takes 1 input\(s\), but 2"):
        builder.add("r", sc.ReLU(), ["x", "x"])
    with pytest.raises(sc.GraphError, match=r"^node 'z' carries no symcnn layer under 'layer'$"):
        builder.add("z", "relu", ["x"])
    with pytest.raises(sc.ShapeError, match=r"^Conv2d\(3, 4, kernel_size=3\) at layer 0 \(c\): "):
        builder.add("c", sc.Conv2d(3, 4, 3), ["x"])
    builder.add("ok", sc.Conv2d(2, 4, 3), ["x"])
    assert builder.shape("ok") == (4, 6, 6)
    assert builder.network().layers[0].name == "ok"  # failed nodes leave no trace


def test_a_wiring_is_a_frozen_value():
    w = Wiring("a", sc.ReLU(), ("x",))
    assert w == Wiring("a", sc.ReLU(), ("x",))
    with pytest.raises(AttributeError):
        w.name = "b"  # type: ignore[misc]


def test_guards_hold_downstream_and_survive_substitution():
    from symcnn.validity.condition import Condition

    b = Builder()
    b.add("x", sc.Input((1, n, n)))
    b.add("conv", sc.Conv2d(1, 4, 3), ["x"])
    even = Condition(sympy.Eq(sympy.Mod(n, 2), 0), "the traced code assumed an even n")
    b.guard("branch at model.py:3", even)
    b.guard("always", Condition(sympy.true, "decided: not kept"))
    b.add("pool", sc.MaxPool2d(2), ["conv"])
    net = b.network()
    assert net.guards == (("branch at model.py:3", even),)
    assert net.layers[0].domain == net.layers[0].upstream.gather()
    assert ("branch at model.py:3", even) not in net.layers[0].domain  # conv: before it
    assert ("branch at model.py:3", even) in net.layers[1].domain  # pool: after it
    assert net.is_valid({n: 10}) and not net.is_valid({n: 11})
    assert sympy.Eq(sympy.Mod(n, 2), 0) in net.constraints
    # substitution keeps the guard in place, and reports it broken by name
    assert net.subs({n: 10}).guards == ()
    with pytest.raises(sc.ShapeError, match=r"^branch at model\.py:3: the traced code assumed"):
        net.subs({n: 11})
    m = sc.symbols("m")
    moved = net.subs({n: 2 * m})  # decided true for every m: no guard left
    assert moved.guards == () and moved.is_valid({m: 3})
    # the annotated graph carries the guards, and builds a network that keeps them
    again = sc.Network(net.graph)
    assert again.guards == net.guards and not again.is_valid({n: 11})
