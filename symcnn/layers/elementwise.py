"""Shape-preserving layers: activations and dropout.

None of them has weight-times-activation products or counted elementwise multiplications
(:mod:`symcnn.conventions`): a LeakyReLU's slope, an ELU's exponential or a softmax's
normalisation is elementwise work that no counting convention includes. PReLU alone
holds parameters, its learned slopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, equal
from .autograd import Flow, Saved, new_tensor
from .base import Field, Layer, choice, positive, real, refuse

__all__ = [
    "ELU",
    "GELU",
    "Dropout",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "LeakyReLU",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StochasticDepth",
    "Tanh",
]


class _Elementwise(Layer):
    """A layer applied element by element: output shape = input shape, nothing counted.

    ``inplace`` PyTorch only tests for truth, so any value runs there and is kept here.

    Training: each keeps what its derivative reads (``keeps``), the input or the output.
    In place, the output is the input's storage; ReLU6, Hardswish, Hardsigmoid, SiLU and
    Mish then keep a copy of the input made before it is overwritten (``copies_in_place``),
    as PyTorch's in-place kernels do.
    """

    __slots__ = ()
    keeps: ClassVar[str | None] = "input"
    copies_in_place: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = cls.__name__.lower()

    def _in_place(self) -> bool:
        return bool(getattr(self, "inplace", False))

    def storage(self, *inputs: Shape) -> str:
        return "inplace" if self._in_place() else self.stores

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        if self.copies_in_place and self._in_place():
            return (new_tensor(inputs[0].numel),)
        return super().saved(flow, *inputs)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump


@dataclass(frozen=True, slots=True, repr=False)
class Identity(_Elementwise):
    """``torch.nn.Identity``: passes its input on."""

    mirrors_torch = True
    keeps = "nothing"
    stores = "view"


@dataclass(frozen=True, slots=True, repr=False)
class ReLU(_Elementwise):
    """``torch.nn.ReLU``: max(0, x), shape-preserving.

    Examples
    --------
    >>> ReLU().describe()
    'nn.ReLU()'
    """

    mirrors_torch = True
    keeps = "output"

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class ReLU6(_Elementwise):
    """``torch.nn.ReLU6``: min(max(0, x), 6), shape-preserving."""

    mirrors_torch = True
    copies_in_place = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class LeakyReLU(_Elementwise):
    """``torch.nn.LeakyReLU``, shape-preserving; the slope's product is not counted."""

    mirrors_torch = True

    negative_slope: float = 0.01
    inplace: bool = False

    def __post_init__(self) -> None:
        # Any real slope runs in PyTorch, NaN, infinite and negative ones included.
        real(self, "negative_slope")


@dataclass(frozen=True, slots=True, repr=False)
class Sigmoid(_Elementwise):
    """``torch.nn.Sigmoid``, shape-preserving."""

    mirrors_torch = True
    keeps = "output"


@dataclass(frozen=True, slots=True, repr=False)
class Tanh(_Elementwise):
    """``torch.nn.Tanh``, shape-preserving."""

    mirrors_torch = True
    keeps = "output"


@dataclass(frozen=True, slots=True, repr=False)
class GELU(_Elementwise):
    """``torch.nn.GELU``, shape-preserving."""

    mirrors_torch = True

    approximate: str = "none"

    def __post_init__(self) -> None:
        choice(self, "approximate", ("none", "tanh"))


