"""Between networkx and the derivation: a user's graph in, the annotated graph out.

networkx is imported here only, on first use: a network built from layers, tensors or a
torch module never needs it until :attr:`~symcnn.graph.network.Network.graph` is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import GraphError
from .derive import Wiring

if TYPE_CHECKING:
    import networkx as nx

    from .record import LayerRecord

__all__ = ["EDGE_PORT", "NODE_LAYER", "NODE_RECORD", "from_networkx", "is_networkx", "to_networkx"]

#: Node attribute holding the :class:`~symcnn.layers.Layer`.
NODE_LAYER = "layer"
#: Node attribute holding the derived :class:`~symcnn.graph.record.LayerRecord`.
NODE_RECORD = "record"
#: Edge attribute: which input of the target node the edge feeds (0, 1, ...).
EDGE_PORT = "port"


def is_networkx(obj: Any) -> bool:
    """Whether ``obj`` is a networkx graph, without importing networkx."""
    return any(c.__module__.startswith("networkx.") for c in type(obj).__mro__)


def from_networkx(graph: nx.DiGraph) -> tuple[list[Wiring], list[Any] | None]:
    """The wiring of a user's graph in topological order, and its ``"outputs"`` if given.

    Nodes carry a layer under ``"layer"``; edges carry the input ``"port"`` they feed. In a
    ``MultiDiGraph`` an edge without a port feeds the port of its key, so one node may
    feed the same target on several ports (``x * x``). Ties in the order are broken by
    insertion order; a cycle is reported with its path.
    """
    import networkx as nx

    if not isinstance(graph, nx.DiGraph):
        kind = type(graph).__name__
        raise GraphError(f"a network graph is a directed networkx graph, got {kind}")
    multi = graph.is_multigraph()
    wiring = []
    for node in _topological_order(graph):
        edges = []
        for u, _, key, data in (
            graph.in_edges(node, keys=True, data=True)
            if multi
            else ((u, v, 0, d) for u, v, d in graph.in_edges(node, data=True))
        ):
            default = key if multi and isinstance(key, int) else 0
            edges.append((data.get(EDGE_PORT, default), u))
        edges.sort(key=lambda e: e[0])
        _check_ports(graph, node, edges)
        layer = graph.nodes[node].get(NODE_LAYER)
        wiring.append(Wiring(node, layer, tuple(u for _, u in edges)))
    given = graph.graph.get("outputs")
    return wiring, None if given is None else list(given)


def _check_ports(graph: nx.DiGraph, node: Any, edges: list[tuple[Any, Any]]) -> None:
    """Each input on its own port: the order must not depend on insertion."""
    for (p0, u0), (p1, u1) in zip(edges, edges[1:], strict=False):
        if p0 == p1:
            layer = graph.nodes[node].get(NODE_LAYER)
            raise GraphError(
                f"{layer!r} at node {node!r}: the edges from {u0!r} and {u1!r} "
                f"both feed port {p1}; give each input edge its own {EDGE_PORT!r} (0, 1, ...)"
            )


def _topological_order(graph: nx.DiGraph) -> list[Any]:
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        position = {node: i for i, node in enumerate(graph.nodes)}
        return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    path = " → ".join(str(e[0]) for e in cycle) + f" → {cycle[0][0]}"
    raise GraphError(f"the graph has a cycle: {path}")


def to_networkx(
    wiring: Sequence[Wiring],
    records: Mapping[Any, LayerRecord | None],
    attributes: Mapping[str, Any],
) -> nx.MultiDiGraph:
    """The annotated graph, frozen, with read-only attribute mappings.

    One edge per input port, keyed by the port: a tensor read twice by one layer is two
    edges. :func:`networkx.freeze` stops adding and removing nodes and edges, but leaves
    each node's and edge's attribute dict writable; those become read-only mappings here.
    """
    import networkx as nx

    graph = nx.MultiDiGraph()
    for node in wiring:
        graph.add_node(node.name, **{NODE_LAYER: node.layer, NODE_RECORD: records[node.name]})
    for node in wiring:
        for port, u in enumerate(node.inputs):
            graph.add_edge(u, node.name, key=port, **{EDGE_PORT: port})
    for name, data in graph._node.items():
        graph._node[name] = MappingProxyType(data)
    for targets in graph._succ.values():
        for keyed in targets.values():
            for key, data in keyed.items():
                keyed[key] = MappingProxyType(data)
    graph.graph = MappingProxyType(
        {k: tuple(v) if isinstance(v, list) else v for k, v in attributes.items()}
    )
    return nx.freeze(graph)
