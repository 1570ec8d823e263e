"""Named counting conventions, to reconcile symcnn with the tool a user ran before.

Every convention is ``a·products + b·bias_adds``, where *products* are the seed lecture's
weight-times-activation multiplications (a convolution's C_out·H_out·W_out·(C_in/g)·k_h·k_w,
a linear layer's out·in) and *bias_adds* one addition per output element of a biased
convolution or linear layer. Elementwise work (activations, pooling, BatchNorm, merges) is
in none of them.

===============  ========================  ==========================================
name             formula                   tools that count it
===============  ========================  ==========================================
``products``     products                  the seed lecture; fvcore and thop (MACs)
``mult-adds``    products + bias_adds      torchinfo's "Mult-Adds", ptflops
``flops``        2·products                PyTorch's FlopCounterMode
``flops+bias``   2·products + bias_adds    calflops, DeepSpeed's profiler
===============  ========================  ==========================================

For the seed network's first convolution (1×28×28 in, 32×24×24 out, 5×5 kernel):
460800, 479232, 921600 and 940032.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import sympy

from .errors import SymcnnError

__all__ = ["CONVENTIONS", "QUANTITIES", "Convention", "Quantity", "convention_total"]


class _Word(str, Enum):
    """A name users type: a ``str`` (``"products"`` and ``Quantity.PRODUCTS`` are equal)."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls, value: Any) -> Any:
        """The member named ``value`` (a member or its string), else a clear error."""
        try:
            return cls(value)
        except ValueError:
            words = ", ".join(m.value for m in cls)
            raise SymcnnError(f"unknown {cls._what()} {value!r}: choose one of {words}") from None

    @classmethod
    def _what(cls) -> str:
        return "name"


class Quantity(_Word):
    """The per-layer quantities every record and network total offers.

    Examples
    --------
    >>> Quantity.parse("products") is Quantity.PRODUCTS, Quantity.PRODUCTS == "products"
    (True, True)
    """

    PARAMS = "params"
    PRODUCTS = "products"
    OUTPUT_ELEMENTS = "output_elements"
    BIAS_ADDS = "bias_adds"
    BUFFERS = "buffers"
    ELEMENTWISE = "elementwise"

    @classmethod
    def _what(cls) -> str:
        return "quantity"


class Convention(_Word):
    """The counting conventions of the table above."""

    PRODUCTS = "products"
    MULT_ADDS = "mult-adds"
    FLOPS = "flops"
    FLOPS_BIAS = "flops+bias"

    @classmethod
    def _what(cls) -> str:
        return "counting convention"


#: The quantities' names, in the order tables show them.
QUANTITIES: tuple[str, ...] = tuple(q.value for q in Quantity)

#: name -> (factor of products, factor of bias additions)
CONVENTIONS: dict[str, tuple[int, int]] = {
    Convention.PRODUCTS.value: (1, 0),
    Convention.MULT_ADDS.value: (1, 1),
    Convention.FLOPS.value: (2, 0),
    Convention.FLOPS_BIAS.value: (2, 1),
}


def convention_total(
    name: Convention | str, products: sympy.Expr, bias_adds: sympy.Expr
) -> sympy.Expr:
    """Combine products and bias additions as the named convention does.

    Examples
    --------
    >>> convention_total("flops+bias", sympy.Integer(460800), sympy.Integer(18432))
    940032
    """
    a, b = CONVENTIONS[Convention.parse(name).value]
    return a * products + b * bias_adds
