"""Normalization: ``BatchNorm2d``, with parameters and buffers counted apart."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, equal
from .base import Field, Layer, positive, real, refuse

__all__ = ["BatchNorm2d"]


@dataclass(frozen=True, slots=True, repr=False)
class BatchNorm2d(Layer):
    r"""``torch.nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats)``.

    Notes
    -----
    Parameters :math:`2C` (weight and bias) when ``affine``; buffers :math:`2C + 1`
    (running mean and variance, and the step counter ``num_batches_tracked``) when
    ``track_running_stats``. Its scaling is elementwise, not a weight-times-activation
    product, so ``products`` is 0.

    Examples
    --------
    >>> bn = BatchNorm2d(64)
    >>> bn.params(Shape((64, 8, 8))).text(), bn.buffers(Shape((64, 8, 8))).text()
    ('2·64', '2·64+1')
    """

    mirrors_torch = True

    kind = "bn"
    input_rank = 3
    repr_positional = 1

    num_features: Any
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True

    def __post_init__(self) -> None:
        self._set("num_features", as_size(self.num_features, "num_features"))
        real(self, "eps")
        # PyTorch refuses eps <= 0 (in training; eval refuses eps < 0) but runs NaN and
        # infinity, to outputs of NaN or zero: no network anyone means, so refused here.
        if not (0 < self.eps < math.inf):
            refuse(self, "eps", "must be a positive, finite number", self.eps)
        # Any real momentum runs, NaN and negative ones too; None means a running average.
        # affine and track_running_stats PyTorch only tests for truth: anything goes.
        real(self, "momentum", optional=True)
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.num_features, "num_features")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return (
            equal(
                x.channels,
                self.num_features,
                f"the input must have num_features = {self.num_features} channels",
                "input channels",
                "num_features",
            ),
        )

    def params(self, *inputs: Shape) -> Derivation:
        return product(2, self.num_features) if self.affine else product(0)

    def elementwise(self, *inputs: Shape) -> Derivation:
        # one scale per element: 1/σ, fused with γ when affine
        return product(inputs[0].numel)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def buffers(self, *inputs: Shape) -> Derivation:
        if not self.track_running_stats:
            return product(0)
        return total(product(2, self.num_features), 1)
