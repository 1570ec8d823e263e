"""What symcnn derives for one node: a frozen record, the row of every table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean

from ..conventions import Quantity, convention_total
from ..layers import Layer
from ..symbolic.derivation import Derivation
from ..symbolic.printing import text
from ..symbolic.shape import Shape
from ..validity.condition import Condition

__all__ = ["LayerRecord", "Located", "Upstream"]


#: A condition with the place it comes from: ``"MaxPool2d(kernel_size=2) at layer 4 (pool2)"``.
Located = tuple[str, Condition]


@dataclass(frozen=True, eq=False, slots=True)
class Upstream:
    """One node's own conditions and the nodes it reads: a domain gathered on demand.

    Each node stores only what it adds, so deriving a network of n layers keeps n small
    tuples rather than n growing copies of everything upstream.
    """

    own: tuple[Located, ...]
    parents: tuple[Upstream, ...] = ()

    def gather(self) -> tuple[Located, ...]:
        """Every condition this node depends on, upstream first, each once."""
        order: list[Upstream] = []
        seen: set[int] = set()
        stack: list[tuple[Upstream, bool]] = [(self, False)]
        while stack:  # post-order without recursion: a chain may be thousands deep
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
        return tuple(dict.fromkeys(located for node in order for located in node.own))


@dataclass(frozen=True, slots=True, repr=False)
class LayerRecord:
    """One layer of a network with everything derived for it.

    Attributes
    ----------
    index : int
        Position among the network's layers (inputs not counted), from 0.
    name : str
        The node name in :attr:`Network.graph` (``conv1``, or the user's name).
    layer : Layer
        The layer value.
    input_shapes : tuple of Shape
        One shape per input, in port order.
    output_shape : Shape
        The per-sample output shape.
    params_derivation, products_derivation, buffers_derivation : Derivation
        How the counts are made (``32·(5²+1)``); their ``.value`` are the counts.
    conditions : tuple of Condition
        Every rule this layer needs that is not yet decided true.
    shared : bool
        Whether this layer object already appeared at an earlier node: its parameters are
        then counted there, once, as ``torch.nn.Module.parameters()`` does.
    upstream : Upstream
        This layer's undecided conditions and the nodes it reads; :attr:`domain` gathers
        them.
    receptive_field, jump : tuple of sympy.Expr, or None
        Per spatial axis, how many input pixels one output element sees, and how far apart
        (in input pixels) neighbouring output elements are; None once positions are mixed
        (Flatten, Linear, adaptive pooling). Where branches with different fields merge,
        the largest is kept.
    """

    index: int
    name: str
    layer: Layer
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params_derivation: Derivation
    products_derivation: Derivation
    buffers_derivation: Derivation = Derivation("leaf", (sympy.Integer(0),))
    bias_adds_derivation: Derivation = Derivation("leaf", (sympy.Integer(0),))
    elementwise_derivation: Derivation = Derivation("leaf", (sympy.Integer(0),))
    conditions: tuple[Condition, ...] = ()
    shared: bool = False
    # where the record sits in its network, not part of its value: records compare alike
    upstream: Upstream = field(default=Upstream(()), compare=False)
    receptive_field: tuple[sympy.Expr, ...] | None = None
    jump: tuple[sympy.Expr, ...] | None = None

    @property
    def domain(self) -> tuple[Located, ...]:
        """The undecided conditions of this layer and of every layer and input it depends on.

        Each with the place it comes from: what :meth:`evaluate` checks.
        """
        return self.upstream.gather()

    @property
    def input_shape(self) -> Shape:
        """The shape of the first (usually only) input."""
        return self.input_shapes[0]

    @property
    def params(self) -> sympy.Expr:
        """Learnable parameters of this layer."""
        return self.params_derivation.value

    @property
    def products(self) -> sympy.Expr:
        """Multiplications per sample (weight times activation), the seed's convention."""
        return self.products_derivation.value

    @property
    def buffers(self) -> sympy.Expr:
        """Non-learned state of this layer (BatchNorm's running statistics)."""
        return self.buffers_derivation.value

    @property
    def bias_adds(self) -> sympy.Expr:
        """Bias additions, one per output element of a biased convolution or linear layer."""
        return self.bias_adds_derivation.value

    @property
    def elementwise(self) -> sympy.Expr:
        """Elementwise multiplications (gates, BatchNorm, average pooling), apart."""
        return self.elementwise_derivation.value

    def count(self, convention: str) -> sympy.Expr:
        """Operations under a named convention (:mod:`symcnn.conventions`)."""
        return convention_total(convention, self.products, self.bias_adds)

    @property
    def output_elements(self) -> sympy.Expr:
        """Number of elements of the output per sample."""
        return self.output_shape.numel

    @property
    def constraints(self) -> tuple[Boolean, ...]:
        """The undecided conditions of this layer, as sympy relations."""
        return tuple(c.relation for c in self.conditions)

    @property
    def description(self) -> str:
        """PyTorch-style description, e.g. ``nn.Conv2d(1, 32, kernel_size=5)``."""
        return self.layer.describe()

    @property
    def params_text(self) -> str:
        """The parameter count with its derivation: ``32·(5²+1) = 832``."""
        return _with_derivation(self.params_derivation)

    @property
    def products_text(self) -> str:
        """The product count with its derivation: ``32·24²·5² = 460800``."""
        return _with_derivation(self.products_derivation)

    # -- display: a card, not the dataclass's nested Derivation(...) ---------------------
    def __str__(self) -> str:
        from ..export.card import card_text

        return card_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from ..export.card import card_html

        return card_html(self)

    def evaluate(self, quantity: str, *, on_invalid: str = "raise", **values: Any) -> Any:
        """The ``quantity`` of this layer at many sizes, exactly; see :meth:`Network.evaluate`."""
        from ..evaluate.sweep import evaluate_checked

        quantity = Quantity.parse(quantity).value
        known = self.layer.free_symbols.union(*(x.free_symbols for x in self.input_shapes))
        return evaluate_checked(
            getattr(self, quantity), self.domain, values, on_invalid, symbols=known
        )


def _with_derivation(d: Derivation) -> str:
    value = text(d.value)
    return value if d.is_leaf else f"{d.text()} = {value}"
