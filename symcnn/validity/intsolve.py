"""Exact integer solutions of size conditions in one variable.

A network's conditions, once every symbol but one (say ``n``) has a value, are relations
between polynomials in ``n`` and floors ``⌊(α·n + β)/d⌋`` of linear functions of it (nested
ones too). With ``L`` the least common multiple of the floors' slope denominators, writing
``n = L·t + r`` for each residue ``r`` turns every floor into a linear function of ``t``,
computed with exact fractions, so each relation becomes a polynomial relation in ``t``.
Its real roots, isolated exactly (``CRootOf``), bound the integer ``t`` that satisfy it.
The smallest (or largest) integer ``t`` in the intersection, over all residues, gives the
answer: no range is guessed and nothing is sampled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from ..errors import SolverError, SymcnnError
from ..symbolic.guard import Budget
from ..symbolic.printing import text

__all__ = ["SOLVE_SECONDS", "largest_integer", "smallest_integer"]

#: Most floors (nested ones counted) the relations of one question may hold.
MAX_ATOMS = 64
#: Seconds a solution may take before the solver says what it could not decide.
SOLVE_SECONDS = 20.0

#: The residue-class unknown: a Dummy, so that no user symbol named ``t`` can meet it.
_t = sympy.Dummy("t", integer=True)


def smallest_integer(relations: Iterable[Boolean], x: sympy.Symbol, lower: int = 1) -> int | None:
    """The smallest integer ``x >= lower`` satisfying every relation, or None if there is none.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> smallest_integer([sympy.Ge(sympy.floor((n - 16) / 6), 1)], n)
    22
    >>> width = sympy.floor((n - 16) / 6)
    >>> smallest_integer([sympy.Eq(64 * width**2, 256)], n)  # width -2 counts too
    4
    >>> smallest_integer([sympy.Eq(64 * width**2, 256), sympy.Ge(width, 1)], n)
    28
    """
    found = [_extreme(s, smallest=True) for s in _solution_sets(relations, x, lower)]
    values = [v for v in found if v is not None]
    return min(values) if values else None


def largest_integer(
    relations: Iterable[Boolean], x: sympy.Symbol, lower: int = 1
) -> int | sympy.Expr | None:
    """The largest integer ``x >= lower`` satisfying every relation.

    Returns ``sympy.oo`` when the solutions are unbounded and None when there are none.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> largest_integer([sympy.Le(32 * n**2, 10**6)], n)
    176
    """
    found = [_extreme(s, smallest=False) for s in _solution_sets(relations, x, lower)]
    values = [v for v in found if v is not None]
    if not values:
        return None
    return sympy.oo if any(v == sympy.oo for v in values) else max(values)


def _solution_sets(relations: Iterable[Boolean], x: sympy.Symbol, lower: int) -> list[Any]:
    """Per residue class r of x modulo L: the integers t = (x - r)/L solving everything."""
    rels = []
    for rel in relations:
        if isinstance(rel, BooleanTrue):
            continue
        if isinstance(rel, BooleanFalse):
            return []
        extra = rel.free_symbols - {x}
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            raise SymcnnError(f"cannot solve for {x}: {rel} still depends on {names}")
        rels.append(_without_mod(rel))
    system = _System(rels, x)
    period = system.period
    budget = Budget(SOLVE_SECONDS)
    sets = []
    for r in range(period):
        if budget.spent():
            raise SolverError(
                f"cannot solve for {x} within {SOLVE_SECONDS:g} s: {r} of {period} residue "
                f"classes modulo {period} decided; give more symbols a value, or fewer "
                "relations"
            )
        current: list[Span] = [(-((r - lower) // period), None)]  # t >= ⌈(lower - r)/L⌉
        for op, poly in system.on_residue(r):
            current = _intersect(current, _integer_spans(op, poly))
            if not current:
                break
        sets.append((period, r, current))
    return sets


def _without_mod(rel: Boolean) -> Boolean:
    """Rewrite Mod(a, m) as a - m·⌊a/m⌋, so every atom is a floor."""
    return rel.replace(sympy.Mod, lambda a, m: a - m * sympy.floor(a / m))


def _rounding_atoms(expr: Any) -> set[Any]:
    return set(expr.atoms(sympy.floor, sympy.ceiling))


class _System:
    """Relations in x whose floors are linear in x, prepared for every residue class.

    Each floor (or ceiling) atom, nested ones too, becomes a fresh symbol ``y`` whose
    argument is linear in x and the inner atoms' symbols. On ``x = L·t + r`` an atom is
    ``c·t + d``: its slope times L gives c, an integer once L is a multiple of every
    slope's denominator, and the floor of the rest, a number, gives d. ``⌊(3·⌊(n + 2)/3⌋
    + 1)/2⌋`` grows like n/2: on n = 6·t + r the inner floor is 2·t plus a number, the
    outer one 3·t plus a number. The atoms' values are exact fractions, so no floor is
    ever evaluated by sympy; each relation is then a polynomial in t.
    """

    def __init__(self, rels: list[Any], x: sympy.Symbol) -> None:
        self.x = x
        found: set[Any] = set()
        stack = [a for rel in rels for a in _rounding_atoms(rel)]
        while stack:
            atom = stack.pop()
            if atom not in found:
                found.add(atom)
                stack.extend(_rounding_atoms(atom.args[0]))
        if len(found) > MAX_ATOMS:
            raise SolverError(
                f"cannot solve for {x}: the relations hold {len(found)} floors (at most "
                f"{MAX_ATOMS})"
            )
        # innermost first: an atom's argument only reads atoms already placed
        self.atoms = sorted(found, key=lambda a: sympy.count_ops(a))
        self.names = {a: sympy.Dummy("y") for a in self.atoms}
        self.parts = {a: self._linear(a) for a in self.atoms}
        self.slopes: dict[Any, Fraction] = {}
        for a in self.atoms:
            const, coeff_x, inner = self.parts[a]
            self.slopes[a] = coeff_x + sum(b * self.slopes[i] for i, b in inner)
        self.period = math.lcm(1, *(s.denominator for s in self.slopes.values()))
        self.relations = [self._polynomial(rel) for rel in rels]

    def _flat(self, expr: Any) -> Any:
        """``expr`` with every atom (outermost matches first) replaced by its symbol."""
        return expr.xreplace({a: self.names[a] for a in _rounding_atoms(expr)})

    def _linear(self, atom: Any) -> tuple[Fraction, Fraction, list[tuple[Any, Fraction]]]:
        """An atom's argument as (constant, coefficient of x, [(inner atom, coefficient)])."""
        inner = [a for a in self.atoms if a in _rounding_atoms(atom.args[0])]
        symbols = [self.x, *(self.names[a] for a in inner)]
        arg = sympy.expand(self._flat(atom.args[0]))
        if not arg.is_polynomial(*symbols):
            raise SolverError(
                f"cannot solve exactly for {self.x}: {text(atom)} is not a floor of a linear "
                f"function of {self.x}"
            )
        poly = sympy.Poly(arg, *symbols)
        if poly.total_degree() > 1 or not all(c.is_Rational for c in poly.coeffs()):
            raise SolverError(
                f"cannot solve exactly for {self.x}: {text(atom)} is not a floor of a linear "
                f"function of {self.x}"
            )
        const = _fraction(poly.coeff_monomial(1))
        coeffs = [_fraction(poly.coeff_monomial(s)) for s in symbols]
        return const, coeffs[0], list(zip(inner, coeffs[1:], strict=True))

    def _polynomial(self, rel: Any) -> tuple[str, sympy.Poly]:
        """A relation as its operator and ``lhs - rhs``, a polynomial in x and the atoms."""
        symbols = [self.x, *(self.names[a] for a in self.atoms)]
        difference = sympy.expand(self._flat(rel.lhs - rel.rhs))
        if not difference.is_polynomial(*symbols):
            raise SolverError(
                f"cannot solve exactly for {self.x}: {text(rel)} is not polynomial in {self.x}"
            )
        poly = sympy.Poly(difference, *symbols)
        if not all(c.is_Rational for c in poly.coeffs()):
            raise SolverError(f"cannot solve exactly for {self.x}: {text(rel)} has a symbolic term")
        return rel.rel_op, poly

    def on_residue(self, r: int) -> list[tuple[str, sympy.Poly]]:
        """Every relation on ``x = period·t + r``, as a polynomial in t."""
        values: dict[Any, tuple[Fraction, Fraction]] = {}  # atom: (c, d), the atom = c·t + d
        for a in self.atoms:
            const, coeff_x, inner = self.parts[a]
            c = coeff_x * self.period + sum(b * values[i][0] for i, b in inner)
            rest = const + coeff_x * r + sum(b * values[i][1] for i, b in inner)
            whole = math.floor(rest) if isinstance(a, sympy.floor) else math.ceil(rest)
            values[a] = (c, Fraction(whole))
        t = sympy.Poly(_t, _t)
        images = [self.period * t + r, *(_poly_of(*values[a]) for a in self.atoms)]
        return [(op, _compose(poly, images)) for op, poly in self.relations]


