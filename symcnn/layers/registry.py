"""The layer registry: every layer class by name, for the spec parser and ``from_torch``.

A class is registered when it is defined, by :meth:`Layer.__init_subclass__
<symcnn.layers.base.Layer.__init_subclass__>`: symcnn's own layers and a user's alike, so a
user's layer is usable in a spec (``"MyLayer(8) | ReLU()"``) as soon as its class exists.
A user's class never shadows a built-in of the same name. Classes whose name starts with an
underscore are private and left out. See docs/ARCHITECTURE.md ("Adding a layer").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Layer

__all__ = ["is_builtin", "layer_class", "layer_classes", "register", "torch_twin"]

_BY_NAME: dict[str, type[Layer]] = {}


def is_builtin(cls: type) -> bool:
    """Whether ``cls`` is one of symcnn's own layers (defined in :mod:`symcnn.layers`)."""
    return cls.__module__.startswith("symcnn.layers.")


def register(cls: type[Layer]) -> type[Layer]:
    """Make ``cls`` known by its class name; returns it, so it may serve as a decorator.

    A later class of the same name replaces an earlier one (a notebook cell run twice),
    except that a user's class never replaces a built-in layer.
    """
    name = cls.__name__
    if name.startswith("_"):
        return cls
    known = _BY_NAME.get(name)
    if known is not None and is_builtin(known) and not is_builtin(cls):
        return cls
    _BY_NAME[name] = cls
    return cls


def layer_class(name: str) -> type[Layer] | None:
    """The registered layer class called ``name``, or None."""
    return _BY_NAME.get(name)


def layer_classes() -> Mapping[str, type[Layer]]:
    """Every registered layer class by name (a read-only view)."""
    return MappingProxyType(_BY_NAME)


def torch_twin(torch_name: str) -> type[Layer] | None:
    """The built-in layer mirroring ``torch.nn.<torch_name>`` field by field, or None.

    A layer class declares it with ``mirrors_torch = True``: its dataclass fields are the
    ``torch.nn`` module's attributes of the same names, so ``from_torch`` reads them off.
    """
    cls = _BY_NAME.get(torch_name)
    if cls is not None and is_builtin(cls) and getattr(cls, "mirrors_torch", False):
        return cls
    return None
