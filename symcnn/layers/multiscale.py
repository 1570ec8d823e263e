"""Multiscale attention: MViT's pooling attention over a grid of tokens with a class token.

MViT (torchvision's ``mvit_v1_b``, ``mvit_v2_s``) keeps its tokens as a sequence
``(1 + T·H·W, C)``: a class token, then a ``T × H × W`` grid. Its modules pass the grid's
sizes ``thw`` beside the tensor and pool the grid by folding the heads into the batch
axis, which a per-sample shape cannot follow; each module is therefore one symcnn layer
whose ``thw`` is a hyperparameter, the sizes the module is called with. The token count
must then be ``1 + T·H·W`` (torch's reshape to the grid fails otherwise): a model built
for one video size runs only where its tokens number that, and symcnn's condition says so.
torchvision's classes ``MultiscaleAttention``, ``Pool`` and ``PositionalEncoding`` map
to these layers in :func:`symcnn.from_torch` (``frontends/torch/library.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..symbolic.canonical import floor_div
from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..symbolic.sizes import conv_output_size
from ..validity.condition import Condition, at_least, divides, equal
from .base import Field, Layer, flag, positive, refuse, tuple_of

__all__ = ["ClassPositionalEncoding", "MultiscaleAttention", "TokenPool"]


def _grid(layer: Layer, name: str, value: Any) -> tuple[sympy.Expr, ...]:
    """``value`` as 3 sizes (T, H, W), refused naming the layer otherwise."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        refuse(layer, name, "must be 3 sizes, (T, H, W)", value)
    return tuple_of(value, 3, name)


def _optional_grid(layer: Layer, name: str) -> None:
    value = getattr(layer, name)
    if value is not None:
        layer._set(name, _grid(layer, name, value))


def _pooled(
    thw: tuple[sympy.Expr, ...], kernel: tuple[sympy.Expr, ...], stride: tuple[sympy.Expr, ...]
) -> tuple[sympy.Expr, ...]:
    """The grid after a pooling of ``kernel`` and ``stride`` padded by ``kernel // 2``."""
    return tuple(
        conv_output_size(size, k, stride=s, padding=floor_div(k, 2))
        for size, k, s in zip(thw, kernel, stride, strict=True)
    )


def _tokens(layer: Layer, x: Shape, thw: tuple[sympy.Expr, ...]) -> Condition:
    """The sequence axis of ``x`` is the class token and the grid ``thw``."""
    grid = " × ".join(map(str, thw))
    return equal(
        x[-2],
        1 + sympy.Mul(*thw),
        f"the tokens must be the class token and the {grid} grid the module is called "
        f"with, 1 + {grid}",
        "tokens",
        "1 + grid",
    )


def _area(sizes: tuple[sympy.Expr, ...]) -> sympy.Expr:
    return sympy.Mul(*sizes)