@dataclass(frozen=True, slots=True, repr=False)
class SiLU(_Elementwise):
    """``torch.nn.SiLU`` (swish), shape-preserving."""

    mirrors_torch = True
    copies_in_place = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class Hardswish(_Elementwise):
    """``torch.nn.Hardswish``, shape-preserving."""

    mirrors_torch = True
    copies_in_place = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class Dropout(_Elementwise):
    """``torch.nn.Dropout``: identity at inference, shape-preserving.

    Examples
    --------
    >>> Dropout(1.5)
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: Dropout(p=1.5): the probability p must lie in [0, 1]
    """

    mirrors_torch = True

    p: float = 0.5
    inplace: bool = False

    def __post_init__(self) -> None:
        real(self, "p")
        # NaN fails this test, as it fails PyTorch's in a training forward.
        if not 0 <= self.p <= 1:
            raise ShapeError(f"{self!r}: the probability p must lie in [0, 1]")

    def storage(self, *inputs: Shape) -> str:
        if self.p == 0:
            return "view"
        return "inplace" if self._in_place() else "new"

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """Training keeps the scaled mask it multiplies by, in the model's dtype.

        That is PyTorch's rule on the CPU (and the meta device): ``input * noise`` with
        ``noise`` the Bernoulli mask divided by ``1 - p``. On CUDA, ``native_dropout`` keeps
        a bool mask instead, a quarter of the bytes in float32. ``p = 0`` is the identity;
        ``p = 1`` multiplies by a single zero.
        """
        if self.p == 0:
            return ()
        if self.p == 1:
            return (new_tensor(per_batch=1),)
        return (new_tensor(inputs[0].numel),)


@dataclass(frozen=True, slots=True, repr=False)
class StochasticDepth(_Elementwise):
    """torchvision's ``StochasticDepth(p, mode)``: a residual branch dropped at random.

    The identity at inference. In training, ``mode="row"`` multiplies each sample by one
    Bernoulli draw divided by ``1 - p``, ``mode="batch"`` the whole batch by one; the
    product keeps that noise, one float per sample or one per batch (EfficientNet's and
    ConvNeXt's blocks).

    Examples
    --------
    >>> StochasticDepth(0.1, "row").describe()
    "torchvision.ops.StochasticDepth(p=0.1, mode='row')"
    """

    p: float
    mode: str = "row"

    def __post_init__(self) -> None:
        real(self, "p")
        choice(self, "mode", ("row", "batch"))
        if not 0 <= self.p <= 1:
            raise ShapeError(f"{self!r}: the probability p must lie in [0, 1]")

    def describe(self) -> str:
        return f"torchvision.ops.StochasticDepth(p={self.p!r}, mode={self.mode!r})"

    def storage(self, *inputs: Shape) -> str:
        return "view" if self.p == 0 else "new"

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        if self.p == 0:
            return ()
        return (new_tensor(1) if self.mode == "row" else new_tensor(per_batch=1),)


@dataclass(frozen=True, slots=True, repr=False)
class Hardsigmoid(_Elementwise):
    """``torch.nn.Hardsigmoid``: relu6(x + 3) / 6, shape-preserving (MobileNetV3's gate)."""

    mirrors_torch = True
    copies_in_place = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class Mish(_Elementwise):
    """``torch.nn.Mish``: x·tanh(softplus(x)), shape-preserving."""

    mirrors_torch = True
    copies_in_place = True

    inplace: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class ELU(_Elementwise):
    """``torch.nn.ELU``, shape-preserving; alpha's product is not counted, as LeakyReLU's."""

    mirrors_torch = True

    alpha: float = 1.0
    inplace: bool = False

    def __post_init__(self) -> None:
        # PyTorch runs any real alpha, negative, NaN and infinite ones included.
        real(self, "alpha")


@dataclass(frozen=True, slots=True, repr=False)
class Softplus(_Elementwise):
    """``torch.nn.Softplus``: log(1 + exp(beta·x)) / beta, linear past ``threshold``."""

    mirrors_torch = True

    beta: float = 1.0
    threshold: float = 20.0

    def __post_init__(self) -> None:
        # PyTorch runs any real beta and threshold (beta = 0 gives NaN, not an error).
        real(self, "beta")
        real(self, "threshold")


