"""The layer protocol every layer family implements, and the coercions they share."""

from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition, at_least
from .autograd import OUTPUT, Flow, Saved, keeps_inputs
from .registry import register

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Field", "Layer", "derive"]

L = TypeVar("L", bound="Layer")

#: Per spatial axis: a receptive field or a jump, in input pixels.
Field = tuple[sympy.Expr, ...]

ZERO = product(0)


class Layer:
    """Base of every symcnn layer: a frozen value holding PyTorch's hyperparameters.

    A layer answers, for given input shapes, four questions: its output shape, the
    conditions under which it is valid, its parameters and its products, the last two as
    :class:`~symcnn.derivation.Derivation` trees that show how the count is made.
    Subclasses are frozen, slotted dataclasses whose fields mirror the ``torch.nn``
    constructor; ``repr`` reads as that constructor call.
    """

    __slots__ = ()

    #: Stem of default node names: ``conv`` gives conv1, conv2, ...
    kind: ClassVar[str] = "layer"
    #: Number of input tensors; None for a merge of two or more.
    arity: ClassVar[int | None] = 1
    #: Rank of the per-sample input (3 for (C, H, W)); None accepts any rank.
    input_rank: ClassVar[int | None] = None
    #: How many leading fields ``repr`` writes positionally.
    repr_positional: ClassVar[int] = 0
    #: Whether the fields are those of the ``torch.nn`` module of the same class name, so
    #: that :func:`~symcnn.frontends.torch.from_torch` reads them off such a module.
    mirrors_torch: ClassVar[bool] = False
    #: What autograd keeps for the backward pass, for the layers whose rule is one word:
    #: ``"input"``, ``"output"`` or ``"nothing"``. None: :meth:`saved` says, or, where it
    #: is not overridden, the layer has no training rule and the training pass refuses it.
    keeps: ClassVar[str | None] = None
    #: How the output is stored (:meth:`storage`), for the layers whose rule is one word.
    stores: ClassVar[str] = "new"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register every layer class by name (:mod:`symcnn.layers.registry`)."""
        super().__init_subclass__(**kwargs)
        register(cls)

    # -- the protocol -------------------------------------------------------------------
    def hyper_conditions(self) -> tuple[Condition, ...]:
        """Conditions on the hyperparameters alone (stride ≥ 1, groups | channels, ...)."""
        return ()

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        """Conditions on the input shapes (channels match, kernel fits, ...)."""
        return ()

    def output_shape(self, *inputs: Shape) -> Shape:
        """The per-sample output shape; shape-preserving unless overridden."""
        return inputs[0]

    def params(self, *inputs: Shape) -> Derivation:
        """Learnable parameters, as a derivation tree."""
        return ZERO

    def products(self, *inputs: Shape) -> Derivation:
        """Weight-times-activation multiplications per sample, as a derivation tree."""
        return ZERO

    def exact_fit_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        """cs231n's optional rule that windows tile the padded input exactly (none here)."""
        return ()

    def describe(self) -> str:
        """PyTorch-style description for tables, e.g. ``nn.Conv2d(1, 32, kernel_size=5)``."""
        return f"nn.{self!r}"

    def elementwise(self, *inputs: Shape) -> Derivation:
        """Elementwise multiplications: a gate's ``Mul``, BatchNorm's scaling, average pooling.

        They are not weight-times-activation products, so never part of ``products``.
        """
        return ZERO

    def bias_adds(self, *inputs: Shape) -> Derivation:
        """Additions of a bias: one per output element of a biased convolution or linear layer.

        They are what torchinfo's mult-adds and calflops add to the products.
        """
        return ZERO

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        """The receptive field and jump (effective stride) per spatial axis after this layer.

        ``field`` and ``jump`` are those of the input, in input pixels. The default, for a
        layer that mixes all positions (Flatten, Linear) or has no fixed window, is None.
        """
        return None, None

    def buffers(self, *inputs: Shape) -> Derivation:
        """Non-learned state saved with the model (BatchNorm's running statistics)."""
        return ZERO

    # -- training (symcnn/training/): what autograd keeps, what the gradients cost ------
    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """The tensors autograd keeps for the backward pass (:mod:`symcnn.layers.autograd`).

        Asked only when the output needs a gradient. None: no rule is derived for this
        layer, and the training pass refuses it rather than count nothing.
        """
        if self.keeps is None:
            return None
        return {"nothing": (), "input": keeps_inputs(0), "output": (OUTPUT,)}[self.keeps]

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation] | None:
        """Products per sample of the backward pass: (gradients of the inputs, of the weights).

        Only the inputs whose ``flow.needs`` is true get a gradient. A layer without
        forward products has none backward either (PyTorch's flop counter counts matrix
        products and convolutions alone); one with products must say (None: not derived).
        """
        if derive(self, "products", inputs).value == 0:
            return ZERO, ZERO
        return None

    def training_conditions(self, batch: Any, *inputs: Shape) -> tuple[Condition, ...]:
        """Conditions a training step adds, in the batch size (BatchNorm's two values)."""
        return ()

    def storage(self, *inputs: Shape) -> str:
        """How the output is stored, for the training pass to share what views share.

        ``"new"``; ``"view"`` of input 0, its layout kept; ``"strided"``, a view of input 0
        that is not contiguous (``permute``); ``"reshape"``, a view of a contiguous input
        and a new tensor otherwise; or ``"inplace"``, input 0 overwritten (``ReLU(inplace=
        True)``), which PyTorch's backward refuses when an earlier layer keeps that input.
        """
        return self.stores

    def int64_buffers(self, *inputs: Shape) -> Derivation:
        """How many of :meth:`buffers` are int64 (BatchNorm's ``num_batches_tracked``)."""
        return ZERO

    def __call__(self, *inputs: Any, name: str | None = None) -> Tensor:
        """Apply the layer to symbolic tensors, to build a branching :class:`Network`.

        Examples
        --------
        >>> import symcnn as sc
        >>> x = sc.Input((3, 32, 32))
        >>> y = sc.ReLU()(sc.Conv2d(3, 3, 3, padding=1)(x))
        >>> sc.Network(x, sc.Add()(x, y, name="residual")).output_shape
        Shape((3, 32, 32))
        """
        from .tensor import apply

        return apply(self, inputs, name)

    # -- values -------------------------------------------------------------------------
    def subs(self: L, mapping: Mapping[Any, Any]) -> L:
        """A new layer with symbols substituted in every hyperparameter, checked again."""
        new = self.substituted(mapping)
        new._validate()
        return new

    def substituted(self: L, mapping: Mapping[Any, Any]) -> L:
        """:meth:`subs` without the check.

        For a network, which re-checks every condition itself and can then say which
        layer, at which node, a value breaks.
        """
        new = copy.copy(self)
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            object.__setattr__(new, f.name, _subs(getattr(self, f.name), mapping))
        return new

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """Symbols appearing in the hyperparameters."""
        out: set[sympy.Symbol] = set()
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out |= _symbols_of(getattr(self, f.name))
        return out

    def __repr__(self) -> str:
        # Not memoized by value: equal layers may read differently (p=2 and p=2.0).
        parts = []
        for i, f in enumerate(dataclasses.fields(self)):  # type: ignore[arg-type]
            if not f.init or not f.repr:
                continue
            value = _compact(getattr(self, f.name))
            default = self._repr_default(f.name, f.default)
            if i < self.repr_positional:
                parts.append(_show(value))
            elif default is dataclasses.MISSING or value != _compact(default):
                parts.append(f"{f.name}={_show(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_default(self, name: str, default: Any) -> Any:
        """The value ``repr`` leaves out for field ``name`` (its default, normally)."""
        return default

    def _validate(self) -> None:
        """Raise on a hyperparameter condition that is already false."""
        for cond in derive(self, "hyper_conditions", ()):  # shared with the derivation
            if cond.decide() is False:
                raise ShapeError(f"{self!r}: {cond.explain()}")

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)


