"""Attention: ``MultiheadAttention``, torch.nn's module of the same name and signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, divides, equal
from .base import Field, Layer, positive, real

__all__ = ["MultiheadAttention"]


@dataclass(frozen=True, slots=True, repr=False)
class MultiheadAttention(Layer):
    r"""``torch.nn.MultiheadAttention``: query (L, E), key (S, kdim), value (S, vdim) → (L, E).

    Shapes are per sample, as everywhere in symcnn: with ``batch_first=False`` torch's
    query is (L, N, E), whose sample is still (L, E). The three inputs are taken in
    torch's order; self-attention feeds one tensor three times.

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

    def __post_init__(self) -> None:
        self._set("embed_dim", as_size(self.embed_dim, "embed_dim"))
        self._set("num_heads", as_size(self.num_heads, "num_heads"))
        for name in ("kdim", "vdim"):
            if getattr(self, name) is not None:
                self._set(name, as_size(getattr(self, name), name))
        real(self, "dropout")
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
