"""Max and average pooling in 1, 2 and 3 dimensions: PyTorch's floor and ceil modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape
from ..symbolic.sizes import pool_output_size
from ..validity.condition import Condition, at_least, divides
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import Field, Layer, flag, positive, tuple_of
from .conv import axis_names, window_receptive

__all__ = ["AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d"]


class _PoolNd(Layer):
    """Rules shared by max and average pooling (fields on subclasses)."""

    __slots__ = ()
    kind = "pool"
    ndim: ClassVar[int]
    #: Whether PyTorch also requires the unpadded input to hold the kernel (avg_pool3d).
    unpadded_fit: ClassVar[bool] = False

    kernel_size: tuple[sympy.Expr, ...]
    stride: tuple[sympy.Expr, ...]
    padding: tuple[sympy.Expr, ...]
    ceil_mode: bool

    @property
    def _dilation(self) -> tuple[Any, ...]:
        return (1,) * self.ndim

    def __post_init__(self) -> None:
        nd = self.ndim
        # PyTorch's pooling functions take integer lists, which repeat a tuple of one size.
        self._set("kernel_size", tuple_of(self.kernel_size, nd, "kernel_size", expand=True))
        # PyTorch's rule: the stride defaults to the kernel size, given as None or as an
        # empty tuple (its pooling functions read both as "omitted").
        omitted = self.stride is None or (
            isinstance(self.stride, (tuple, list)) and not self.stride
        )
        stride = self.kernel_size if omitted else self.stride
        self._set("stride", tuple_of(stride, nd, "stride", expand=True))
        self._set("padding", tuple_of(self.padding, nd, "padding", expand=True))
        flag(self, "ceil_mode")
        self._coerce_extra()
        self._validate()

    def _coerce_extra(self) -> None:
        """Hook for fields only one kind of pooling has."""

    def _repr_default(self, name: str, default: Any) -> Any:
        # The default stride is the kernel size; the repr names it only when it differs.
        return self.kernel_size if name == "stride" else default

    def hyper_conditions(self) -> tuple[Condition, ...]:
        conds = [
            *positive(self.kernel_size, "kernel_size"),
            *positive(self.stride, "stride"),
            *positive(self._dilation, "dilation"),
            *positive(self.padding, "padding", minimum=0),
        ]
        # PyTorch checks kW/2 >= padW against the kernel size, not the dilated one.
        conds += [
            at_least(
                k, 2 * p, "padding must be at most half the kernel size", "kernel_size", "2·padding"
            )
            for k, p in zip(self.kernel_size, self.padding, strict=True)
        ]
        return tuple(conds)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return (*self._window_conditions(x), *self._unpadded_conditions(x))

    def _window_conditions(self, x: Shape) -> tuple[Condition, ...]:
        if self.ceil_mode:
            return tuple(
                at_least(out, 1, f"the output {axis} must be at least 1", f"output {axis}")
                for axis, out in zip(
                    axis_names(self.ndim), self.output_shape(x).spatial, strict=True
                )
            )
        return tuple(
            at_least(
                size + 2 * p,
                d * (k - 1) + 1,
                f"the kernel must fit in the padded input {axis}",
                f"padded {axis}",
                "effective kernel size",
            )
            for axis, size, k, p, d in zip(
                axis_names(self.ndim),
                x.spatial,
                self.kernel_size,
                self.padding,
                self._dilation,
                strict=True,
            )
        )

    def _unpadded_conditions(self, x: Shape) -> tuple[Condition, ...]:
        if not self.unpadded_fit:
            return ()
        return tuple(
            at_least(
                size,
                k,
                f"the kernel must fit in the input {axis} before padding (as PyTorch's "
                "avg_pool3d requires, whatever the padding and ceil_mode)",
                f"input {axis}",
                "kernel_size",
            )
            for axis, size, k in zip(
                axis_names(self.ndim), x.spatial, self.kernel_size, strict=True
            )
        )

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return window_receptive(field, jump, self.kernel_size, self.stride, self._dilation)

    def exact_fit_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return tuple(
            divides(
                s,
                size + 2 * p - d * (k - 1) - 1,
                f"the stride must tile the padded input {axis} exactly (cs231n's rule)",
                "stride",
                f"padded {axis} - effective kernel size",
            )
            for axis, size, k, s, p, d in zip(
                axis_names(self.ndim),
                x.spatial,
                self.kernel_size,
                self.stride,
                self.padding,
                self._dilation,
                strict=True,
            )
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        spatial = [
            pool_output_size(size, k, stride=s, padding=p, dilation=d, ceil_mode=self.ceil_mode)
            for size, k, s, p, d in zip(
                x.spatial, self.kernel_size, self.stride, self.padding, self._dilation, strict=True
            )
        ]
        return Shape((x.channels, *spatial))


class _MaxPoolNd(_PoolNd):
    """Max pooling: pooling with a dilation."""

    mirrors_torch = True
    __slots__ = ()
    dilation: tuple[sympy.Expr, ...]

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # The input and, per output element, the int64 index of its maximum.
        return (*keeps_inputs(0), new_tensor(self.output_shape(*inputs).numel, dtype="int64"))

    @property
    def _dilation(self) -> tuple[Any, ...]:
        return self.dilation

    def _coerce_extra(self) -> None:
        # return_indices PyTorch only tests for truth: anything goes.
        self._set("dilation", tuple_of(self.dilation, self.ndim, "dilation", expand=True))


@dataclass(frozen=True, slots=True, repr=False)
class _MaxPoolFields(_MaxPoolNd):
    """``torch.nn.MaxPoolNd``'s constructor arguments, shared by every rank."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    dilation: Any = 1
    return_indices: bool = False
    ceil_mode: bool = False