def derive(layer: Layer, rule: str, inputs: tuple[Shape, ...]) -> Any:
    """``layer.<rule>(*inputs)``, remembered: equal layers on equal shapes derive once.

    Layers are frozen values and their rules pure, and real networks repeat themselves (a
    ResNet-50 stage stacks identical bottlenecks), so the derivation is memoized on the
    layer's value and the input shapes. Errors are not remembered, only raised.
    """
    try:
        hash((layer, inputs))
    except TypeError:  # a field the user made unhashable: derive without the memo
        return getattr(layer, rule)(*inputs)
    return _derive(layer, rule, inputs)


def weight_grads(
    layer: Layer, flow: Flow, inputs: tuple[Shape, ...]
) -> tuple[Derivation, Derivation]:
    """Backward products of a layer multiplying its input by its weights (conv, linear).

    The gradient of the input and that of the weights are products as large as the
    forward's (PyTorch's ``convolution_backward`` and the two ``mm`` of a linear layer);
    the input's is computed only when it needs one. The bias's gradient is a sum.
    """
    forward = derive(layer, "products", inputs)
    return (forward if flow.needs[0] else ZERO), forward


@functools.lru_cache(maxsize=16384)
def _derive(layer: Layer, rule: str, inputs: tuple[Shape, ...]) -> Any:
    return getattr(layer, rule)(*inputs)


