"""Exact evaluation of a quantity over many sizes, never at a point outside the domain."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sympy

from ..validity.condition import Condition
from ..errors import ShapeError
from ..symbolic.printing import text

__all__ = ["evaluate_checked"]

#: A condition with the place it comes from: ``"MaxPool2d(kernel_size=2) at layer 4 (pool2)"``.
Located = tuple[str, Condition]


def evaluate_checked(
    expr: sympy.Expr,
    domain: Sequence[Located],
    values: Mapping[str, Any],
    on_invalid: str = "raise",
    *,
    symbols: Iterable[sympy.Symbol] = (),
    equivalent: Sequence[Any] | None = None,
) -> Any:
    """Evaluate ``expr`` exactly at every point of ``values``, checking ``domain`` first.

    ``values`` maps symbol names to integers or integer arrays (broadcast together),
    checked once as :func:`symcnn.evaluate.evaluate` checks them: a bool, a non-integer
    or more than :data:`symcnn.evaluate.MAX_POINTS` points raises
    :class:`~symcnn.errors.ShapeError` naming the symbol. A point where some condition
    fails raises :class:`~symcnn.errors.ShapeError` naming the first such point, its
    layer, the rule and the numbers (``on_invalid="raise"``), or is masked out of a
    ``numpy.ma.MaskedArray`` (``on_invalid="mask"``). ``symbols`` are further names a
    caller accepts though ``expr`` and ``domain`` do not contain them (the network's other
    symbols): their values only broadcast. ``equivalent`` are relations
    that hold exactly where the whole domain does (a network's simplified
    ``constraints``): checked first, they spare the per-layer checks wherever every point
    is valid; those run only to name the layer that fails, or to build the mask.
    """
    from .compiler import _as_expr, _as_relation, _coerce_values, _run_coerced

    if on_invalid not in ("raise", "mask"):
        raise ShapeError(f"on_invalid must be 'raise' or 'mask' (got {on_invalid!r})")
    known: set[sympy.Basic] = {*sympy.sympify(expr, strict=True).free_symbols, *symbols}
    known |= _symbols_of(tuple(domain))
    by_name = {str(s): s for s in known}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ShapeError(
            f"no symbol named {', '.join(unknown)} here (symbols: {', '.join(sorted(by_name))})"
        )
    # Every value is checked and converted once (bools, floats and oversized inputs are
    # refused here, naming the symbol), not again by each relation decided below.
    coerced = _coerce_values({by_name[name]: v for name, v in values.items()})
    point = {s: v for s, (v, _) in coerced.items()}
    formula = _as_expr(expr)

    def holds(rel: Any) -> Any:
        return _run_coerced(_as_relation(rel), coerced, relation=True)

    def evaluate() -> Any:
        return _run_coerced(formula, coerced, relation=False)

    if equivalent is not None and all(_everywhere(holds(rel)) for rel in equivalent):
        result = evaluate()
        if on_invalid == "raise":
            return result
        import numpy as np

        return np.ma.masked_array(result, mask=np.zeros(np.shape(result), dtype=bool))
    # Layers repeat their rules (a ResNet-50's 106 located conditions are 18 relations):
    # each relation is decided once, and every place it comes from keeps the verdict.
    verdicts: dict[Any, Any] = {}
    for _, cond in domain:
        if cond.relation not in verdicts:
            verdicts[cond.relation] = holds(cond.relation)
    checks = [(where, cond, verdicts[cond.relation]) for where, cond in domain]
    if on_invalid == "raise":
        if any(ok is False or (not isinstance(ok, bool) and not ok.all()) for *_, ok in checks):
            _raise_first(checks, point)
        return evaluate()
    import numpy as np

    result = evaluate()
    valid = np.logical_and.reduce([np.asarray(ok) for _, _, ok in checks] or [np.asarray(True)])
    return np.ma.masked_array(result, mask=np.broadcast_to(~valid, np.shape(result)))


@functools.lru_cache(maxsize=64)
def _symbols_of(domain: tuple[Located, ...]) -> frozenset[sympy.Basic]:
    """The symbols of a domain, remembered: a network is evaluated again and again."""
    return frozenset().union(*(cond.relation.free_symbols for _, cond in domain))


def _everywhere(ok: Any) -> bool:
    return ok is True or (not isinstance(ok, bool) and bool(ok.all()))


def _raise_first(checks: list[tuple[str, Condition, Any]], point: Mapping[Any, Any]) -> None:
    """Raise for the first failing point (in array order) and its first failing layer."""
    import numpy as np

    arrays = [np.asarray(ok) for _, _, ok in checks]
    shape = np.broadcast_shapes(*(a.shape for a in arrays), *(np.shape(v) for v in point.values()))
    failing = ~np.logical_and.reduce([np.broadcast_to(a, shape) for a in arrays])
    index = tuple(int(i) for i in np.argwhere(failing)[0]) if shape else ()
    at = {
        s: int(np.broadcast_to(np.asarray(v, dtype=object), shape)[index]) for s, v in point.items()
    }  # noqa: E501
    for where, cond, ok in checks:
        if not np.broadcast_to(np.asarray(ok), shape)[index]:
            bound = ", ".join(f"{s}={text(v)}" for s, v in at.items())
            raise ShapeError(f"{where}: {cond.subs(at).explain()} ({bound})")
