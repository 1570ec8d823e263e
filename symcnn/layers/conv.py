"""Convolutions: ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d`` and their rank-generic rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from ..errors import UnsupportedLayerError
from ..symbolic.derivation import Derivation, product, side_area, total
from ..symbolic.shape import Shape, as_size
from ..symbolic.sizes import conv_output_size_padded, conv_transpose_output_size, same_padding
from ..validity.condition import Condition, at_least, decidable, divides, equal
from .autograd import Flow
from .base import Field, Layer, choice, positive, tuple_of, weight_grads
from .pad import mode_conditions

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]

# The padding modes PyTorch's convolutions know; the transposed ones take 'zeros' only.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# PyTorch's order of the spatial axes: (L), (H, W), (D, H, W).
_AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


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
    """Names of the spatial axes for messages, in PyTorch's order: (depth, height, width)."""
    return _AXES[ndim]


class _ConvBase(Layer):
    """Coercions and hyperparameter rules every convolution shares (fields on subclasses)."""

    __slots__ = ()
    repr_positional = 2
    ndim: ClassVar[int]
    keeps = "input"  # and the weight, a parameter: for the gradients of weight and input

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
        # The kernel size shapes the weight, so a tuple of one size for two axes fails in
        # PyTorch; stride, padding and dilation go to its integer-list arguments, which
        # repeat a tuple of one. ``bias`` PyTorch only tests for truth: anything goes.
        self._set("kernel_size", tuple_of(self.kernel_size, nd, "kernel_size"))
        self._set("stride", tuple_of(self.stride, nd, "stride", expand=True))
        if isinstance(self.padding, str):
            self._check_padding_word()
        else:
            self._set("padding", tuple_of(self.padding, nd, "padding", expand=True))
        self._set("dilation", tuple_of(self.dilation, nd, "dilation", expand=True))
        self._set("groups", as_size(self.groups, "groups"))
        self._coerce_extra()
        self._check_padding_mode()
        self._validate()

    def _check_padding_word(self) -> None:
        """Accept or refuse a padding given as a string."""
        raise NotImplementedError

    def _check_padding_mode(self) -> None:
        choice(self, "padding_mode", PADDING_MODES)

    def _coerce_extra(self) -> None:
        """Hook for fields only one kind of convolution has."""

    def _shared_conditions(self) -> list[Condition]:
        return [
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

    def _channel_condition(self, x: Shape) -> Condition:
        return equal(
            x.channels,
            self.in_channels,
            f"the input must have in_channels = {self.in_channels} channels",
            "input channels",
            "in_channels",
        )

    def bias_adds(self, *inputs: Shape) -> Derivation:
        if not self.bias:
            return product(0)
        return product(self.out_channels, side_area(self.output_shape(*inputs).spatial))

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation]:
        return weight_grads(self, flow, inputs)


class _ConvNd(_ConvBase):
    """Shape, parameter and product rules of an N-d convolution (fields on subclasses)."""

    __slots__ = ()
    kind = "conv"
    mirrors_torch = True

    def _check_padding_word(self) -> None:
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(
                f"padding={self.padding!r} is not a padding PyTorch knows "
                "(an int, a tuple, 'valid' or 'same')"
            )

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
        conds = self._shared_conditions()
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
        conds = [self._channel_condition(x)]
        for axis, size, k, d, (before, after) in zip(
            axis_names(self.ndim),
            x.spatial,
            self.kernel_size,
            self.dilation,
            self.pads(),
            strict=True,
        ):
            # Other modes than zeros are F.pad's before the convolution, with its limits.
            conds += mode_conditions(self.padding_mode, axis, size, before, after)
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

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return window_receptive(field, jump, self.kernel_size, self.stride, self.dilation)


@dataclass(frozen=True, slots=True, repr=False)
class _ConvFields(_ConvNd):
    """``torch.nn.ConvNd``'s constructor arguments, shared by every rank."""

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True
    padding_mode: str = "zeros"


@dataclass(frozen=True, slots=True, repr=False)
class Conv1d(_ConvFields):
    r"""1-D convolution with ``torch.nn.Conv1d``'s signature, on (C, L) samples.

    Notes
    -----
    Output length :math:`\lfloor (L + 2p - d(k-1) - 1)/s \rfloor + 1`; parameters
    :math:`C_{out}(C_{in}/g \cdot k + 1)` (without the 1 when ``bias=False``); products
    :math:`C_{out} \cdot C_{in}/g \cdot L_{out} \cdot k`.

    Examples
    --------
    >>> from symcnn import Shape
    >>> conv = Conv1d(16, 32, kernel_size=5, stride=2)
    >>> conv.output_shape(Shape((16, 100)))
    Shape((32, 48))
    >>> conv.params().text(), conv.products(Shape((16, 100))).text()
    ('32·(16·5+1)', '32·16·48·5')
    """

    ndim = 1
    input_rank = 2