@dataclass(frozen=True, slots=True, repr=False)
class MultiscaleAttention(Layer):
    r"""MViT's pooling attention on a (1 + T·H·W, embed_dim) sample of tokens.

    The q, k, v projection (``Linear(embed_dim, 3·output_dim)``) splits into ``num_heads``
    heads of ``d = output_dim / num_heads``; each of q, k, v may be pooled on the grid:
    a depthwise ``Conv3d(d, d, kernel, stride, padding=kernel // 2, groups=d)`` without
    bias, then ``LayerNorm(d)`` over the class token and the pooled grid. ``kernel_q``,
    ``stride_q`` (the queries) and ``kernel_kv``, ``stride_kv`` (keys and values) are None
    where torchvision builds no pooling. The output is (1 + T_q·H_q·W_q, output_dim),
    the query grid, projected by ``Linear(output_dim, output_dim)``.

    ``rel_pos`` (MViT V2) is None, or the lengths (t, h, w) of the relative position
    tables ``rel_pos_t``, ``rel_pos_h``, ``rel_pos_w``, each with ``d`` columns: the bias
    they make is added to the scores. ``residual_pool`` (V2) adds the pooled queries to
    the output of the attention, the class token too with ``residual_with_cls_embed``.

    Notes
    -----
    Per sample, with :math:`N = 1 + THW` input tokens, :math:`N_q`, :math:`N_k` the
    tokens after pooling, :math:`C` = output_dim, :math:`K_x` a pool's kernel volume
    and :math:`G_x` its grid's volume:

    - products: the projection :math:`3 N \cdot \text{embed} \cdot C`, each pool
      :math:`C G_x K_x`, the scores and the weighted values :math:`N_q N_k C` each, the
      relative position bias :math:`C G_q (T_k + H_k + W_k)` (two einsums and a matmul in
      torchvision; with heads of one channel the einsums multiply elementwise, and
      :math:`C G_q (H_k + W_k)` moves to elementwise), the output projection
      :math:`N_q C^2`;
    - parameters: the projections :math:`3C \cdot \text{embed} + C^2` and their biases,
      each pool :math:`d K_x + 2d`, the tables :math:`(t + h + w) d`;
    - elementwise: the scaling of the queries :math:`N_q C`, each pool's LayerNorm one per
      element; the additions (bias, residual) are not multiplications. A table whose length
      is not :math:`2\max(q, k) - 1` is interpolated, which counts nothing.

    Examples
    --------
    >>> attn = MultiscaleAttention(96, 96, 1, (8, 56, 56), kernel_kv=(3, 3, 3),
    ...                            stride_kv=(1, 8, 8))
    >>> x = Shape((25089, 96))
    >>> attn.output_shape(x), attn.params(x).value, attn.products(x).value
    (Shape((25089, 96)), 42816, 2820028608)
    """

    kind = "multiscale_attention"
    input_rank = 2
    repr_positional = 4

    embed_dim: Any
    output_dim: Any
    num_heads: Any
    thw: Any
    kernel_q: Any = None
    stride_q: Any = None
    kernel_kv: Any = None
    stride_kv: Any = None
    residual_pool: bool = False
    residual_with_cls_embed: bool = True
    rel_pos: Any = None
    qkv_bias: bool = True
    proj_bias: bool = True

    def __post_init__(self) -> None:
        for name in ("embed_dim", "output_dim", "num_heads"):
            self._set(name, as_size(getattr(self, name), name))
        self._set("thw", _grid(self, "thw", self.thw))
        for name in ("kernel_q", "stride_q", "kernel_kv", "stride_kv", "rel_pos"):
            _optional_grid(self, name)
        for kernel, stride in (("kernel_q", "stride_q"), ("kernel_kv", "stride_kv")):
            if (getattr(self, kernel) is None) != (getattr(self, stride) is None):
                refuse(self, stride, f"is given with {kernel} or not at all", getattr(self, stride))
        for name in ("residual_pool", "residual_with_cls_embed", "qkv_bias", "proj_bias"):
            flag(self, name)
        self._validate()

    # -- the grids -----------------------------------------------------------------------
    def grid_q(self) -> tuple[sympy.Expr, ...]:
        """The query grid (T, H, W): the output's, which the module returns beside it."""
        if self.kernel_q is None:
            return self.thw
        return _pooled(self.thw, self.kernel_q, self.stride_q)

    def grid_kv(self) -> tuple[sympy.Expr, ...]:
        """The grid of the keys and values."""
        if self.kernel_kv is None:
            return self.thw
        return _pooled(self.thw, self.kernel_kv, self.stride_kv)

    def _pools(self) -> list[tuple[tuple[sympy.Expr, ...], tuple[sympy.Expr, ...]]]:
        """(kernel, output grid) of each pooling: q, then k and v."""
        pools = []
        if self.kernel_q is not None:
            pools.append((self.kernel_q, self.grid_q()))
        if self.kernel_kv is not None:
            pools += [(self.kernel_kv, self.grid_kv())] * 2
        return pools

    # -- the rules -----------------------------------------------------------------------
    def hyper_conditions(self) -> tuple[Condition, ...]:
        conds = [
            *positive(self.embed_dim, "embed_dim"),
            *positive(self.output_dim, "output_dim"),
            *positive(self.num_heads, "num_heads"),
            *positive(self.thw, "thw"),
            divides(
                self.num_heads,
                self.output_dim,
                "output_dim must be divisible by num_heads",
                "num_heads",
                "output_dim",
            ),
        ]
        for which in ("q", "kv"):
            kernel, stride = getattr(self, f"kernel_{which}"), getattr(self, f"stride_{which}")
            if kernel is None:
                continue
            conds += [*positive(kernel, f"kernel_{which}"), *positive(stride, f"stride_{which}")]
            conds += [
                at_least(
                    size + 2 * floor_div(k, 2),
                    k,
                    f"the padded grid must hold kernel_{which}",
                    "grid size + 2·(kernel // 2)",
                    f"kernel_{which}",
                )
                for size, k in zip(self.thw, kernel, strict=True)
            ]
        if self.rel_pos is not None:
            conds += positive(self.rel_pos, "rel_pos")
        return tuple(conds)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return (
            equal(
                x[-1],
                self.embed_dim,
                f"the last axis must have embed_dim = {self.embed_dim} channels",
                "channels",
                "embed_dim",
            ),
            _tokens(self, x, self.thw),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        return Shape((1 + _area(self.grid_q()), self.output_dim))

    def params(self, *inputs: Shape) -> Derivation:
        c, e = self.output_dim, self.embed_dim
        d = c / self.num_heads
        pools = [total(product(d, *kernel), product(2, d)) for kernel, _ in self._pools()]
        return total(
            product(3, c, e),
            product(3, c) if self.qkv_bias else 0,
            product(c, c),
            c if self.proj_bias else 0,
            *pools,
            product(total(*self.rel_pos), d) if self.rel_pos is not None else 0,
        )

    def products(self, *inputs: Shape) -> Derivation:
        (x,) = inputs
        c = self.output_dim
        n_q, n_k = 1 + _area(self.grid_q()), 1 + _area(self.grid_kv())
        pools = [product(c, _area(grid), *kernel) for kernel, grid in self._pools()]
        relative: Any = 0
        if self.rel_pos is not None:
            t, h, w = self.grid_kv()
            relative = product(c, _area(self.grid_q()), t if self._squeezed() else total(t, h, w))
        return total(
            product(x[-2], self.embed_dim, 3, c),
            *pools,
            product(n_q, n_k, c),
            relative,
            product(n_q, n_k, c),
            product(n_q, c, c),
        )

    def bias_adds(self, *inputs: Shape) -> Derivation:
        (x,) = inputs
        c = self.output_dim
        return total(
            product(x[-2], 3, c) if self.qkv_bias else 0,
            product(1 + _area(self.grid_q()), c) if self.proj_bias else 0,
        )

    def elementwise(self, *inputs: Shape) -> Derivation:
        c = self.output_dim
        norms = [product(1 + _area(grid), c) for _, grid in self._pools()]
        einsums: Any = 0
        if self._squeezed():
            _, h, w = self.grid_kv()
            einsums = product(c, _area(self.grid_q()), total(h, w))
        return total(product(1 + _area(self.grid_q()), c), *norms, einsums)

    def _squeezed(self) -> bool:
        """Whether torch's two einsums of the relative bias multiply elementwise.

        With heads of one channel the contracted axis has size 1, which torch's einsum
        squeezes: an elementwise product, not a matrix product (as :class:`.Einsum`
        counts it, ``layers/matmul.py``); a symbolic head width is taken to be more.
        """
        return self.rel_pos is not None and self.output_dim / self.num_heads == 1

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None

    def describe(self) -> str:
        grid = "×".join(map(str, self.thw))
        pooled = "×".join(map(str, self.grid_q()))
        v2 = ", relative positions" if self.rel_pos is not None else ""
        heads = f"{self.num_heads} head" + ("" if self.num_heads == 1 else "s")
        return f"multiscale attention, {heads}, grid {grid} → {pooled}{v2}"


@dataclass(frozen=True, slots=True, repr=False)
class TokenPool(Layer):
    r"""Max pooling of a (1 + T·H·W, C) sample's grid, the class token kept in front.

    torchvision's MViT ``Pool`` around ``MaxPool3d(kernel_size, stride, padding)`` (a
    block's skip connection when its queries are pooled): the grid ``thw`` is pooled as
    ``MaxPool3d`` pools (T, H, W), the class token is put back before it. No parameters,
    no products: a maximum multiplies nothing.

    Examples
    --------
    >>> TokenPool((8, 56, 56), (1, 3, 3), (1, 2, 2), (0, 1, 1)).output_shape(Shape((25089, 96)))
    Shape((6273, 96))
    """

    kind = "token_pool"
    input_rank = 2
    repr_positional = 4

    thw: Any
    kernel_size: Any
    stride: Any
    padding: Any = (0, 0, 0)

    def __post_init__(self) -> None:
        for name in ("thw", "kernel_size", "stride"):
            self._set(name, _grid(self, name, getattr(self, name)))
        self._set("padding", tuple_of(self.padding, 3, "padding"))
        self._validate()

    def grid(self) -> tuple[sympy.Expr, ...]:
        """The pooled grid (T, H, W), which the module returns beside the tokens."""
        return tuple(
            conv_output_size(size, k, stride=s, padding=p)
            for size, k, s, p in zip(
                self.thw, self.kernel_size, self.stride, self.padding, strict=True
            )
        )

    def hyper_conditions(self) -> tuple[Condition, ...]:
        conds = [
            *positive(self.thw, "thw"),
            *positive(self.kernel_size, "kernel_size"),
            *positive(self.stride, "stride"),
        ]
        for size, k, p in zip(self.thw, self.kernel_size, self.padding, strict=True):
            conds.append(at_least(p, 0, "padding must be nonnegative", "padding"))
            conds.append(
                at_least(
                    k, 2 * p, "padding must be at most half the kernel", "kernel_size", "2·padding"
                )
            )
            conds.append(
                at_least(
                    size + 2 * p,
                    k,
                    "the padded grid must hold the kernel",
                    "size + 2·padding",
                    "kernel_size",
                )
            )
        return tuple(conds)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        return (_tokens(self, inputs[0], self.thw),)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        return Shape((1 + _area(self.grid()), x[-1]))

    def describe(self) -> str:
        kernel = "×".join(map(str, self.kernel_size))
        return f"max pool of the token grid, kernel {kernel}, class token kept"


@dataclass(frozen=True, slots=True, repr=False)
class ClassPositionalEncoding(Layer):
    r"""MViT's ``PositionalEncoding``: a class token before (N, C) tokens, then positions.

    The output is (N + 1, C): a learned class token of ``embed_size`` entries in front.
    With ``absolute`` (MViT V1), a position embedding is added, the sum of a temporal
    table (``temporal_size`` rows) and a spatial one (``spatial_size`` = (h, w): h·w
    rows), and a class position: N must then be ``temporal_size · h · w``, the grid the
    model was built for. Without it (V2's relative positions) any N passes here.

    Notes
    -----
    Parameters :math:`C`, and :math:`(hw + t + 1) C` more when ``absolute``; products
    and elementwise multiplications none (the embedding is a sum).

    Examples
    --------
    >>> pe = ClassPositionalEncoding(96, 8, (56, 56))
    >>> pe.output_shape(Shape((25088, 96))), pe.params(Shape((25088, 96))).value
    (Shape((25089, 96)), 302016)
    """

    kind = "pos_encoding"
    input_rank = 2
    repr_positional = 3

    embed_size: Any
    temporal_size: Any
    spatial_size: Any
    absolute: bool = True

    def __post_init__(self) -> None:
        self._set("embed_size", as_size(self.embed_size, "embed_size"))
        self._set("temporal_size", as_size(self.temporal_size, "temporal_size"))
        if not isinstance(self.spatial_size, (tuple, list)) or len(self.spatial_size) != 2:
            refuse(self, "spatial_size", "must be 2 sizes, (H, W)", self.spatial_size)
        self._set("spatial_size", tuple_of(self.spatial_size, 2, "spatial_size"))
        flag(self, "absolute")
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            *positive(self.embed_size, "embed_size"),
            *positive(self.temporal_size, "temporal_size"),
            *positive(self.spatial_size, "spatial_size"),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        conds = [
            equal(
                x[-1],
                self.embed_size,
                f"the last axis must have embed_size = {self.embed_size} channels",
                "channels",
                "embed_size",
            )
        ]
        if self.absolute:
            grid = (self.temporal_size, *self.spatial_size)
            shown = " × ".join(map(str, grid))
            conds.append(
                equal(
                    x[-2],
                    _area(grid),
                    f"the tokens must be the {shown} grid of the position embedding",
                    "tokens",
                    "grid",
                )
            )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        return Shape((x[-2] + 1, x[-1]))

    def params(self, *inputs: Shape) -> Derivation:
        c = self.embed_size
        if not self.absolute:
            return product(c)
        h, w = self.spatial_size
        return total(c, product(total(product(h, w), self.temporal_size, 1), c))

    def describe(self) -> str:
        what = "class token and position embedding" if self.absolute else "class token"
        return f"{what}, {self.embed_size} channels"
