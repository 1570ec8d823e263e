"""Normalizations (batch, instance, group, layer, local response), counted as torch counts.

``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d``, ``GroupNorm``, ``LayerNorm`` and
``LocalResponseNorm``, with parameters and buffers counted apart.

What every normalization here counts, and why:

- ``params``: exactly torch's ``sum(p.numel() for p in m.parameters())``: the affine weight
  and, unless ``bias=False``, the affine bias, one per normalized feature.
- ``buffers``: torch's ``sum(b.numel() for b in m.buffers())``: with
  ``track_running_stats``, the running mean and variance (one per channel) and the step
  counter ``num_batches_tracked``.
- ``products`` is 0: scaling by a statistic or by the affine weight is elementwise, not
  a weight-times-activation product (PyTorch's ``FlopCounterMode`` counts 0 for them too).
- ``elementwise``: one multiplication per element, the scaling of each element by its
  normalizer (``1/σ``, with the affine weight folded in), as BatchNorm2d has always been
  counted. The statistics themselves (sums, squares, means, variances, roots) are
  reductions and are not counted, nor is the shift by the mean or the bias.
- The receptive field passes through unchanged: the statistics are not a window (as for
  BatchNorm, whose training statistics mix every position too).

Dimensions are per sample, without the batch axis: ``BatchNorm1d`` reads (C,) or (C, L),
``BatchNorm2d`` (C, H, W), ``InstanceNorm1d`` (C, L) (torch's unbatched form of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least, divides, equal
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import Field, Layer, positive, real, refuse

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "LocalResponseNorm",
]


class _Normalization(Layer):
    """What every normalization shares: shape kept, receptive field kept, one scale per element."""

    __slots__ = ()

    def elementwise(self, *inputs: Shape) -> Derivation:
        # one scale per element: 1/σ, fused with the affine weight when there is one
        return product(inputs[0].numel)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def _check_eps(self, *, positive_only: bool = False) -> None:
        """``eps`` a finite real number; positive for BatchNorm, at least 0 for the others.

        PyTorch's batch norm refuses eps <= 0 in training (eval: eps < 0); the other norms
        run any eps, a negative one to NaN outputs, and NaN and infinities to outputs of
        NaN or zero: no network anyone means, so refused here.
        """
        real(self, "eps")
        eps = self.eps  # type: ignore[attr-defined]
        if positive_only and not (0 < eps < math.inf):
            refuse(self, "eps", "must be a positive, finite number", eps)
        if not positive_only and not (0 <= eps < math.inf):
            refuse(self, "eps", "must be a non-negative, finite number", eps)

    def _rank_error(self, x: Shape, needed: str) -> ShapeError:
        return ShapeError(f"the input must have {needed} per sample (got {x}, {len(x)} axes)")


class _RunningStats(_Normalization):
    """BatchNorm and InstanceNorm: ``num_features`` channels, affine weight, running stats.

    Fields live on the dataclass subclasses; ``ranks`` are the per-sample ranks read.
    """

    __slots__ = ()
    mirrors_torch = True
    repr_positional = 1
    ranks: ClassVar[tuple[int, ...]]
    #: Whether eps must be positive (batch norm) rather than at least 0.
    positive_eps: ClassVar[bool] = False
    #: Words for the accepted per-sample shapes, for the rank error.
    shapes: ClassVar[str]

    num_features: sympy.Expr
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    bias: bool

    def __post_init__(self) -> None:
        self._set("num_features", as_size(self.num_features, "num_features"))
        self._check_eps(positive_only=self.positive_eps)
        # Any real momentum runs, NaN and negative ones too; None means a running average.
        # affine, track_running_stats and bias PyTorch only tests for truth: anything goes.
        real(self, "momentum", optional=True)
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.num_features, "num_features")

    def _check_rank(self, x: Shape) -> None:
        if len(x) not in self.ranks:
            words = " or ".join(str(r) for r in self.ranks)
            raise self._rank_error(x, f"{words} axes, {self.shapes},")

    def _channels(self, x: Shape) -> Condition:
        return equal(
            x.channels,
            self.num_features,
            f"the input must have num_features = {self.num_features} channels",
            "input channels",
            "num_features",
        )

    def params(self, *inputs: Shape) -> Derivation:
        if not self.affine:
            return product(0)
        return product(2, self.num_features) if self.bias else product(self.num_features)

    def buffers(self, *inputs: Shape) -> Derivation:
        if not self.track_running_stats:
            return product(0)
        return total(product(2, self.num_features), 1)

    def int64_buffers(self, *inputs: Shape) -> Derivation:
        return product(1 if self.track_running_stats else 0)


class _BatchNorm(_RunningStats):
    """Batch normalization: one mean and variance per channel, over the batch and positions."""

    __slots__ = ()
    kind = "bn"
    positive_eps = True

    def training_conditions(self, batch: Any, *inputs: Shape) -> tuple[Condition, ...]:
        # F.batch_norm refuses a batch of one value per channel in training mode.
        (x,) = inputs
        values = batch * x.numel / x.channels
        rule = "training needs more than one value per channel (batch × positions)"
        return (at_least(values, 2, rule, "values per channel"),)

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # Training keeps the input and the batch's mean and inverse deviation per channel,
        # float32 whatever the model's dtype (``native_batch_norm`` on the CPU).
        return (*keeps_inputs(0), new_tensor(per_batch=2 * self.num_features, dtype="float32"))

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        self._check_rank(x)
        return (self._channels(x),)


@dataclass(frozen=True, slots=True, repr=False)
class _BatchNormFields(_BatchNorm):
    """``torch.nn.BatchNormNd``'s constructor arguments, shared by every rank."""

    num_features: Any
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    bias: bool = True