class _Softmax(_Elementwise):
    """Softmax along one axis of the batched tensor: shape-preserving, nothing counted.

    ``dim`` counts torch's batch axis as 0, as ``nn.Softmax`` does; a symcnn shape is per
    sample, so the batch axis (dim 0, or -(rank + 1)) is refused: normalising across the
    samples of a batch has no per-sample meaning. ``dim=None`` is PyTorch's deprecated
    implicit choice (``torch.nn.functional._get_softmax_dim``): axis 0 for a batched input
    of 0, 1 or 3 axes, else axis 1. Along a spatial axis every output sees the whole axis,
    so the receptive field is no longer a window (None).
    """

    __slots__ = ()
    keeps = "output"
    dim: Any

    def _check_dim(self) -> None:
        if self.dim is not None and (isinstance(self.dim, bool) or not isinstance(self.dim, int)):
            refuse(self, "dim", "must be an int or None", self.dim)

    def axis(self, x: Shape) -> int:
        """The per-sample axis normalised over input ``x`` (0 = channels)."""
        rank = len(x) + 1  # torch's batched rank
        dim = self.dim
        implicit = ""
        if dim is None:
            dim = 0 if rank in (0, 1, 3) else 1
            implicit = f"dim=None, PyTorch's implicit choice for {rank} axes, is {dim}; "
        if not -rank <= dim < rank:
            raise ShapeError(
                f"dim must lie in [{-rank}, {rank - 1}], the axes of the batched "
                f"input, batch axis first (got dim = {dim}, per-sample input {x})"
            )
        if dim % rank == 0:
            raise ShapeError(
                f"{implicit}dim must not be the batch axis (0 or {-rank}): "
                f"symcnn's shapes are per sample (got dim = {dim}, per-sample input {x})"
            )
        return dim % rank - 1

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        self.axis(x)
        return x

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        # field has one entry per spatial axis: the per-sample rank is len(field) + 1.
        shape = Shape((sympy.Integer(1),) * (len(field) + 1))
        if self.axis(shape) == 0:
            return field, jump
        return None, None


@dataclass(frozen=True, slots=True, repr=False)
class Softmax(_Softmax):
    """``torch.nn.Softmax(dim=None)``: exp(x) / Σ exp(x) along ``dim``, shape-preserving.

    Examples
    --------
    >>> Softmax(dim=1).output_shape(Shape((10,)))
    Shape((10,))
    >>> Softmax(dim=0).output_shape(Shape((10,)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: dim must not be the batch axis (0 or -2): symcnn's shapes are ...
    """

    mirrors_torch = True

    dim: Any = None

    def __post_init__(self) -> None:
        self._check_dim()


@dataclass(frozen=True, slots=True, repr=False)
class LogSoftmax(_Softmax):
    """``torch.nn.LogSoftmax(dim=None)``: log of :class:`Softmax`, shape-preserving."""

    mirrors_torch = True

    dim: Any = None

    def __post_init__(self) -> None:
        self._check_dim()


@dataclass(frozen=True, slots=True, repr=False)
class PReLU(_Elementwise):
    """``torch.nn.PReLU(num_parameters=1, init=0.25)``: a ReLU with learned negative slopes.

    Its ``num_parameters`` slopes are its parameters; PyTorch takes one slope for every
    channel (axis 1 of the batched input, axis 0 of a per-sample shape) or a single one
    shared by all, and refuses any other count. A per-sample input of no axes has one
    channel. The slopes' products, as LeakyReLU's, are not counted.

    Examples
    --------
    >>> PReLU(8).params(Shape((8, 5, 5))).text()
    '8'
    """

    mirrors_torch = True

    num_parameters: Any = 1
    init: float = 0.25

    def __post_init__(self) -> None:
        self._set("num_parameters", as_size(self.num_parameters, "num_parameters"))
        real(self, "init")
        self._validate()

    def hyper_conditions(self) -> tuple[Condition, ...]:
        return positive(self.num_parameters, "num_parameters")

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        n = self.num_parameters
        channels = x[0] if len(x) else sympy.Integer(1)
        if n == 1:
            return ()
        rule = "num_parameters must be 1 or the input's channel count (axis 1 of the batch)"
        if n.is_Integer:
            return (equal(channels, n, rule, "input channels", "num_parameters"),)
        # A symbolic count: 1 or C, as one relation (n - 1)·(n - C) = 0.
        gap = (n - 1) * (n - channels)
        eq = sympy.true if gap == 0 else sympy.Eq(gap, 0, evaluate=False)
        return (Condition(eq, rule, (("input channels", channels), ("num_parameters", n))),)

    def params(self, *inputs: Shape) -> Derivation:
        return product(self.num_parameters)
