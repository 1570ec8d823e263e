"""Strategies whose repr is the call that made them: ``conv_layers(max_kernel_size=5)``.

Hypothesis prints a strategy in failure reports and health checks. Built with
``st.composite`` inside a function, ours would print as the inner ``build()``; with
:func:`reprs_as_call` they print as the public call, arguments exactly as the user gave
them (positional ones positionally, keywords in the order given, arguments left out not
shown), like hypothesis's own ``integers(min_value=0)``.

The wrapper is hypothesis's ``LazyStrategy``, the class that gives its own strategies
their call-shaped repr, holding the strategy already built. Arguments are still checked
at the call, and drawing is unchanged: ``ConjectureData.draw`` unwraps lazy strategies
before drawing, so the choices, labels and spans (what shrinking works on) are those of
the wrapped strategy. ``LazyStrategy`` is internal to hypothesis; if a hypothesis release
moves it or changes its constructor, strategies come back unwrapped (the reprs change,
nothing else).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from hypothesis import strategies as st

P = ParamSpec("P")
T = TypeVar("T")


def _lazy_strategy_class() -> Any:
    """Hypothesis's ``LazyStrategy`` if it takes ``force_repr`` as expected, else None."""
    try:
        from hypothesis.strategies._internal.lazy import LazyStrategy

        probe = LazyStrategy(st.nothing, (), {}, force_repr="probe()")
        return LazyStrategy if repr(probe) == "probe()" else None
    except Exception:  # pragma: no cover - depends on the hypothesis release
        return None


_LAZY = _lazy_strategy_class()


def call_repr(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``name(arg, key=value, ...)`` with each value's repr, in the order given."""
    parts = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def with_repr(strategy: st.SearchStrategy[T], text: str) -> st.SearchStrategy[T]:
    """``strategy``, drawing exactly as before, with ``repr`` ``text``."""
    if _LAZY is None:  # pragma: no cover - depends on the hypothesis release
        return strategy
    named = _LAZY(lambda: strategy, (), {}, force_repr=text)
    # unwrapping asserts the wrapper and the wrapped agree on this flag
    if getattr(strategy, "force_has_reusable_values", False):
        named.force_has_reusable_values = True
    return named


def reprs_as_call(
    function: Callable[P, st.SearchStrategy[T]],
) -> Callable[P, st.SearchStrategy[T]]:
    """Decorate a public strategy function so its strategies print as the call made."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> st.SearchStrategy[T]:
        return with_repr(function(*args, **kwargs), call_repr(function.__name__, args, kwargs))

    return call
