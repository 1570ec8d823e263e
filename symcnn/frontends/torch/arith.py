"""Tensor arithmetic in the walk: operators, ``torch.cat``, ``x.max(dim)``, ``x.expand``.

Also ``torch.add`` and its kin, ``torch.stack`` and ``x.repeat``.

Which layer an operator makes depends on its operands, known only in the walk: two
tensors make a broadcasting merge (:class:`~symcnn.layers.Add`, ``Sub``, ``Mul``, ``Div``,
``Maximum``, ``Minimum``), a tensor and a number a :class:`~symcnn.layers.Scalar`, a
tensor and a module's own tensor a :class:`~symcnn.layers.Scale` or
:class:`~symcnn.layers.ParamOp` (:mod:`.params`). Operators on sizes alone
(``x.size(2) // 2``) stay size arithmetic, the walk's own (:mod:`.convert`).
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from . import products
from .guards import size_arith, size_op
from .values import BATCH, Param, Piece, Value, _Batch, name_of, show

if TYPE_CHECKING:
    from .convert import Converter

__all__ = ["Arith", "Extremes"]

TENSORS = (Value, Piece)

#: Operators on two sizes, by op name: what size arithmetic computes.
_SIZE_OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "pow": operator.pow,
}

#: The layer of an op on two tensors (``rounding_mode`` given to ``Div``).
_TENSOR_LAYERS: dict[str, Any] = {
    "add": lambda mode: sl.Add(),
    "sub": lambda mode: sl.Sub(),
    "mul": lambda mode: sl.Mul(),
    "div": lambda mode: sl.Div(mode),
    "floordiv": lambda mode: sl.Div("floor"),
    "maximum": lambda mode: sl.Maximum(),
    "minimum": lambda mode: sl.Minimum(),
}

#: An op with the number (or the module's tensor) first: ``1 - x`` is ``rsub``.
_REVERSED = {"sub": "rsub", "div": "rdiv", "floordiv": "rfloordiv", "pow": "rpow"}


class Extremes(tuple):
    """``x.max(dim)``: (values, indices) as torch returns them; the values are a node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Expanded:
    """``self.class_token.expand(n, -1, -1)``: a module's tensor, one copy per sample.

    Its per-sample shape drops the tensor's leading 1; it becomes part of the layer that
    uses it (a :class:`~symcnn.layers.ParamConcat`), counted once.
    """

    param: Param

    @property
    def shape(self) -> tuple[int, ...]:
        return self.param.shape[1:]


class _Indices:
    """The indices of ``x.max(dim)``: integer positions, which no layer takes."""

    def __init__(self, where: str):
        self.where = where

    def __repr__(self) -> str:
        return f"the indices of {self.where} (integer positions, which have no symcnn rule)"


