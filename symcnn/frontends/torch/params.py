"""A module's own tensors in traced code: read, viewed, and counted once, where used.

A ``get_attr`` node (``self.layer_scale``, ``self.weight``) is a :class:`~.values.Param`,
not a builder node: a parameter has no batch axis and computes nothing by itself. Calls on
such tensors alone compute new ones (:mod:`.weights`). They are counted in the layer that
uses them: a :class:`~symcnn.layers.Scale` for ``x * w``, the weights of ``F.conv2d``,
``F.linear``, ``F.batch_norm``, ``F.layer_norm`` ... (:mod:`.functions`).

Each tensor counts once, in the first layer that reads it; a layer reading the same
tensors again, with the same hyperparameters, is the same layer object, which the network
counts once. When the tensors a layer reads first are not what its own formula counts
(extra tensors, buffers as weights, tensors counted before), the layer counts the tensors
instead (:class:`~.weights.Reads`): never a tensor twice, never one left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from ...symbolic.shape import Shape
from .values import Param, Source, show
from .weights import Reads, distinct

__all__ = ["Params", "weights"]


class Params:
    """The tensors a walk reads directly, and the one layer that counts each."""

    def __init__(self, torch: Any, traced: Any):
        self.torch = torch
        self.traced = traced
        self.owner: dict[str, str] = {}  # a source's key -> where it is counted
        self.layers: dict[tuple[Layer, tuple[str, ...]], Layer] = {}
        self.names: dict[int, str] = {}  # a tensor's id -> the name it was first read by

    def read(self, node: Any) -> Param:
        """The parameter or buffer a ``get_attr`` node reads; anything else is refused.

        The tensor is kept on the ``meta`` device (shape and dtype only); a tensor
        registered under two names (tied weights) is one source, by its first name.
        """
        owner, _, name = node.target.rpartition(".")
        module = self.traced.get_submodule(owner)
        # the tables, not getattr: while tracing, fx's getattr gives proxies of parameters
        value = getattr(module, "_parameters", {}).get(name)
        learned = value is not None
        if value is None:
            value = getattr(module, "_buffers", {}).get(name)
        if value is None and not owner and name.startswith("_tensor_constant"):
            # fx keeps a tensor the forward computed from a buffer while tracing (MaxViT's
            # relative_position_index.view(-1)) as a constant of the root: held like one
            value = vars(module).get(name)
        if not isinstance(value, self.torch.Tensor):
            value = getattr(module, name, None)
            raise UnsupportedLayerError(
                f"node {node.name!r} reads {node.target!r}, a {type(value).__name__} that is "
                "neither a parameter nor a buffer of its module; symcnn counts only those"
            )
        target = self.names.setdefault(id(value), node.target)
        tensor = value.detach().to("meta")
        return Param(target, tensor, learned, (Source(target, int(value.numel()), learned),))

    def view(self, node: Any, p: Param, method: str, sizes: Sequence[Any]) -> Param:
        """``w.view(1, -1, 1, 1)``: the same tensor, seen in another shape."""
        where = f"x.{method} at node {node.name!r} of the {p!r}"
        try:
            tensor = getattr(p.tensor, method)(*(int(s) for s in sizes))
        except (TypeError, ValueError, RuntimeError) as err:
            shown = ", ".join(show(s) for s in sizes)
            raise UnsupportedLayerError(
                f"{where} to ({shown}): {str(err).splitlines()[0]}; a parameter's view "
                "takes integer sizes"
            ) from None
        return Param(p.target, tensor, p.learned, p.sources, p.computed)

    def scale(self, node: Any, p: Param) -> Layer:
        """The layer of ``x * w``: a :class:`~symcnn.layers.Scale` of ``w``'s shape."""
        where = f"the product at node {node.name!r} with the {p!r}"
        try:
            layer = sl.Scale(p.shape, learned=p.learned)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self.layer(where, layer, [p])

    def arith(self, node: Any, op: str, p: Param) -> Layer:
        """The layer of ``x + w``, ``x - w``, ``w - x``, ``x / w`` or ``w / x``: a ParamOp."""
        if op == "mul":
            return self.scale(node, p)
        where = f"the {op} at node {node.name!r} with the {p!r}"
        try:
            layer = sl.ParamOp(op, p.shape, learned=p.learned)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self.layer(where, layer, [p])

    def layer(
        self, where: str, layer: Layer, used: Sequence[Param], shape: Shape | None = None
    ) -> Layer:
        """``layer``, counting exactly the tensors of ``used`` no layer counted before.

        ``shape`` is the per-sample input's, for the layers whose counts read it (Linear).

        The same layer on the same tensors again is the layer made before, which the
        network counts once (unless that one also counted computing the weights, which
        runs once per forward pass). Otherwise, when what is new here is not what
        ``layer``'s own formula counts, a :class:`~.weights.Reads` of it.
        """
        sources = distinct(used)
        key = (layer, tuple(s.key for s in sources))
        known = self.layers.get(key)
        if known is not None and not getattr(known, "computing", 0):
            return known
        new = [s for s in sources if s.key not in self.owner]
        n_params = sum(s.count for s in new if s.learned)
        n_buffers = sum(s.count for s in new if not s.learned)
        computing = sympy.Add(*(s.products for s in new))
        inputs = () if shape is None else (shape,)
        own = (layer.params(*inputs).value, layer.buffers(*inputs).value)
        made = layer
        if own != (n_params, n_buffers) or computing != 0:
            names = tuple(s.key for s in new if not s.key.startswith("node "))
            made = Reads(layer, n_params, n_buffers, computing, names)
        for s in new:
            self.owner[s.key] = where
        self.layers.setdefault(key, made)
        return made


def weights(name: str, value: Any, shape: Sequence[Any] | None) -> tuple[int, ...] | None:
    """Check a functional layer's weight argument; its shape, or None when not given.

    ``value`` must be a module's own tensor (a parameter or buffer, or a tensor computed
    from them alone), of ``shape`` when the layer fixes it: a weight computed from the
    activations (a dynamic convolution) has no per-sample rule.
    """
    if value is None:
        return None
    if not isinstance(value, Param):
        raise UnsupportedLayerError(
            f"{name} is {show(value)}; symcnn maps a functional layer whose {name} is a "
            "module's parameter or buffer, or computed from them alone"
        )
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ShapeError(
            f"{name} is the {value!r}, but the layer takes a {name} of shape {tuple(shape)}"
        )
    return value.shape