def _fraction(value: Any) -> Fraction:
    """A sympy Rational as an exact Python fraction."""
    return Fraction(int(value.p), int(value.q))


def _poly_of(c: Fraction, d: Fraction) -> sympy.Poly:
    """``c·t + d`` as a polynomial in t."""
    slope, offset = (
        sympy.Rational(c.numerator, c.denominator),
        sympy.Rational(d.numerator, d.denominator),
    )
    return sympy.Poly(slope * _t + offset, _t, domain="QQ")


def _compose(poly: sympy.Poly, images: list[sympy.Poly]) -> sympy.Poly:
    """``poly(images[0], images[1], ...)``: each variable replaced by a polynomial in t."""
    total = sympy.Poly(0, _t, domain="QQ")
    powers: list[dict[int, sympy.Poly]] = [{0: sympy.Poly(1, _t, domain="QQ")} for _ in images]
    for monomial, coeff in poly.terms():
        term = sympy.Poly(coeff, _t, domain="QQ")
        for i, e in enumerate(monomial):
            if e:
                cache = powers[i]
                if e not in cache:
                    cache[e] = images[i] ** e
                term = term * cache[e]
        total = total + term
    return total


#: Integers lo..hi, both included; None where a side is unbounded.
Span = tuple[Any, Any]