@dataclass(frozen=True, slots=True, repr=False)
class Conv2d(_ConvFields):
    r"""2-D convolution with ``torch.nn.Conv2d``'s signature.

    Notes
    -----
    Output size per axis :math:`\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`; parameters
    :math:`C_{out}(C_{in}/g \cdot k_h k_w + 1)` (without the 1 when ``bias=False``);
    products :math:`C_{out} \cdot C_{in}/g \cdot H_{out} W_{out} \cdot k_h k_w`.
    A ``padding_mode`` other than 'zeros' pads as ``F.pad`` does in that mode, with the
    same sizes and counts, and adds that mode's rule (:func:`symcnn.layers.pad.mode_conditions`):
    'reflect' needs the padding smaller than the input, 'circular' at most the input.

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


@dataclass(frozen=True, slots=True, repr=False)
class Conv3d(_ConvFields):
    r"""3-D convolution with ``torch.nn.Conv3d``'s signature, on (C, D, H, W) samples.

    Notes
    -----
    Output size per axis :math:`\lfloor (D + 2p - d(k-1) - 1)/s \rfloor + 1`; parameters
    :math:`C_{out}(C_{in}/g \cdot k_d k_h k_w + 1)` (without the 1 when ``bias=False``);
    products :math:`C_{out} \cdot C_{in}/g \cdot D_{out} H_{out} W_{out} \cdot k_d k_h k_w`.

    Examples
    --------
    >>> from symcnn import Shape
    >>> conv = Conv3d(1, 8, kernel_size=3, padding=(0, 1, 1))
    >>> conv.output_shape(Shape((1, 16, 32, 32)))
    Shape((8, 14, 32, 32))
    >>> conv.params().text(), conv.products(Shape((1, 16, 32, 32))).text()
    ('8·(3³+1)', '8·14·32·32·3³')
    """

    ndim = 3
    input_rank = 4


class _ConvTransposeNd(_ConvBase):
    """Shape, parameter and product rules of an N-d transposed convolution."""

    __slots__ = ()
    kind = "convt"
    mirrors_torch = True

    padding: tuple[sympy.Expr, ...]
    output_padding: tuple[sympy.Expr, ...]

    def _check_padding_word(self) -> None:
        # torch accepts the string at construction and fails in forward with a TypeError.
        raise UnsupportedLayerError(
            f"padding={self.padding!r} is not a padding {type(self).__name__} knows: "
            "PyTorch takes an int or a tuple here, not 'valid' or 'same'"
        )

    def _check_padding_mode(self) -> None:
        # PyTorch knows the four modes here too, but refuses all but zeros at construction.
        choice(self, "padding_mode", PADDING_MODES)
        if self.padding_mode != "zeros":
            raise UnsupportedLayerError(
                f"padding_mode={self.padding_mode!r}: {type(self).__name__} supports only "
                "'zeros' (as in PyTorch)"
            )

    def _coerce_extra(self) -> None:
        self._set(
            "output_padding",
            tuple_of(self.output_padding, self.ndim, "output_padding", expand=True),
        )

    def hyper_conditions(self) -> tuple[Condition, ...]:
        conds = [
            *self._shared_conditions(),
            *positive(self.padding, "padding", minimum=0),
            *positive(self.output_padding, "output_padding", minimum=0),
        ]
        for axis, op, s, d in zip(
            axis_names(self.ndim), self.output_padding, self.stride, self.dilation, strict=True
        ):
            # PyTorch checks this per axis when the layer runs; symcnn, as for every
            # hyperparameter rule, at construction.
            relation = sympy.Or(
                sympy.Lt(op, s, evaluate=decidable(s - op)),
                sympy.Lt(op, d, evaluate=decidable(d - op)),
            )
            conds.append(
                Condition(
                    relation,
                    f"output_padding must be smaller than either stride or dilation ({axis})",
                    (("output_padding", op), ("stride", s), ("dilation", d)),
                )
            )
        return tuple(conds)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        (x,) = inputs
        # PyTorch refuses an empty output ("Output size is too small") rather than return one.
        return (
            self._channel_condition(x),
            *(
                at_least(out, 1, f"the output {axis} must be at least 1", f"output {axis}")
                for axis, out in zip(
                    axis_names(self.ndim), self.output_shape(x).spatial, strict=True
                )
            ),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        spatial = [
            conv_transpose_output_size(size, k, stride=s, padding=p, output_padding=op, dilation=d)
            for size, k, s, p, op, d in zip(
                x.spatial,
                self.kernel_size,
                self.stride,
                self.padding,
                self.output_padding,
                self.dilation,
                strict=True,
            )
        ]
        return Shape((self.out_channels, *spatial))

    def params(self, *inputs: Shape) -> Derivation:
        # The weight is [C_in, C_out/g, k...]; the bias has C_out entries.
        weights = product(
            self.in_channels, self.out_channels / self.groups, side_area(self.kernel_size)
        )
        return total(weights, self.out_channels if self.bias else 0)

    def products(self, *inputs: Shape) -> Derivation:
        # Every input position meets every weight of its group once (fvcore counts the same),
        # including products that land in the cropped padding.
        (x,) = inputs
        return product(
            self.in_channels,
            self.out_channels / self.groups,
            side_area(x.spatial),
            side_area(self.kernel_size),
        )

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        """Not defined for transposed convolutions here: None, None.

        An output element of a strided transposed convolution sees a number of input
        positions that depends on its place modulo the stride, and the jump becomes a
        fraction; symcnn does not model either.
        """
        return None, None


@dataclass(frozen=True, slots=True, repr=False)
class _ConvTransposeFields(_ConvTransposeNd):
    """``torch.nn.ConvTransposeNd``'s constructor arguments (dilation after bias)."""

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    output_padding: Any = 0
    groups: Any = 1
    bias: bool = True
    dilation: Any = 1
    padding_mode: str = "zeros"


