"""A training step in closed form: products forward and backward, and the memory it keeps.

:meth:`Network.training <symcnn.graph.network.Network.training>` returns a
:class:`Training`: per layer and in total, per batch of ``batch`` samples, the forward
products, the backward products (gradients of the inputs that need one, and of the
weights) and the bytes of the tensors autograd keeps between forward and backward, each
tensor counted once however many layers keep it. With the parameters, their gradients
and the optimizer's state, :meth:`Training.memory` is what a training step holds at the
start of its backward pass. It leaves out what no formula of the network decides: the
allocator's fragmentation and cache, convolution workspaces, the transient tensors of the
backward pass (the gradients of the activations, freed as it goes) and the CUDA context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError
from ..layers.autograd import DTYPES
from ..layers.base import Layer, derive
from ..symbolic.parse import requirement
from ..symbolic.shape import as_size
from ..symbolic.symbols import symbols
from ..validity.condition import Condition
from .memory import check_dtype, state_bytes
from .walk import walk

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["Training", "TrainingLayer"]


@dataclass(frozen=True, slots=True)
class TrainingLayer:
    """One layer of a training step, per batch: the row of a training table.

    ``needs_grad`` is False for a layer no parameter feeds (it costs nothing backward);
    ``saved_bytes`` are the bytes of the tensors this layer is the first to keep.
    """

    name: str
    layer: Layer
    needs_grad: bool
    forward_products: sympy.Expr
    input_grad_products: sympy.Expr
    weight_grad_products: sympy.Expr
    saved_bytes: sympy.Expr

    @property
    def backward_products(self) -> sympy.Expr:
        """Products of the backward pass: the input's gradient and the weights'."""
        return self.input_grad_products + self.weight_grad_products


class Training:
    """A training step of a network on a batch, in closed form (see the module docstring).

    Examples
    --------
    >>> import symcnn as sc
    >>> B, n = sc.symbols("B n")
    >>> net = sc.Sequential(sc.Conv2d(1, 8, 3), sc.ReLU(), sc.Flatten(),
    ...                     sc.Linear(8 * (n - 2) ** 2, 10), input_shape=(1, n, n))
    >>> t = net.training(batch=B)
    >>> t.backward_products  # the conv's weights only (the image needs no gradient); Linear's
    232*B*(n - 2)**2
    >>> t.saved_bytes  # the image, ReLU's output (which Linear keeps too, through Flatten)
    B*(4*n**2 + 32*(n - 2)**2)
    """

    __slots__ = ("_backward", "_layers", "_saved", "batch", "conditions", "dtype", "network")

    def __init__(self, network: Network, batch: Any = None, dtype: str = "float32") -> None:
        self.network = network
        self.dtype = check_dtype(dtype)
        self.batch = _batch(network, batch)
        b = self.batch
        #: Conditions the step adds to the network's domain, each with its place.
        self.conditions: tuple[tuple[str, Condition], ...] = _conditions(network, b)
        steps = tuple(walk(network, self.dtype))
        self._backward = b * sympy.Add(*(s.input_grad + s.weight_grad for s in steps))
        kept = [pair for s in steps for pair in s.saved]
        self._saved = b * sympy.Add(*(p for p, _ in kept)) + sympy.Add(*(q for _, q in kept))
        self._layers = tuple(
            TrainingLayer(
                step.record.name,
                step.record.layer,
                step.needs_grad,
                b * step.record.products,
                b * step.input_grad,
                b * step.weight_grad,
                sympy.Add(*(b * per_sample + per_batch for per_sample, per_batch in step.saved)),
            )
            for step in steps
        )

    @property
    def layers(self) -> tuple[TrainingLayer, ...]:
        """One :class:`TrainingLayer` per layer of the network, in its order."""
        return self._layers

    @property
    def forward_products(self) -> sympy.Expr:
        """Products of the forward pass over the batch."""
        return self.batch * self.network.products

    @property
    def backward_products(self) -> sympy.Expr:
        """Products of the backward pass over the batch: ``FlopCounterMode`` / 2 of it."""
        return self._backward

    @property
    def saved_bytes(self) -> sympy.Expr:
        """Bytes autograd keeps between forward and backward, each tensor once."""
        return self._saved

    # -- the rest of a training step's memory ----------------------------------------------
    @property
    def param_bytes(self) -> sympy.Expr:
        """Bytes of the learnable parameters, in the model's dtype."""
        return self.network.params * _itemsize(self.dtype)

    @property
    def buffer_bytes(self) -> sympy.Expr:
        """Bytes of the buffers: running statistics in the model's dtype, counters in int64."""
        size = _itemsize(self.dtype)
        total = []
        for r in self.network.layers:
            if not r.shared:
                counters = derive(r.layer, "int64_buffers", r.input_shapes).value
                total.append(size * (r.buffers - counters) + 8 * counters)
        return sympy.Add(*total)

    @property
    def grad_bytes(self) -> sympy.Expr:
        """Bytes of the parameters' gradients, one per parameter, in the model's dtype."""
        return self.param_bytes

    def optimizer_bytes(self, optimizer: str = "adam", *, master_weights: bool = False) -> Any:
        """Bytes of the optimizer's state, with the float32 master copy when asked."""
        state, master = state_bytes(optimizer, self.dtype, master_weights)
        return (state + master) * self.network.params

    def memory(self, optimizer: str = "adam", *, master_weights: bool = False) -> sympy.Expr:
        """Bytes a training step holds when its backward starts.

        Parameters, buffers, gradients, the optimizer's state and the saved activations;
        see the module docstring for what it leaves out.
        """
        return sympy.Add(
            self.param_bytes,
            self.buffer_bytes,
            self.grad_bytes,
            self.optimizer_bytes(optimizer, master_weights=master_weights),
            self.saved_bytes,
        )

    # -- inverse questions ----------------------------------------------------------------
    def largest_batch(
        self,
        budget: int,
        optimizer: str = "adam",
        *,
        master_weights: bool = False,
        at: Mapping[Any, Any] | None = None,
    ) -> int:
        """The largest batch whose training step fits ``budget`` bytes, at the sizes ``at``.

        Exact: with every size fixed, :meth:`memory` is ``a·B + c`` in the batch size, so
        the answer is ``⌊(budget − c)/a⌋``. Raises :class:`ShapeError` when even one sample
        does not fit, or a size is left without a value.

        Examples
        --------
        >>> import symcnn as sc
        >>> n = sc.symbols("n")
        >>> net = sc.Sequential(sc.Conv2d(3, 64, 3), sc.ReLU(), input_shape=(3, n, n))
        >>> net.training().largest_batch(2**30, "sgd", at={n: 224})
        81
        """
        if not isinstance(self.batch, sympy.Symbol):
            raise ShapeError(f"the batch size is {self.batch} here: give training() a symbol")
        net = self.network
        point = net._resolve(at or {})
        left = net.free_symbols - set(point)
        if left:
            names = ", ".join(sorted(map(str, left)))
            raise ShapeError(f"largest_batch: give every size a value in at= ({names} missing)")
        problem = net.violation(point)
        if problem is not None:
            raise ShapeError(problem)
        memory = self.memory(optimizer, master_weights=master_weights)
        total = sympy.expand(memory.xreplace(point))
        slope, base = total.coeff(self.batch), total.subs(self.batch, 0)
        if slope + base > budget:
            raise ShapeError(
                f"even a batch of 1 needs {slope + base} bytes, more than the budget of {budget}"
            )
        best = int((budget - base) // slope)
        for where, cond in self.conditions:
            at_best = cond.subs({**point, self.batch: best})
            if at_best.decide() is False:
                raise ShapeError(f"{where}: {at_best.explain()} (batch={best})")
        return best

    def _relations(self, fixed: Mapping[Any, Any] | None, require: Any) -> tuple[Any, ...]:
        """The network with the batch size given and ``require`` with it substituted."""
        rest = dict(fixed or {})
        given = [rest.pop(k) for k in list(rest) if k in (self.batch, str(self.batch))]
        value = {self.batch: as_size(given[-1], "batch")} if given else {}
        if isinstance(self.batch, sympy.Symbol) and not value:
            raise ShapeError(f"give the batch size {self.batch} a value in fixed=")
        known = self.network.free_symbols | ({self.batch} - {None})
        own = [cond.relation for _, cond in self.conditions]
        return rest, [requirement(r, known).subs(value) for r in [*require, *own]]

    def smallest(self, x: Any, fixed: Mapping[Any, Any] | None = None, *, require: Any = ()) -> int:
        """The smallest size ``x`` where the network is valid and ``require`` holds.

        ``require`` holds relations in this step's quantities, such as
        ``t.backward_products > 2 * t.forward_products``; ``fixed`` gives the other sizes
        and the batch size.
        """
        rest, relations = self._relations(fixed, require)
        return self.network.smallest(x, rest, require=relations)

    def largest(self, x: Any, fixed: Mapping[Any, Any] | None = None, *, require: Any = ()) -> Any:
        """The largest size ``x`` where the network is valid and ``require`` holds.

        ``t.largest(n, {B: 32}, require=[t.memory("adam") <= 24 * 2**30])`` is the largest
        input that trains at batch 32 in 24 GiB; ``sympy.oo`` when there is no largest.
        """
        rest, relations = self._relations(fixed, require)
        return self.network.largest(x, rest, require=relations)

    # -- values -------------------------------------------------------------------------
    def subs(self, mapping: Mapping[Any, Any]) -> Training:
        """The same step with symbols replaced, the batch size among them, checked again."""
        rest = dict(mapping)
        batch = self.batch
        for key in list(rest):
            if key == batch or (isinstance(key, str) and key == str(batch)):
                batch = as_size(rest.pop(key), "batch")
        network = self.network.subs(rest) if rest else self.network
        return Training(network, batch, self.dtype)

    # -- display ------------------------------------------------------------------------
    def table(self, fmt: str = "text", *, memory: str | None = None) -> str:
        """The step as a table in ``fmt`` (text, markdown, latex, csv or json).

        With ``memory`` (an optimizer's name) the memory follows, part by part
        (:func:`symcnn.export.training.training_table`).
        """
        from ..export.training import training_table

        return training_table(self, fmt, memory=memory)

    def __str__(self) -> str:
        return self.table()

    def _repr_markdown_(self) -> str:
        return self.table("markdown")

    def __repr__(self) -> str:
        return f"Training(batch={self.batch}, dtype={self.dtype!r}, layers={len(self._layers)})"


def _conditions(network: Network, batch: sympy.Expr) -> tuple[tuple[str, Condition], ...]:
    """The step's own conditions (BatchNorm's), undecided ones kept, a false one raised."""
    kept = []
    for r in network.layers:
        for cond in derive(r.layer, "training_conditions", (batch, *r.input_shapes)):
            where = f"{r.layer!r} at layer {r.index} ({r.name})"
            verdict = cond.decide()
            if verdict is False:
                raise ShapeError(f"{where}: {cond.explain()} (batch={batch})")
            if verdict is None:
                kept.append((where, cond))
    return tuple(kept)


def _itemsize(dtype: str) -> int:
    return DTYPES[dtype]


def _batch(network: Network, batch: Any) -> sympy.Expr:
    """The batch size: a positive size, by default the symbol B (unless the network has one)."""
    if batch is None:
        batch = symbols("B")
        if batch in network.free_symbols or "B" in {str(s) for s in network.free_symbols}:
            raise ShapeError(
                "the network has a symbol B of its own: name the batch size, e.g. "
                "training(batch=sc.symbols('batch'))"
            )
    size = as_size(batch, "batch")
    if size.is_positive is False or (size.is_Integer and size < 1):
        raise ShapeError(f"the batch size must be a positive integer (got {batch!r})")
    return size
