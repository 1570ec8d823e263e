"""The few functions printed code calls besides operators, and the errors of its checks.

Printed code calls nothing else, builtins included: a symbol may be named like any of them.

Each keeps Python ints as Python ints (exact at any size, no numpy needed for a scalar)
and hands arrays, int64 or object, to numpy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..errors import ShapeError
from .inputs import numpy_module

__all__ = ["CheckError", "first_failure", "namespace"]


class CheckError(ShapeError):
    """A check inside printed code failed; ``evaluate`` adds the symbol bindings."""

    def __init__(self, what: str, bad: Any, parts: tuple[Any, ...], render: Callable[..., str]):
        self.what, self.bad, self.parts, self.render = what, bad, parts, render
        index, got = first_failure(bad, parts, None)
        where = "" if index is None else f" at index {index}"
        super().__init__(f"{what} (got {render(*got)}{where})")


def first_failure(
    bad: Any, parts: tuple[Any, ...], shape: tuple[int, ...] | None
) -> tuple[tuple[int, ...] | None, list[int]]:
    """The first index where ``bad`` holds (broadcast to ``shape``) and ``parts`` there."""
    if isinstance(bad, bool) or not getattr(bad, "ndim", 0):
        return None, [int(p) for p in parts]
    np = numpy_module()
    if shape is None:
        shape = np.broadcast_shapes(np.shape(bad), *(np.shape(p) for p in parts))
    flat = np.broadcast_to(bad, shape).ravel()
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), shape))
    return index, [int(np.broadcast_to(p, shape)[index]) for p in parts]


def _minimum(*xs: Any) -> Any:
    result = xs[0]
    for x in xs[1:]:
        if type(result) is int and type(x) is int:
            result = result if result <= x else x
        else:
            result = numpy_module().minimum(result, x)
    return result


def _maximum(*xs: Any) -> Any:
    result = xs[0]
    for x in xs[1:]:
        if type(result) is int and type(x) is int:
            result = result if result >= x else x
        else:
            result = numpy_module().maximum(result, x)
    return result


def _and(*xs: Any) -> Any:
    if all(isinstance(x, bool) for x in xs):
        return all(xs)
    return functools.reduce(numpy_module().logical_and, xs)


def _or(*xs: Any) -> Any:
    if all(isinstance(x, bool) for x in xs):
        return any(xs)
    return functools.reduce(numpy_module().logical_or, xs)


def _not(x: Any) -> Any:
    return (not x) if isinstance(x, bool) else numpy_module().logical_not(x)


def _any(bad: Any) -> bool:
    return bool(bad) if isinstance(bad, bool) else bool(bad.any())


def _exact(p: Any, q: Any, what: str) -> Any:
    """``p // q`` after checking that ``q`` divides ``p``: the formula's value is an integer."""
    bad = p % q != 0
    if _any(bad):
        raise CheckError(what, bad, (p, q), lambda a, b: str(Fraction(a, b)))
    return p // q


def _positive(q: Any, what: str) -> Any:
    bad = q <= 0
    if _any(bad):
        raise CheckError(what, bad, (q,), str)
    return q


def _nonzero(q: Any, what: str) -> Any:
    bad = q == 0
    if _any(bad):
        raise CheckError(what, bad, (q,), str)
    return q


def namespace(messages: list[str]) -> dict[str, Any]:
    """The globals of printed code: these helpers, and the check messages as ``_W``."""
    return {
        "_minimum": _minimum,
        "_maximum": _maximum,
        "_and": _and,
        "_or": _or,
        "_not": _not,
        "_abs": abs,
        "_exact": _exact,
        "_positive": _positive,
        "_nonzero": _nonzero,
        "_W": messages,
    }
