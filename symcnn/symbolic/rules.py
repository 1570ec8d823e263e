"""Floor and ceiling identities as a table of rewrite rules, and the drivers that apply them.

Each identity is a :class:`Rule`: a name, the identity as a formula, and a function from a
matched expression to its rewrite (None when the identity's side conditions fail). Three
tables use them:

- :data:`CANONICAL_RULES`, applied to size formulas by :func:`rewrite` (bottom-up, to a
  fixed point): it collapses nested floors and ceilings, so stacked strided layers read as
  one floor (:func:`symcnn.symbolic.canonical.canonical`);
- :data:`RELATION_RULES`, applied to a condition ``e ≥ 0`` by :func:`unfloor`: it removes
  the floor of a size from a validity condition (:mod:`symcnn.validity.domain`);
- :data:`FLOOR_AS_CEILING`, applied by the printers only (:mod:`symcnn.symbolic.notation`):
  ⌊(x + a − 1)/a⌋ is written ⌈x/a⌉, while the expression keeps its floor, the form the
  collapse works on.

Every side condition is over the integers: ``x``, ``b``, ``m``, ``u`` integer-valued and
``a``, ``c`` positive integers, which is what size formulas over :func:`symcnn.symbols`
are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

__all__ = [
    "CANONICAL_RULES",
    "FLOOR_AS_CEILING",
    "RELATION_RULES",
    "Rule",
    "as_ceiling",
    "rewrite",
    "split_fraction",
    "unfloor",
]

_ROUNDING = (sympy.floor, sympy.ceiling)


@dataclass(frozen=True)
class Rule:
    """One identity of the table: its name, the identity, and the rewrite that applies it.

    ``apply`` takes the expression the rule is tried on and returns its rewrite, or None
    when the expression is not the identity's left side or a side condition fails.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> NESTED_FLOOR(sympy.floor((sympy.floor(n / 3) + 1) / 2))
    floor(n/6 + 1/2)
    >>> NESTED_FLOOR(sympy.floor(n / 2)) is None
    True
    """

    name: str
    identity: str
    apply: Callable[[sympy.Expr], sympy.Expr | None]

    def __call__(self, expr: sympy.Expr) -> sympy.Expr | None:
        """The rewrite of ``expr``, or None when the rule does not apply."""
        return self.apply(expr)

    def __repr__(self) -> str:
        return f"Rule({self.name}: {self.identity})"


# -- side conditions --------------------------------------------------------------------------


def _positive_integer(e: sympy.Expr) -> bool:
    return bool(e.is_integer and e.is_positive)


def _integer(e: sympy.Expr) -> bool:
    from .shape import _integer_valued

    return bool(e.is_integer) or _integer_valued(e)


def _monomial(m: sympy.Expr) -> bool:
    """Whether ``m`` is 1 or a product of powers of integer symbols of unknown parity.

    sympy decides a rational multiple ``c·m`` of such a product to be an integer exactly
    when ``c`` is one (Mul._eval_is_integer can call ``k/2`` an integer only for a ``k``
    declared even), which spares its assumption queries.
    """
    for f in sympy.Mul.make_args(m):
        if f is sympy.S.One:
            continue
        base, exp = f.as_base_exp()
        if not (base.is_Symbol and exp.is_Integer and exp > 0):
            return False
        if not (base.is_integer and base.is_even is None):
            return False
    return True


def _whole(t: sympy.Expr) -> bool:
    """``t.is_integer`` for a term of a sum, without sympy's queries for ``c·monomial``."""
    c, m = t.as_coeff_Mul()
    if c.is_Rational and _monomial(m):
        return bool(c.is_Integer)
    return bool(t.is_integer)