@dataclass(frozen=True, slots=True, repr=False)
class BatchNorm1d(_BatchNormFields):
    r"""``torch.nn.BatchNorm1d(num_features, eps, momentum, affine, ...)`` on (C,) or (C, L).

    Parameters, buffers and counts as :class:`BatchNorm2d`'s, on this rank.

    Examples
    --------
    >>> BatchNorm1d(64).params(Shape((64,))).text()
    '2·64'
    """

    input_rank = None
    ranks = (1, 2)
    shapes = "(C,) or (C, L)"


@dataclass(frozen=True, slots=True, repr=False)
class BatchNorm2d(_BatchNormFields):
    r"""``torch.nn.BatchNorm2d(num_features, eps, momentum, affine, ...)`` on (C, H, W).

    Notes
    -----
    Parameters :math:`2C` (weight and bias; :math:`C` with ``bias=False``, torch's
    keyword-only argument) when ``affine``; buffers :math:`2C + 1` (running mean and
    variance, and the step counter ``num_batches_tracked``) when ``track_running_stats``.
    Products 0; elementwise one multiplication per element (the scaling by ``1/σ``, fused
    with the weight), the statistics not counted. Torch's rule that training needs more
    than one value per channel is a rule on the batch, which per-sample shapes do not
    model.

    Examples
    --------
    >>> bn = BatchNorm2d(64)
    >>> bn.params(Shape((64, 8, 8))).text(), bn.buffers(Shape((64, 8, 8))).text()
    ('2·64', '2·64+1')
    """

    input_rank = 3
    ranks = (3,)
    shapes = "(C, H, W)"


@dataclass(frozen=True, slots=True, repr=False)
class BatchNorm3d(_BatchNormFields):
    r"""``torch.nn.BatchNorm3d(num_features, eps, momentum, affine, ...)`` on (C, D, H, W).

    Parameters, buffers and counts as :class:`BatchNorm2d`'s, on this rank.

    Examples
    --------
    >>> BatchNorm3d(8, affine=False).elementwise(Shape((8, 2, 4, 4))).text()
    '256'
    """

    input_rank = 4
    ranks = (4,)
    shapes = "(C, D, H, W)"


class _InstanceNorm(_RunningStats):
    """Instance normalization: one mean and variance per sample and channel, over positions.

    PyTorch reads ``num_features`` only for the affine weight and the running statistics:
    without either it runs any channel count (with a warning), and so does symcnn. When
    it normalizes with the input's own statistics (always, unless it tracks running
    ones) it refuses a single position per channel, whose output would be all zeros.
    """

    __slots__ = ()

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # PyTorch runs a batch norm over (1, B·C, ...): it keeps the input and, per sample
        # and channel, the float32 mean and inverse deviation, and the repeated weight and
        # running statistics where there are such.
        c = inputs[0].channels
        repeated = (1 if self.affine else 0) + (2 if self.track_running_stats else 0)
        stats = new_tensor(2 * c, dtype="float32")
        return (*keeps_inputs(0), stats) + ((new_tensor(repeated * c),) if repeated else ())

    kind = "inorm"

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        self._check_rank(x)
        conds = []
        if self.affine or self.track_running_stats:
            conds.append(self._channels(x))
        if not self.track_running_stats:
            conds.append(
                at_least(
                    sympy.Mul(*x.spatial),
                    2,
                    "normalizing with the input's own statistics needs more than one "
                    "position per channel",
                    "positions",
                )
            )
        return tuple(conds)


@dataclass(frozen=True, slots=True, repr=False)
class _InstanceNormFields(_InstanceNorm):
    """``torch.nn.InstanceNormNd``'s constructor arguments, shared by every rank."""

    num_features: Any
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = False
    track_running_stats: bool = False
    bias: bool = True


