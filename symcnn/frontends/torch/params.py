"""A module's own tensors in traced code: read, viewed, and counted once, where used.

A ``get_attr`` node (``self.layer_scale``, ``self.weight``) is a :class:`~.values.Param`,
not a builder node: a parameter has no batch axis and computes nothing by itself. It is
counted in the layer that uses it: a :class:`~symcnn.layers.Scale` for ``x * w``, the
weights of ``F.layer_norm`` or ``F.linear`` (:mod:`.functions`). One layer
object per tensor: a tensor read twice reuses it, and the network counts a shared layer's
parameters once. A tensor used by two different layers is refused rather than counted
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from .values import Param, show

__all__ = ["Params", "weights"]


class Params:
    """The tensors a walk reads directly, and the one layer that counts each."""

    def __init__(self, torch: Any, traced: Any):
        self.torch = torch
        self.traced = traced
        self.owner: dict[str, str] = {}  # tensor's qualified name -> where it is counted
        self.layers: dict[tuple[str, tuple[str, ...]], Layer] = {}

    def read(self, node: Any) -> Param:
        """The parameter or buffer a ``get_attr`` node reads; anything else is refused."""
        owner, _, name = node.target.rpartition(".")
        module = self.traced.get_submodule(owner)
        value = getattr(module, name)
        if isinstance(value, self.torch.nn.Parameter):
            return Param(node.target, value.detach(), True)
        if name in getattr(module, "_buffers", {}) and value is not None:
            return Param(node.target, value, False)
        raise UnsupportedLayerError(
            f"node {node.name!r} reads {node.target!r}, a {type(value).__name__} that is "
            "neither a parameter nor a buffer of its module; symcnn counts only those"
        )

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
        return Param(p.target, tensor, p.learned)

    def scale(self, node: Any, p: Param) -> Layer:
        """The layer of ``x * w``: a :class:`~symcnn.layers.Scale` of ``w``'s shape."""
        where = f"the product at node {node.name!r} with the {p!r}"
        try:
            layer = sl.Scale(p.shape, learned=p.learned)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self.layer(where, layer, [p])

    def layer(self, where: str, layer: Layer, used: Sequence[Param]) -> Layer:
        """``layer``, or the one made before for the same tensors, so they count once."""
        key = (type(layer).__name__, tuple(p.target for p in used))
        known = self.layers.get(key)
        if known is not None:
            if known != layer:
                raise UnsupportedLayerError(
                    f"{where}: the same tensors made {known!r} before and {layer!r} here; "
                    "symcnn counts a tensor once, in one layer"
                )
            return known
        for p in used:
            other = self.owner.get(p.target)
            if other is not None:
                raise UnsupportedLayerError(
                    f"{where}: the {p!r} is counted already by {other}; symcnn counts a "
                    "tensor once, in one layer"
                )
        for p in used:
            self.owner[p.target] = where
        self.layers[key] = layer
        return layer


def weights(name: str, value: Any, shape: Sequence[Any] | None) -> tuple[int, ...] | None:
    """Check a functional layer's weight argument; its shape, or None when not given.

    ``value`` must be a module's parameter (a buffer is not learned, a computed tensor has
    no rule) of ``shape`` when the layer fixes it.
    """
    if value is None:
        return None
    if not isinstance(value, Param) or not value.learned:
        raise UnsupportedLayerError(
            f"{name} is {show(value)}; symcnn maps a functional layer whose {name} is a "
            "module's parameter"
        )
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ShapeError(
            f"{name} is the {value!r}, but the layer takes a {name} of shape {tuple(shape)}"
        )
    return value.shape
