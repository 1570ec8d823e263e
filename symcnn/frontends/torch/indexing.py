"""Indexing a traced tensor with slices and integers: ``x[:, a:b]``, ``x[..., 0]``.

Each sliced axis is a :class:`~symcnn.layers.Narrow` node (a step of 1) or a
:class:`~symcnn.layers.Slice` node (a step above 1: ``x[..., 0::2, 1::2, :]``, Swin's patch
merging), and each integer index a Narrow then a :class:`~symcnn.layers.Squeeze`, chained
after the tensor by the walk (:mod:`.convert`).
"""

from __future__ import annotations

from typing import Any

import sympy

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from .values import Piece, Value, _Batch, show

__all__ = ["sliced"]


def sliced(walk: Any, node: Any, x: Value, index: Any) -> Value:
    """``x[:, a:b]``, ``x[..., 1:-1]``: a Narrow per sliced axis, chained."""
    items = index if isinstance(index, tuple) else (index,)
    rank = len(x.shape) + 1
    dots = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(dots) == 1:
        k = dots[0]
        items = (*items[:k], *(slice(None),) * (rank - len(items) + 1), *items[k + 1 :])
    where = f"indexing at node {node.name!r} ({show(x)}[{index!r}])"
    picks = [i for i, item in enumerate(items) if type(item) is int and i > 0]
    kinds = (isinstance(item, slice) or i in picks for i, item in enumerate(items))
    if len(items) > rank or not all(kinds):
        raise UnsupportedLayerError(
            f"{where} has no symcnn rule; symcnn maps slices and integers, one per axis, "
            "such as x[:, a:b], x[..., 1::2] or x[:, 0] (no None, no tensors, the batch "
            "axis whole)"
        )
    layers: list[Layer] = []
    try:
        for dim, item in enumerate(items):
            size = x.shape[dim - 1] if dim else None
            if dim in picks:  # x[:, 0]: the element at 0 of that axis, the axis gone
                item = slice(item, item + 1 if item != -1 else None)
            if item.step not in (None, 1):  # x[..., 0::2]: every step-th entry
                layers.append(_strided(dim, item, size))
                continue
            bounds = _slice_bounds(item, size)
            if bounds is not None or dim in picks:
                layers.append(sl.Narrow(dim, *(bounds or (0, size))))
        if picks:  # from the last, so that each dim still names its axis
            layers.append(sl.Squeeze(tuple(picks) if len(picks) > 1 else picks[0]))
    except (ShapeError, UnsupportedLayerError) as err:
        raise type(err)(f"{where}: {err}") from None
    if not layers:
        return x
    return walk._chain(node, node.name, layers, [x])[0]


def _strided(dim: int, item: slice, size: Any) -> Layer:
    """The :class:`~symcnn.layers.Slice` of ``item``, a slice with a step other than 1.

    The layer applies Python's rules itself (negative bounds, clipping with numbers,
    conditions with symbols) and refuses a step below 1, as PyTorch does.
    """
    ends = (item.start, item.stop, item.step)
    if any(isinstance(b, (Value, Piece, _Batch)) for b in ends):
        raise UnsupportedLayerError("slice bounds must be sizes, not tensors or the batch size")
    if size is None:
        raise ShapeError("slicing the batch axis has no per-sample shape")
    start, stop, step = (None if b is None else sympy.sympify(b) for b in ends)
    return sl.Slice(dim, start, stop, step)


def _slice_bounds(item: slice, size: Any) -> tuple[Any, Any] | None:
    """(start, length) of the slice ``item`` of an axis of ``size``; None for all of it.

    Python's rules: a negative bound counts from the end, and with numbers both are clipped
    to the axis. With a symbolic size, :class:`~symcnn.layers.Narrow`'s conditions keep the
    slice inside the axis instead of clipping. ``size`` None is the batch axis.
    """
    if any(isinstance(b, (Value, Piece, _Batch)) for b in (item.start, item.stop)):
        raise UnsupportedLayerError("slice bounds must be sizes, not tensors or the batch size")
    if size is None:
        if item.start in (None, 0) and item.stop is None:
            return None
        raise ShapeError("slicing the batch axis has no per-sample shape")
    start = sympy.Integer(0) if item.start is None else sympy.sympify(item.start)
    stop = size if item.stop is None else sympy.sympify(item.stop)
    start = size + start if start.is_negative else start
    stop = size + stop if stop.is_negative else stop
    if size.is_Integer and start.is_Integer and stop.is_Integer:
        start, stop = min(max(start, 0), size), min(max(stop, 0), size)
        if stop <= start:
            raise ShapeError(f"the slice {item} of an axis of size {size} is empty")
    if start == 0 and stop == size:
        return None
    return start, sympy.factor_terms(stop - start)
