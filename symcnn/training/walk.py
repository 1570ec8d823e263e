"""The training pass: one walk over a derived network, following autograd.

For every node in topological order the walk knows three things about its output: the
storage it lives in (a new tensor, or a view of an input's), whether that storage is laid
out densely, and whether autograd computes a gradient for it (it depends on a
parameter). A layer whose output needs no gradient costs nothing backward and keeps
nothing, as in PyTorch, where the first convolution computes no gradient of the image.
Each tensor a layer keeps (:class:`~symcnn.layers.autograd.Saved`) is resolved to a
storage; a storage kept twice (a ReLU's output and the ``Flatten`` view a ``Linear``
keeps) counts once, at the first layer that keeps it.

Quantities are pairs (per sample, per batch) until the end, where the batch size joins:
``batch·per_sample + per_batch``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError, UnsupportedLayerError
from ..layers.autograd import Flow, Saved, itemsize
from ..layers.base import derive
from ..layers.input import Input

if TYPE_CHECKING:
    from ..graph.network import Network
    from ..graph.record import LayerRecord

__all__ = ["Step", "walk"]

_STORAGES = ("new", "view", "strided", "reshape", "inplace")
ZERO = sympy.Integer(0)


@dataclass(frozen=True, slots=True)
class Step:
    """What the walk found for one layer, per sample, before the batch size joins.

    ``saved`` holds the bytes of the storages this layer is the first to keep, as
    (per sample, per batch) pairs.
    """

    record: LayerRecord
    needs_grad: bool
    input_grad: sympy.Expr
    weight_grad: sympy.Expr
    saved: tuple[tuple[sympy.Expr, sympy.Expr], ...] = field(default=())


@dataclass(slots=True)
class _Tensor:
    storage: int
    contiguous: bool
    needs: bool


#: Bytes of a storage: (per sample, per batch).
Bytes = tuple[sympy.Expr, sympy.Expr]


class _Storages:
    """The storages of one training step: their bytes, and which are kept for backward."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.size = itemsize("float", dtype)
        self.bytes: list[Bytes] = []
        self.kept: dict[int, str] = {}  # storage → the layer that keeps it first

    def fresh(
        self, per_sample: sympy.Expr, per_batch: sympy.Expr = ZERO, dtype: str = "float"
    ) -> int:
        nbytes = itemsize(dtype, self.dtype)
        self.bytes.append((per_sample * nbytes, per_batch * nbytes))
        return len(self.bytes) - 1

    def output(self, record: LayerRecord, ins: list[_Tensor], needs: bool) -> _Tensor:
        """The tensor ``record``'s layer outputs: a view of its input's storage, or new."""
        layer = record.layer
        kind = derive(layer, "storage", record.input_shapes)
        if kind not in _STORAGES:
            raise UnsupportedLayerError(f"{layer!r}: storage {kind!r} is none of {_STORAGES}")
        if kind != "new" and ins:
            source = ins[0]
            if kind == "inplace" and source.storage in self.kept:
                raise ShapeError(
                    f"{layer!r} at layer {record.index} ({record.name}) runs in place on a "
                    f"tensor that {self.kept[source.storage]} keeps for the backward pass: "
                    "PyTorch's backward would fail (a variable needed for gradient "
                    "computation has been modified by an inplace operation)"
                )
            if kind in ("view", "inplace"):
                return _Tensor(source.storage, source.contiguous, needs)
            if kind == "strided":
                return _Tensor(source.storage, False, needs)
            if source.contiguous:  # a reshape of a dense tensor is a view
                return _Tensor(source.storage, True, needs)
        return _Tensor(self.fresh(record.output_shape.numel), True, needs)

    def keep(self, item: Saved, ins: list[_Tensor], out: _Tensor, by: str) -> Bytes | None:
        """The bytes ``item`` adds to what is kept; None when its storage is kept already."""
        if item.source == "input":
            sid = ins[item.port].storage
        elif item.source == "output":
            sid = out.storage
        else:
            sid = self.fresh(item.per_sample, item.per_batch, item.dtype)
        if sid in self.kept:
            return None
        self.kept[sid] = by
        return self.bytes[sid]


def walk(net: Network, dtype: str) -> Iterator[Step]:
    """One :class:`Step` per layer of ``net``, in its order, for a model stored in ``dtype``."""
    storages = _Storages(dtype)
    tensors: dict[str, _Tensor] = {}
    for node in net._wiring:
        record = net._by_name[node.name]
        if record is None:  # an input: a tensor of its own that needs no gradient
            assert isinstance(node.layer, Input)
            image = storages.fresh(node.layer.output_shape().numel)
            tensors[node.name] = _Tensor(image, True, False)
            continue
        ins = [tensors[p] for p in node.inputs]
        trainable = record.params != 0
        same = tuple(node.inputs.index(p) for p in node.inputs)
        flow = Flow(tuple(t.needs for t in ins), tuple(t.contiguous for t in ins), trainable, same)
        needs = trainable or any(flow.needs)
        out = tensors[node.name] = storages.output(record, ins, needs)
        if not needs:
            yield Step(record, False, ZERO, ZERO)
            continue
        saved = _rule(record, "saved", flow)
        grads = _rule(record, "grad_products", flow)
        by = f"{record.layer!r} at layer {record.index} ({record.name})"
        kept = (storages.keep(item, ins, out, by) for item in saved)
        yield Step(record, True, grads[0].value, grads[1].value, tuple(b for b in kept if b))


def _rule(record: LayerRecord, rule: str, flow: Flow) -> Any:
    """``layer.<rule>(flow, *shapes)``, remembered; a layer without the rule is refused."""
    layer = record.layer
    result = derive(layer, rule, (flow, *record.input_shapes))  # type: ignore[arg-type]
    if result is None:
        raise UnsupportedLayerError(
            f"{layer!r} at layer {record.index} ({record.name}): symcnn has no training "
            f"rule for {type(layer).__name__} ({rule}); it refuses rather than count nothing"
        )
    return result
