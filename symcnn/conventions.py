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

import sympy

from .errors import SymcnnError

__all__ = ["CONVENTIONS", "convention_total"]

#: name -> (factor of products, factor of bias additions)
CONVENTIONS: dict[str, tuple[int, int]] = {
    "products": (1, 0),
    "mult-adds": (1, 1),
    "flops": (2, 0),
    "flops+bias": (2, 1),
}


def convention_total(name: str, products: sympy.Expr, bias_adds: sympy.Expr) -> sympy.Expr:
    """Combine products and bias additions as the named convention does.

    Examples
    --------
    >>> convention_total("flops+bias", sympy.Integer(460800), sympy.Integer(18432))
    940032
    """
    if name not in CONVENTIONS:
        raise SymcnnError(
            f"unknown counting convention {name!r}: choose one of {', '.join(CONVENTIONS)}"
        )
    a, b = CONVENTIONS[name]
    return a * products + b * bias_adds