def split_fraction(arg: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(numerator, denominator)`` of ``arg``, as ``sympy.fraction(sympy.together(arg))``.

    A size formula's argument is mostly a polynomial with rational coefficients, possibly
    with floor and ceiling atoms as terms: then the denominator is the least common
    multiple of the coefficients' denominators and the numerator the expanded product,
    found without sympy's ``together`` (whose ``gcd_terms`` dominates a cold network
    build). Anything else goes through ``together``. Only the rewrite rules use it, which
    expand the numerator anyway; the printers keep ``together``'s own (maybe factored)
    numerator.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> split_fraction(n / 6 - k / 4 + sympy.Rational(1, 3))
    (-3*k + 2*n + 4, 12)
    """
    terms = sympy.Add.make_args(arg)
    denom = 1
    for t in terms:
        c, m = t.as_coeff_Mul()
        if not (c.is_Rational and (_monomial(m) or isinstance(m, _ROUNDING))):
            return sympy.fraction(sympy.together(arg))
        denom = sympy.ilcm(denom, c.q)
    if denom == 1:
        return arg, sympy.S.One
    return sympy.Add(*(t * denom for t in terms)), sympy.Integer(denom)


def _nested(numer: sympy.Expr, kind: Any) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """``(x, a, b)`` when ``numer`` is ``kind(x/a) + b``, the nested identity's left side.

    One floor (ceiling) term, ``x`` and ``b`` integer, ``a`` a positive integer; else None.
    """
    inner = [t for t in sympy.Add.make_args(numer) if isinstance(t, kind)]
    if len(inner) != 1:
        return None
    b = numer - inner[0]
    x, a = split_fraction(inner[0].args[0])
    if not (_integer(x) and _integer(b) and _positive_integer(a)):
        return None
    return x, a, b


# -- the canonical table: size formulas -------------------------------------------------------


def _nested_rule(kind: Any) -> Callable[[sympy.Expr], sympy.Expr | None]:
    def apply(outer: sympy.Expr) -> sympy.Expr | None:
        if not isinstance(outer, kind) or not outer.args[0].has(*_ROUNDING):
            return None  # no inner rounding: nothing is nested
        numer, c = split_fraction(outer.args[0])
        nested = _nested(numer, kind) if c != 1 and _positive_integer(c) else None
        if nested is None:
            return None
        x, a, b = nested
        # The numerator expanded: a factored one, n·(k + 2n)/(3k), becomes 2/3 at n = 1,
        # k = 2 under subs, since sympy 1.14 calls n·(2n + 2)/6 an integer
        # (Mul._eval_is_integer weighs only the factors of 2 in the denominator) and drops
        # the floor.
        return kind(sympy.expand(x + a * b) / (a * c))

    return apply


def _shift_rule(kind: Any) -> Callable[[sympy.Expr], sympy.Expr | None]:
    def apply(outer: sympy.Expr) -> sympy.Expr | None:
        if not isinstance(outer, kind):
            return None
        terms = sympy.Add.make_args(outer.args[0])
        whole = [t for t in terms if _whole(t)]
        if not whole:
            return None
        rest = [t for t in terms if not _whole(t)]
        return kind(sympy.Add(*rest)) + sympy.Add(*whole)

    return apply


NESTED_FLOOR = Rule(
    "nested floor",
    "⌊(⌊x/a⌋ + b)/c⌋ = ⌊(x + a·b)/(a·c)⌋   (x, b integer; a, c positive integers)",
    _nested_rule(sympy.floor),
)
NESTED_CEILING = Rule(
    "nested ceiling",
    "⌈(⌈x/a⌉ + b)/c⌉ = ⌈(x + a·b)/(a·c)⌉   (x, b integer; a, c positive integers)",
    _nested_rule(sympy.ceiling),
)
# sympy's floor and ceiling apply the shift themselves, with sympy's own `is_integer`
# test, to every rounding they build: in the table it rewrites only a rounding built
# with evaluate=False, and it is what canonical.floor_div applies when it builds a floor
# without sympy's evaluation.
FLOOR_SHIFT = Rule("floor shift", "⌊x + m⌋ = ⌊x⌋ + m   (m integer)", _shift_rule(sympy.floor))
CEILING_SHIFT = Rule("ceiling shift", "⌈x + m⌉ = ⌈x⌉ + m   (m integer)", _shift_rule(sympy.ceiling))

#: The identities of the canonical form, tried in this order at each floor or ceiling.
CANONICAL_RULES: tuple[Rule, ...] = (NESTED_FLOOR, NESTED_CEILING, FLOOR_SHIFT, CEILING_SHIFT)

# Each rewrite lowers (number of floor/ceiling nodes, number of terms in the argument of
# the rewritten node) lexicographically: a nested rule removes the inner node and adds
# none, a shift keeps the nodes and moves at least one term out of the argument. Both
# are natural numbers, so a node settles after at most nodes + terms rewrites; the bound
# only guards against a sympy evaluation that would break that count.
_MAX_REWRITES = 64


def rewrite(expr: sympy.Expr, rules: Sequence[Rule] = CANONICAL_RULES) -> sympy.Expr:
    """``expr`` with ``rules`` applied bottom-up until none applies (a fixed point).

    Each floor or ceiling is rewritten after its arguments, then rewritten again while a
    rule applies to it; a rewrite that is no longer a floor or ceiling (``⌊x⌋ + m``, or a
    floor sympy evaluated away) is traversed again, so the result holds no node a rule
    applies to. It terminates: every rewrite lowers a count of natural numbers (see
    ``_MAX_REWRITES`` in this file).

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> rewrite(sympy.floor((sympy.floor((sympy.floor(n / 2) + 1) / 2) + 1) / 2))
    floor(n/8 + 3/4)
    """

    def settle(node: sympy.Expr) -> sympy.Expr:
        for _ in range(_MAX_REWRITES):
            new = next((r for r in (rule(node) for rule in rules) if r is not None), None)
            if new is None:
                return node
            if not isinstance(new, _ROUNDING):
                return rewrite(new, rules) if new.has(*_ROUNDING) else new
            node = new
        return node

    return expr.replace(lambda e: isinstance(e, _ROUNDING), settle)


# -- the relation table: conditions e ≥ 0 -----------------------------------------------------


def _one_rounding(e: sympy.Expr) -> tuple[Any, sympy.Expr, int, sympy.Expr, sympy.Expr] | None:
    """``(kind, m, sign, u, a)`` when ``e ≥ 0`` says ``kind(u/a) ≥ m`` (sign 1) or ``≤ m`` (-1).

    ``e`` holds exactly one floor (ceiling) atom, with an integer coefficient ``c``, and
    integer ``u``, ``a`` positive. ``c·F + r ≥ 0`` for numbers ``c, r`` with ``|c| ≠ 1`` is
    ``F ≥ ⌈−r/c⌉`` (``c > 0``) or ``F ≤ ⌊r/|c|⌋`` (``c < 0``).
    """
    atoms = e.atoms(*_ROUNDING)
    if len(atoms) != 1:
        return None
    (atom,) = atoms
    coeff = e.coeff(atom)
    rest = sympy.expand(e - coeff * atom)
    if rest.has(atom) or not _integer(rest) or not coeff.is_Integer or coeff == 0:
        return None
    if coeff not in (1, -1):
        if not rest.is_Integer:
            return None
        rest = -sympy.ceiling(-rest / coeff) if coeff > 0 else sympy.floor(rest / -coeff)
        coeff = sympy.sign(coeff)
    u, a = sympy.fraction(sympy.together(atom.args[0]))
    if not (_integer(u) and a.is_integer and a.is_positive):
        return None
    m = -rest * coeff  # atom >= m (coeff 1) or atom <= m (coeff -1)
    return type(atom), m, int(coeff), u, a


def _bound_rule(
    kind: Any, sign: int, bound: Callable[[sympy.Expr, sympy.Expr, sympy.Expr], sympy.Expr]
) -> Callable[[sympy.Expr], sympy.Expr | None]:
    def apply(e: sympy.Expr) -> sympy.Expr | None:
        found = _one_rounding(e)
        if found is None or found[0] is not kind or found[2] != sign:
            return None
        _, m, _, u, a = found
        return sympy.expand(bound(u, a, m))

    return apply


FLOOR_AT_LEAST = Rule(
    "floor at least",
    "⌊u/a⌋ ≥ m  ⟺  u − a·m ≥ 0",
    _bound_rule(sympy.floor, 1, lambda u, a, m: u - a * m),
)
CEILING_AT_LEAST = Rule(
    "ceiling at least",
    "⌈u/a⌉ ≥ m  ⟺  u − (a·(m − 1) + 1) ≥ 0",
    _bound_rule(sympy.ceiling, 1, lambda u, a, m: u - (a * (m - 1) + 1)),
)
FLOOR_AT_MOST = Rule(
    "floor at most",
    "⌊u/a⌋ ≤ m  ⟺  a·m + a − 1 − u ≥ 0",
    _bound_rule(sympy.floor, -1, lambda u, a, m: a * m + a - 1 - u),
)
CEILING_AT_MOST = Rule(
    "ceiling at most",
    "⌈u/a⌉ ≤ m  ⟺  a·m − u ≥ 0",
    _bound_rule(sympy.ceiling, -1, lambda u, a, m: a * m - u),
)

#: Rules on the left side ``e`` of a condition ``e ≥ 0`` over the integers.
RELATION_RULES: tuple[Rule, ...] = (
    FLOOR_AT_LEAST,
    CEILING_AT_LEAST,
    FLOOR_AT_MOST,
    CEILING_AT_MOST,
)


def unfloor(e: sympy.Expr, rules: Sequence[Rule] = RELATION_RULES) -> sympy.Expr:
    """``e`` with its floor removed, for the condition ``e ≥ 0``, where a rule applies.

    A rule applies to an ``e`` with exactly one floor or ceiling atom, and its rewrite has
    none (``u``, ``a`` and ``m`` lie outside the atom, or inside its argument, where no
    other atom is): so at most one rule ever fires and the loop ends by its second turn.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> unfloor(sympy.floor((n - k + 1) / 3) - k - 1)
    -4*k + n - 2
    """
    for _ in range(2):
        new = next((r for r in (rule(e) for rule in rules) if r is not None), None)
        if new is None:
            return e
        e = new
    return e


# -- the printers' rule -----------------------------------------------------------------------


def as_ceiling(arg: sympy.Expr) -> sympy.Expr | None:
    """``x/a`` when ``⌊arg⌋`` is ``⌊(x + a - 1)/a⌋ = ⌈x/a⌉`` for integer ``x``; else None.

    Printers use it to write the ResNet stem's ⌊(H + 3)/4⌋ as ⌈H/4⌉, the way papers do;
    the expression itself keeps its single floor, the form the collapse works on.

    Examples
    --------
    >>> import symcnn as sc
    >>> H = sc.symbols("H")
    >>> as_ceiling((H + 31) / 32)
    H/32
    >>> as_ceiling((H - 4) / 3) is None
    True
    """
    numer, denom = sympy.fraction(sympy.together(arg))
    if not (denom.is_Integer and denom > 1):
        return None
    constant, rest = numer.as_coeff_Add()
    if constant != denom - 1 or rest == 0 or rest.as_coeff_Add()[0] != 0 or not _integer(rest):
        return None
    return rest / denom


def _floor_as_ceiling(expr: sympy.Expr) -> sympy.Expr | None:
    if not isinstance(expr, sympy.floor):
        return None
    x_over_a = as_ceiling(expr.args[0])
    # unevaluated: the printers write x/a as it is, and sympy would move integer terms out
    return None if x_over_a is None else sympy.ceiling(x_over_a, evaluate=False)


#: How a floor is written, not rewritten: sizes keep ⌊(x + a − 1)/a⌋, whose nesting the
#: canonical table collapses, and the printers read it as ⌈x/a⌉.
FLOOR_AS_CEILING = Rule(
    "floor as ceiling", "⌊(x + a − 1)/a⌋ = ⌈x/a⌉   (x integer; a integer > 1)", _floor_as_ceiling
)
