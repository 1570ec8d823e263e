"""Scale factors as PyTorch applies them: ``⌊H·s⌋`` in double precision, made exact.

An upsampling layer sizes an axis ``⌊H·s⌋`` from the double ``s`` (every mode of
``F.interpolate``, with or without ``recompute_scale_factor``). symcnn writes it with the
rational ``s`` stands for (``1.5`` → 3/2, ``0.1`` → 1/10) and proves, per scale, up to
which ``H`` the double product floors the same way; a scale it cannot prove for every
size up to :data:`PROVEN` is refused.
"""

from __future__ import annotations

import fractions
import functools
import math
from typing import Any, NoReturn

import sympy

from ..errors import ShapeError, UnsupportedLayerError
from .shape import as_size

__all__ = ["PROVEN", "checked_scale", "exact_up_to", "fractional", "scale_value"]

#: A fractional scale is taken when its formula is proven for every size up to this.
PROVEN = 2**31
#: Denominators tried, smallest first, for the rational a float scale factor stands for.
_DENOMINATORS = (10, 100, 1000, 10**4, 10**5, 10**6)


def scale_value(value: Any) -> sympy.Expr:
    """A scale factor as an exact sympy number: ``2.0`` → 2, ``1.5`` → 3/2, ``0.1`` → 1/10.

    A float is the rational of smallest denominator (up to 10⁶) whose nearest double it is,
    else its exact binary value; a ``fractions.Fraction`` or sympy rational is taken as
    given, and an integer (or integer sympy expression) is a size as any other. Whether
    PyTorch's floating-point size agrees with the exact formula is :func:`exact_up_to`'s.

    Examples
    --------
    >>> scale_value(1.5), scale_value(0.1), scale_value(1 / 3), scale_value(2.0)
    (3/2, 1/10, 1/3, 2)
    """
    if isinstance(value, sympy.Float):
        value = float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ShapeError(f"'scale_factor' must be a finite number (got {value!r})")
        exact = fractions.Fraction(value)
        if value > 0 and not value.is_integer():
            for limit in _DENOMINATORS:
                near = exact.limit_denominator(limit)
                if float(near) == value:
                    exact = near
                    break
        return sympy.Rational(exact.numerator, exact.denominator)
    if isinstance(value, fractions.Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Rational) and not value.is_Integer:
        return value
    return as_size(value, "scale_factor")


@functools.lru_cache(maxsize=256)
def exact_up_to(q: sympy.Rational) -> int:
    """The largest H for which PyTorch's size ``⌊H·s⌋`` is proven equal to ``⌊H·q⌋``.

    PyTorch multiplies the size by ``s = float(q)`` in double precision and floors (every
    mode, with or without ``recompute_scale_factor``). With ``q = a/b`` in lowest terms,
    ``fl(H·s)`` differs from ``H·q`` by at most ``e = H·(|s - q| + s·2⁻⁵³)``. Where ``H·q``
    is not an integer it lies at least ``1/b`` from one, so the floors agree while
    ``e < 1/b``. Where ``H·q = n`` is an integer and ``s < q``, the product falls short
    of ``n`` by ``H·(q - s) = n·b·(q - s)/a``; it rounds back to ``n`` when that is at most
    half the spacing of doubles below ``n`` (at least ``n·2⁻⁵⁴``, ties going to the even
    ``n``), so when ``b·(q - s)/a ≤ 2⁻⁵⁴``: true of 1/3 (``⌊3·(1/3)⌋`` is 1 in
    PyTorch), false of 7/10 (``⌊90·0.7⌋`` is 62).

    Examples
    --------
    >>> exact_up_to(sympy.Rational(3, 2)), exact_up_to(sympy.Rational(7, 10))
    (3002399751580330, 9)
    """
    a, b = int(q.p), int(q.q)
    try:
        s = fractions.Fraction(float(fractions.Fraction(a, b)))
    except OverflowError:
        return 0
    exact = fractions.Fraction(a, b)
    spread = abs(s - exact) + s / 2**53
    bound = 2**53 - 1 if spread == 0 else min(2**53 - 1, math.ceil(1 / (b * spread)) - 1)
    if s < exact and b * (exact - s) / a > fractions.Fraction(1, 2**54):
        bound = min(bound, b - 1)  # the first multiple of b may already fall short
    return max(bound, 0)


def _refuse_inexact(given: Any, q: sympy.Rational, bound: int) -> NoReturn:
    s = float(q)
    a, b = int(q.p), int(q.q)
    miss = next((h for h in range(1, 10**5) if math.floor(h * s) != h * a // b), None)
    where = (
        f": at H = {miss}, ⌊H·s⌋ is {math.floor(miss * s)} in PyTorch but ⌊H·{q}⌋ = {miss * a // b}"
        if miss is not None
        else f", provably only for H ≤ {bound}"
    )
    raise UnsupportedLayerError(
        f"Upsample: scale_factor={given!r} has no exact formula: PyTorch floors the "
        f"double product H·s, which symcnn cannot match to ⌊H·{q}⌋ for every size up to "
        f"2^31{where}; use a scale such as 1.5, 0.25, 0.1 or 1/3, or give size="
    )


def checked_scale(value: Any) -> sympy.Expr:
    """:func:`scale_value`, refused where PyTorch's double product strays from it."""
    q = scale_value(value)
    if fractional(q) and q > 0:
        bound = exact_up_to(q)
        if bound < PROVEN:
            _refuse_inexact(value, q, bound)
    return q


def fractional(value: Any) -> bool:
    """Whether ``value`` is a sympy rational that is not an integer (a fractional scale)."""
    return isinstance(value, sympy.Rational) and not value.is_Integer
