"""The validity domain: conditions with their floors removed, merged, redundancy dropped.

For integer ``u`` and ``m`` and a positive integer ``a``:

    ⌊u/a⌋ ≥ m  ⟺  u ≥ a·m            ⌈u/a⌉ ≥ m  ⟺  u ≥ a·(m − 1) + 1
    ⌊u/a⌋ ≤ m  ⟺  u ≤ a·m + a − 1    ⌈u/a⌉ ≤ m  ⟺  u ≤ a·m

so a condition with one floor atom becomes a floor-free one. Linear conditions are then
solved for a preferred symbol (``n ≥ 4·k + 2``) and a bound implied by a stronger one on the
same symbol is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from ..errors import SolverError
from ..symbolic.canonical import canonical
from ..symbolic.guard import Budget, asking
from ..symbolic.rules import unfloor
from .condition import Condition, decidable, linear_range, relation

__all__ = ["simplify_domain", "simplify_relation"]


def simplify_relation(rel: Boolean, prefer: Iterable[sympy.Symbol] = ()) -> Boolean:
    """An equivalent, floor-free where possible, relation over positive integers.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> simplify_relation(sympy.Ge(sympy.floor((n - k + 1) / 3) - k + 1, 2), prefer=[n])
    n >= 4*k + 2
    """
    if isinstance(rel, sympy.Eq) and decidable(rel.lhs - rel.rhs):
        return _divisibility(rel)
    if not isinstance(rel, (sympy.Ge, sympy.Le, sympy.Gt, sympy.Lt)) or not decidable(
        rel.lhs - rel.rhs
    ):
        return rel
    # every order relation as  e >= 0  over the integers
    if isinstance(rel, sympy.Ge):
        e = rel.lhs - rel.rhs
    elif isinstance(rel, sympy.Gt):
        e = rel.lhs - rel.rhs - 1
    elif isinstance(rel, sympy.Le):
        e = rel.rhs - rel.lhs
    else:
        e = rel.rhs - rel.lhs - 1
    if linear_range(e) is None:  # a linear e has no floor to remove, nothing to expand
        e = unfloor(canonical(sympy.expand(e)))  # symcnn/symbolic/rules.py: RELATION_RULES
    return _solved(relation(">=", e, 0), list(prefer))


def _divisibility(rel: sympy.Eq) -> Boolean:
    """``a·⌊u/a⌋ = u`` (a U-Net's skip after pooling and upsampling) is ``u mod a = 0``."""
    e = sympy.expand(rel.lhs - rel.rhs)
    atoms = e.atoms(sympy.floor)
    if len(atoms) != 1:
        return rel
    (atom,) = atoms
    u, a = sympy.fraction(sympy.together(atom.args[0]))
    coeff = e.coeff(atom)
    if not (a.is_integer and a.is_positive and coeff in (a, -a)):
        return rel
    if sympy.expand(e - coeff * atom + (coeff / a) * u) != 0:
        return rel
    return sympy.Eq(sympy.Mod(u, a), 0)


def _solved(rel: Boolean, prefer: list[sympy.Symbol]) -> Boolean:
    """``e >= 0`` written as ``x >= ...`` or ``x <= ...`` for a preferred symbol x."""
    if isinstance(rel, (BooleanTrue, BooleanFalse)):
        return rel
    e = rel.lhs - rel.rhs
    symbols = [s for s in prefer if s in e.free_symbols] + sorted(
        (s for s in e.free_symbols if s not in prefer), key=str
    )
    terms = e.as_coefficients_dict() if linear_range(e) is not None else None
    for x in symbols:
        if terms is not None:  # the common, linear case: read off, no polynomial built
            coeff = terms.get(x, 0)
            if coeff in (1, -1):
                rest = sympy.Add(*(c * t for t, c in terms.items() if t != x))
                # e >= 0 is undecided (a decided one is not a relation), and so is this
                kind = sympy.Ge if coeff == 1 else sympy.Le
                return kind(x, -coeff * rest, evaluate=False)
            continue
        poly = sympy.Poly(e, x) if e.is_polynomial(x) else None
        if poly is None or poly.degree() != 1:
            continue
        coeff = poly.coeff_monomial(x)
        if coeff not in (1, -1):
            continue
        rest = sympy.expand(e - coeff * x)
        return relation(">=", x, -rest) if coeff == 1 else relation("<=", x, rest)
    return rel


def simplify_domain(
    relations: Iterable[Boolean], prefer: Iterable[sympy.Symbol] = ()
) -> tuple[Boolean, ...]:
    """Simplify each relation, then drop duplicates, truths and bounds implied by others.

    Returns ``(sympy.false,)`` when some relation is provably false.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> simplify_domain([sympy.Ge(n, k), sympy.Ge(n - k + 1, 3), sympy.Ge(n, 4 * k + 2)], [n])
    (n >= 4*k + 2,)
    """
    prefer = list(prefer)
    budget = Budget(SIMPLIFY_SECONDS)
    kept: dict[Boolean, None] = {}  # ordered, and a repeat is found at once
    # Layers repeat their rules (a DenseNet states 24 distinct relations 406 times): each
    # distinct relation is simplified once.
    for rel in dict.fromkeys(relations):
        if not budget.spent():  # past the budget, relations stay as the layers state them
            rel = _simplified(rel, prefer)
        if isinstance(rel, BooleanFalse):
            return (sympy.false,)
        if not isinstance(rel, BooleanTrue):
            kept[rel] = None
    try:
        with asking("simplifying the domain"):
            pinned = _pin_equalities(list(kept))
            if sympy.false in pinned:
                return (sympy.false,)
            pruned = _strongest_bounds(_drop_implied_by_divisibility(pinned))
            lows = _lower_bounds(pruned)
            return tuple(r for r in pruned if not _follows_from_bounds(r, lows))
    except SolverError:  # each relation is already exact: less simple is still right
        return tuple(kept)


#: Seconds :func:`simplify_domain` spends simplifying relations one by one; the rest are
#: kept as the layers state them (exact, only longer). A chain of 1,000 layers needs ~1 s.
SIMPLIFY_SECONDS = 10.0


def _simplified(rel: Boolean, prefer: list[sympy.Symbol]) -> Boolean:
    """:func:`simplify_relation`, or ``rel`` itself where sympy fails on it."""
    try:
        with asking(lambda: f"simplifying {rel}"):
            return simplify_relation(rel, prefer)
    except SolverError:
        return rel


def _strongest_bounds(relations: list[Boolean]) -> list[Boolean]:
    """Drop each bound ``x >= c`` (``x <= c``) that a stronger one on the same symbol implies.

    The candidates on each symbol are sorted, strongest first, by their value at a large
    sample point; one pass then keeps the bounds no kept one implies. A chain of n layers
    asks n bounds ``n >= j·k - j + 1``: each is compared with the one strongest, not with
    every other (the sort only orders the work; :func:`_implies` decides every drop).
    """
    groups: dict[tuple[Any, type], list[Boolean]] = {}
    for rel in relations:
        if isinstance(rel, (sympy.Ge, sympy.Le)) and rel.lhs.is_Symbol:
            groups.setdefault((rel.lhs, type(rel)), []).append(rel)
    dropped: set[Boolean] = set()
    for (_, kind), bounds in groups.items():
        if len(bounds) < 2:
            continue
        sign = -1 if kind is sympy.Ge else 1
        kept: list[Boolean] = []
        for rel in sorted(bounds, key=lambda r: sign * _sample(r.rhs)):
            if any(_implies(k, rel) for k in kept):
                dropped.add(rel)
                continue
            for k in [k for k in kept if _implies(rel, k)]:
                kept.remove(k)
                dropped.add(k)
            kept.append(rel)
    return [r for r in relations if r not in dropped]


def _sample(e: sympy.Expr) -> float:
    """``e`` at a point where every symbol is large: an order for candidates, never a proof."""
    value = e.xreplace({s: sympy.Integer(2**20 + 7) for s in e.free_symbols})
    return float(value) if value.is_number and value.is_real else 0.0


def _lower_bounds(relations: list[Boolean]) -> dict[sympy.Symbol, sympy.Expr]:
    """The largest number c of each bound ``x >= c``."""
    lows: dict[sympy.Symbol, sympy.Expr] = {}
    for o in relations:
        if isinstance(o, sympy.Ge) and o.lhs.is_Symbol and _bound_of(o, o.lhs, sympy.Ge):
            lows[o.lhs] = max(lows.get(o.lhs, o.rhs), o.rhs)
    return lows


def _follows_from_bounds(rel: Boolean, lows: Mapping[sympy.Symbol, sympy.Expr]) -> bool:
    """Whether a polynomial ``e >= 0`` holds wherever the lower bounds ``x >= c`` do.

    With ``x = c + t`` for each bounded symbol, ``e`` becomes a polynomial in ``t >= 0``
    whose coefficients, all nonnegative, prove it: a flattened (H - 2)·(W - 2) ≥ 1 follows
    from H ≥ 3 and W ≥ 3. A symbol without a bound counts from its least value (1, or 0
    if nonnegative). A sufficient test, never a wrong drop. The bounds themselves are not
    tested: :func:`_strongest_bounds` has kept one per symbol.
    """
    if not isinstance(rel, (sympy.Ge, sympy.Le)) or rel.has(sympy.Mod):
        return False
    if _bound_of(rel, rel.lhs, sympy.Ge) and rel.lhs.is_Symbol:
        return False
    e = rel.lhs - rel.rhs if isinstance(rel, sympy.Ge) else rel.rhs - rel.lhs
    if not e.free_symbols:
        return False
    # a symbol with no bound of its own is still at least 1 (positive) or 0 (nonnegative)
    least = {s: lows[s] if s in lows else _lowest(s) for s in e.free_symbols}
    if any(v is None for v in least.values()):
        return False
    if e.has(sympy.floor, sympy.ceiling):
        # nondecreasing in every symbol: least at the lower bounds. A strided slice of a
        # map padded to even sizes must not be empty: 2·⌈⌊H/4⌋/2⌉ - 2 ≥ 0 wherever H ≥ 4
        return _nondecreasing(e) and bool(e.xreplace(least) >= 0)
    return _nonnegative(e, least)


def _nondecreasing(e: sympy.Expr) -> bool:
    """Whether ``e`` provably does not decrease as any of its symbols grows.

    Sums of such terms, a positive number times one, and their floors, ceilings, minima
    and maxima; a sufficient test, never a wrong yes.
    """
    if e.is_Symbol or e.is_Number:
        return True
    if isinstance(e, (sympy.Add, sympy.Min, sympy.Max)):
        return all(_nondecreasing(a) for a in e.args)
    if isinstance(e, sympy.Mul):
        numbers = [a for a in e.args if a.is_Number]
        rest = [a for a in e.args if not a.is_Number]
        return len(rest) == 1 and all(a > 0 for a in numbers) and _nondecreasing(rest[0])
    if isinstance(e, (sympy.floor, sympy.ceiling)):
        return _nondecreasing(e.args[0])
    return False


def _nonnegative(e: sympy.Expr, lows: Mapping[sympy.Symbol, Any]) -> bool:
    """Whether ``e`` is provably ``>= 0`` where each symbol x is at least ``lows[x]``.

    Sufficient, never wrong: after ``x = lows[x] + t`` every coefficient of the polynomial
    in the ``t >= 0`` must be nonnegative.
    """
    shift = {x: c + sympy.Dummy(f"t_{x}", nonnegative=True) for x, c in lows.items()}
    shifted = sympy.expand(e.xreplace(shift))
    if shifted.is_Number:
        return bool(shifted >= 0)
    if not shifted.is_polynomial(*shifted.free_symbols):
        return False
    return all(c >= 0 for c in sympy.Poly(shifted, *shifted.free_symbols).coeffs())


def _pin_equalities(relations: list[Boolean]) -> list[Boolean]:
    """An equality in one floor of one symbol, as the range of that symbol it allows.

    The seed's ``x.view(-1, 256)`` on an n×n input asks ``64·(⌊(n - 4)/6⌋ - 2)² = 256``:
    the floor must be 0 or 4, and with ``n >= 22`` known only 4 remains, so the equality
    is ``28 <= n <= 33``. Left as it is when several ranges remain.
    """
    out: list[Boolean] = []
    for rel in relations:
        pinned = _pinned(rel, relations)
        if pinned is None:
            out.append(rel)
        elif pinned == ():
            return [sympy.false]
        else:
            out.extend(r for r in pinned if r not in out)
    return out


def _pinned(rel: Boolean, others: list[Any]) -> tuple[Boolean, ...] | None:
    if not isinstance(rel, sympy.Eq) or len(rel.free_symbols) != 1:
        return None
    (x,) = rel.free_symbols
    e = sympy.expand(rel.lhs - rel.rhs)
    atoms = e.atoms(sympy.floor, sympy.ceiling)
    if len(atoms) != 1:
        return None
    (atom,) = atoms
    y = sympy.Dummy("y", integer=True)
    poly_expr = sympy.expand(e.subs(atom, y))
    if x in poly_expr.free_symbols or not poly_expr.is_polynomial(y):
        return None
    roots = [r for r in sympy.roots(sympy.Poly(poly_expr, y)) if r.is_Integer]
    lo = max(
        (r.rhs for r in others if _bound_of(r, x, sympy.Ge)),
        default=sympy.Integer(1 if x.is_positive else 0),
    )
    hi = min((r.rhs for r in others if _bound_of(r, x, sympy.Le)), default=sympy.oo)
    ranges = []
    for root in roots:
        low: Any = simplify_relation(sympy.Ge(atom, root), [x])
        high: Any = simplify_relation(sympy.Le(atom, root), [x])
        if not (_bound_of(low, x, sympy.Ge) and _bound_of(high, x, sympy.Le)):
            return None
        a, b = max(lo, low.rhs), min(hi, high.rhs)
        if a <= b:
            ranges.append((a, b))
    if len(ranges) > 1:
        return None
    if not ranges:
        return ()
    a, b = ranges[0]
    return (sympy.Ge(x, a), sympy.Le(x, b)) if a != b else (sympy.Eq(x, a),)


def _bound_of(rel: Any, x: sympy.Symbol, kind: Any) -> bool:
    """Whether ``rel`` is ``x >= c`` (or ``x <= c``) for a number c."""
    return isinstance(rel, kind) and rel.lhs == x and rel.rhs.is_Integer


def _drop_implied_by_divisibility(relations: list[Boolean]) -> list[Boolean]:
    """With ``x mod m = 0`` known, drop every relation that holds at all ``x = m·t``.

    A 4-level U-Net's skip connections each ask ``2^i·⌊n/2^i⌋ = n``-like equalities and
    its pooling ``n >= 16``; all follow from ``n mod 16 = 0`` (n positive).
    """
    t = sympy.Dummy("t", integer=True, positive=True)  # never equal to a user's symbol
    out = list(relations)
    for rel in relations:
        if not (isinstance(rel, sympy.Eq) and isinstance(rel.lhs, sympy.Mod) and rel.rhs == 0):
            continue
        x, m = rel.lhs.args
        if not (x.is_Symbol and m.is_Integer and m > 0):
            continue
        out = [
            r for r in out if r is rel or x not in r.free_symbols or not _holds(r.subs(x, m * t))
        ]
    return out


def _holds(rel: Boolean) -> bool:
    return Condition(rel, "").decide() is True


def _implies(stronger: Boolean, weaker: Boolean) -> bool:
    """Whether one bound on a symbol makes another on the same symbol redundant.

    ``x >= a`` implies ``x >= b`` where ``a - b >= 0`` for every value of the symbols,
    proved by :func:`_nonnegative` (each symbol at least 1, or 0 if nonnegative), or by
    sympy where that sufficient test cannot tell.
    """
    if type(stronger) is not type(weaker) or not isinstance(stronger, (sympy.Ge, sympy.Le)):
        return False
    if stronger.lhs != weaker.lhs or not stronger.lhs.is_Symbol or stronger == weaker:
        return False
    gap = stronger.rhs - weaker.rhs
    if not decidable(gap):
        return False
    if isinstance(stronger, sympy.Le):
        gap = -gap
    bounds = linear_range(gap)
    if bounds is not None:  # exact for a linear gap
        return bool(bounds[0] >= 0)
    lows = {s: _lowest(s) for s in gap.free_symbols}
    if None not in lows.values() and _nonnegative(gap, lows):
        return True
    return bool(gap.is_nonnegative)


def _lowest(s: sympy.Symbol) -> int | None:
    """The least value a symbol's assumptions allow: 1 if positive, 0 if nonnegative."""
    if s.is_positive and s.is_integer:
        return 1
    if s.is_nonnegative and s.is_integer:
        return 0
    return None