def _integer_spans(op: str, poly: sympy.Poly) -> list[Span]:
    """The integers t with ``poly(t) op 0``, from the real roots as exact ``CRootOf`` numbers.

    sympy's real solver writes the roots of a quartic in radicals first (a second per
    relation) and builds sets whose unions compare those numbers again; isolating the real
    roots takes milliseconds, the sign between them follows from the leading coefficient
    and each root's multiplicity, and only the integers between them are kept. For ``==``
    and ``!=`` only the integer roots matter, found by factoring.

    Examples
    --------
    >>> t = _t
    >>> _integer_spans(">=", sympy.Poly(t**2 - 10, t)), _integer_spans("!=", sympy.Poly(t, t))
    ([(None, -4), (4, None)], [(None, -1), (1, None)])
    """
    if poly.is_zero:
        return [(None, None)] if op in ("==", ">=", "<=") else []
    if op in ("==", "!="):
        ints = sorted(int(v) for v in poly.ground_roots() if v.is_Integer)
        if op == "==":
            return [(v, v) for v in ints]
        cuts: list[int | None] = [None, *ints, None]
        return _merged(
            [
                (None if a is None else a + 1, None if b is None else b - 1)
                for a, b in zip(cuts, cuts[1:], strict=False)
            ]
        )
    wanted = 1 if op in (">=", ">") else -1
    if poly.degree() == 0:
        value = poly.LC()
        holds = value * wanted > 0 or (value == 0 and len(op) == 2)
        return [(None, None)] if holds else []
    roots: dict[Any, int] = {}
    for root in poly.real_roots():
        roots[root] = roots.get(root, 0) + 1
    ordered = sorted(roots, key=lambda r: r.evalf(30))
    # the sign on each open gap, from the right: the leading coefficient's, flipping
    # across each root of odd multiplicity; signs[i] is the gap before ordered[i]
    signs = [1 if poly.LC() > 0 else -1]
    for root in reversed(ordered):
        signs.append(-signs[-1] if roots[root] % 2 else signs[-1])
    signs.reverse()
    edges: list[Any] = [None, *ordered, None]
    spans: list[Span] = []
    for i, sign in enumerate(signs):
        if sign != wanted:
            continue
        a, b = edges[i], edges[i + 1]  # integers strictly between a and b
        lo = None if a is None else int(sympy.floor(a)) + 1
        hi = None if b is None else int(sympy.ceiling(b)) - 1
        if lo is None or hi is None or lo <= hi:
            spans.append((lo, hi))
    if len(op) == 2:  # >= and <= hold at the roots too
        spans += [(int(r), int(r)) for r in ordered if r.is_Integer]
    return _merged(spans)


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted, with overlapping or adjacent spans joined."""
    out: list[Span] = []
    for lo, hi in sorted(spans, key=lambda s: -math.inf if s[0] is None else s[0]):
        if out and (out[-1][1] is None or lo is None or lo <= out[-1][1] + 1):
            last_lo, last_hi = out[-1]
            out[-1] = (last_lo, None if last_hi is None or hi is None else max(last_hi, hi))
        else:
            out.append((lo, hi))
    return out


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    """The integers in both span lists."""
    out: list[Span] = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo = lo2 if lo1 is None else lo1 if lo2 is None else max(lo1, lo2)
            hi = hi2 if hi1 is None else hi1 if hi2 is None else min(hi1, hi2)
            if lo is None or hi is None or lo <= hi:
                out.append((lo, hi))
    return _merged(out)


def _extreme(entry: tuple[int, int, list[Span]], smallest: bool) -> Any:
    """The smallest (largest) x of one residue class; oo when unbounded; None when empty."""
    period, r, spans = entry
    if not spans:
        return None
    if smallest:
        lo = spans[0][0]
        if lo is None:
            raise SolverError("the solutions are unbounded below")
        return period * lo + r
    hi = spans[-1][1]
    return sympy.oo if hi is None else period * hi + r
