"""Exact evaluation of a quantity over many sizes, never at a point outside the domain."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sympy

from ..errors import ShapeError
from ..symbolic.printing import text
from ..validity.condition import Condition
from .core import as_expr, as_relation, run_coerced
from .inputs import coerce_values

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
    symbols): their values only broadcast.

    Validity is decided by construction: every distinct ``Condition.relation`` of
    ``domain`` is decided at every point by printed integer code (all of them in one
    function, their conjunction), and a number is returned only where all of them hold. A
    network's simplified ``constraints`` are not consulted: were a simplification ever not
    exactly equivalent, trusting it would let an invalid point through.
    """
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
    # refused here, naming the symbol), not again by the domain and the quantity.
    coerced = coerce_values({by_name[name]: v for name, v in values.items()})
    formula = as_expr(expr)
    valid = run_coerced(_all_of(tuple(domain)), coerced, relation=True)
    if on_invalid == "raise":
        if not _everywhere(valid):
            _raise_first(domain, coerced, valid)
        return run_coerced(formula, coerced, relation=False)
    import numpy as np

    result = run_coerced(formula, coerced, relation=False)
    return np.ma.masked_array(result, mask=np.broadcast_to(~np.asarray(valid), np.shape(result)))


@functools.lru_cache(maxsize=64)
def _all_of(domain: tuple[Located, ...]) -> sympy.Basic:
    """Every distinct relation of ``domain``, as one unevaluated conjunction.

    Layers repeat their rules (a ResNet-50's 106 located conditions are 18 relations):
    each is decided once. Rules on the same symbols are adjacent, so that rules on ``H``
    alone are combined on ``H``'s array before meeting those on ``W``. Unevaluated: sympy
    may not simplify the conjunction, every rule is decided as the layer states it.
    """
    relations = dict.fromkeys(cond.relation for _, cond in domain)
    ordered = sorted(relations, key=lambda r: sorted(map(str, r.free_symbols)))
    return sympy.And(*ordered, evaluate=False) if ordered else sympy.true


@functools.lru_cache(maxsize=64)
def _symbols_of(domain: tuple[Located, ...]) -> frozenset[sympy.Basic]:
    """The symbols of a domain, remembered: a network is evaluated again and again."""
    return frozenset().union(*(cond.relation.free_symbols for _, cond in domain))


def _everywhere(ok: Any) -> bool:
    return ok is True or (not isinstance(ok, bool) and bool(ok.all()))


def _raise_first(
    domain: Sequence[Located],
    coerced: Mapping[sympy.Symbol, tuple[Any, int]],
    valid: Any,
) -> None:
    """Raise for the first failing point (in array order) and its first failing layer.

    Each layer's condition is decided again at that one point, in Python ints.
    """
    import numpy as np

    values = {s: v for s, (v, _) in coerced.items()}
    shape = np.broadcast_shapes(np.shape(valid), *(np.shape(v) for v in values.values()))
    failing = ~np.broadcast_to(np.asarray(valid), shape)
    index = tuple(int(i) for i in np.argwhere(failing)[0]) if shape else ()
    at = {
        s: int(np.broadcast_to(np.asarray(v, dtype=object), shape)[index])
        for s, v in values.items()
    }
    scalar = {s: (v, abs(v)) for s, v in at.items()}
    for where, cond in domain:
        own = {s: scalar[s] for s in cond.relation.free_symbols if s in scalar}
        if not run_coerced(as_relation(cond.relation), own, relation=True):
            bound = ", ".join(f"{s}={text(v)}" for s, v in at.items())
            raise ShapeError(f"{where}: {cond.subs(at).explain()} ({bound})")
    raise AssertionError("the conjunction failed but no condition does")  # pragma: no cover
