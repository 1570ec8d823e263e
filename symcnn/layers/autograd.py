"""The vocabulary of a layer's training rules: what autograd keeps, how outputs are stored.

A training step runs each layer forward, keeps some tensors for the backward pass, then
computes the gradients. symcnn's training pass (:mod:`symcnn.training`) asks every layer
three things, all per sample as the forward rules are:

- :meth:`~symcnn.layers.base.Layer.saved`: the tensors autograd keeps, each a
  :class:`Saved` naming an input, the output, or a tensor of the layer's own (max
  pooling's int64 indices, BatchNorm's two statistics vectors, dropout's mask);
- :meth:`~symcnn.layers.base.Layer.grad_products`: the products of the gradients with
  respect to the inputs that need one, and to the weights;
- :meth:`~symcnn.layers.base.Layer.storage`: whether the output is a new tensor or a view
  of the input (``Flatten``, ``permute``), so that a tensor saved twice through two views
  counts once, as its storage does in memory.

The rules follow PyTorch's autograd formulas (``tools/autograd/derivatives.yaml`` in its
source) as they run on the CPU and on the meta device; tests/training/ checks each against
``torch.autograd.graph.saved_tensors_hooks`` and ``FlopCounterMode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

__all__ = ["DTYPES", "Flow", "Saved", "itemsize", "keeps_inputs", "new_tensor"]

#: Bytes per element of the dtypes a training step stores. ``"float"`` in a
#: :class:`Saved` stands for the model's dtype, chosen when the training pass runs.
DTYPES: dict[str, int] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int64": 8,
    "bool": 1,
}


@dataclass(frozen=True, slots=True)
class Saved:
    """One tensor autograd keeps between a layer's forward and its backward.

    ``source`` is ``"input"`` (input ``port``, the very tensor: its storage is shared with
    whatever else keeps it), ``"output"``, or ``"new"``: a tensor of the layer's own, with
    ``per_sample`` elements per sample plus ``per_batch`` once per batch (BatchNorm's
    statistics are per channel, whatever the batch), of ``dtype`` (a key of
    :data:`DTYPES`, or ``"float"`` for the model's dtype).
    """

    source: str
    port: int = 0
    per_sample: Any = sympy.Integer(0)
    per_batch: Any = sympy.Integer(0)
    dtype: str = "float"


@dataclass(frozen=True, slots=True)
class Flow:
    """What a layer's training rules read besides its input shapes, one entry per input.

    ``needs`` says whether autograd computes a gradient for the input (it depends on a
    parameter); ``contiguous`` whether the input is laid out densely in its storage (a
    ``permute`` is not), which decides whether a reshape copies; ``same`` the first port
    fed by the same tensor, per port (``(0, 0, 0)``: one tensor three times, as
    self-attention's query, key and value).
    """

    needs: tuple[bool, ...]
    contiguous: tuple[bool, ...]
    trainable: bool = False
    same: tuple[int, ...] = ()


def new_tensor(per_sample: Any = 0, per_batch: Any = 0, dtype: str = "float") -> Saved:
    """A tensor of the layer's own, e.g. max pooling's indices: ``new_tensor(n, dtype="int64")``."""
    return Saved("new", 0, sympy.Integer(0) + per_sample, sympy.Integer(0) + per_batch, dtype)


def keeps_inputs(*ports: int) -> tuple[Saved, ...]:
    """The inputs at ``ports``, kept as they are."""
    return tuple(Saved("input", p) for p in ports)


OUTPUT = Saved("output")


def itemsize(dtype: str, model: str) -> int:
    """Bytes per element of ``dtype``, ``"float"`` read as the ``model``'s dtype."""
    return DTYPES[model if dtype == "float" else dtype]