@dataclass(frozen=True, slots=True, repr=False)
class InstanceNorm1d(_InstanceNormFields):
    r"""``torch.nn.InstanceNorm1d(num_features, eps, momentum, affine, ...)`` on (C, L).

    Parameters, buffers and counts as :class:`InstanceNorm2d`'s, on this rank.

    Examples
    --------
    >>> InstanceNorm1d(16, affine=True).params(Shape((16, 100))).text()
    '2·16'
    """

    input_rank = 2
    ranks = (2,)
    shapes = "(C, L)"


@dataclass(frozen=True, slots=True, repr=False)
class InstanceNorm2d(_InstanceNormFields):
    r"""``torch.nn.InstanceNorm2d(num_features, eps, momentum, affine, ...)`` on (C, H, W).

    Notes
    -----
    Parameters :math:`2C` (:math:`C` with ``bias=False``) when ``affine``; buffers
    :math:`2C + 1` when ``track_running_stats`` (both off by default, as in torch).
    Products 0; elementwise one multiplication per element (the scaling by ``1/σ``, fused
    with the weight), the statistics not counted. The input's channels must equal
    ``num_features`` only when ``affine`` or ``track_running_stats`` (torch's rule).

    Examples
    --------
    >>> InstanceNorm2d(16, track_running_stats=True).buffers(Shape((16, 8, 8))).text()
    '2·16+1'
    """

    input_rank = 3
    ranks = (3,)
    shapes = "(C, H, W)"


@dataclass(frozen=True, slots=True, repr=False)
class InstanceNorm3d(_InstanceNormFields):
    r"""``torch.nn.InstanceNorm3d(num_features, eps, momentum, affine, ...)`` on (C, D, H, W).

    Parameters, buffers and counts as :class:`InstanceNorm2d`'s, on this rank.

    Examples
    --------
    >>> InstanceNorm3d(4).params(Shape((4, 2, 2, 2))).text()
    '0'
    """

    input_rank = 4
    ranks = (4,)
    shapes = "(C, D, H, W)"


@dataclass(frozen=True, slots=True, repr=False)
class GroupNorm(_Normalization):
    r"""``torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True)``.

    The channels split into ``num_groups`` groups, each normalized over its channels and
    every position; any per-sample rank from (C,) up.

    Notes
    -----
    ``num_groups`` must divide ``num_channels`` (torch refuses otherwise). With
    ``affine`` the input must have ``num_channels`` channels; without, torch ignores
    ``num_channels`` in the forward pass and needs only that ``num_groups`` divide the
    input's channels, and so does symcnn. Parameters :math:`2C` (:math:`C` with
    ``bias=False``) when ``affine``; no buffers. Products 0; elementwise one
    multiplication per element (the scaling by ``1/σ``, fused with the weight),
    statistics not counted.

    Examples
    --------
    >>> gn = GroupNorm(8, 64)
    >>> gn.params(Shape((64, 8, 8))).text(), gn.elementwise(Shape((64, 8, 8))).text()
    ('2·64', '4096')
    >>> GroupNorm(3, 64)
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: GroupNorm(3, 64): num_groups must divide num_channels (got num_channels = 64, num_groups = 3)
    """  # noqa: E501

    mirrors_torch = True

    kind = "gn"
    repr_positional = 2

    num_groups: Any
    num_channels: Any
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The input, and a mean and an inverse deviation per group, in the model's dtype.
        return (*keeps_inputs(0), new_tensor(2 * self.num_groups))

    def __post_init__(self) -> None:
        self._set("num_groups", as_size(self.num_groups, "num_groups"))
        self._set("num_channels", as_size(self.num_channels, "num_channels"))
        self._check_eps()
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return (
            *positive(self.num_groups, "num_groups"),
            *positive(self.num_channels, "num_channels"),
            divides(
                self.num_groups,
                self.num_channels,
                "num_groups must divide num_channels",
                "num_groups",
                "num_channels",
            ),
        )

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        if len(x) < 1:
            raise self._rank_error(x, "at least 1 axis, (C, ...),")
        if self.affine:
            rule = f"the input must have num_channels = {self.num_channels} channels"
            return (equal(x.channels, self.num_channels, rule, "input channels", "num_channels"),)
        return (
            divides(
                self.num_groups,
                x.channels,
                "num_groups must divide the input's channels",
                "num_groups",
                "input channels",
            ),
        )

    def params(self, *inputs: Shape) -> Derivation:
        if not self.affine:
            return product(0)
        return product(2, self.num_channels) if self.bias else product(self.num_channels)


