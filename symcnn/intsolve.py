"""Exact integer solutions of size conditions in one variable.

A network's conditions, once every symbol but one (say ``n``) has a value, are relations
between polynomials in ``n`` and floors ``⌊(α·n + β)/d⌋`` of linear functions of it. With
``L`` the least common multiple of the floors' denominators, writing ``n = L·t + r`` for each
residue ``r`` turns every floor into a linear function of ``t``, so each relation becomes a
polynomial relation in ``t`` that sympy solves exactly over the reals. The smallest (or
largest) integer ``t`` in the intersection, over all residues, gives the answer: no range
is guessed and nothing is sampled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from .errors import SolverError, SymcnnError
from .guard import Budget
from .printing import text

__all__ = ["SOLVE_SECONDS", "largest_integer", "smallest_integer"]

#: Floors nested deeper than this are not unfolded (canonical forms nest two at most).
MAX_NESTING = 16
#: Seconds a solution may take before the solver says what it could not decide.
SOLVE_SECONDS = 20.0

#: The residue-class unknown: a Dummy, so that no user symbol named ``t`` can meet it.
_t = sympy.Dummy("t", real=True)


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
    """Per residue class r of x modulo L: the (x - r)/L values solving everything, as a Set."""
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
    period = _period(rels, x)
    budget = Budget(SOLVE_SECONDS)
    sets = []
    for r in range(period):
        if budget.spent():
            raise SolverError(
                f"cannot solve for {x} within {SOLVE_SECONDS:g} s: {r} of {period} residue "
                f"classes modulo {period} decided; give more symbols a value, or fewer "
                "relations"
            )
        bound = sympy.Interval(sympy.Rational(lower - r, period), sympy.oo)
        current: Any = bound
        for rel in rels:
            local = _linearize(rel, x, period, r)
            if isinstance(local, BooleanTrue):
                continue
            if isinstance(local, BooleanFalse):
                current = sympy.EmptySet
                break
            current = current.intersect(_solve(local))
            if current is sympy.EmptySet:
                break
        sets.append((period, r, current))
    return sets


def _without_mod(rel: Boolean) -> Boolean:
    """Rewrite Mod(a, m) as a - m·⌊a/m⌋, so every atom is a floor."""
    return rel.replace(sympy.Mod, lambda a, m: a - m * sympy.floor(a / m))


def _rounding_atoms(expr: Any) -> set[Any]:
    return set(expr.atoms(sympy.floor, sympy.ceiling))


def _slope(atom: Any, x: sympy.Symbol) -> sympy.Rational:
    """How fast a floor's argument grows with x, nested floors counted at their slope.

    ``⌊(3·⌊(n + 2)/3⌋ + 1)/2⌋`` grows like ``n/2``: on ``n = 6·t + r`` the inner floor is
    ``2·t`` plus a number, and then the outer one ``3·t`` plus a number. A period that
    makes every slope an integer therefore makes every floor, nested or not, linear in t.
    """
    smooth = sympy.expand(
        atom.args[0].replace(
            lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), lambda e: e.args[0]
        )
    )
    if not smooth.is_polynomial(x) or sympy.degree(smooth, x) > 1:
        raise SolverError(
            f"cannot solve exactly for {x}: {text(atom)} is not a floor of a linear function "
            f"of {x}"
        )
    slope = smooth.coeff(x, 1)
    if not slope.is_Rational:
        raise SolverError(f"cannot solve exactly for {x}: the slope of {text(atom)} is {slope}")
    return slope


def _period(rels: list[Any], x: sympy.Symbol) -> int:
    period = 1
    for rel in rels:
        for atom in _rounding_atoms(rel):
            period = math.lcm(period, int(_slope(atom, x).q))
    return period


def _linearize(rel: Any, x: sympy.Symbol, period: int, r: int) -> Any:
    """The relation on the residue class x = period·t + r, with floors linear in t.

    Floors are rewritten innermost first (sympy's ``replace`` works bottom-up): each
    argument is then ``c·t + d`` with an integer c (the period is chosen so) and a number
    d, and ``⌊c·t + d⌋ = c·t + ⌊d⌋`` for integer t.
    """

    def flat(atom: Any) -> Any:
        arg = sympy.expand(atom.args[0])
        c = arg.coeff(_t, 1)
        d = sympy.expand(arg - c * _t)
        if not (c.is_Integer and d.is_Rational):
            raise SolverError(f"cannot solve exactly for {x}: {text(atom)} on x = {period}·t + {r}")
        return c * _t + type(atom)(d)

    local = rel.xreplace({x: period * _t + r})
    # sympy may pull integers out of an outer floor once an inner one is flat, which
    # leaves a new floor the bottom-up pass has gone by: repeat until none is left.
    for _ in range(MAX_NESTING):
        if not _rounding_atoms(local):
            break
        local = local.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), flat)
    if isinstance(local, sympy.core.relational.Relational) and not (
        local.lhs - local.rhs
    ).is_polynomial(_t):
        raise SolverError(f"cannot solve exactly for {x}: {text(rel)} is not polynomial in {x}")
    return local


def _solve(rel: Any) -> Any:
    difference = sympy.expand(rel.lhs - rel.rhs)
    if difference.is_polynomial(_t) and all(
        c.is_Rational for c in sympy.Poly(difference, _t).all_coeffs()
    ):
        return _solve_polynomial(rel.rel_op, sympy.Poly(difference, _t))
    if isinstance(rel, sympy.Ne):
        return sympy.Complement(sympy.Reals, sympy.solveset(rel.lhs - rel.rhs, _t, sympy.Reals))
    return sympy.solveset(rel, _t, sympy.Reals)


def _solve_polynomial(op: str, poly: sympy.Poly) -> Any:
    """The real t with ``poly(t) op 0``, from its real roots as exact ``CRootOf`` numbers.

    sympy's real solver writes the roots of a quartic in radicals first (a second per
    relation); isolating the real roots takes milliseconds, and the sign between them
    follows from the leading coefficient and each root's multiplicity. For ``==`` only
    the rational roots matter: t must be an integer.
    """
    if poly.is_zero:
        return sympy.Reals if op in ("==", ">=", "<=") else sympy.EmptySet
    if op == "==":
        return sympy.FiniteSet(*poly.ground_roots())
    if op == "!=":
        return sympy.Complement(sympy.Reals, sympy.FiniteSet(*poly.ground_roots()))
    if poly.degree() == 0:
        value = poly.LC()
        holds = {">=": value >= 0, ">": value > 0, "<=": value <= 0, "<": value < 0}[op]
        return sympy.Reals if holds else sympy.EmptySet
    roots: dict[Any, int] = {}
    for root in poly.real_roots():
        roots[root] = roots.get(root, 0) + 1
    ordered = sorted(roots, key=lambda r: r.evalf(30))
    # the sign of poly on each open gap, from the right: the leading coefficient's sign,
    # flipping across each root of odd multiplicity
    signs = [1 if poly.LC() > 0 else -1]
    for root in reversed(ordered):
        signs.append(-signs[-1] if roots[root] % 2 else signs[-1])
    signs.reverse()  # signs[i]: the gap before ordered[i]; signs[-1]: after the last
    edges = [-sympy.oo, *ordered, sympy.oo]
    wanted = 1 if op in (">=", ">") else -1
    pieces: list[Any] = [
        sympy.Interval.open(edges[i], edges[i + 1])
        for i, sign in enumerate(signs)
        if sign == wanted
    ]
    if op in (">=", "<="):
        pieces.append(sympy.FiniteSet(*ordered))
    return sympy.Union(*pieces) if pieces else sympy.EmptySet


def _extreme(entry: tuple[int, int, Any], smallest: bool) -> int | Any | None:
    period, r, solution = entry
    ts = _integer_extreme(solution, smallest)
    if ts is None or ts in (sympy.oo, -sympy.oo):
        return ts
    return period * int(ts) + r


def _integer_extreme(s: Any, smallest: bool) -> Any:
    """The smallest (largest) integer in a real Set; oo when unbounded; None when empty."""
    if s is sympy.EmptySet:
        return None
    if isinstance(s, sympy.Union):
        found = [_integer_extreme(a, smallest) for a in s.args]
        found = [f for f in found if f is not None]
        if not found:
            return None
        if not smallest and sympy.oo in found:
            return sympy.oo
        return min(found) if smallest else max(found)
    if isinstance(s, sympy.FiniteSet):
        ints = [int(v) for v in s if v.is_integer]
        return (min(ints) if smallest else max(ints)) if ints else None
    if isinstance(s, sympy.Interval):
        lo = sympy.ceiling(s.start) if s.start != -sympy.oo else None
        if lo is not None and s.left_open and lo == s.start:
            lo += 1
        hi = sympy.floor(s.end) if s.end != sympy.oo else None
        if hi is not None and s.right_open and hi == s.end:
            hi -= 1
        if lo is not None and hi is not None and lo > hi:
            return None
        if smallest:
            if lo is None:
                raise SymcnnError("the solutions are unbounded below")
            return lo
        return sympy.oo if hi is None else hi
    raise SolverError(f"cannot find integer solutions in {s}")
