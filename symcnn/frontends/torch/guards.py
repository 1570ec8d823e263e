"""Python that computes with sizes in traced code: arithmetic, comparisons, and branches.

TensorFlow-style "same" padding reads the input size, computes a pad from it, and
branches on it (``if pad_h > 0: x = F.pad(...)``). torch.fx records the arithmetic as
nodes (:data:`SIZE_OPS` gives each its sympy meaning) but cannot follow a branch on a
traced value. symcnn decides each such comparison the way ``torch.export`` does: at the
point being traced, keeping the decision as a guard, a condition of the network's domain
(:meth:`~symcnn.graph.derive.Builder.guard`) that names the line of code. Where the
comparison holds for every size it is decided without a guard; where it depends on the
sizes, the point ``at=`` given to :func:`~symcnn.from_torch` decides it.
"""

from __future__ import annotations

import linecache
import math
import operator
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from ...errors import ShapeError, SymcnnError, UnsupportedLayerError
from ...symbolic.printing import text
from ...symbolic.residue import by_residue, residue_class
from ...validity.condition import Condition, relation
from ...validity.intsolve import smallest_integer
from .values import Param, Piece, Value, _Batch, name_of, number, show

__all__ = ["SIZE_OPS", "assertion", "decide", "size_arith", "size_op", "source_line"]


def _compare(op: str) -> Callable[[Any, Any], Boolean]:
    return lambda a, b: relation(op, a, b)


def _mod(a: Any, b: Any) -> Any:
    if b == 0:
        raise ShapeError(f"{text(a)} % 0 divides by zero")
    return sympy.Mod(a, b)


#: The size arithmetic torch.fx records beyond ``+ - * / //`` (:mod:`.convert`), with its
#: sympy meaning. ``math`` functions are recorded because fx's tracer wraps the module.
SIZE_OPS: dict[Any, Callable[..., Any]] = {
    math.ceil: sympy.ceiling,
    math.floor: sympy.floor,
    math.trunc: lambda a: sympy.sign(a) * sympy.floor(abs(a)),
    operator.neg: operator.neg,
    operator.pos: operator.pos,
    operator.abs: abs,
    operator.mod: _mod,
    operator.lt: _compare("<"),
    operator.le: _compare("<="),
    operator.gt: _compare(">"),
    operator.ge: _compare(">="),
    operator.eq: lambda a, b: sympy.Eq(a, b),
    operator.ne: lambda a, b: sympy.Ne(a, b),
    operator.not_: lambda a: sympy.Not(_truth(a)),
}


def size_arith(node: Any, op: Any, args: Sequence[Any]) -> Any:
    """``a + b``, ``a * b``, ``a // b``, ``a - b``, ``a / b`` of two sizes (fx node ``node``)."""
    if any(isinstance(a, (Value, _Batch)) for a in args):
        raise UnsupportedLayerError(
            f"{name_of(op)} at node {node.name!r} on {tuple(show(a) for a in args)} "
            "has no symcnn rule"
        )
    a, b = (number(node, v) for v in args)
    # factored, so that x.size(1) * x.size(2) reads 4·(H - 2), as the shapes do; a
    # "same" pad's pad // 2 reads 2·⌈W/2⌉ - W (W mod 2), not ⌈W/2⌉ + ⌊(1 - W)/2⌋
    return sympy.factor_terms(by_residue(a / b if op is operator.truediv else op(a, b)))