@dataclass(frozen=True, slots=True, repr=False)
class LayerNorm(_Normalization):
    r"""``torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``.

    Normalizes each sample over its trailing axes, ``normalized_shape`` (an int or a
    tuple), which must equal the input's last sizes: ``LayerNorm(C)`` on a channels-last
    (L, C) input, ``LayerNorm((C, H, W))`` on a whole (C, H, W) sample. Sizes may be
    symbolic; the match is then a condition.

    Notes
    -----
    Parameters :math:`\prod` ``normalized_shape`` for the weight and as many for the bias
    when ``elementwise_affine`` (the bias only with ``bias=True``); no buffers. Products
    0; elementwise one multiplication per element (the scaling by ``1/σ``, fused with the
    weight), statistics not counted. The input must have at least as many axes per
    sample as ``normalized_shape``: torch would otherwise normalize across the batch.

    Examples
    --------
    >>> ln = LayerNorm(96)
    >>> ln.params(Shape((56, 96))).text(), LayerNorm((4, 4), bias=False).params().text()
    ('2·96', '4·4')
    """

    mirrors_torch = True

    kind = "ln"
    repr_positional = 1

    normalized_shape: Any
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The input, and a float32 mean and inverse deviation per normalized vector.
        vectors = inputs[0].numel / sympy.Mul(*self.normalized_shape)
        return (*keeps_inputs(0), new_tensor(2 * vectors, dtype="float32"))

    def __post_init__(self) -> None:
        shape = self.normalized_shape
        if isinstance(shape, (tuple, list)):
            if not shape:
                refuse(self, "normalized_shape", "must have at least one size", shape)
            sizes = tuple(as_size(s, "normalized_shape") for s in shape)
        else:
            sizes = (as_size(shape, "normalized_shape"),)
        self._set("normalized_shape", sizes)
        self._check_eps()
        self._validate()

    def __repr__(self) -> str:
        # One size reads as torch's int; a tuple is never compacted (LayerNorm((4, 4)) is
        # not LayerNorm(4)).
        parts = [_shown(self.normalized_shape)]
        for name, default in (("eps", 1e-5), ("elementwise_affine", True), ("bias", True)):
            value = getattr(self, name)
            if value != default or type(value) is not type(default):
                parts.append(f"{name}={value!r}")
        return f"LayerNorm({', '.join(parts)})"

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.normalized_shape, "normalized_shape")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        shape = self.normalized_shape
        if len(x) < len(shape):
            raise self._rank_error(x, f"at least {len(shape)} axes, normalized_shape's,")
        first = len(x) - len(shape)
        return tuple(
            equal(
                size,
                norm,
                f"the input's last {'size' if len(shape) == 1 else f'{len(shape)} sizes'} "
                f"must equal normalized_shape = {_shown(shape)}",
                f"input axis {first + i}",
                f"normalized_shape[{i}]",
            )
            for i, (size, norm) in enumerate(zip(x[first:], shape, strict=True))
        )

    def params(self, *inputs: Shape) -> Derivation:
        if not self.elementwise_affine:
            return product(0)
        return product(2 if self.bias else 1, *self.normalized_shape)


@dataclass(frozen=True, slots=True, repr=False)
class LocalResponseNorm(_Normalization):
    r"""``torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0)`` (AlexNet's).

    Each element is divided by :math:`(k + \frac{\alpha}{n}\sum x^2)^\beta`, the sum over
    ``size`` neighbouring channels at the same position; any per-sample rank from
    (C, L) up (torch needs 3 axes with the batch).

    Notes
    -----
    No parameters or buffers; products 0; elementwise one multiplication per element
    (the scaling by the normalizer); the squares, the window sums and the power that make
    the normalizer are not counted, as a BatchNorm's statistics are not.

    Examples
    --------
    >>> LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0).elementwise(Shape((96, 55, 55))).text()
    '290400'
    """

    mirrors_torch = True

    kind = "lrn"
    repr_positional = 1

    size: Any
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # PyTorch composes it: the squares padded by size - 1 channels for the average
        # pooling, the scaled sum before and after the power, and the input.
        (x,) = inputs
        padded = x.numel / x.channels * (x.channels + self.size - 1)
        return (*keeps_inputs(0), new_tensor(padded), new_tensor(2 * x.numel))

    def __post_init__(self) -> None:
        self._set("size", as_size(self.size, "size"))
        for name in ("alpha", "beta", "k"):
            real(self, name)
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.size, "size")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        if len(x) < 2:
            raise self._rank_error(x, "at least 2 axes, (C, L, ...),")
        return ()


def _shown(sizes: tuple[sympy.Expr, ...]) -> str:
    return str(sizes[0]) if len(sizes) == 1 else "(" + ", ".join(map(str, sizes)) + ")"