# -- coercions shared by the layer families ----------------------------------------------
def tuple_of(value: Any, count: int, what: str, *, expand: bool = False) -> tuple[sympy.Expr, ...]:
    """``5`` → ``(5, 5)``; a tuple of ``count`` sizes stays as it is; each coerced.

    With ``expand``, a tuple of one size is repeated ``count`` times too, as PyTorch's
    integer-list arguments (a convolution's stride, a pooling's kernel) read it.
    """
    if isinstance(value, (tuple, list)):
        if expand and len(value) == 1:
            return (as_size(value[0], what),) * count
        if len(value) != count:
            raise ShapeError(f"{what!r} needs {count} values, one per spatial axis (got {value!r})")
        return tuple(as_size(v, what) for v in value)
    return (as_size(value, what),) * count


def positive(values: Any, what: str, *, minimum: int = 1) -> tuple[Condition, ...]:
    """Conditions ``v >= minimum`` for one size or a tuple of them."""
    items = values if isinstance(values, tuple) else (values,)
    words = "positive" if minimum == 1 else f"at least {minimum}"
    return tuple(at_least(v, minimum, f"{what} must be {words}", what) for v in items)


def _subs(value: Any, mapping: Mapping[Any, Any]) -> Any:
    if isinstance(value, Shape):
        return value.subs(mapping)
    if isinstance(value, sympy.Basic):
        return value.subs(mapping)
    if isinstance(value, tuple):
        return tuple(_subs(v, mapping) for v in value)
    return value


def _symbols_of(value: Any) -> set[sympy.Symbol]:
    if isinstance(value, sympy.Basic):
        return set(value.free_symbols)
    if isinstance(value, tuple):
        return set().union(*(_symbols_of(v) for v in value))
    return set()


def _compact(value: Any) -> Any:
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _show(value: Any) -> str:
    if isinstance(value, sympy.Basic):
        return str(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


# -- arguments that are not sizes: one rule each, as PyTorch applies it ----------------------
def refuse(layer: Layer, name: str, rule: str, value: Any) -> NoReturn:
    """Raise the :class:`ShapeError` of an argument: layer, argument, rule and value."""
    raise ShapeError(f"{type(layer).__name__}: {name} {rule} (got {value!r})")


def flag(layer: Layer, name: str, *, optional: bool = False) -> None:
    """``name`` must be True or False (or None, when ``optional``).

    PyTorch passes these (``ceil_mode``, ``count_include_pad``, ``keepdim``,
    ``align_corners``) to its C++ functions, whose argument parser takes a bool and
    nothing else: not 0 or 1, not None. Flags that PyTorch only tests for truth in Python
    (``bias``, ``inplace``, ``affine``, ``return_indices``) accept anything there, and
    so they do here: they are not checked.
    """
    value = getattr(layer, name)
    if isinstance(value, bool) or (optional and value is None):
        return
    refuse(layer, name, "must be True or False" + (" or None" if optional else ""), value)


def real(layer: Layer, name: str, *, optional: bool = False) -> None:
    """``name`` must be a real number (or None, when ``optional``): not a string, not a bool.

    PyTorch reads True as 1.0 in these arguments; symcnn never takes a bool for a number.
    NaN and infinities pass: where PyTorch refuses them, the layer says so itself.
    """
    value = getattr(layer, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        refuse(layer, name, "must be a real number" + (" or None" if optional else ""), value)


def choice(layer: Layer, name: str, options: Collection[str]) -> None:
    """``name`` must be one of the words PyTorch knows for it, ``options``."""
    value = getattr(layer, name)
    if not isinstance(value, str) or value not in options:
        *rest, last = map(repr, options)
        words = f"{', '.join(rest)} or {last}" if rest else last
        refuse(layer, name, f"must be {words}", value)
