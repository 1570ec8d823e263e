"""Modules: the symcnn layer of the same name reads its fields off a ``torch.nn`` module.

A module of a class the layer registry mirrors (:func:`~symcnn.layers.registry.torch_twin`),
or of a subclass that keeps that class's ``forward``, is one leaf call of the traced graph
and one symcnn node. The user's ``rules`` (:mod:`.rules`) add leaves of their own.
"""

from __future__ import annotations

from dataclasses import fields
from types import ModuleType
from typing import Any

from ...errors import UnsupportedLayerError
from ...layers.base import Layer
from ...layers.registry import torch_twin

__all__ = ["layer_from_module", "module_kind", "tracer"]

#: The symcnn class per module class, found once per class (None: no rule).
_KINDS: dict[type, type[Layer] | None] = {}


def module_kind(m: Any) -> type[Layer] | None:
    """The symcnn class for module ``m``: its torch class, or a subclass keeping its forward."""
    cls = type(m)
    try:
        return _KINDS[cls]
    except KeyError:
        kind = _KINDS[cls] = _kind_of(cls)
        return kind


def _kind_of(owner: type) -> type[Layer] | None:
    for cls in owner.__mro__:
        if not cls.__module__.startswith("torch.nn"):
            continue
        kind = torch_twin(cls.__name__)
        if kind is not None:
            return kind if getattr(owner, "forward", None) is getattr(cls, "forward") else None  # noqa: B009
    return None


def layer_from_module(m: Any, kind: type[Layer]) -> Layer:
    """The symcnn layer holding module ``m``'s hyperparameters, field by field."""
    kwargs: dict[str, Any] = {}
    for f in fields(kind):  # type: ignore[arg-type]
        if not f.init or not hasattr(m, f.name):
            continue
        value = getattr(m, f.name)
        if f.name == "bias":
            # torch keeps the tensor or None, not the flag; a norm without affine weights
            # has no bias either way, and reads as the default (equal to a hand-built one)
            affine = getattr(m, "affine", getattr(m, "elementwise_affine", True))
            value = value is not None or not affine
        kwargs[f.name] = value
    if getattr(m, "return_indices", False):
        raise UnsupportedLayerError(f"{m!r}: return_indices=True returns a tuple of tensors")
    return kind(**kwargs)


#: The Tracer class, made once per torch module object.
_TRACERS: dict[int, type] = {}


def tracer(torch: ModuleType, user_leaf: Any) -> Any:
    """A ``torch.fx.Tracer`` that keeps every module symcnn maps as one leaf call.

    torch.fx's default keeps only modules defined in ``torch.nn``; a user's subclass of
    ``nn.Conv2d`` that does not change ``forward`` is a convolution too, and a module the
    user gives a rule for (``user_leaf(m)``) is not traced into.
    """
    cls = _TRACERS.get(id(torch))
    if cls is None:

        class Tracer(torch.fx.Tracer):  # type: ignore[name-defined]
            def __init__(self, leaf: Any) -> None:
                super().__init__()
                self.user_leaf = leaf
                self.decide: Any = None  # bool() of a traced size (frontends/torch/guards.py)

            def to_bool(self, obj: Any) -> bool:
                if self.decide is None:
                    return bool(super().to_bool(obj))
                return bool(self.decide(obj))

            def is_leaf_module(self, m: Any, qualname: str) -> bool:
                return (
                    self.user_leaf(m)
                    or module_kind(m) is not None
                    or bool(super().is_leaf_module(m, qualname))
                )

        cls = _TRACERS[id(torch)] = Tracer
    return cls(user_leaf)
