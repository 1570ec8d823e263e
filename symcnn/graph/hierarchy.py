"""Where each node sits in the module hierarchy: the groups a table summarises by depth.

A network traced from a torch model knows, for every node, the modules it was called
inside (``layer1``, ``layer1.0``): torch.fx records them as it traces, and the front-end
keeps them with each module's class. A network built with symcnn's layers has no such
record; its node names, when dotted (``block1.conv``), stand for the hierarchy instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Hierarchy"]

@dataclass(frozen=True, slots=True)
class Hierarchy:
    """The modules each node was called inside, outermost first, and their classes.

    Attributes
    ----------
    scopes : mapping of str to tuple of str
        Node name to the qualified names of the modules around it (``("layer1",
        "layer1.0")`` for the residual addition of ``layer1.0``). A node not listed
        reads its scopes off its dotted name.
    kinds : mapping of str to str
        Module qualified name to its class name (``"layer1.0": "Bottleneck"``).

    Examples
    --------
    >>> h = Hierarchy({"add": ("layer1", "layer1.0")}, {"layer1.0": "Bottleneck"})
    >>> h.scope("add"), h.scope("layer1.0.conv1"), h.scope("fc")
    (('layer1', 'layer1.0'), ('layer1', 'layer1.0'), ())
    >>> h.group("add", 2), h.group("add", 3), h.group("fc", 1)
    ('layer1.0', None, None)
    """

    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", MappingProxyType(dict(self.scopes)))
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any]) -> Hierarchy:
        """The hierarchy a networkx graph's attributes carry (:meth:`attributes`)."""
        return cls(attributes.get("scopes", {}), attributes.get("modules", {}))

    def attributes(self) -> dict[str, Mapping[str, Any]]:
        """The graph attributes that carry it: ``"scopes"`` and ``"modules"``, when known."""
        return {k: v for k, v in (("scopes", self.scopes), ("modules", self.kinds)) if v}

    def scope(self, node: str) -> tuple[str, ...]:
        """The modules around ``node``, outermost first: recorded, or read off its name."""
        known = self.scopes.get(node)
        if known is not None:
            return known
        parts = str(node).split(".")
        return tuple(".".join(parts[:i]) for i in range(1, len(parts)))

    def group(self, node: str, depth: int) -> str | None:
        """The module at ``depth`` (1: outermost) around ``node``; None when it is shallower."""
        scope = self.scope(node)
        return scope[depth - 1] if len(scope) >= depth else None

    def kind(self, module: str) -> str | None:
        """The class name of ``module``, when known."""
        return self.kinds.get(module)
