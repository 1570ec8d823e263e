"""Size arithmetic of one size, read off its residue classes.

Code that computes with sizes (a TensorFlow-style "same" pad: ``pad = max((⌈h/s⌉ − 1)·s
+ k − h, 0)``, then ``pad // 2`` and ``pad - pad // 2``) builds floors of floors that
sympy leaves as they are: ``⌈W/2⌉ + ⌊(1 − W)/2⌋`` for what is ``W mod 2``. With ``L`` the
least common multiple of the floors' denominators, ``W = L·t + r`` turns every floor into
a linear function of ``t`` for each residue ``r``; when those functions agree the
expression is linear in ``W``, and for ``L = 2`` it is linear plus a multiple of
``W mod 2``. Anything else is returned as it came.
"""

from __future__ import annotations

import math
from typing import Any

import sympy

__all__ = ["absorb_mod", "by_residue", "residue_class", "residue_lines"]

#: Largest period tried: the residues are substituted one by one.
MAX_PERIOD = 12

_t = sympy.Dummy("t", integer=True, nonnegative=True)


def by_residue(expr: Any) -> Any:
    """``expr`` without its floors where its residue classes allow, else ``expr``.

    Linear in the size when every residue class gives the same line; for period 2, a
    line plus a multiple of ``2·⌈x/2⌉ − x`` (``x mod 2`` as a ceiling, the form in which
    a layer's floor over it collapses: ``x + (2·⌈x/2⌉ − x) + 1`` is ``2·⌈x/2⌉ + 1``).

    Examples
    --------
    >>> import symcnn as sc
    >>> W = sc.symbols("W")
    >>> pad = 2 * sympy.ceiling(W / 2) - W + 1  # a "same" pad for k = 3, s = 2
    >>> by_residue(sympy.floor(pad / 2)), by_residue(pad - sympy.floor(pad / 2))
    (-W + 2*ceiling(W/2), 1)
    """
    found = residue_lines(expr)
    if found is None:
        return expr
    x, period, lines = found
    slopes = {slope for slope, _ in lines}
    if len(slopes) != 1:
        return expr
    rate = slopes.pop()
    offsets = [offset for _, offset in lines]
    if len(set(offsets)) == 1:
        return rate * x + offsets[0]
    if period == 2:
        return rate * x + offsets[0] + (offsets[1] - offsets[0]) * (2 * sympy.ceiling(x / 2) - x)
    return expr


def residue_class(rel: Any) -> Any:
    """A relation of one size that only its residue decides, as ``x mod L = r``.

    ``2·⌈H/2⌉ − H − 1 < 0`` holds exactly for even ``H``: it becomes ``H mod 2 = 0``. Any
    other relation is returned as it came.
    """
    if not isinstance(rel, sympy.core.relational.Relational):
        return rel
    found = residue_lines(rel.lhs - rel.rhs)
    if found is None:
        return rel
    x, period, lines = found
    if any(slope != 0 for slope, _ in lines):
        return rel
    holds = [r for r, (_, offset) in enumerate(lines) if bool(rel.func(offset, 0))]
    if len(holds) != 1:
        return rel
    return sympy.Eq(sympy.Mod(x, period), holds[0])


def residue_lines(expr: Any) -> tuple[sympy.Symbol, int, list[Any]] | None:
    """``expr`` of one positive size ``x`` with floors, as one line per residue class.

    Returns ``(x, L, [(slope, offset) per residue r of x mod L])``, each line reading
    ``slope·x + offset`` on its class, or None when ``expr`` is not of that kind.
    """
    rounding = (sympy.floor, sympy.ceiling, sympy.Mod)
    if not isinstance(expr, sympy.Expr) or not expr.has(*rounding):
        return None
    symbols = expr.free_symbols
    if len(symbols) != 1:
        return None
    (x,) = symbols
    if not (x.is_integer and x.is_positive):
        return None
    base = 1
    for atom in expr.atoms(*rounding):
        q = _denominator(atom, x)
        if q is None:
            return None
        base = math.lcm(base, q)
    for period in range(base, MAX_PERIOD + 1, base):
        lines = _lines(expr, x, period)
        if lines is not None:
            return x, period, lines
    return None