@dataclass(frozen=True, slots=True, repr=False)
class ConvTranspose1d(_ConvTransposeFields):
    r"""1-D transposed convolution with ``torch.nn.ConvTranspose1d``'s signature.

    Note PyTorch's argument order: ``dilation`` comes after ``bias``.

    Notes
    -----
    Output size per axis :math:`(H - 1)s - 2p + d(k - 1) + p_{out} + 1`; PyTorch refuses
    an output smaller than 1, and an ``output_padding`` not smaller than either the stride
    or the dilation of its axis. Parameters :math:`C_{in} \cdot C_{out}/g \cdot k
    + C_{out}` (the weight is :math:`[C_{in}, C_{out}/g, k]`; no
    :math:`C_{out}` when ``bias=False``). Products count input positions,
    :math:`C_{in} \cdot C_{out}/g \cdot L_{in} \cdot k`, as fvcore does,
    products that land in the cropped padding included. The receptive field is not
    defined here (see :meth:`receptive`).

    Examples
    --------
    >>> from symcnn import Shape
    >>> up = ConvTranspose1d(16, 8, kernel_size=4, stride=2, padding=1)
    >>> up.output_shape(Shape((16, 50)))
    Shape((8, 100))
    >>> up.params().text(), up.products(Shape((16, 50))).text()
    ('16·8·4+8', '16·8·50·4')
    """

    ndim = 1
    input_rank = 2


@dataclass(frozen=True, slots=True, repr=False)
class ConvTranspose2d(_ConvTransposeFields):
    r"""2-D transposed convolution with ``torch.nn.ConvTranspose2d``'s signature.

    Note PyTorch's argument order: ``dilation`` comes after ``bias``.

    Notes
    -----
    Output size per axis :math:`(H - 1)s - 2p + d(k - 1) + p_{out} + 1`; PyTorch refuses
    an output smaller than 1, and an ``output_padding`` not smaller than either the stride
    or the dilation of its axis. Parameters :math:`C_{in} \cdot C_{out}/g \cdot k_h k_w
    + C_{out}` (the weight is :math:`[C_{in}, C_{out}/g, k_h, k_w]`; no
    :math:`C_{out}` when ``bias=False``). Products count input positions,
    :math:`C_{in} \cdot C_{out}/g \cdot H_{in} W_{in} \cdot k_h k_w`, as fvcore does,
    products that land in the cropped padding included. The receptive field is not
    defined here (see :meth:`receptive`).

    Examples
    --------
    >>> from symcnn import Shape
    >>> up = ConvTranspose2d(64, 32, kernel_size=2, stride=2)
    >>> up
    ConvTranspose2d(64, 32, kernel_size=2, stride=2)
    >>> up.output_shape(Shape((64, 16, 16)))
    Shape((32, 32, 32))
    >>> up.params().text(), up.products(Shape((64, 16, 16))).text()
    ('64·32·2²+32', '64·32·16²·2²')
    """

    ndim = 2
    input_rank = 3


@dataclass(frozen=True, slots=True, repr=False)
class ConvTranspose3d(_ConvTransposeFields):
    r"""3-D transposed convolution with ``torch.nn.ConvTranspose3d``'s signature.

    Note PyTorch's argument order: ``dilation`` comes after ``bias``.

    Notes
    -----
    Output size per axis :math:`(H - 1)s - 2p + d(k - 1) + p_{out} + 1`; PyTorch refuses
    an output smaller than 1, and an ``output_padding`` not smaller than either the stride
    or the dilation of its axis. Parameters :math:`C_{in} \cdot C_{out}/g \cdot k_d k_h k_w
    + C_{out}` (the weight is :math:`[C_{in}, C_{out}/g, k_d, k_h, k_w]`; no
    :math:`C_{out}` when ``bias=False``). Products count input positions,
    :math:`C_{in} \cdot C_{out}/g \cdot D_{in} H_{in} W_{in} \cdot k_d k_h k_w`, as fvcore does,
    products that land in the cropped padding included. The receptive field is not
    defined here (see :meth:`receptive`).

    Examples
    --------
    >>> from symcnn import Shape
    >>> up = ConvTranspose3d(8, 4, kernel_size=2, stride=2, bias=False)
    >>> up.output_shape(Shape((8, 4, 8, 8)))
    Shape((4, 8, 16, 16))
    >>> up.params().text(), up.products(Shape((8, 4, 8, 8))).text()
    ('8·4·2³', '8·4·4·8·8·2³')
    """

    ndim = 3
    input_rank = 4
