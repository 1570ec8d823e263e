"""Layers of functional code: a tensor times a module's own tensor, and ``F.normalize``.

Code written with functions rather than modules reads a module's parameters directly:
ConvNeXt's layer scale ``self.layer_scale * x``, SSD's ``self.scale_weight.view(1, -1, 1,
1) * F.normalize(x)``. :class:`Scale` is that multiplication, holding the tensor's shape so
that the parameters are counted where they are used, and :class:`ParamOp` the other
arithmetic (``x + self.bias``, ``x / w``); :class:`Normalize` is the ``F.normalize`` such
code scales. :class:`ParamConcat` joins a module's tensors to the input, as a vision
transformer prepends its class token: ``torch.cat([self.class_token.expand(n, -1, -1), x],
dim=1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation, product
from ..symbolic.shape import Shape
from ..validity.condition import Condition, equal
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import Field, Layer, choice, flag, positive, real
from .merge import Concat

__all__ = ["Normalize", "ParamConcat", "ParamOp", "Scale"]


class _WithTensor(Layer):
    """The input and a module's tensor ``w`` of torch shape ``shape``, broadcast as torch does.

    ``shape`` is the tensor's whole shape, as ``w.shape`` gives it: a parameter has no
    batch axis. It broadcasts against the input aligned on the last axis: a (C, 1, 1)
    tensor meets a (C, H, W) sample, and a (1, C, 1, 1) view of a (C,) weight lines its
    leading 1 up with the batch axis (a size other than 1 there would change the batch).
    On each axis a size of 1 stretches to the other's; two other sizes must be equal, a
    condition where the input's is symbolic (a symbolic size is never taken to be 1).
    Parameters: ``w``'s elements, once however often it is read (the walk reuses one layer
    per tensor); with ``learned=False`` (a buffer) they are buffers instead.
    """

    __slots__ = ()
    shape: Shape
    learned: bool

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
                "batch axis; the result would add axes before the batch"
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
            if w != 1 and size != 1
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        (x,) = inputs
        aligned = self._aligned(x)
        if all(w == 1 or s != 1 for s, w in zip(x, aligned, strict=True)):
            return x
        return Shape(w if s == 1 else s for s, w in zip(x, aligned, strict=True))

    def params(self, *inputs: Shape) -> Derivation:
        return product(*self.shape) if self.learned else product(0)

    def buffers(self, *inputs: Shape) -> Derivation:
        return product(0) if self.learned else product(*self.shape)

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return field, jump

    def _shown(self) -> tuple[Any, ...]:
        return tuple(int(s) if s.is_Integer else s for s in self.shape)


@dataclass(frozen=True, slots=True, repr=False, init=False)
class Scale(_WithTensor):
    """``x * w``: the input times a tensor ``w`` of torch shape ``shape``, broadcast.

    ConvNeXt's layer scale multiplies a (C, H, W) sample by a (C, 1, 1) parameter. The
    broadcasting and the counting of ``w`` are :class:`ParamOp`'s.

    Notes
    -----
    Products 0 (PyTorch's ``FlopCounterMode`` counts none for an elementwise product);
    elementwise one multiplication per output element, as :class:`~symcnn.layers.Mul`
    counts it.

    Examples
    --------
    >>> s = Scale((96, 1, 1))
    >>> s.output_shape(Shape((96, 56, 56))), s.params(Shape((96, 56, 56))).value
    (Shape((96, 56, 56)), 96)
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # w's gradient reads the input; the input's reads w, a parameter or a buffer.
        return keeps_inputs(0) if self.learned else ()

    kind = "scale"
    repr_positional = 1

    shape: Shape
    learned: bool

    def __init__(self, shape: Any, learned: bool = True) -> None:
        object.__setattr__(self, "shape", Shape(shape))
        object.__setattr__(self, "learned", learned)
        flag(self, "learned")
        self._validate()

    def elementwise(self, *inputs: Shape) -> Derivation:
        return product(self.output_shape(*inputs).numel)

    def describe(self) -> str:
        return f"x * w, w of shape {self._shown()}"

    def __repr__(self) -> str:
        return f"Scale({self._shown()!r}{'' if self.learned else ', learned=False'})"


#: ParamOp's operations: how each reads (``w`` the module's tensor), and whether it
#: multiplies (a division counts as a multiplication).
PARAM_OPS: dict[str, tuple[str, bool]] = {
    "add": ("x + w", False),
    "sub": ("x - w", False),
    "rsub": ("w - x", False),
    "div": ("x / w", True),
    "rdiv": ("w / x", True),
}


@dataclass(frozen=True, slots=True, repr=False, init=False)
class ParamOp(_WithTensor):
    """``x + w``, ``x - w``, ``w - x``, ``x / w``, ``w / x``: the input and a module's tensor.

    ``op`` is one of :data:`PARAM_OPS` (``x * w`` is :class:`Scale`); ``w`` has the torch
    shape ``shape`` and broadcasts against the input as torch does (a (C, 1, 1) bias on a
    (C, H, W) sample; a size-1 axis of the input stretches to ``w``'s).

    Notes
    -----
    Parameters: ``w``'s elements (buffers when ``learned=False``), counted once however
    often the tensor is read. Products 0; elementwise one division per output element for
    ``div`` and ``rdiv``, none for the additions.

    Examples
    --------
    >>> b = ParamOp("add", (64, 1, 1))
    >>> b.output_shape(Shape((64, 7, 7))), b.params().value, b.describe()
    (Shape((64, 7, 7)), 64, 'x + w, w of shape (64, 1, 1)')
    >>> ParamOp("div", (1, 7, 7)).output_shape(Shape((1, 1, 7)))
    Shape((1, 7, 7))
    """

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # A sum keeps nothing; x / w keeps x for w's gradient, w / x keeps x for both.
        if self.op in ("add", "sub", "rsub"):
            return ()
        return keeps_inputs(0) if self.learned or self.op == "rdiv" else ()

    kind = "param_op"
    repr_positional = 2

    op: str
    shape: Shape
    learned: bool

    def __init__(self, op: str, shape: Any, learned: bool = True) -> None:
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "shape", Shape(shape))
        object.__setattr__(self, "learned", learned)
        choice(self, "op", tuple(PARAM_OPS))
        flag(self, "learned")
        self._validate()

    def elementwise(self, *inputs: Shape) -> Derivation:
        if not PARAM_OPS[self.op][1]:
            return product(0)
        return product(self.output_shape(*inputs).numel)

    def describe(self) -> str:
        return f"{PARAM_OPS[self.op][0]}, w of shape {self._shown()}"

    def __repr__(self) -> str:
        learned = "" if self.learned else ", learned=False"
        return f"ParamOp({self.op!r}, {self._shown()!r}{learned})"


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

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        # x / max(‖x‖, eps): the input, and the norms before and after the clamp.
        (x,) = inputs
        axis = self.dim - 1 if self.dim > 0 else self.dim
        norms = x.numel / x[axis]
        return (*keeps_inputs(0), new_tensor(2 * norms))

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