def size_op(node: Any, target: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """``math.ceil(h / s)``, ``-h``, ``h % 2``, ``h > 0``: one of :data:`SIZE_OPS`."""
    if not kwargs and not any(isinstance(a, sympy.Basic) for a in args):
        if all(isinstance(a, (int, float, str, bool, type(None))) for a in args):
            return target(*args)  # fx's check of a default argument: plain Python
    shown = ", ".join(show(a) for a in args)
    if any(isinstance(a, (Value, Piece, Param)) for a in args):
        raise UnsupportedLayerError(
            f"{name_of(target)} at node {node.name!r} of {shown} has no symcnn rule; symcnn "
            "maps this arithmetic on sizes (x.size(2) % 2), not on a tensor's values"
        )
    if kwargs or any(isinstance(a, _Batch) for a in args):
        raise UnsupportedLayerError(
            f"{name_of(target)} at node {node.name!r} of {shown} has no symcnn rule"
        )
    values = (a if isinstance(a, (bool, Boolean)) else number(node, a) for a in args)
    return by_residue(SIZE_OPS[target](*values))


def _truth(value: Any) -> Boolean:
    """``bool(value)`` as a sympy Boolean: a number is true when it is not zero."""
    if isinstance(value, (Boolean, bool)):
        return sympy.sympify(value, strict=True)
    return sympy.Ne(sympy.sympify(value, strict=True), 0)


#: Frames of these packages are not the user's code.
_SKIPPED = tuple(
    os.path.dirname(m.__file__) + os.sep
    for m in (sys.modules["sympy"], sys.modules[__name__.split(".")[0]])
    if m.__file__
)


def source_line() -> str:
    """Where the user's code is now: ``"tf_same.py:12 (if pad_h > 0:)"``.

    The innermost frame outside torch, sympy and symcnn: the ``forward`` being traced.
    """
    torch_dir = os.path.dirname(sys.modules["torch"].__file__ or "") + os.sep
    frame = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith((torch_dir, *_SKIPPED, "<frozen")):
            code = linecache.getline(path, frame.f_lineno).strip()
            where = f"{os.path.basename(path)}:{frame.f_lineno}"
            return f"{where} ({code})" if code else where
        frame = frame.f_back  # type: ignore[assignment]
    return "the traced forward"


def decide(value: Any, at: Mapping[sympy.Symbol, Any] | None, where: str) -> tuple[bool, Any]:
    """``bool(value)`` for a size or a comparison of sizes, and the guard it needs.

    Returns the truth value and None when it holds for every size, or the value at the
    point ``at`` and the :class:`Condition` that keeps the decision. Raises
    :class:`UnsupportedLayerError` when the decision depends on sizes and no point is given.
    """
    rel = residue_class(_truth(value))
    if isinstance(rel, (BooleanTrue, BooleanFalse)):
        return bool(rel), None
    shown = _values(rel)
    verdict = Condition(rel, "", shown).decide()
    if verdict is None:
        verdict = _always(rel)
    if verdict is not None:
        return verdict, None
    if at is None:
        raise UnsupportedLayerError(
            f"the traced forward branches on sizes at {where}: whether {text(rel)} depends "
            f"on {', '.join(sorted(map(str, rel.free_symbols)))}; give from_torch a point "
            "to trace at, at={symbol: size, ...}; the branch taken there becomes a "
            "condition of the network's domain"
        )
    taken = rel.subs(at)
    if not isinstance(taken, (BooleanTrue, BooleanFalse)):
        missing = ", ".join(sorted(str(s) for s in rel.free_symbols - set(at)))
        raise UnsupportedLayerError(
            f"the traced forward branches on sizes at {where}: whether {text(rel)} depends "
            f"on {missing}, which at= does not give"
        )
    kept = residue_class(rel if taken else _negated(rel))
    rule = f"the forward was traced where {text(kept)}, and branches differently elsewhere"
    return bool(taken), Condition(kept, rule, _values(kept))


def assertion(value: Any, message: Any, where: str) -> Condition:
    """The condition of ``torch._assert(value, message)`` on sizes, named by its message."""
    rel = residue_class(_truth(value))
    rule = f"{message} ({where})" if isinstance(message, str) and message else where
    return Condition(rel, f"the traced forward asserts it: {rule}", _values(rel))


def _always(rel: Boolean) -> bool | None:
    """True or False when ``rel`` in one size symbol holds for every size or for none.

    Floors of the size (``2·⌈H/2⌉ - H + 1 ≥ 0``) are decided exactly by residue classes
    (:mod:`symcnn.validity.intsolve`); None when it depends on the size, or on several.
    """
    symbols = rel.free_symbols
    if len(symbols) != 1:
        return None
    (x,) = symbols
    if not (x.is_integer and x.is_positive):
        return None
    try:
        if smallest_integer([_negated(rel)], x) is None:
            return True
        if smallest_integer([rel], x) is None:
            return False
    except SymcnnError:  # the solver gave up: the point decides
        return None
    return None


def _negated(rel: Boolean) -> Boolean:
    if isinstance(rel, sympy.core.relational.Relational):
        return rel.negated
    return sympy.Not(rel)


def _values(rel: Boolean) -> tuple[tuple[str, sympy.Expr], ...]:
    """The two sides of a comparison, shown when the guard fails."""
    if isinstance(rel, sympy.core.relational.Relational):
        return (("left side", rel.lhs), ("right side", rel.rhs))
    return ()
