"""Attention: ``MultiheadAttention``, torch.nn's module of the same name and signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, divides, equal
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import Field, Layer, positive, real, refuse

__all__ = ["MultiheadAttention"]


@dataclass(frozen=True, slots=True, repr=False)
class MultiheadAttention(Layer):
    r"""``torch.nn.MultiheadAttention``: query (L, E), key (S, kdim), value (S, vdim) → (L, E).

    Shapes are per sample, as everywhere in symcnn: with ``batch_first=False`` torch's
    query is (L, N, E), whose sample is still (L, E). The three inputs are taken in
    torch's order; self-attention feeds one tensor three times. ``need_weights`` is the
    call's option (torch's default True), which :func:`~symcnn.from_torch` reads off the
    call: it changes none of the counts but what a training step keeps (:meth:`saved`).

    Notes
    -----
    Parameters, as ``sum(p.numel())`` of torch's module: the projections
    :math:`E \cdot E + E \cdot k + E \cdot v` (``in_proj_weight``, 3E², when
    ``kdim = vdim = E``), their bias 3E, the output projection :math:`E^2 + E` (its bias
    with ``bias``) and ``bias_k``, ``bias_v`` (2E) with ``add_bias_kv``.

    Products: the projections :math:`L E^2 + S E k + S E v`, the scores
    :math:`Q K^\top` and the weighted sum of the values, :math:`L S' E` each, where
    :math:`S' = S + \text{add\_bias\_kv} + \text{add\_zero\_attn}` keys are attended
    (every head multiplies its :math:`E/h` entries, h heads), and the output
    projection :math:`L E^2`. Bias adds: one per projected entry, :math:`2LE + 2SE`.
    Elementwise: the scaling of the queries by :math:`(E/h)^{-1/2}`, LE; the softmax,
    as :class:`~symcnn.layers.elementwise.Softmax`, counts nothing.

    Examples
    --------
    >>> mha = MultiheadAttention(64, 8)
    >>> x = Shape((10, 64))
    >>> mha.output_shape(x, x, x), mha.params(x, x, x).value
    (Shape((10, 64)), 16640)
    >>> mha.products(x, x, x).text()
    '10·64·64+10·64·64+10·64·64+10·10·64+10·10·64+10·64·64'
    """

    mirrors_torch = True
    kind = "mha"
    arity = 3
    input_rank = 2
    repr_positional = 2

    embed_dim: Any
    num_heads: Any
    dropout: Any = 0.0
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    kdim: Any = None
    vdim: Any = None
    batch_first: bool = False
    need_weights: bool = True

    def __post_init__(self) -> None:
        self._set("embed_dim", as_size(self.embed_dim, "embed_dim"))
        self._set("num_heads", as_size(self.num_heads, "num_heads"))
        for name in ("kdim", "vdim"):
            if getattr(self, name) is not None:
                self._set(name, as_size(getattr(self, name), name))
        real(self, "dropout")
        if not isinstance(self.need_weights, bool):
            refuse(self, "need_weights", "must be True or False", self.need_weights)
        self._validate()

    @property
    def key_dim(self) -> sympy.Expr:
        """The key's last axis: ``kdim``, or ``embed_dim`` when None (as torch)."""
        return self.embed_dim if self.kdim is None else self.kdim

    @property
    def value_dim(self) -> sympy.Expr:
        """The value's last axis: ``vdim``, or ``embed_dim`` when None (as torch)."""
        return self.embed_dim if self.vdim is None else self.vdim

    def _extra_keys(self) -> int:
        return int(bool(self.add_bias_kv)) + int(bool(self.add_zero_attn))

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            *positive(self.embed_dim, "embed_dim"),
            *positive(self.num_heads, "num_heads"),
            *positive(self.key_dim, "kdim"),
            *positive(self.value_dim, "vdim"),
            divides(
                self.num_heads,
                self.embed_dim,
                "embed_dim must be divisible by num_heads",
                "num_heads",
                "embed_dim",
            ),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        q, k, v = inputs
        return (
            equal(
                q[-1],
                self.embed_dim,
                f"the query's last axis must have embed_dim = {self.embed_dim} entries",
                "query features",
                "embed_dim",
            ),
            equal(
                k[-1],
                self.key_dim,
                f"the key's last axis must have kdim = {self.key_dim} entries",
                "key features",
                "kdim",
            ),
            equal(
                v[-1],
                self.value_dim,
                f"the value's last axis must have vdim = {self.value_dim} entries",
                "value features",
                "vdim",
            ),
            equal(
                k[0],
                v[0],
                "the key and the value must have the same length",
                "key length",
                "value length",
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        q = inputs[0]
        return Shape((q[0], self.embed_dim))

    def params(self, *inputs: Shape) -> Derivation:
        e = self.embed_dim
        b = 1 if self.bias else 0
        return total(
            product(e, e),
            product(e, self.key_dim),
            product(e, self.value_dim),
            product(3, e) if b else 0,
            product(e, total(e, b)),
            product(2, e) if self.add_bias_kv else 0,
        )

    def products(self, *inputs: Shape) -> Derivation:
        q, k, _ = inputs
        e, length, keys = self.embed_dim, q[0], k[0]
        attended = total(keys, self._extra_keys())
        return total(
            product(length, e, e),
            product(keys, e, self.key_dim),
            product(keys, e, self.value_dim),
            product(length, attended, e),
            product(length, attended, e),
            product(length, e, e),
        )

    def bias_adds(self, *inputs: Shape) -> Derivation:
        if not self.bias:
            return product(0)
        q, k, _ = inputs
        return total(product(2, q[0], self.embed_dim), product(2, k[0], self.embed_dim))

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(inputs[0][0], self.embed_dim)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None

    # -- training ------------------------------------------------------------------------
    def _self_attention(self, flow: Flow, inputs: tuple[Shape, ...]) -> bool:
        """Whether the rules below apply: self-attention, no extra keys, no dropout.

        torch's ``F.multi_head_attention_forward`` projects ``query is key is value`` with
        one packed linear layer and other inputs with two or three: what it keeps differs.
        Only the self-attention case (one tensor at the three ports, ``flow.same``, and
        ``kdim = vdim = embed_dim``) is derived; cross-attention is refused; a dropout
        (its mask) and ``add_bias_kv``, ``add_zero_attn`` (new keys) are not.
        """
        q, k, v = inputs
        e = self.embed_dim
        return (
            tuple(q) == tuple(k) == tuple(v)
            and flow.same == (0, 0, 0)
            and self.key_dim == e
            and self.value_dim == e
            and len(set(flow.needs)) == 1
            and len(set(flow.contiguous)) == 1
            and not self.dropout
            and not self.add_bias_kv
            and not self.add_zero_attn
        )

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        r"""What ``F.multi_head_attention_forward`` keeps in training, on the meta device.

        Per sample, L tokens of E features, h heads (torch 2.13, 2.14 with
        ``saved_tensors_hooks``): the input of the packed projection, L·E (with
        ``batch_first`` torch transposes (N, L, E) to (L, N, E), and the linear layer
        copies that view: a new tensor, the input itself only when N = 1); the packed
        projection's output, 3·L·E, kept through the views of k and v into it; the
        softmax's result, h·L²; the input of the output projection, L·E. With
        ``need_weights=False`` torch calls ``scaled_dot_product_attention``, whose math
        path (the meta device's; fused CPU and CUDA kernels keep q, k, v, the output and
        the log-sum-exp) keeps q and k scaled, L·E each; with ``need_weights=True`` it
        multiplies q scaled (L·E) by a view of k itself. None outside
        :meth:`_self_attention`.
        """
        if not self._self_attention(flow, inputs):
            return None
        q = inputs[0]
        tokens = q[0] * self.embed_dim
        if self.batch_first or not flow.contiguous[0]:
            projected: tuple[Saved, ...] = (new_tensor(tokens),)
        else:
            projected = keeps_inputs(0)
        scaled = 1 if self.need_weights else 2
        return (
            *projected,
            new_tensor(3 * tokens),
            new_tensor(scaled * tokens),
            new_tensor(self.num_heads * q[0] ** 2),
            new_tensor(tokens),
        )

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation] | None:
        r"""Backward products per sample, as ``FlopCounterMode`` counts torch's backward.

        Weights: the packed projection's gradient :math:`3 L E^2` and the output
        projection's :math:`L E^2`. Inputs: each attention product's two operands,
        :math:`4 L^2 E` (the scores' q and k, the weighted sum's weights and v), the
        output projection's input :math:`L E^2`, and the packed projection's input
        :math:`3 L E^2` when the input needs a gradient. None outside
        :meth:`_self_attention`.
        """
        if not self._self_attention(flow, inputs):
            return None
        length, e = inputs[0][0], self.embed_dim
        packed = product(length, e, 3, e)
        own = product(length, e, e)
        attention = product(4, length, length, e)
        grads = total(packed, own, attention) if flow.needs[0] else total(own, attention)
        return grads, total(packed, own)