@dataclass(frozen=True, slots=True, repr=False, init=False)
class ParamConcat(Layer):
    """``torch.cat`` of inputs and a module's own tensors, each expanded over the batch.

    ``parts`` lists what is joined, in order: ``None`` for the next input, or the
    per-sample shape of a tensor the module holds (``self.class_token``, of torch shape
    (1, 1, 768) expanded to the batch, is ``(1, 768)`` per sample). The tensors' elements
    are parameters (buffers with ``learned=False``), counted once however often read.
    Shapes must agree on every axis but ``dim`` (PyTorch's, counting the batch axis).

    Examples
    --------
    >>> cls = ParamConcat(1, [(1, 768), None])  # ViT: the class token, then the patches
    >>> cls.output_shape(Shape((196, 768)))
    Shape((197, 768))
    >>> cls.params(Shape((196, 768))).value
    768
    """

    keeps = "nothing"

    kind = "cat"

    dim: int
    parts: tuple[Any, ...]
    learned: bool

    def __init__(self, dim: int, parts: Any, learned: bool = True) -> None:
        object.__setattr__(self, "dim", dim)
        shown = tuple(None if p is None else Shape(p) for p in parts)
        object.__setattr__(self, "parts", shown)
        object.__setattr__(self, "learned", learned)
        flag(self, "learned")
        if shown.count(None) < 1 or len(shown) < 2:
            raise ShapeError(f"{self!r}: parts must hold an input (None) and a tensor's shape")
        Concat(dim)  # the same rule for dim: nonzero, PyTorch's count
        self._validate()

    @property
    def arity(self) -> int:  # type: ignore[override]
        """One input per ``None`` in :attr:`parts`."""
        return self.parts.count(None)

    def _joined(self, inputs: tuple[Shape, ...]) -> list[Shape]:
        feed = iter(inputs)
        return [next(feed) if p is None else p for p in self.parts]

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        return Concat(self.dim).input_conditions(*self._joined(inputs))

    def output_shape(self, *inputs: Shape) -> Shape:
        return Concat(self.dim).output_shape(*self._joined(inputs))

    def _held(self) -> sympy.Expr:
        return sympy.Add(*(p.numel for p in self.parts if p is not None))

    def params(self, *inputs: Shape) -> Derivation:
        return product(self._held() if self.learned else 0)

    def buffers(self, *inputs: Shape) -> Derivation:
        return product(0 if self.learned else self._held())

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None

    def describe(self) -> str:
        parts = ", ".join("x" if p is None else f"tensor {p}" for p in self.parts)
        return f"torch.cat([{parts}], dim={self.dim})"

    def __repr__(self) -> str:
        parts = [None if p is None else tuple(p) for p in self.parts]
        learned = "" if self.learned else ", learned=False"
        return f"ParamConcat({self.dim}, {parts!r}{learned})"
