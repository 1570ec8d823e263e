"""Layers of functional code: a tensor times a module's own tensor, and ``F.normalize``.

Code written with functions rather than modules reads a module's parameters directly:
ConvNeXt's layer scale ``self.layer_scale * x``, SSD's ``self.scale_weight.view(1, -1, 1,
1) * F.normalize(x)``. :class:`Scale` is that multiplication, holding the tensor's shape so
that the parameters are counted where they are used; :class:`Normalize` is the
``F.normalize`` such code scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape
from ..validity.condition import Condition, equal
from .base import Field, Layer, flag, positive, real

__all__ = ["Normalize", "Scale"]


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Scale(Layer):
    """``x * w``: the input times a tensor ``w`` of torch shape ``shape``, broadcast.

    ``shape`` is the tensor's whole shape, as ``w.shape`` gives it: a parameter has no
    batch axis. It broadcasts against the input as torch does, aligned on the last axis:
    a (C, 1, 1) layer scale multiplies a (C, H, W) sample, and a (1, C, 1, 1) view of a
    (C,) weight lines its leading 1 up with the batch axis. Every size of ``w`` other than
    1 must equal the input's there: the tensor scales the input, never stretches it.

    Notes
    -----
    Parameters: ``w``'s elements, once however often it is read (the walk reuses one layer
    per tensor, counted once like any shared layer); with ``learned=False`` (a buffer) they
    are buffers instead. Products 0 (PyTorch's ``FlopCounterMode`` counts none for an
    elementwise product); elementwise one multiplication per output element, as
    :class:`~symcnn.layers.Mul` counts it.

    Examples
    --------
    >>> s = Scale((96, 1, 1))
    >>> s.output_shape(Shape((96, 56, 56))), s.params(Shape((96, 56, 56))).value
    (Shape((96, 56, 56)), 96)
    """

    kind = "scale"
    repr_positional = 1

    shape: Shape
    learned: bool

    def __init__(self, shape: Any, learned: bool = True) -> None:
        object.__setattr__(self, "shape", Shape(shape))
        object.__setattr__(self, "learned", learned)
        flag(self, "learned")
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(tuple(self.shape), "the tensor's size")

    def _aligned(self, x: Shape) -> tuple[sympy.Expr, ...]:
        """``shape`` per sample: a leading 1 for the batch axis dropped, 1s prepended."""
        sizes = tuple(self.shape)
        if len(sizes) == len(x) + 1:
            if sizes[0] != 1:
                raise ShapeError(
                    f"a tensor of shape {self.shape} has the input's {len(x) + 1} axes with "
                    f"the batch; its first size must be 1 to broadcast over the batch "
                    f"(got {sizes[0]})"
                )
            sizes = sizes[1:]
        if len(sizes) > len(x):
            raise ShapeError(
                f"a tensor of shape {self.shape} has more axes than the input {x} with its "
                "batch axis; the product would add axes"
            )
        return (sympy.Integer(1),) * (len(x) - len(sizes)) + sizes

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return tuple(
            equal(
                size,
                w,
                f"each size of the tensor of shape {self.shape} must be 1 or the input's "
                f"there, here axis {axis}",
                f"input axis {axis}",
                "tensor size",
            )
            for axis, (size, w) in enumerate(zip(x, self._aligned(x), strict=True))
            if w != 1
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        self._aligned(inputs[0])
        return inputs[0]

    def params(self, *inputs: Shape) -> Derivation:
        return product(*self.shape) if self.learned else product(0)

    def buffers(self, *inputs: Shape) -> Derivation:
        return product(0) if self.learned else product(*self.shape)

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(inputs[0].numel)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def describe(self) -> str:
        return f"x * w, w of shape {tuple(int(s) if s.is_Integer else s for s in self.shape)}"

    def __repr__(self) -> str:
        shown = tuple(int(s) if s.is_Integer else s for s in self.shape)
        return f"Scale({shown!r}{'' if self.learned else ', learned=False'})"


@dataclass(frozen=True, slots=True, repr=False)
class Normalize(Layer):
    """``F.normalize(x, p=2.0, dim=1, eps=1e-12)``: each vector along ``dim`` to unit norm.

    ``dim`` counts the batch axis, as torch's does: 1, the default, is the channel axis.
    Shape kept; nothing learned.

    Notes
    -----
    As the normalizations count (:mod:`symcnn.layers.norm`): products 0, elementwise one
    multiplication per element (the scaling by ``1/max(‖x‖, eps)``); the norms themselves
    are reductions and are not counted.

    Examples
    --------
    >>> Normalize().elementwise(Shape((512, 38, 38))).value
    739328
    """

    kind = "normalize"

    p: float = 2.0
    dim: int = 1
    eps: float = 1e-12

    def __post_init__(self) -> None:
        real(self, "p")
        real(self, "eps")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim == 0:
            raise ShapeError(
                f"{self!r}: dim must be a nonzero int (PyTorch's dims count the batch axis "
                "as 0, which a per-sample shape does not have)"
            )
        self._validate()

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        rank = len(x) + 1
        if not -rank < self.dim < rank or self.dim % rank == 0:
            raise ShapeError(
                f"dim={self.dim} is out of range for a per-sample input {x} (the batch "
                "axis cannot be normalized per sample)"
            )
        return ()

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(inputs[0].numel)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        # the norm mixes the channels at one position, not positions
        return field, jump

    def describe(self) -> str:
        return f"F.normalize(x, p={self.p}, dim={self.dim})"