def _lines(expr: sympy.Expr, x: sympy.Symbol, period: int) -> list[Any] | None:
    """Per residue of ``x`` mod ``period``, ``(slope, offset)`` of ``expr`` on its class.

    None when some residue class leaves a floor, or a power of ``x``.
    """
    lines = []
    for r in range(period):
        value = sympy.expand(expr.subs(x, period * _t + r))
        if value.has(sympy.floor, sympy.ceiling, sympy.Mod) or not value.is_polynomial(_t):
            return None
        poly = sympy.Poly(value, _t)
        if poly.degree() > 1:
            return None
        slope = poly.coeff_monomial(_t) / period
        lines.append((slope, poly.coeff_monomial(1) - slope * r))
    return lines


def _denominator(atom: Any, x: sympy.Symbol) -> int | None:
    """The denominator of ``x``'s coefficient inside ``atom`` (nested roundings aside)."""
    if isinstance(atom, sympy.Mod):
        if not atom.args[1].is_Integer or atom.args[1] <= 0:
            return None
        inner = atom.args[0] / atom.args[1]
    else:
        inner = atom.args[0]
    flat = sympy.expand(
        inner.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling, sympy.Mod)), lambda e: 0)
    )
    coeff = flat.coeff(x)
    if not coeff.is_Rational or (flat - coeff * x).has(x):
        return None
    return int(coeff.q)


def absorb_mod(expr: Any) -> Any:
    """Sums of a size and its remainder as one multiple: ``x + (−x mod m)`` is ``m·⌈x/m⌉``.

    Code that pads a size up to a multiple (Swin: ``pad = (m − x % m) % m``, patch
    merging: ``x % 2``) adds a remainder to the size it came from; with ``x`` itself a
    floor of the input, sympy keeps the remainder and every layer after it nests it
    further. Each sum holding ``c·(a mod m)`` becomes, where that has fewer operations,
    ``x + (−x mod m) = m·⌈x/m⌉``, ``x − (x mod m) = m·⌊x/m⌋`` (and ``x + (x mod 2) =
    2·⌈x/2⌉``), exactly.

    Examples
    --------
    >>> import symcnn as sc
    >>> H = sc.symbols("H")
    >>> x = sympy.floor(H / 4)
    >>> absorb_mod(x + sympy.Mod(x, 2)), absorb_mod(x + sympy.Mod(-x, 7))
    (2*ceiling(floor(H/4)/2), 7*ceiling(floor(H/4)/7))
    """
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.Mod):
        return expr
    return expr.replace(lambda e: e.is_Add and e.has(sympy.Mod), _absorbed)


def _absorbed(total: sympy.Expr) -> sympy.Expr:
    for term in total.args:
        coeff, mod = term.as_coeff_Mul()
        if not isinstance(mod, sympy.Mod) or coeff not in (1, -1):
            continue
        a, m = mod.args
        if not (m.is_Integer and m > 0):
            continue
        k, x = a.as_coeff_Mul()  # sympy writes (−x mod 7) as (6·x mod 7)
        if not k.is_Integer:
            continue
        rest = total - term
        if coeff == 1 and (k + 1) % m == 0:  # x + (−x mod m)
            multiple = m * sympy.ceiling(x / m)
        elif coeff == 1 and m == 2 and k % 2 == 1:  # x + (x mod 2)
            multiple = 2 * sympy.ceiling(x / 2)
        elif coeff == -1 and (k - 1) % m == 0:  # x − (x mod m)
            multiple = m * sympy.floor(x / m)
        else:
            continue
        left = rest - x
        if sympy.count_ops(left) >= sympy.count_ops(rest) and left != 0:
            continue  # no x to absorb the remainder into
        new = left + multiple
        return _absorbed(new) if new.is_Add and new.has(sympy.Mod) else new
    return total
