"""Questions about a derived network: is it valid here, from which size on, what dominates.

Free functions taking the network first (networkx style); :class:`~symcnn.graph.network.Network`
exposes each as a method.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sympy
from sympy.logic.boolalg import Boolean

from ..conventions import QUANTITIES, Quantity
from ..errors import ShapeError, SolverError, SymcnnError
from ..symbolic.guard import asking
from ..symbolic.parse import requirement
from ..symbolic.printing import text
from ..validity.intsolve import largest_integer, smallest_integer
from .record import LayerRecord

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = [
    "QUANTITIES",
    "dominant",
    "is_valid",
    "largest",
    "leading_term",
    "requirement",
    "smallest",
    "violation",
]



def _complete(net: Network, point: Mapping[Any, Any]) -> Mapping[Any, Any]:
    resolved = net._resolve(point)
    missing = net.free_symbols - set(resolved)
    if missing:
        names = ", ".join(sorted(map(str, missing)))
        raise ShapeError(f"give a value to every symbol of the network: {names} missing")
    return resolved


def violation(net: Network, point: Mapping[Any, Any]) -> str | None:
    """Why the network is invalid at ``point``: the first failing layer and rule, or None.

    Every symbol needs a value; values that are not positive integers are refused with
    :class:`~symcnn.errors.ShapeError` rather than reported as a violation.
    """
    if is_valid(net, point):
        return None
    try:
        net.subs(_complete(net, point))
    except ShapeError as err:
        return str(err)
    raise AssertionError(f"the domain of {net!r} fails at {point}, but no layer does")


def is_valid(net: Network, point: Mapping[Any, Any]) -> bool:
    """Whether every layer is valid at ``point`` (a plain bool; see :func:`violation`).

    Decided on the network's domain with exact integer arithmetic, without deriving the
    network again at that point.
    """
    from ..evaluate import holds

    resolved = _complete(net, point)
    return all(holds(cond.relation, resolved) is True for _, cond in net.domain)


def _relations(
    net: Network, x: sympy.Symbol | str, fixed: Mapping[Any, Any] | None, require: Iterable[Boolean]
) -> tuple[sympy.Symbol, list[Boolean], int]:
    resolved = net._resolve(fixed or {})
    if isinstance(x, str):
        x = net._resolve({x: 1}).popitem()[0]
    if x in resolved:
        raise SymcnnError(f"{x} is both the unknown and given a value")
    bound = net.subs(resolved) if resolved else net
    wanted = [requirement(r, net.free_symbols) for r in require]
    relations = [*bound.constraints, *(r.subs(resolved) for r in wanted)]
    lower = 1 if x.is_positive else 0
    return x, relations, lower


def smallest(
    net: Network,
    x: sympy.Symbol | str,
    fixed: Mapping[Any, Any] | None = None,
    *,
    require: Iterable[Boolean] = (),
) -> int:
    """The smallest integer value of ``x`` for which the network is valid, exactly.

    Every other symbol takes its value from ``fixed``. ``require`` adds relations to meet,
    e.g. ``[sympy.Eq(net.output_shape[1], 112)]`` to find the padding that gives a target
    size. Raises :class:`~symcnn.errors.ShapeError` when no value works.
    """
    x, relations, lower = _relations(net, x, fixed, require)
    with asking(f"the smallest {x}{_given(fixed)}"):
        value = smallest_integer(relations, x, lower)
    if value is None:
        raise ShapeError(f"no value of {x} makes the network valid{_given(fixed)}")
    return value


def largest(
    net: Network,
    x: sympy.Symbol | str,
    fixed: Mapping[Any, Any] | None = None,
    *,
    require: Iterable[Boolean] = (),
) -> int | sympy.Expr:
    """The largest integer value of ``x`` for which the network is valid and ``require`` holds.

    ``sympy.oo`` when there is no largest, e.g. ``largest(n, {k: 5}, require=[net.products
    <= 10**9])`` is the largest input whose products stay within a budget.
    """
    x, relations, lower = _relations(net, x, fixed, require)
    with asking(f"the largest {x}{_given(fixed)}"):
        value = largest_integer(relations, x, lower)
    if value is None:
        raise ShapeError(f"no value of {x} makes the network valid{_given(fixed)}")
    return value


def _given(fixed: Mapping[Any, Any] | None) -> str:
    return f" with {', '.join(f'{s}={v}' for s, v in fixed.items())}" if fixed else ""


def leading_term(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """The highest-order term of ``expr`` as ``x`` grows (floors count as their argument).

    ``⌊u/a⌋ = u/a + O(1)``, so replacing every floor and ceiling by its argument keeps
    the leading term exact.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> leading_term(32 * k**2 * (n - k + 1)**2 + 64 * sympy.floor((n - k + 1) / 3), n)
    32*k**2*n**2
    """
    from ..symbolic.printing import as_expression

    with asking(lambda: f"the leading term in {x} of {expr}"):
        smooth = sympy.expand(
            as_expression(expr, "leading_term").replace(
                lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), lambda e: e.args[0]
            )
        )
        if not smooth.has(x):
            return smooth
        if not smooth.is_polynomial(x):
            raise SolverError(f"the leading term in {x}: {text(smooth)} is not a polynomial in {x}")
        poly = sympy.Poly(smooth, x)
        degree = poly.degree()
        return sympy.expand(poly.coeff_monomial(x**degree) * x**degree)


def dominant(
    net: Network,
    quantity: str,
    x: sympy.Symbol | None = None,
    at: Mapping[Any, Any] | None = None,
) -> LayerRecord:
    """The layer with the largest ``quantity``: at the point ``at``, or as ``x`` grows.

    Asymptotically, a higher power of ``x`` wins, then a larger coefficient; when the
    comparison depends on another symbol, give ``at`` instead.
    """
    quantity = _check_quantity(quantity)
    if at is not None:
        point = net.subs(at)
        top = max(point.layers, key=lambda r: getattr(r, quantity))
        return net.layers[top.index]
    if x is None:
        x = next(iter(sorted(net.input_shape.free_symbols, key=str)), None)
        if x is None:
            raise SymcnnError("the network has no symbolic size: give a point with at=")

    def order(record: LayerRecord) -> tuple[int, sympy.Expr]:
        term = leading_term(getattr(record, quantity), x)
        degree = sympy.degree(term, x) if term.has(x) else 0
        return degree, term / x**degree

    best_record = net.layers[0]
    best = order(best_record)
    for record in net.layers[1:]:
        current = order(record)
        if current[0] != best[0]:
            if current[0] > best[0]:
                best_record, best = record, current
            continue
        gap = current[1] - best[1]
        if gap.is_positive:
            best_record, best = record, current
        elif gap.is_positive is None and not gap.is_zero and gap.is_nonpositive is not True:
            raise SymcnnError(
                f"whether {record.name} or {best_record.name} dominates {quantity} depends on "
                f"{', '.join(sorted(map(str, gap.free_symbols)))}: give a point with at="
            )
    return best_record


def _check_quantity(quantity: str) -> str:
    """The quantity's plain name (a :class:`~symcnn.conventions.Quantity` or its string)."""
    return str(Quantity.parse(quantity).value)


def check_exact_fit(net: Network) -> tuple[Boolean, ...]:
    """cs231n's stricter rule: every window layer's strides tile its input exactly.

    PyTorch floors ``(W - F + 2P)/S + 1`` and drops leftover rows and columns silently;
    some courses require the division to be exact. This check is offered apart and never
    changes the shapes symcnn derives. It raises :class:`ShapeError` at the first layer
    where the fit is provably inexact and returns the conditions that still depend on
    symbols.
    """
    undecided = []
    for r in net.layers:
        for cond in r.layer.exact_fit_conditions(*r.input_shapes):
            verdict = cond.decide()
            if verdict is False:
                raise ShapeError(
                    f"{r.layer!r} at layer {r.index} ({r.name}): {cond.explain()}"
                    f"{net._bound()}"
                )
            if verdict is None and cond.relation not in undecided:
                undecided.append(cond.relation)
    return tuple(undecided)
