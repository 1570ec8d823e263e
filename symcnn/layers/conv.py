"""Convolutions: ``Conv2d`` and the rank-generic rules it shares with later siblings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..condition import Condition, at_least, divides, equal
from ..derivation import Derivation, product, side_area, total
from ..errors import UnsupportedLayerError
from ..shape import Shape, as_size
from ..sizes import conv_output_size_padded, same_padding
from .base import Field, Layer, positive, tuple_of

__all__ = ["Conv2d"]

_AXES = ("height", "width", "depth")


def window_receptive(
    field: Field, jump: Field, kernel: Field, stride: Field, dilation: Field | tuple[int, ...]
) -> tuple[Field, Field]:
    """A sliding window widens the field by (d·(k − 1))·jump and multiplies the jump by s."""
    return (
        tuple(
            f + d * (k - 1) * j for f, j, k, d in zip(field, jump, kernel, dilation, strict=True)
        ),
        tuple(j * s for j, s in zip(jump, stride, strict=True)),
    )


def axis_names(ndim: int) -> tuple[str, ...]:
    """Names of the spatial axes, for messages: (height, width) in 2-D."""
    return ("length",) if ndim == 1 else _AXES[:ndim]


class _ConvNd(Layer):
    """Shape, parameter and product rules of an N-d convolution (fields on subclasses)."""

    __slots__ = ()
    kind = "conv"
    repr_positional = 2
    ndim: ClassVar[int]

    in_channels: sympy.Expr
    out_channels: sympy.Expr
    kernel_size: tuple[sympy.Expr, ...]
    stride: tuple[sympy.Expr, ...]
    padding: tuple[sympy.Expr, ...] | str
    dilation: tuple[sympy.Expr, ...]
    groups: sympy.Expr
    bias: bool
    padding_mode: str

    def __post_init__(self) -> None:
        nd = self.ndim
        self._set("in_channels", as_size(self.in_channels, "in_channels"))
        self._set("out_channels", as_size(self.out_channels, "out_channels"))
        self._set("kernel_size", tuple_of(self.kernel_size, nd, "kernel_size"))
        self._set("stride", tuple_of(self.stride, nd, "stride"))
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise UnsupportedLayerError(
                    f"padding={self.padding!r} is not a padding PyTorch knows "
                    "(an int, a tuple, 'valid' or 'same')"
                )
        else:
            self._set("padding", tuple_of(self.padding, nd, "padding"))
        self._set("dilation", tuple_of(self.dilation, nd, "dilation"))
        self._set("groups", as_size(self.groups, "groups"))
        if self.padding_mode != "zeros":
            raise UnsupportedLayerError(
                f"padding_mode={self.padding_mode!r} is not supported yet: symcnn "
                "models zero padding only"
            )
        self._validate()

    def pads(self) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
        """(before, after) padding per spatial axis, resolving 'valid' and 'same'."""
        if self.padding == "valid":
            return ((sympy.Integer(0), sympy.Integer(0)),) * self.ndim
        if self.padding == "same":
            return tuple(
                same_padding(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True)
            )
        return tuple((p, p) for p in self.padding)

    def hyper_conditions(self) -> tuple[Condition, ...]:
        conds = [
            *positive(self.in_channels, "in_channels"),
            *positive(self.out_channels, "out_channels"),
            *positive(self.kernel_size, "kernel_size"),
            *positive(self.stride, "stride"),
            *positive(self.dilation, "dilation"),
            *positive(self.groups, "groups"),
            divides(
                self.groups,
                self.in_channels,
                "groups must divide in_channels",
                "groups",
                "in_channels",
            ),
            divides(
                self.groups,
                self.out_channels,
                "groups must divide out_channels",
                "groups",
                "out_channels",
            ),
        ]
        if isinstance(self.padding, tuple):
            conds += positive(self.padding, "padding", minimum=0)
        elif self.padding == "same":
            # PyTorch raises for padding='same' with any stride other than 1.
            conds += [
                equal(s, 1, "padding='same' needs stride 1 (as in PyTorch)", "stride", "1")
                for s in self.stride
            ]
        return tuple(conds)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        conds = [
            equal(
                x.channels,
                self.in_channels,
                f"the input must have in_channels = {self.in_channels} channels",
                "input channels",
                "in_channels",
            ),
        ]
        for axis, size, k, d, (before, after) in zip(
            axis_names(self.ndim),
            x.spatial,
            self.kernel_size,
            self.dilation,
            self.pads(),
            strict=True,
        ):
            conds.append(
                at_least(
                    size + before + after,
                    d * (k - 1) + 1,
                    f"the kernel must fit in the padded input {axis}",
                    f"padded {axis}",
                    "effective kernel size",
                )
            )
        return tuple(conds)

    def exact_fit_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        return tuple(
            divides(
                s,
                size + before + after - d * (k - 1) - 1,
                f"the stride must tile the padded input {axis} exactly (cs231n's rule)",
                "stride",
                f"padded {axis} - effective kernel size",
            )
            for axis, size, k, s, d, (before, after) in zip(
                axis_names(self.ndim),
                x.spatial,
                self.kernel_size,
                self.stride,
                self.dilation,
                self.pads(),
                strict=True,
            )
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        spatial = [
            conv_output_size_padded(size, k, s, before + after, d)
            for size, k, s, d, (before, after) in zip(
                x.spatial, self.kernel_size, self.stride, self.dilation, self.pads(), strict=True
            )
        ]
        return Shape((self.out_channels, *spatial))

    def params(self, *inputs: Shape) -> Derivation:
        weights = product(self.in_channels / self.groups, side_area(self.kernel_size))
        return product(self.out_channels, total(weights, 1 if self.bias else 0))

    def products(self, *inputs: Shape) -> Derivation:
        out = self.output_shape(*inputs)
        return product(
            self.out_channels,
            self.in_channels / self.groups,
            side_area(out.spatial),
            side_area(self.kernel_size),
        )

    def bias_adds(self, *inputs: Shape) -> Derivation:
        if not self.bias:
            return product(0)
        return product(self.out_channels, side_area(self.output_shape(*inputs).spatial))

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return window_receptive(field, jump, self.kernel_size, self.stride, self.dilation)


@dataclass(frozen=True, slots=True, repr=False)
class Conv2d(_ConvNd):
    r"""2-D convolution with ``torch.nn.Conv2d``'s signature.

    Notes
    -----
    Output size per axis :math:`\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`; parameters
    :math:`C_{out}(C_{in}/g \cdot k_h k_w + 1)` (without the 1 when ``bias=False``);
    products :math:`C_{out} \cdot C_{in}/g \cdot H_{out} W_{out} \cdot k_h k_w`.

    Examples
    --------
    >>> from symcnn import Shape
    >>> conv = Conv2d(1, 32, kernel_size=5)
    >>> conv.output_shape(Shape((1, 28, 28)))
    Shape((32, 24, 24))
    >>> conv.params().text(), conv.products(Shape((1, 28, 28))).text()
    ('32·(5²+1)', '32·24²·5²')
    """

    ndim = 2
    input_rank = 3

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True
    padding_mode: str = "zeros"