@dataclass(frozen=True, slots=True, repr=False)
class MaxPool1d(_MaxPoolFields):
    r"""1-D max pooling with ``torch.nn.MaxPool1d``'s signature, on (C, L) samples.

    ``stride`` defaults to ``kernel_size``; no parameters and no products. The rules are
    :class:`MaxPool2d`'s along the one axis.

    Examples
    --------
    >>> from symcnn import Shape
    >>> MaxPool1d(3, stride=2).output_shape(Shape((16, 50)))
    Shape((16, 24))
    """

    ndim = 1
    input_rank = 2


@dataclass(frozen=True, slots=True, repr=False)
class MaxPool2d(_MaxPoolFields):
    r"""2-D max pooling with ``torch.nn.MaxPool2d``'s signature.

    ``stride`` defaults to ``kernel_size``. No parameters and no products (the seed's
    convention: comparisons are not multiplications).

    Notes
    -----
    Floor mode: :math:`\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`. Ceil mode rounds up
    but drops a last window starting in the right padding (see
    :func:`symcnn.symbolic.sizes.pool_output_size`). PyTorch requires :math:`p \le k/2`.

    Examples
    --------
    >>> from symcnn import Shape
    >>> MaxPool2d(kernel_size=3).output_shape(Shape((32, 24, 24)))
    Shape((32, 8, 8))
    >>> MaxPool2d(2, stride=2, padding=1, ceil_mode=True).output_shape(Shape((1, 5, 5)))
    Shape((1, 3, 3))
    """

    ndim = 2
    input_rank = 3


@dataclass(frozen=True, slots=True, repr=False)
class MaxPool3d(_MaxPoolFields):
    r"""3-D max pooling with ``torch.nn.MaxPool3d``'s signature, on (C, D, H, W) samples.

    ``stride`` defaults to ``kernel_size``; no parameters and no products. The rules are
    :class:`MaxPool2d`'s along each axis.

    Examples
    --------
    >>> from symcnn import Shape
    >>> MaxPool3d((1, 2, 2)).output_shape(Shape((8, 5, 16, 17)))
    Shape((8, 5, 8, 8))
    """

    ndim = 3
    input_rank = 4


class _AvgPoolNd(_PoolNd):
    """Average pooling: one elementwise multiplication (by 1/window) per output element."""

    keeps = "input"  # its backward reads the input's sizes, and autograd keeps the tensor

    mirrors_torch = True

    mirrors_torch = True

    mirrors_torch = True

    __slots__ = ()

    def _coerce_extra(self) -> None:
        flag(self, "count_include_pad")
        self._check_divisor()

    def _check_divisor(self) -> None:
        """Hook for ``divisor_override``, which AvgPool1d does not have."""

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(self.output_shape(*inputs).numel)


@dataclass(frozen=True, slots=True, repr=False)
class AvgPool1d(_AvgPoolNd):
    """1-D average pooling with ``torch.nn.AvgPool1d``'s signature, on (C, L) samples.

    Same output lengths as :class:`MaxPool1d` without dilation; no parameters and no
    products. PyTorch's ``AvgPool1d`` has no ``divisor_override``.

    Examples
    --------
    >>> from symcnn import Shape
    >>> AvgPool1d(4, ceil_mode=True).output_shape(Shape((8, 10)))
    Shape((8, 3))
    """

    mirrors_torch = True

    ndim = 1
    input_rank = 2

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False
    count_include_pad: bool = True


@dataclass(frozen=True, slots=True, repr=False)
class _AvgPoolFields(_AvgPoolNd):
    """``torch.nn.AvgPool2d``/``AvgPool3d``'s constructor arguments."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: Any = None

    def _check_divisor(self) -> None:
        value = self.divisor_override
        if value is None:
            return
        # PyTorch raises "divisor must be not zero" in the forward pass, and a TypeError
        # for a float; a negative divisor it accepts (it negates the averages).
        if isinstance(value, bool) or not isinstance(value, (int, sympy.Integer)) or value == 0:
            raise ShapeError(
                f"{self!r}: divisor_override must be a nonzero integer, as in PyTorch "
                f"(got {value!r})"
            )


@dataclass(frozen=True, slots=True, repr=False)
class AvgPool2d(_AvgPoolFields):
    r"""2-D average pooling with ``torch.nn.AvgPool2d``'s signature.

    Same output sizes as :class:`MaxPool2d` without dilation; no parameters, and no
    products under the seed's convention (the divisions by the window size are not
    weight-times-activation products).

    Examples
    --------
    >>> from symcnn import Shape
    >>> AvgPool2d(2).output_shape(Shape((64, 4, 4)))
    Shape((64, 2, 2))
    """

    ndim = 2
    input_rank = 3


@dataclass(frozen=True, slots=True, repr=False)
class AvgPool3d(_AvgPoolFields):
    """3-D average pooling with ``torch.nn.AvgPool3d``'s signature, on (C, D, H, W) samples.

    Same output sizes as :class:`MaxPool3d` without dilation; no parameters and no
    products. Unlike the other poolings, PyTorch's ``avg_pool3d`` also refuses an input
    smaller than the kernel on any axis, before padding and even in ceil mode; symcnn
    states that rule too.

    Examples
    --------
    >>> from symcnn import Shape
    >>> AvgPool3d(2, stride=(1, 2, 2)).output_shape(Shape((4, 6, 8, 9)))
    Shape((4, 5, 4, 4))
    """

    mirrors_torch = True

    mirrors_torch = True

    ndim = 3
    input_rank = 4
    unpadded_fit = True
