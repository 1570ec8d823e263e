"""What flows through the walk of a traced graph: tensors by node name, sizes, and names.

A tensor is a :class:`Value`: the name of the :class:`~symcnn.graph.derive.Builder` node
that makes it and that node's per-sample shape, already derived. Sizes read off it
(``x.size(1)``, ``x.shape``) are sympy expressions; the batch axis is :data:`BATCH`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sympy

from ...errors import UnsupportedLayerError
from ...symbolic.shape import Shape

__all__ = [
    "BATCH",
    "Param",
    "Piece",
    "Source",
    "Value",
    "leaves",
    "name_of",
    "number",
    "qualified",
    "show",
]


@dataclass(frozen=True, slots=True)
class Value:
    """A symbolic tensor: the builder node that makes it, and its per-sample shape."""

    node: str
    shape: Shape


@dataclass(frozen=True, slots=True)
class Source:
    """What a module's tensor, or a weight computed from such tensors, costs: counted once.

    ``key`` names it: a tensor's qualified name (``layer1.0.conv.weight``), or
    ``node <name>`` for the computing of a weight at an fx node. ``count`` is the tensor's
    number of elements (0 for a computation), a parameter's when ``learned``, else a
    buffer's; ``products`` the multiplications computing the weight took, as PyTorch's
    ``FlopCounterMode`` counts them (flops / 2), once per forward pass.
    """

    key: str
    count: int
    learned: bool
    products: sympy.Rational = sympy.Integer(0)


@dataclass(frozen=True, slots=True, eq=False)
class Param:
    """A module's own tensor in the traced code, read (``self.weight``) or computed.

    Computed from such tensors alone: ``self.weight * self.gain``, timm's standardised
    weights. Not a node: a parameter has no batch axis and computes nothing per sample.

    ``target`` is the tensor's qualified name (``features.1.0.layer_scale``), or for a
    computed tensor the fx node that computed it (``computed`` is then True). ``tensor``
    is the value on the ``meta`` device: its shape and dtype, never the user's data, so
    that computing a weight neither changes the module nor costs memory. ``sources`` are
    the distinct tensors (and computations) it was made from, each counted once by the
    first layer that uses them (:mod:`.params`): a :class:`~symcnn.layers.Scale` for
    ``x * w``, the weights of ``F.conv2d``, ``F.linear``, ``F.batch_norm`` ...
    """

    target: str
    tensor: Any
    learned: bool  # a parameter, or computed from one; False for buffers alone
    sources: tuple[Source, ...] = ()
    computed: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The tensor's torch shape, as Python ints."""
        return tuple(int(s) for s in self.tensor.shape)

    def __repr__(self) -> str:
        if self.computed:
            shown = f"tensor of shape {self.shape} computed at node {self.target!r}"
            return f"{shown} from {self.origins()}"
        what = "parameter" if self.learned else "buffer"
        return f"{what} {self.target!r} of shape {self.shape}"

    def origins(self) -> str:
        """``the parameter 'weight', the buffer 'mask'``: the tensors it was made from."""
        tensors = [s for s in self.sources if not s.key.startswith("node ")]
        named = [f"the {'parameter' if s.learned else 'buffer'} {s.key!r}" for s in tensors]
        return ", ".join(named) or "no tensor of the module"


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of ``x.chunk(...)`` or ``x.split(...)``, not yet a builder node.

    The call returns a tuple of pieces; a piece becomes a :class:`~symcnn.layers.Narrow`
    node of ``source`` when it is used (fx's ``getitem`` on the tuple, or the tuple passed
    on whole), so unused pieces add nothing. ``origin`` is the call's fx node name.
    """

    source: Value
    dim: int
    start: sympy.Expr
    length: sympy.Expr
    origin: str
    index: int


class _Batch:
    """``x.size(0)``: the batch size, known only to be the batch size."""

    def __repr__(self) -> str:
        return "x.size(0)"


BATCH = _Batch()


def number(node: Any, value: Any) -> sympy.Expr:
    """``value`` as a sympy size; raise naming fx node ``node`` when it is not one."""
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    raise UnsupportedLayerError(f"node {node.name!r}: {value!r} is not an integer size")


def leaves(value: Any) -> Iterable[Any]:
    """The items of nested tuples, lists and dicts (a Shape is one item)."""
    if isinstance(value, (tuple, list)) and not isinstance(value, Shape):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    else:
        yield value


def qualified(target: Any) -> str:
    """``module.name`` of a call target, for the rules of other libraries' functions."""
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', '')}"


def name_of(target: Any) -> str:
    """``F.relu``, ``torch.cat``, ``operator.add``: a call target as messages write it."""
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", repr(target))
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if (
        module == "torch"
        or module.startswith("torch.")
        or not module
        and hasattr(target, "__self__")
    ):
        return f"torch.{name}"
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def show(value: Any) -> str:
    """A converted argument as messages write it: ``tensor 3×8×8``, or its repr."""
    if isinstance(value, Value):
        return f"tensor {value.shape}" if len(value.shape) else "tensor of shape ()"
    return repr(value)
