"""The nodes behind symbolic tensors: what ``Network(inputs, outputs)`` derives.

Calling layers on :class:`~symcnn.layers.tensor.Tensor` records applications; this walks
back from the outputs to every node between them and the inputs, names the nodes, and
lists them in creation order, which is topological.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import GraphError
from ..layers.input import Input
from ..layers.tensor import Tensor, node_key, source
from .derive import Wiring

__all__ = ["default_names", "trace"]


def trace(inputs: Any, outputs: Any) -> tuple[list[Wiring], list[str]]:
    """The wiring of every node between ``inputs`` and ``outputs``, and the output names."""
    given_inputs = [inputs] if isinstance(inputs, Input) else list(inputs)
    if outputs is None:
        raise GraphError("give the network's outputs: Network(inputs, outputs)")
    given_outputs = [outputs] if isinstance(outputs, (Tensor, Input)) else list(outputs)
    heads = [source(o) if isinstance(o, Input) else o for o in given_outputs]
    for o in heads:
        if not isinstance(o, Tensor):
            raise GraphError(f"outputs must be tensors returned by layers, got {o!r}")
    found: dict[int, Tensor] = {}
    stack = list(heads)
    while stack:
        t = stack.pop()
        if node_key(t) not in found:
            found[node_key(t)] = t
            stack.extend(t.parents)
    input_keys = {id(i): i for i in given_inputs}
    for i in given_inputs:
        if not isinstance(i, Input):
            raise GraphError(f"inputs must be sc.Input layers, got {i!r}")
        if id(i) not in found:
            raise GraphError(f"the outputs do not depend on the input {i!r}")
    for key, t in found.items():
        if not t.parents and key not in input_keys:
            raise GraphError(f"the outputs depend on {t.layer!r}, which is not among the inputs")
    names = _names(found, given_inputs)
    ordered = sorted(found.values(), key=lambda t: (bool(t.parents), t.order))
    wiring = [
        Wiring(names[node_key(t)], t.layer, tuple(names[node_key(p)] for p in t.parents))
        for t in ordered
    ]
    return wiring, [names[node_key(o)] for o in heads]


def _names(found: Mapping[int, Tensor], inputs: list[Input]) -> dict[int, str]:
    """Node names: the user's, else 'input' / 'input1', ... and the layer kind with a counter."""
    names: dict[int, str] = {}
    for i, layer in enumerate(inputs, start=1):
        names[id(layer)] = "input" if len(inputs) == 1 else f"input{i}"
    layers = sorted((t for t in found.values() if t.parents), key=lambda t: t.order)
    for t, default in zip(layers, default_names(t.layer for t in layers), strict=True):
        names[id(t)] = t.name or default
    taken: dict[str, int] = {}
    for key, name in names.items():
        if name in taken:
            raise GraphError(f"two nodes are named {name!r}")
        taken[name] = key
    return names


def default_names(layers: Iterable[Any]) -> list[str]:
    """``conv1, pool1, relu1, conv2, ...``: each layer's kind and a counter per kind."""
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        kind = getattr(layer, "kind", "layer")
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names
