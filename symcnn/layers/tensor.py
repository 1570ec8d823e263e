"""Symbolic tensors: what calling a layer on an input returns, to build branching graphs.

``y = sc.Conv2d(3, 64, 3, padding=1)(x)`` records an application, not a computation:
a :class:`Tensor` remembers its layer and its parent tensors. :class:`~symcnn.graph.network.Network`
walks back from the outputs to build the graph, names the nodes, and derives everything.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import GraphError

if TYPE_CHECKING:
    from .base import Layer

__all__ = ["Tensor"]

_creation = itertools.count()


@dataclass(frozen=True, eq=False)
class Tensor:
    """The output of ``layer`` applied to ``parents``; compared by identity, like a node.

    ``name`` becomes the node's name (default: the layer kind and a counter, in creation
    order). An :class:`~symcnn.layers.Input` passed to a layer stands for its own tensor.
    """

    layer: Layer
    parents: tuple[Tensor, ...] = ()
    name: str | None = None
    order: int = field(default_factory=lambda: next(_creation), repr=False)


def apply(layer: Layer, args: tuple[Any, ...], name: str | None) -> Tensor:
    """``layer(*args)``: check the number of inputs and record the application."""
    from .input import Input

    parents = tuple(source(a) if isinstance(a, Input) else a for a in args)
    for p in parents:
        if not isinstance(p, Tensor):
            raise GraphError(
                f"{layer!r} was called on {p!r}: call layers on sc.Input(...) or on what "
                "another layer returned"
            )
    if layer.arity is None:
        if len(parents) < 2:
            raise GraphError(f"{layer!r} merges two or more tensors, got {len(parents)}")
    elif len(parents) != layer.arity:
        raise GraphError(f"{layer!r} takes {layer.arity} input(s), got {len(parents)}")
    return Tensor(layer, parents, name)


def source(layer: Layer) -> Tensor:
    """A tensor standing for an input layer; every one of them is the same graph node."""
    return Tensor(layer)


def node_key(tensor: Tensor) -> int:
    """The node a tensor stands for: itself, but one node per input layer however used."""
    return id(tensor.layer) if not tensor.parents and tensor.layer.arity == 0 else id(tensor)
