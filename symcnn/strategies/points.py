"""Strategies for points inside and just outside a network's validity domain.

The points are solved, not sampled and filtered: a network's
:attr:`~symcnn.graph.network.Network.constraints` are compiled to exact integer code once
per strategy (:func:`symcnn.evaluate.compile_relation`), each symbol is moved from
a drawn value to the nearest one they allow, and beyond a scan window the exact solver
:mod:`symcnn.validity.intsolve` answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sympy
from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ..errors import ShapeError, SymcnnError
from ..evaluate import compile_relation
from ..graph.network import Network
from ..validity.intsolve import smallest_integer
from ._checks import _check_int, _check_net
from ._repr import reprs_as_call


def _lower(x: sympy.Symbol) -> int:
    """The smallest value ``x`` may take: 1 for a positive symbol, else 0."""
    return 1 if x.is_positive else 0


class _Rule:
    """One constraint, compiled to exact integer code once (sympy ``subs`` as a fallback)."""

    def __init__(self, relation: Any):
        self.relation = relation
        self.symbols = tuple(sorted(relation.free_symbols, key=str))
        self.fn: Callable[..., Any] | None
        try:
            self.fn = compile_relation(relation, self.symbols)
        except SymcnnError:
            self.fn = None

    def holds(self, point: Mapping[sympy.Symbol, int]) -> bool:
        if self.fn is not None:
            return bool(self.fn(*(point[s] for s in self.symbols)))
        return bool(self.relation.subs(point))


class _Domain:
    """What drawing points needs from a network, computed once per strategy.

    The network's simplified constraints are compiled once. A symbol's value is found by
    an exact scan of the constraints on it (the other symbols held) from the drawn target
    upward, then downward, within a window several times ``max_size``; beyond it the
    exact solver :mod:`symcnn.validity.intsolve` answers (once per combination, cached).
    """

    def __init__(self, net: Any, max_size: int, fixed: Mapping[Any, int] | None):
        _check_net(net)
        _check_int("max_size", max_size, 1)
        self.net = net
        self.max_size = max_size
        try:
            self.given = {s: int(v) for s, v in net._resolve(fixed or {}).items()}
        except (ShapeError, TypeError) as err:
            raise InvalidArgument(f"fixed: {err}") from None
        sizes = {s for i in net.inputs for s in i.free_symbols}
        # hyperparameter symbols first: a size is then solved with the kernels known
        self.free = sorted(net.free_symbols - set(self.given), key=lambda s: (s in sizes, str(s)))
        self.constraints = tuple(c.subs(self.given) for c in net.constraints)
        self.rules = [_Rule(c) for c in self.constraints if c.free_symbols]
        self._solved: dict[Any, int | None] = {}

    def rules_on(self, x: sympy.Symbol, known: Mapping[sympy.Symbol, int]) -> list[_Rule]:
        """The rules on ``x`` and ``known`` symbols alone."""
        return [
            r
            for r in self.rules
            if x in r.symbols and all(s in known for s in r.symbols if s is not x)
        ]

    def window(self, target: int) -> int:
        return 4 * max(self.max_size, target) + 16

    def valid(self, rules: Sequence[_Rule], point: dict[sympy.Symbol, int]) -> bool:
        return all(r.holds(point) for r in rules)

    def nearest(
        self, x: sympy.Symbol, known: Mapping[sympy.Symbol, int], target: int
    ) -> int | None:
        """The valid value of ``x`` at or above ``target``, else the nearest below, else None."""
        rules = self.rules_on(x, known)
        point = dict(known)
        for v in [*range(target, self.window(target) + 1), *range(target - 1, _lower(x) - 1, -1)]:
            point[x] = v
            if self.valid(rules, point):
                return v
        key = (x, target, tuple(sorted((str(s), v) for s, v in known.items())))
        if key not in self._solved:
            relations = [r.relation.subs(known) for r in rules]
            try:
                found = smallest_integer([*relations, sympy.Ge(x, target)], x, _lower(x))
            except SymcnnError:
                found = None
            self._solved[key] = found
        return self._solved[key]

    def draw_point(self, draw: Any) -> dict[sympy.Symbol, int]:
        point: dict[sympy.Symbol, int] = dict(self.given)
        targets = {s: draw(st.integers(_lower(s), self.max_size)) for s in self.free}
        for x in self.free:
            value = self.nearest(x, point, targets[x])
            point[x] = targets[x] if value is None else value
        if all(r.holds(point) for r in self.rules) and self.net.is_valid(point):
            return point
        # a rule couples symbols solved apart (a Linear after a flatten): re-solve each
        # with all the others held
        for x in self.free:
            others = {s: v for s, v in point.items() if s is not x}
            value = self.nearest(x, others, point[x])
            if value is not None:
                point[x] = value
        if not self.net.is_valid(point):
            reject()
        return point


@reprs_as_call
def inputs_in_domain(
    net: Network, *, max_size: int = 64, fixed: Mapping[Any, int] | None = None
) -> st.SearchStrategy[dict[sympy.Symbol, int]]:
    """Points ``{symbol: int}`` at which ``net.is_valid`` holds.

    Every free symbol of ``net`` gets a value; those in ``fixed`` (symbols or names) keep
    theirs. Each symbol starts at a value drawn from [1, ``max_size``] (from 0 for a
    nonnegative symbol) and moves to the nearest value its constraints allow, solved
    exactly (an exact scan of the compiled constraints near the drawn value, and
    :mod:`symcnn.validity.intsolve` beyond it): the next multiple of 16 for a U-Net, the smallest
    valid size when the drawn one is too small. Kernel-like symbols are solved before the
    input sizes, so a size is chosen for the kernels drawn. A value may exceed
    ``max_size`` when the domain starts above it; a point whose coupled rules admit no
    value is rejected (hypothesis draws again).

    Examples
    --------
    For the seed network over ``n`` and ``k``, ``inputs_in_domain(net, fixed={"k": 5})``
    draws ``{k: 5, n: 22}``, ``{k: 5, n: 57}``, ...: never ``n < 22``.
    """
    domain = _Domain(net, max_size, fixed)

    @st.composite
    def build(draw: Any) -> dict[sympy.Symbol, int]:
        return domain.draw_point(draw)

    return build()


@reprs_as_call
def inputs_outside_domain(
    net: Network, *, max_size: int = 64, fixed: Mapping[Any, int] | None = None
) -> st.SearchStrategy[dict[sympy.Symbol, int]]:
    """Points just outside ``net``'s validity domain: one symbol moved past an edge.

    A valid point (:func:`inputs_in_domain`) is drawn, then one symbol that the
    constraints mention is moved just below its smallest valid value (the others held),
    just above its largest, or, when neither exists, to the nearest invalid neighbour
    within 8 steps (a divisibility rule). ``net.is_valid`` is False at every point drawn,
    and ``net.violation`` names the rule.

    Raises :class:`~hypothesis.errors.InvalidArgument` when ``net`` has no constraint on a
    symbol that is not fixed: every point is then valid.

    Examples
    --------
    For the seed network with ``k`` fixed at 5 it draws ``{k: 5, n: 21}``, ``{k: 5, n: 18}``,
    ...: sizes below ``min_input``, within 4 of it.
    """
    domain = _Domain(net, max_size, fixed)
    movable = sorted(
        {s for c in domain.constraints for s in c.free_symbols} & set(domain.free), key=str
    )
    if not movable:
        raise InvalidArgument(
            f"{net!r} has no constraint on a symbol that is not fixed: every point is valid"
        )

    @st.composite
    def build(draw: Any) -> dict[sympy.Symbol, int]:
        point = domain.draw_point(draw)
        x = draw(st.sampled_from(movable))
        lower = _lower(x)
        others = {s: v for s, v in point.items() if s is not x}
        rules = domain.rules_on(x, others)
        scan = range(lower, domain.window(point[x]) + 1)
        valid = [v for v in scan if domain.valid(rules, {**others, x: v})]
        if valid and valid[0] > lower:  # just below the smallest valid value
            candidates = list(range(max(lower, valid[0] - 4), valid[0]))
        elif valid and valid[-1] < scan[-1]:  # just above the largest
            candidates = list(range(valid[-1] + 1, valid[-1] + 5))
        else:  # gaps between valid values: a divisibility rule
            near = range(max(lower, point[x] - 8), point[x] + 9)
            candidates = [v for v in near if v not in valid]
        if not candidates:
            reject()
        outside = {**others, x: draw(st.sampled_from(candidates[::-1]))}
        if net.is_valid(outside):
            reject()
        return outside

    return build()
