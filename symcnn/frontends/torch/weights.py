"""Weights computed from a module's own tensors, and the layer that counts what it reads.

Functional code computes its weights before it uses them: timm's ``StdConv2d``
standardises ``self.weight`` with ``F.batch_norm`` on every forward pass, its
``ScaledStdConv2d`` multiplies in a ``gain``, others write ``self.weight * self.scale``,
``self.weight.flatten(1)`` or ``torch.cat([self.a, self.b])``. Such a call reads no
activation, so symcnn runs it in torch (:func:`compute`), on the tensors moved to the
``meta`` device: the result's shape is exact, the module's data is never touched (an
in-place call is refused, ``F.batch_norm`` with running statistics in training mode
updates only the meta copies), and no memory is spent on large weights. The result is a
:class:`~.values.Param` recording the tensors it was made from.

What computing a weight costs is counted as PyTorch's ``FlopCounterMode`` counts it,
flops / 2 in ``products``, once per forward pass, in the first layer that uses the weight:
a matrix product of two parameters counts, ``F.batch_norm`` and elementwise arithmetic on
parameters count nothing (the flop counter counts none for them either).

A layer fed such tensors counts exactly the distinct tensors it reads that no layer
before it counted (:meth:`~.params.Params.layer`). Where its own formula gives another
number (``ScaledStdConv2d``'s ``gain``; a fixed blur kernel held in a buffer; a weight
used a second time with another stride), the node's layer is :class:`Reads`: the layer,
with the parameters, buffers and products counted from the tensors.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from ...errors import UnsupportedLayerError
from ...layers.autograd import Flow, Saved
from ...layers.base import Field, Layer, derive
from ...symbolic.derivation import Derivation, product, total
from ...symbolic.shape import Shape
from ...validity.condition import Condition
from .values import Param, Piece, Source, Value, _Batch, leaves, name_of

__all__ = ["Reads", "compute", "computes", "distinct"]

#: The augmented assignments fx records: in place, so never run on a module's tensors.
_IN_PLACE = {
    operator.iadd,
    operator.isub,
    operator.imul,
    operator.itruediv,
    operator.ifloordiv,
    operator.ipow,
    operator.imatmul,
}

#: What torch raises for a call it cannot run on meta tensors, or at all.
_TORCH_ERRORS = (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError)


def computes(args: Any, kwargs: Any) -> bool:
    """Whether a call's tensor arguments are all a module's tensors: one for :func:`compute`."""
    items = list(leaves((args, kwargs)))
    if any(isinstance(a, (Value, Piece, _Batch)) for a in items):
        return False
    return any(isinstance(a, Param) for a in items)


def compute(torch: Any, node: Any, args: Any, kwargs: Mapping[str, Any]) -> Any:
    """Run the call of fx ``node`` on the meta tensors: a new :class:`Param`, or sizes.

    Raises :class:`UnsupportedLayerError` naming the call, the node and the tensors when
    the call writes in place, depends on the tensors' values (``w.item()``), reads a
    symbolic size, or torch refuses it.
    """
    from torch.utils.flop_counter import FlopCounterMode

    used = [a for a in leaves((args, kwargs)) if isinstance(a, Param)]
    target = node.target
    what = f"x.{target}" if node.op == "call_method" else name_of(target)
    where = f"{what} at node {node.name!r} on the {used[0]!r}"
    if (
        target in _IN_PLACE
        or str(getattr(target, "__name__", target)).endswith("_")
        and not str(target).endswith("__")
        or "out" in kwargs
    ):
        raise UnsupportedLayerError(
            f"{where} writes in place; symcnn computes a module's tensors only out of place"
        )
    call_args, call_kwargs = _plain(where, args), _plain(where, dict(kwargs))
    key = _signature(torch, (node.op, target, call_args, call_kwargs))
    known = _RUNS.get(key) if key is not None else None
    if known is None:
        try:
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                if node.op == "call_method":
                    result = getattr(call_args[0], target)(*call_args[1:], **call_kwargs)
                else:
                    result = target(*call_args, **call_kwargs)
        except _TORCH_ERRORS as err:
            raise UnsupportedLayerError(
                f"{where}: torch cannot compute it from the tensors' shapes alone "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
                "symcnn runs calls on a module's own tensors on the meta device, without "
                "their values"
            ) from None
        known = result, int(counter.get_total_flops())
        if key is not None:
            if len(_RUNS) >= _MAX_RUNS:
                _RUNS.clear()
            _RUNS[key] = known
    result, flops = known
    sources = distinct(used)
    if flops:
        sources = (*sources, Source(f"node {node.name}", 0, False, sympy.Rational(flops, 2)))
    return _wrap(torch, where, node.name, result, sources)


#: Calls run before, by their signature (meta tensors by shape, stride and dtype): the
#: result and its flops. A network repeats its blocks, and FlopCounterMode, which
#: decomposes each call to find the matrix products inside, costs milliseconds a call.
_RUNS: dict[Any, tuple[Any, int]] = {}
_MAX_RUNS = 4096


def _signature(torch: Any, value: Any) -> Any:
    """A hashable key of a call on meta tensors, or None when an argument has none."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.stride(), value.dtype)
    if isinstance(value, (tuple, list)):
        items = tuple(_signature(torch, v) for v in value)
        return None if None in items else (type(value).__name__, items)
    if isinstance(value, dict):
        items = tuple((k, _signature(torch, v)) for k, v in value.items())
        return None if any(v is None for _, v in items) else ("dict", items)
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value).__name__, value) if value is not None else ("none",)


