"""Fully connected layers: ``Linear`` and ``LazyLinear`` (in_features read off the graph)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, equal
from .autograd import Flow
from .base import Layer, positive, weight_grads

__all__ = ["LazyLinear", "Linear"]


class _LinearRule(Layer):
    """``y = x Wᵀ + b`` on the last axis; subclasses say where in_features comes from."""

    __slots__ = ()
    kind = "linear"
    # Training keeps the input as it is: a dense one through a view to (-1, in_features),
    # another through a batched product (``should_fold`` in PyTorch's matmul).
    keeps = "input"
    out_features: sympy.Expr
    bias: bool

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation]:
        return weight_grads(self, flow, inputs)

    def in_features_for(self, x: Shape) -> sympy.Expr:
        """The in_features this layer uses on input ``x``."""
        raise NotImplementedError

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        return Shape((*x[:-1], self.out_features))

    def params(self, *inputs: Shape) -> Derivation:
        (x,) = inputs
        return product(self.out_features, total(self.in_features_for(x), 1 if self.bias else 0))

    def products(self, *inputs: Shape) -> Derivation:
        # out·in per vector, once for every position of the leading axes (none after Flatten).
        (x,) = inputs
        return product(self.out_features, self.in_features_for(x), *x[:-1])

    def bias_adds(self, *inputs: Shape) -> Derivation:
        (x,) = inputs
        return product(self.out_features, *x[:-1]) if self.bias else product(0)


@dataclass(frozen=True, slots=True, repr=False)
class Linear(_LinearRule):
    r"""``torch.nn.Linear(in_features, out_features, bias=True)``, on the last axis.

    Notes
    -----
    Parameters :math:`out \cdot (in + 1)`, products :math:`out \cdot in` per vector.

    Examples
    --------
    >>> lin = Linear(256, 200)
    >>> lin.params(Shape((256,))).text(), lin.products(Shape((256,))).text()
    ('200·(256+1)', '200·256')
    """

    mirrors_torch = True

    repr_positional = 2

    in_features: Any
    out_features: Any
    bias: bool = True

    def __post_init__(self) -> None:
        self._set("in_features", as_size(self.in_features, "in_features"))
        self._set("out_features", as_size(self.out_features, "out_features"))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            *positive(self.in_features, "in_features"),
            *positive(self.out_features, "out_features"),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return (
            equal(
                x[-1],
                self.in_features,
                f"the input's last axis must have in_features = {self.in_features} entries",
                "input features",
                "in_features",
            ),
        )

    def in_features_for(self, x: Shape) -> sympy.Expr:
        return self.in_features


@dataclass(frozen=True, slots=True, repr=False)
class LazyLinear(_LinearRule):
    """``torch.nn.LazyLinear(out_features, bias=True)``: in_features is the input's last axis.

    After a ``Flatten`` its parameters depend on the input size, which is exactly the
    formula a user of a hard-coded ``Linear`` has to get right by hand.

    Examples
    --------
    >>> LazyLinear(200).params(Shape((256,))).text()
    '200·(256+1)'
    """

    mirrors_torch = True

    repr_positional = 1

    out_features: Any
    bias: bool = True

    def __post_init__(self) -> None:
        self._set("out_features", as_size(self.out_features, "out_features"))
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.out_features, "out_features")

    def in_features_for(self, x: Shape) -> sympy.Expr:
        return x[-1]