class Arith:
    """The walk's tensor arithmetic: which calls it takes, and the nodes each makes."""

    def __init__(self, conv: Converter):
        self.conv = conv
        torch = conv.torch
        self.functions: dict[Any, str] = {getattr: "getattr"}
        names = {
            "add": (operator.add, operator.iadd, "add"),
            "sub": (operator.sub, operator.isub, "sub", "subtract"),
            "mul": (operator.mul, operator.imul, "mul", "multiply"),
            "div": (operator.truediv, operator.itruediv, "div", "divide", "true_divide"),
            "floordiv": (operator.floordiv, operator.ifloordiv, "floor_divide"),
            "pow": (operator.pow, operator.ipow, "pow"),
            "neg": (operator.neg, "neg", "negative"),
            "maximum": ("maximum",),
            "minimum": ("minimum",),
            "max": ("max",),
            "min": ("min",),
            "cat": ("cat", "concat", "concatenate"),
            "stack": ("stack",),
        }
        self.methods: dict[str, str] = {"expand": "expand", "expand_as": "expand_as"}
        self.methods["repeat"] = "repeat"
        for op, targets in names.items():
            for t in targets:
                if not isinstance(t, str):
                    self.functions[t] = op
                    continue
                if hasattr(torch, t):
                    self.functions[getattr(torch, t)] = op
                if op not in ("cat", "stack"):
                    for method in (t, t + "_"):
                        if hasattr(torch.Tensor, method):
                            self.methods[method] = op
        functions, methods = products.targets(torch)  # @, matmul, bmm, einsum, sdpa
        self.functions.update(functions)
        self.methods.update(methods)

    def function(
        self, node: Any, target: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """The value of a call of ``target``, one of :attr:`functions`."""
        return self._call(node, self.functions[target], name_of(target), args, kwargs)

    def method(self, node: Any, target: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        """The value of a Tensor method call ``x.<target>(...)``, one of :attr:`methods`."""
        return self._call(node, self.methods[target], f"x.{target}", args, kwargs)

    def _call(
        self, node: Any, op: str, what: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        where = f"{what} at node {node.name!r}"
        if op == "getattr":
            return self._attribute(node, args)
        if op == "cat":
            return self._join(node, where, sl.Concat, args, kwargs)
        if op == "stack":
            return self._join(node, where, sl.Stack, args, kwargs)
        if op in ("expand", "expand_as", "repeat"):
            return self._expand(node, op, args, kwargs)
        if op in ("max", "min"):
            return self._extreme(node, op, where, args, kwargs)
        if op in products.OPS:
            return products.call(self, node, op, where, args, kwargs)
        return self._arith(node, op, where, args, kwargs)

    def _add(self, node: Any, where: str, make: Any, inputs: Sequence[Any], *args: Any) -> Value:
        """The node of layer ``make(*args)`` on ``inputs``; a bad argument named at ``where``."""
        try:
            layer = make(*args)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}") from None
        return self.conv._add(node, node.name, layer, inputs)

    # -- operators -----------------------------------------------------------------------
    def _arith(
        self, node: Any, op: str, where: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        conv = self.conv
        ops = list(args)
        extra = dict(kwargs)
        for key in ("input", "self", "other", "exponent"):
            if key in extra:
                ops.append(extra.pop(key))
        alpha = extra.pop("alpha", 1) if op in ("add", "sub") else 1
        mode = extra.pop("rounding_mode", None) if op == "div" else None
        if extra.pop("out", None) is not None:
            raise UnsupportedLayerError(f"{where}: out=tensor writes into a tensor")
        if extra:
            raise UnsupportedLayerError(
                f"{where}: argument {next(iter(extra))!r} has no symcnn rule"
            )
        if len(ops) != (1 if op == "neg" else 2):
            raise UnsupportedLayerError(f"{where} of {_shown(ops)} has no symcnn rule")
        tensors = [v for v in ops if isinstance(v, TENSORS)]
        params = [v for v in ops if isinstance(v, Param)]
        if params and (op not in ("add", "sub", "mul", "div") or alpha != 1 or mode):
            raise UnsupportedLayerError(
                f"{where} reads the {params[0]!r} directly and has no symcnn rule; symcnn "
                "maps a tensor and a module's tensor in x + w, x - w, x * w, x / w (either "
                "way round)"
            )
        if not tensors:
            if params or alpha != 1 or op in ("maximum", "minimum"):
                raise UnsupportedLayerError(
                    f"{where} of {_shown(ops)} has no symcnn rule; symcnn maps tensor "
                    "arithmetic and size arithmetic"
                )
            if op == "neg":
                return size_op(node, operator.neg, ops, {})
            return size_arith(node, _SIZE_OPERATORS[op], ops)
        if mode == "floor":
            op, mode = "floordiv", None
        if op == "neg":
            return self._add(node, where, sl.Scalar, tensors, "neg")
        first, second = ops
        if len(tensors) == 2:
            if op not in _TENSOR_LAYERS:
                raise UnsupportedLayerError(
                    f"{where} of two tensors ({_shown(ops)}) has no symcnn rule"
                )
            if alpha != 1:  # torch.add(x, y, alpha=a) is x + a·y
                try:
                    scaled = sl.Scalar("mul", alpha)
                except ShapeError as err:
                    raise ShapeError(f"{where}: {err}") from None
                second = conv._add(node, f"{node.name}.alpha", scaled, [second])
            return self._add(node, where, _TENSOR_LAYERS[op], [first, second], mode)
        reverse = not isinstance(first, TENSORS)
        other = first if reverse else second
        if isinstance(other, Param):
            layer = conv.params.arith(node, _REVERSED.get(op, op) if reverse else op, other)
            return conv._add(node, node.name, layer, tensors)
        if not _is_number(other) or op in ("maximum", "minimum") or mode is not None:
            raise UnsupportedLayerError(
                f"{where} of {_shown(ops)} has no symcnn rule; symcnn maps a tensor and a "
                "number (int, float or size) in + - * / // ** and their reverses"
            )
        if alpha != 1:
            other = other * alpha
        scalar_op = _REVERSED.get(op, op) if reverse else op
        return self._add(node, where, sl.Scalar, tensors, scalar_op, other)

    # -- x.max(dim), torch.max(x, y) -----------------------------------------------------
    def _extreme(
        self, node: Any, op: str, where: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        extra = dict(kwargs)
        rest = list(args)
        x = rest.pop(0) if rest else extra.pop("input")
        dim = rest.pop(0) if rest else extra.pop("dim", extra.pop("other", None))
        keepdim = rest.pop(0) if rest else extra.pop("keepdim", False)
        if extra or rest:
            raise UnsupportedLayerError(
                f"{where}: arguments {tuple(extra) or rest} have no symcnn rule"
            )
        if isinstance(dim, (TENSORS, Param)):  # torch.max(x, y): elementwise
            return self._arith(node, "maximum" if op == "max" else "minimum", where, [x, dim], {})
        if dim is None:
            raise UnsupportedLayerError(
                f"{where} with no dim reduces every axis, the batch axis too, and symcnn "
                "shapes are per sample: name the axis (x.max(dim)) or use torch.amax"
            )
        values = self._add(node, where, sl.Max if op == "max" else sl.Min, [x], dim, keepdim)
        return Extremes((values, _Indices(f"x.{op}(dim={dim}) at node {node.name!r}")))

    def _attribute(self, node: Any, args: Sequence[Any]) -> Any:
        """``x.max(dim).values`` and ``.indices``; other attributes have no rule."""
        seq, name = args
        if isinstance(seq, Extremes) and name in ("values", "indices"):
            return seq[0 if name == "values" else 1]
        raise UnsupportedLayerError(
            f"getattr at node {node.name!r} ({show(seq)}.{name}) has no symcnn rule"
        )

    # -- joining, expanding --------------------------------------------------------------
    def _join(
        self, node: Any, where: str, kind: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Value:
        """``torch.cat(tensors, dim)``, ``torch.stack(tensors, dim)``."""
        extra = dict(kwargs)
        tensors = list(args[0] if args else extra.pop("tensors"))
        dim = args[1] if len(args) > 1 else extra.pop("dim", 0)
        if extra.pop("out", None) is not None or extra:
            raise UnsupportedLayerError(f"{where}: arguments {tuple(kwargs)} have no symcnn rule")
        if any(isinstance(t, Expanded) for t in tensors) and kind is sl.Concat:
            parts = [t.shape if isinstance(t, Expanded) else None for t in tensors]
            held = [t.param for t in tensors if isinstance(t, Expanded)]
            if len({p.learned for p in held}) != 1:
                raise UnsupportedLayerError(f"{where} joins parameters and buffers at once")
            inputs = [t for t in tensors if not isinstance(t, Expanded)]
            try:
                joined = sl.ParamConcat(dim, parts, held[0].learned)
            except ShapeError as err:
                raise ShapeError(f"{where}: {err}") from None
            first = self.conv._tensor(node, inputs[0]).shape if inputs else None
            layer = self.conv.params.layer(where, joined, held, first)
            return self.conv._add(node, node.name, layer, inputs)
        if len(tensors) == 1:
            if kind is sl.Concat:
                return self.conv._tensor(node, tensors[0])
            kind = sl.Unsqueeze
        return self._add(node, where, kind, tensors, dim)

    def _expand(
        self, node: Any, op: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Value | Expanded:
        """``x.expand(*sizes)``, ``x.expand_as(y)``, ``x.repeat(*counts)``."""
        where = f"x.{op} at node {node.name!r}"
        x, *sizes = [*args, *kwargs.values()]
        if isinstance(x, Param):
            return _expanded(where, op, x, sizes)
        x = self.conv._tensor(node, x)
        if op == "expand_as":
            sizes = [-1, *self.conv._tensor(node, sizes[0]).shape]
        elif len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = list(sizes[0])
        if len(sizes) > len(x.shape) + 1:
            raise UnsupportedLayerError(
                f"{where}: {len(sizes)} sizes for an input of {len(x.shape) + 1} axes add "
                "axes before the batch axis, which symcnn shapes, per sample, cannot show"
            )
        if sizes and sizes[0] is BATCH and op != "repeat":
            sizes[0] = -1  # x.expand(x.size(0), ...) keeps the batch
        if any(isinstance(s, _Batch) for s in sizes):
            raise UnsupportedLayerError(
                f"{where}: x.size(0), the batch size, used as a per-sample size or count"
            )
        return self._add(node, where, sl.Repeat if op == "repeat" else sl.Expand, [x], *sizes)


def _expanded(where: str, op: str, p: Param, sizes: list[Any]) -> Expanded:
    """``w.expand(n, -1, ...)`` of a module's tensor with a leading 1: one copy per sample."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    keeps = all(s == -1 or s == n for s, n in zip(sizes[1:], p.shape[1:], strict=False))
    if op != "expand" or not sizes or sizes[0] is not BATCH or p.shape[:1] != (1,) or (
        len(sizes) != len(p.shape) or not keeps
    ):
        raise UnsupportedLayerError(
            f"{where} of the {p!r} has no symcnn rule; symcnn maps w.expand(x.size(0), -1, "
            "...) of a tensor with a leading 1 (a class token), one copy per sample"
        )
    return Expanded(p)


def _is_number(value: Any) -> bool:
    """A number an operator may take with a tensor: an int, a float, or a size."""
    if isinstance(value, sympy.Basic):
        return isinstance(value, sympy.Expr) and bool(value.is_real)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _shown(values: Sequence[Any]) -> str:
    return ", ".join(show(v) for v in values)
