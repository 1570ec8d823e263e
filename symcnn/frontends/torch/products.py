"""Products of tensors in the walk: ``@``, ``matmul``, ``bmm``, ``einsum``, attention.

``torch.einsum`` and ``F.scaled_dot_product_attention`` included.

Each makes one layer of :mod:`symcnn.layers.matmul` fed by several tensors, so they go
where the walk's other multi-tensor calls go (:mod:`.arith`), which hands them here.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from .values import Param, Piece, Value, show

if TYPE_CHECKING:
    from .arith import Arith

__all__ = ["OPS", "call", "targets"]

#: The op names this module takes.
OPS = frozenset({"matmul", "bmm", "einsum", "attention"})


def targets(torch: ModuleType) -> tuple[dict[Any, str], dict[str, str]]:
    """The functions and the Tensor methods mapped here, each with its op name."""
    functions: dict[Any, str] = {
        operator.matmul: "matmul",
        operator.imatmul: "matmul",
        torch.matmul: "matmul",
        torch.bmm: "bmm",
        torch.einsum: "einsum",
    }
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if sdpa is not None:
        functions[sdpa] = "attention"
    methods = {"matmul": "matmul", "__matmul__": "matmul", "bmm": "bmm"}
    return functions, methods


def _tensors(where: str, values: Sequence[Any]) -> list[Any]:
    for v in values:
        if isinstance(v, Param):
            raise UnsupportedLayerError(
                f"{where} reads the {v!r} directly and has no symcnn rule; symcnn maps "
                "products of two tensors of the forward (nn.Linear for a weight)"
            )
        if not isinstance(v, (Value, Piece)):
            raise UnsupportedLayerError(f"{where} of {show(v)} has no symcnn rule")
    return list(values)


def _bind(
    where: str,
    names: Sequence[str],
    defaults: Mapping[str, Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    if len(args) > len(names):
        raise UnsupportedLayerError(f"{where}: too many arguments {tuple(args)!r}")
    bound = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names or key in bound:
            raise UnsupportedLayerError(f"{where}: argument {key!r} has no symcnn rule")
        bound[key] = value
    for name in names:
        if name not in bound:
            if name not in defaults:
                raise UnsupportedLayerError(f"{where}: argument {name!r} is missing")
            bound[name] = defaults[name]
    if bound.pop("out", None) is not None:
        raise UnsupportedLayerError(f"{where}: out=tensor writes into a tensor")
    return bound


def _add(arith: Arith, node: Any, where: str, make: Any, inputs: list[Any], *args: Any) -> Value:
    try:
        layer: Layer = make(*args)
    except UnsupportedLayerError as err:
        raise UnsupportedLayerError(f"{where}: {err}") from None
    except ShapeError as err:
        raise ShapeError(f"{where}: {err}") from None
    return arith.conv._add(node, node.name, layer, inputs)


def call(
    arith: Arith, node: Any, op: str, where: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Value:
    """The node of the product ``op`` (one of :data:`OPS`)."""
    if op in ("matmul", "bmm"):
        bound = _bind(where, ("input", "other", "out"), {"out": None}, args, kwargs)
        inputs = _tensors(where, [bound["input"], bound["other"]])
        if op == "bmm":
            shapes = [arith.conv._tensor(node, x).shape for x in inputs]
            if any(len(s) != 2 for s in shapes):
                raise UnsupportedLayerError(
                    f"{where}: torch.bmm takes 3-D tensors, (batch, n, k) and (batch, k, m); "
                    f"per sample got {', '.join(str(s) for s in shapes)}"
                )
        return _add(arith, node, where, sl.MatMul, inputs)
    if op == "einsum":
        equation, *operands = args
        if kwargs:
            raise UnsupportedLayerError(f"{where}: arguments {tuple(kwargs)} have no symcnn rule")
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        return _add(arith, node, where, sl.Einsum, _tensors(where, operands), equation)
    names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
    defaults = {
        "attn_mask": None,
        "dropout_p": 0.0,
        "is_causal": False,
        "scale": None,
        "enable_gqa": False,
    }
    bound = _bind(where, names, defaults, args, kwargs)
    if bound.pop("attn_mask") is not None:
        raise UnsupportedLayerError(
            f"{where}: attn_mask has no symcnn rule (is_causal=True masks with no tensor)"
        )
    inputs = _tensors(where, [bound.pop("query"), bound.pop("key"), bound.pop("value")])
    return _add(arith, node, where, lambda: sl.ScaledDotProductAttention(**bound), inputs)
