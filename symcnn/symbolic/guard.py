"""The boundary between symcnn and sympy: failures inside sympy become a SolverError.

sympy raises what its algorithms meet — ``PolynomialError`` for a symbol under a division,
``RecursionError`` for a deep expression, ``NotImplementedError`` for an equation it cannot
solve. None of those should reach a user as a traceback, nor be mistaken for an answer:
:func:`asking` re-raises them as :class:`~symcnn.errors.SolverError`, naming the question.
:class:`Budget` bounds the time of a question made of many sympy calls; it is checked
between calls, so one call is never interrupted and no state is left half-changed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import SolverError, SymcnnError

__all__ = ["Budget", "asking", "collector_paused", "solver_error"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a network is derived.

    Deriving allocates many small sympy objects and frees few: the collector then runs full
    collections over every live object (all of torch, once it is imported), about 0.1 s
    each, more than deriving ResNet-50 takes. Reference counting still frees memory as
    usual; only the cycle search waits until the derivation ends. Nested uses, and a
    collector the user disabled, are left as they are.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def asking(question: str | Callable[[], str]) -> Iterator[None]:
    """Run sympy on ``question``; an error raised inside sympy becomes a SolverError.

    Other errors pass through unchanged: they are symcnn's own (or a user layer's), and
    a message blaming sympy would mislead.

    ``question`` may be a function giving the words, called only on failure: printing
    an expression costs more than most questions about it.

    Examples
    --------
    >>> import sympy
    >>> with asking("the smallest n"):
    ...     sympy.Poly(1 / sympy.Symbol("n"), sympy.Symbol("n"))
    Traceback (most recent call last):
    ...
    symcnn.errors.SolverError: the smallest n: sympy failed (PolynomialError: 1/n contains an
    element of the set of generators.)
    """
    try:
        yield
    except Exception as err:
        failure = solver_error(err, question)
        if failure is None:
            raise
        raise failure from (None if isinstance(err, RecursionError) else err)


def solver_error(err: BaseException, question: str | Callable[[], str]) -> SolverError | None:
    """The :class:`SolverError` that ``err`` becomes if sympy raised it, else None.

    What :func:`asking` does, for a caller that catches errors itself (the derivation
    does, once per node, where a context manager would cost more than some nodes).
    """
    if isinstance(err, (SymcnnError, MemoryError)):
        return None
    words = question if isinstance(question, str) else None
    if isinstance(err, RecursionError):
        words = words or question()  # type: ignore[operator]
        return SolverError(
            f"{words}: the expression is nested too deeply for sympy (RecursionError)"
        )
    if not isinstance(err, Exception) or not _raised_in_sympy(err):
        return None  # symcnn's own code, or a user's layer: not sympy's failure to answer
    words = words or question()  # type: ignore[operator]
    detail = " ".join(str(err).split())[:300]
    return SolverError(f"{words}: sympy failed ({type(err).__name__}: {detail})")


def _raised_in_sympy(err: BaseException) -> bool:
    """Whether the innermost frame of ``err``'s traceback is sympy's code."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith("sympy")


class Budget:
    """A time budget for a question that sympy answers in many steps.

    Examples
    --------
    >>> budget = Budget(10.0)
    >>> budget.spent()
    False
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.perf_counter() + seconds

    def spent(self) -> bool:
        """Whether the time is up."""
        return time.perf_counter() > self._end