def _plain(where: str, value: Any) -> Any:
    """Arguments for torch: tensors for Params, ints for sympy integers."""
    if isinstance(value, Param):
        return value.tensor
    if isinstance(value, sympy.Basic):
        if value.is_Integer:
            return int(value)
        if value.is_Number:
            return float(value)
        raise UnsupportedLayerError(
            f"{where} reads the size {value}, which depends on the input's sizes; a "
            "module's tensors have fixed sizes"
        )
    if isinstance(value, tuple):
        return tuple(_plain(where, v) for v in value)
    if isinstance(value, list):
        return [_plain(where, v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(where, v) for k, v in value.items()}
    return value


def distinct(used: Sequence[Param]) -> tuple[Source, ...]:
    """The distinct sources of ``used``, in order of first appearance."""
    seen: dict[str, Source] = {}
    for p in used:
        for s in p.sources:
            seen.setdefault(s.key, s)
    return tuple(seen.values())


def _wrap(torch: Any, where: str, name: str, result: Any, sources: tuple[Source, ...]) -> Any:
    """A torch result as the walk's values: tensors as Params, sizes as ints."""
    if isinstance(result, torch.Tensor):
        learned = any(s.learned for s in sources if s.count)
        return Param(name, result, learned, sources, computed=True)
    if isinstance(result, torch.Size):
        return tuple(int(s) for s in result)
    if isinstance(result, (tuple, list)):
        return tuple(_wrap(torch, where, name, r, sources) for r in result)
    if result is None or isinstance(result, (bool, int, float, str, torch.dtype)):
        return result
    raise UnsupportedLayerError(
        f"{where} gives a {type(result).__name__}, which symcnn does not follow"
    )


@dataclass(frozen=True, slots=True, repr=False)
class Reads(Layer):
    """``layer``, counting the tensors it reads instead of its own formula.

    A functional layer's weights may be computed from other tensors than its formula
    counts (``ScaledStdConv2d``'s weight and ``gain``), held in buffers (a fixed blur
    kernel), or counted already by an earlier layer (a weight shared between convolutions
    of different strides). Shapes, conditions and the receptive field are ``layer``'s;
    ``params`` and ``buffers`` are the elements of the tensors first counted here;
    ``products`` are ``layer``'s plus ``computing``, the products of computing the weights
    (PyTorch's ``FlopCounterMode`` flops / 2 of a matrix product of two parameters).
    ``tensors`` names them, for tables.
    """

    layer: Layer
    n_params: int
    n_buffers: int
    computing: sympy.Rational
    tensors: tuple[str, ...]

    @property
    def arity(self) -> int | None:  # type: ignore[override]
        """The wrapped layer's."""
        return self.layer.arity

    @property
    def input_rank(self) -> int | None:  # type: ignore[override]
        """The wrapped layer's."""
        return self.layer.input_rank

    @property
    def kind(self) -> str:  # type: ignore[override]
        """The wrapped layer's."""
        return self.layer.kind

    def hyper_conditions(self) -> tuple[Condition, ...]:
        """The wrapped layer's."""
        return self.layer.hyper_conditions()

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        """The wrapped layer's."""
        return self.layer.input_conditions(*inputs)

    def exact_fit_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        """The wrapped layer's."""
        return self.layer.exact_fit_conditions(*inputs)

    def output_shape(self, *inputs: Shape) -> Shape:
        """The wrapped layer's."""
        return self.layer.output_shape(*inputs)

    def params(self, *inputs: Shape) -> Derivation:
        """The elements of the parameters first counted here."""
        return product(self.n_params)

    def buffers(self, *inputs: Shape) -> Derivation:
        """The elements of the buffers first counted here."""
        return product(self.n_buffers)

    def products(self, *inputs: Shape) -> Derivation:
        """The wrapped layer's, and those of computing its weights."""
        return total(self.layer.products(*inputs), self.computing)

    def elementwise(self, *inputs: Shape) -> Derivation:
        """The wrapped layer's."""
        return self.layer.elementwise(*inputs)

    def bias_adds(self, *inputs: Shape) -> Derivation:
        """The wrapped layer's."""
        return self.layer.bias_adds(*inputs)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        """The wrapped layer's."""
        return self.layer.receptive(field, jump)

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """The wrapped layer's, when computing the weights multiplies nothing.

        Weights read or gathered from a module's tensors (MaxViT's relative position bias,
        ``table[index]``) keep only the index, a buffer. Weights that are products of
        tensors keep those tensors and cost a backward product: not derived (None).
        """
        if self.computing:
            return None
        return derive(self.layer, "saved", (flow, *inputs))  # type: ignore[arg-type]

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation] | None:
        """The wrapped layer's, when computing the weights multiplies nothing (:meth:`saved`)."""
        if self.computing:
            return None
        return derive(self.layer, "grad_products", (flow, *inputs))  # type: ignore[arg-type]

    def storage(self, *inputs: Shape) -> str:
        """The wrapped layer's."""
        return derive(self.layer, "storage", inputs)

    def substituted(self, mapping: Mapping[Any, Any]) -> Reads:
        """The wrapped layer substituted; the counts are numbers."""
        return Reads(
            self.layer.substituted(mapping),
            self.n_params,
            self.n_buffers,
            self.computing,
            self.tensors,
        )

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The wrapped layer's."""
        return self.layer.free_symbols

    def describe(self) -> str:
        """The wrapped layer's description, and the tensors counted."""
        return f"{self.layer.describe()}, weights from {', '.join(self.tensors) or 'none'}"

    def __repr__(self) -> str:
        counts = f"params={self.n_params}, buffers={self.n_buffers}"
        if self.computing:
            counts += f", computing={self.computing}"
        return f"{self.layer!r} reading {', '.join(self.tensors) or 'nothing new'} ({counts})"
