"""Window attention: Swin's ``ShiftedWindowAttention``, image (2-d) and video (3-d).

Swin splits a channels-last feature map into windows of ``window_size`` and attends within
each window only: the attention cost is quadratic in the tokens of a window, a constant,
and linear in the number of windows, which grows with the image. torchvision's modules of
the same names (``ShiftedWindowAttention``, ``ShiftedWindowAttentionV2``,
``ShiftedWindowAttention3d``) map to this layer in :func:`symcnn.from_torch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.canonical import canonical
from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least, divides, equal
from .autograd import Flow, Saved, new_tensor
from .base import Field, Layer, flag, positive, real, refuse, tuple_of

__all__ = ["ShiftedWindowAttention"]

#: The hidden width of Swin V2's continuous position bias MLP (torchvision's ``cpb_mlp``).
CPB_HIDDEN = 512


@dataclass(frozen=True, slots=True, repr=False)
class ShiftedWindowAttention(Layer):
    r"""Swin's windowed multi-head self-attention on a channels-last (..., C) sample.

    The sample is (H, W, C) for a 2-d ``window_size`` and (T, H, W, C) for a 3-d one; the
    output has the input's shape. Each axis of size :math:`s` is padded up to a multiple
    of its window :math:`w` (:math:`\lceil s/w \rceil` windows), shifted by ``shift_size``
    (a roll, which costs nothing), and every window of :math:`T = \prod w` tokens attends
    within itself. With ``adapt_window`` (video Swin), a window larger than its axis
    shrinks to the axis, :math:`\min(s, w)`, instead of the axis being padded.

    Notes
    -----
    Per sample, with :math:`N = \prod_i \lceil s_i / w_i \rceil` windows and dim = C:

    - products: the q, k, v projection :math:`N T \cdot 3C^2`, the scores
      :math:`Q K^\top` and the weighted sum of the values, :math:`N T^2 C` each (every
      head multiplies its C/heads entries), the output projection :math:`N T C^2`;
      in all :math:`N T C (4C + 2T)`, linear in the number of windows;
    - parameters: the projections :math:`4C^2` and their biases, and the relative
      position bias: a table of :math:`\prod_i (2w_i - 1)` entries per head (``version``
      1), or Swin V2's MLP from 2 to 512 to ``num_heads`` and its ``logit_scale``;
    - buffers: the relative position index, :math:`T^2` entries, and for V2 the table of
      relative coordinates it feeds the MLP, :math:`2 \prod_i (2w_i - 1)`;
    - V2 computes its bias table with that MLP once per forward pass:
      :math:`\prod_i (2w_i - 1) \cdot 512 \cdot (2 + \text{heads})` products, counted
      here as PyTorch's ``FlopCounterMode`` counts them for one sample;
    - elementwise: the scaling of the queries (V1) or of the cosine scores by the logit
      scale (V2), and the relative position bias added to the scores; the softmax counts
      nothing, as everywhere in symcnn.

    Examples
    --------
    >>> swa = ShiftedWindowAttention(96, (7, 7), (3, 3), 3)
    >>> x = Shape((56, 56, 96))
    >>> swa.output_shape(x) == x, swa.params(x).value, swa.products(x).value
    (True, 37755, 145108992)
    """

    kind = "window_attention"
    repr_positional = 4

    dim: Any
    window_size: Any
    shift_size: Any
    num_heads: Any
    qkv_bias: bool = True
    proj_bias: bool = True
    attention_dropout: Any = 0.0
    dropout: Any = 0.0
    version: int = 1
    adapt_window: bool = False

    def __post_init__(self) -> None:
        self._set("dim", as_size(self.dim, "dim"))
        self._set("num_heads", as_size(self.num_heads, "num_heads"))
        nd = len(self.window_size) if isinstance(self.window_size, (tuple, list)) else 0
        if nd not in (2, 3):
            refuse(
                self, "window_size", "must be 2 or 3 sizes, (H, W) or (T, H, W)", self.window_size
            )
        self._set("window_size", tuple_of(self.window_size, nd, "window_size"))
        self._set("shift_size", tuple_of(self.shift_size, nd, "shift_size"))
        for name in ("qkv_bias", "proj_bias", "adapt_window"):
            flag(self, name)
        real(self, "attention_dropout")
        real(self, "dropout")
        if self.version not in (1, 2) or isinstance(self.version, bool):
            refuse(self, "version", "must be 1 (Swin) or 2 (Swin V2)", self.version)
        if self.version == 2 and nd != 2:
            refuse(self, "version", "2 (Swin V2) has 2-d windows only", self.version)
        self._validate()

    @property
    def input_rank(self) -> int:  # type: ignore[override]
        """(H, W, C) or (T, H, W, C): one axis per window axis, then the channels."""
        return len(self.window_size) + 1

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            *positive(self.dim, "dim"),
            *positive(self.num_heads, "num_heads"),
            *positive(self.window_size, "window_size"),
            *(
                at_least(s, 0, "shift_size must be nonnegative", "shift_size")
                for s in self.shift_size
            ),
            divides(
                self.num_heads, self.dim, "dim must be divisible by num_heads", "num_heads", "dim"
            ),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return (
            equal(
                x[-1],
                self.dim,
                f"the last axis must have dim = {self.dim} channels",
                "channels",
                "dim",
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        return inputs[0]

    # -- the windows ---------------------------------------------------------------------
    def windows(self, x: Shape) -> tuple[sympy.Expr, sympy.Expr]:
        """(windows per sample, tokens per window) for the sample ``x``."""
        count, tokens = sympy.Integer(1), sympy.Integer(1)
        for size, w in zip(x[:-1], self.window_size, strict=True):
            if self.adapt_window:
                w = sympy.Min(size, w)
            count *= canonical(sympy.ceiling(size / w))
            tokens *= w
        return count, tokens

    def _table(self) -> sympy.Expr:
        """Relative offsets within a window: one row of the bias table each."""
        return sympy.Mul(*(2 * w - 1 for w in self.window_size))

    def params(self, *inputs: Shape) -> Derivation:
        c, heads = self.dim, self.num_heads
        bias = total(
            product(3, c) if self.qkv_bias else 0,
            c if self.proj_bias else 0,
        )
        if self.version == 1:
            relative = product(self._table(), heads)
        else:
            relative = total(product(2, CPB_HIDDEN), CPB_HIDDEN, product(CPB_HIDDEN, heads), heads)
        return total(product(3, c, c), product(c, c), bias, relative)

    def buffers(self, *inputs: Shape) -> Derivation:
        tokens = math.prod(self.window_size)
        index = product(tokens, tokens)
        if self.version == 1:
            return index
        return total(index, product(2, self._table()))

    def products(self, *inputs: Shape) -> Derivation:
        count, tokens = self.windows(inputs[0])
        c = self.dim
        terms = [
            product(count, tokens, 3, c, c),
            product(count, tokens, tokens, c),
            product(count, tokens, tokens, c),
            product(count, tokens, c, c),
        ]
        if self.version == 2:  # the bias table, computed by the MLP once per forward pass
            terms.append(product(self._table(), CPB_HIDDEN, total(2, self.num_heads)))
        return total(*terms)

    def bias_adds(self, *inputs: Shape) -> Derivation:
        count, tokens = self.windows(inputs[0])
        c = self.dim
        return total(
            product(count, tokens, 3, c) if self.qkv_bias else 0,
            product(count, tokens, c) if self.proj_bias else 0,
        )

    def elementwise(self, *inputs: Shape) -> Derivation:
        count, tokens = self.windows(inputs[0])
        scores = product(count, self.num_heads, tokens, tokens)
        scaled = product(count, tokens, self.dim) if self.version == 1 else scores
        return total(scaled, scores)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None

    # -- training ------------------------------------------------------------------------
    def _trains(self) -> bool:
        """Whether the training rules are derived: version 1 (2-d or 3-d), no dropout.

        Swin V2 computes its bias table with an MLP once per forward pass, whatever the
        batch: its products forward and backward have a part per batch, which symcnn's
        training pass (products per sample times the batch) does not hold yet. A dropout
        keeps its mask, not derived either.
        """
        return self.version == 1 and not self.attention_dropout and not self.dropout

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        r"""What torchvision's ``shifted_window_attention`` (2-d, 3-d) keeps in training.

        Per sample, N windows of T tokens, C channels, h heads (torch 2.13, 2.14 with
        ``saved_tensors_hooks``, meta device and CPU alike): the windows the q, k, v
        projection reads, N·T·C (a copy: the permute that partitions them is not a view);
        the operands of ``q @ kᵀ``, q scaled and k, copied as ``matmul`` folds their
        heads into its batch, N·T·C each; the softmax's result, N·h·T²; v, copied the
        same way, N·T·C; the input of the output projection, N·T·C: 5·N·T·C + N·h·T².
        With one head, k and v fold without a copy: their views keep the packed projection,
        3·N·T·C instead of 2·N·T·C (a symbolic ``num_heads`` is taken to be more than 1).
        A video window that shrinks to a smaller input (``adapt_window``) gathers its bias
        with an int64 index, ``index[:T, :T].flatten()``: a copy of T² entries once per
        batch where that slice is not dense (1 < T < the full window's tokens).

        Exact for a batch of more than one window: with one sample of one window (a map
        no larger than the window, batch 1) k and v fold without a copy too, which a count
        per sample cannot say. None where :meth:`_trains` is false.
        """
        if not self._trains():
            return None
        count, tokens = self.windows(inputs[0])
        c = self.dim
        copies = 6 if self.num_heads == 1 else 5
        kept = [new_tensor(copies * count * tokens * c + count * self.num_heads * tokens**2)]
        if self.adapt_window:
            full = sympy.Mul(*self.window_size)
            copied = sympy.And(sympy.Gt(tokens, 1), sympy.Lt(tokens, full))
            index = sympy.Piecewise((tokens**2, copied), (0, True))
            kept.append(new_tensor(per_batch=index, dtype="int64"))
        return tuple(kept)

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation] | None:
        r"""Backward products per sample, as ``FlopCounterMode`` counts torch's backward.

        Weights: the q, k, v projection's gradient :math:`3 N T C^2` and the output
        projection's :math:`N T C^2`. Inputs: both operands of each attention product,
        :math:`4 N T^2 C`, the output projection's input :math:`N T C^2`, and the q, k, v
        projection's input :math:`3 N T C^2` when the input needs a gradient. None where
        :meth:`_trains` is false.
        """
        if not self._trains():
            return None
        count, tokens = self.windows(inputs[0])
        c = self.dim
        packed = product(count, tokens, 3, c, c)
        own = product(count, tokens, c, c)
        attention = product(4, count, tokens, tokens, c)
        grads = total(packed, own, attention) if flow.needs[0] else total(own, attention)
        return grads, total(packed, own)

    def describe(self) -> str:
        window = "×".join(str(w) for w in self.window_size)
        shift = "×".join(str(s) for s in self.shift_size)
        v2 = " (V2)" if self.version == 2 else ""
        return (
            f"window attention{v2}, {self.num_heads} heads over {window} windows, "
            f"shifted by {shift}"
        )
