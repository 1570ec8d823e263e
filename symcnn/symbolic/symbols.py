"""Positive-integer sympy symbols, the only kind of symbol a size may contain."""

from __future__ import annotations

from typing import Any

import sympy

__all__ = ["symbols"]


def symbols(names: str, **assumptions: Any) -> Any:
    """Create sympy symbols declared positive integers.

    Sizes, kernels, strides and channels are positive integers; declaring them so is what
    lets sympy decide ``n + 2 >= 1`` or simplify ``floor(2*n/2)``. Extra assumptions are
    passed through to :func:`sympy.symbols`; ``nonnegative=True`` makes a symbol that may
    be zero, as a padding may.

    Parameters
    ----------
    names : str
        Space- or comma-separated names, as for :func:`sympy.symbols`.

    Returns
    -------
    sympy.Symbol or tuple of sympy.Symbol
        One symbol for one name, else a tuple.

    Examples
    --------
    >>> n, k = symbols("n k")
    >>> n.is_integer, n.is_positive
    (True, True)
    >>> p = symbols("p", nonnegative=True)
    >>> p.is_positive, p.is_nonnegative
    (None, True)
    """
    sign = {} if {"nonnegative", "positive"} & set(assumptions) else {"positive": True}
    options = {"integer": True, **sign, **assumptions}
    return sympy.symbols(names, **options)
