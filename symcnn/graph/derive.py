"""The one derivation pass: nodes added in topological order, each derived once.

Every front-end (:class:`~symcnn.graph.network.Sequential`, symbolic tensors, a networkx
graph, :func:`~symcnn.frontends.torch.from_torch`) feeds a :class:`Builder` one node at a
time; the builder derives the node at once and answers its output shape, which is what a
front-end like the torch converter needs to read the next node. The steps read in order:

1. :func:`check_wiring` — the node carries a layer and gets as many inputs as it takes;
2. :func:`check_rank` — each input has the rank the layer reads;
3. :func:`apply_rules` — the layer's conditions, settled (:func:`settle`), and its shape;
4. :func:`propagate_fields` — receptive field and jump per spatial axis;
5. a :class:`~symcnn.graph.record.LayerRecord` with the counts.

A node keeps only its own conditions; the domain upstream of it is gathered on demand
(:class:`~symcnn.graph.record.Upstream`), so the pass is linear in the number of nodes.
See docs/ARCHITECTURE.md for where this sits in the data flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import GraphError, ShapeError
from ..layers.base import Layer, derive
from ..layers.input import Input
from ..symbolic.guard import collector_paused, solver_error
from ..symbolic.printing import text
from ..symbolic.shape import Shape
from ..validity.condition import Condition
from .hierarchy import Hierarchy
from .record import LayerRecord, Located, Upstream

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "Builder",
    "Guard",
    "Wiring",
    "apply_rules",
    "check_rank",
    "check_wiring",
    "derive_all",
    "propagate_fields",
]

#: Receptive field and jump per spatial axis, or None where positions are mixed.
Fields = tuple[Any, Any]

#: How a per-sample input of each rank reads, for messages.
_AXES = {2: "(C, L)", 3: "(C, H, W)", 4: "(C, D, H, W)"}


@dataclass(frozen=True, slots=True)
class Wiring:
    """One node before derivation: its name, its layer, and the node feeding each input port.

    ``inputs`` may name the same node twice (``x * x``): each port is its own edge.
    """

    name: str
    layer: Layer
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Guard:
    """A condition the traced code assumed, not a layer's rule: where it was decided.

    ``before`` is how many nodes were added before it: the nodes from there on depend on
    the decision (a branch taken, a size compared), so their domain includes it.
    """

    before: int
    where: str
    condition: Condition

    def subs(self, mapping: Mapping[sympy.Symbol, Any]) -> Guard:
        """The same guard with symbols substituted."""
        return Guard(self.before, self.where, self.condition.subs(mapping))


def bound_text(bindings: Mapping[sympy.Symbol, Any]) -> str:
    """``" (n=5, k=5)"``: the values substituted so far, appended to an error message."""
    if not bindings:
        return ""
    return " (" + ", ".join(f"{s}={text(v)}" for s, v in bindings.items()) + ")"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a rule is checked: ``Conv2d(1, 8, kernel_size=3) at layer 0 (conv1)``.

    Kept as parts and written out on demand: most nodes never need the words, and a
    layer's ``repr`` is not free.
    """

    layer: Layer
    index: int
    name: Any

    def __str__(self) -> str:
        if self.layer.arity == 0:
            return f"{self.layer!r} ({self.name})"
        return f"{self.layer!r} at layer {self.index} ({self.name})"


# -- the steps ------------------------------------------------------------------------------
def check_wiring(name: str, layer: Any, inputs: Sequence[str]) -> None:
    """Raise :class:`GraphError` unless ``layer`` is a layer fed as many inputs as it takes."""
    if not isinstance(layer, Layer):
        raise GraphError(f"node {name!r} carries no symcnn layer under 'layer'")
    if layer.arity is None and len(inputs) < 2:
        raise GraphError(
            f"{layer!r} at node {name!r} merges two or more inputs, "
            f"but {len(inputs)} edge(s) lead to it"
        )
    if layer.arity is not None and len(inputs) != layer.arity:
        raise GraphError(
            f"{layer!r} at node {name!r} takes {layer.arity} input(s), "
            f"but {len(inputs)} edge(s) lead to it"
        )


def check_rank(where: object, layer: Layer, shapes: Sequence[Shape], bound: str = "") -> None:
    """Raise :class:`ShapeError` if an input's rank is not the one ``layer`` reads."""
    if layer.input_rank is None:
        return
    for x in shapes:
        if len(x) != layer.input_rank:
            axes = _AXES.get(layer.input_rank, "")
            raise ShapeError(
                f"{where} needs a per-sample input of {layer.input_rank} axes {axes}, "
                f"got {x}{bound}"
            )


def settle(
    conditions: Iterable[Condition], where: object, bound: str = ""
) -> tuple[Condition, ...]:
    """Raise on a condition decided false; return those still undecided, without repeats."""
    open_: list[Condition] = []
    for cond in conditions:
        verdict = cond.decide()
        if verdict is False:
            raise ShapeError(f"{where}: {cond.explain()}{bound}")
        if verdict is None and cond.relation not in (c.relation for c in open_):
            open_.append(cond)
    return tuple(open_)


def apply_rules(
    where: object, layer: Layer, shapes: tuple[Shape, ...], bound: str = ""
) -> tuple[tuple[Condition, ...], Shape]:
    """The layer's undecided conditions and its output shape; raise at a broken rule.

    Hyperparameters are settled first: a zero stride must be reported before any
    division by it. A structural rule (Flatten's dims, the ranks of a merge) raises
    :class:`ShapeError` itself; it is given the place here, once.
    """
    conditions = settle(derive(layer, "hyper_conditions", ()), where, bound)
    conditions += settle(_located(where, layer, "input_conditions", shapes, bound), where, bound)
    return conditions, _located(where, layer, "output_shape", shapes, bound)


def propagate_fields(layer: Layer, upstream: Sequence[Fields], out: Shape) -> Fields:
    """(receptive field, jump) per spatial axis of a node, None where not defined.

    Branches that meet at a merge with different fields give the largest one per axis
    (the union of their windows, not an average); with different jumps, None.
    """
    if not upstream:
        ones = (sympy.Integer(1),) * (len(out) - 1)
        return (ones, ones) if len(out) > 1 else (None, None)
    if any(f is None or j is None for f, j in upstream):
        return None, None
    if len({len(f) for f, _ in upstream}) != 1:  # inputs of different ranks (an einsum)
        return None, None
    field = tuple(_largest(axis) for axis in zip(*(f for f, _ in upstream), strict=True))
    jumps = {j for _, j in upstream}
    if len(jumps) != 1:
        return None, None
    return layer.receptive(field, jumps.pop())


def _located(where: object, layer: Layer, rule: str, shapes: tuple[Shape, ...], bound: str) -> Any:
    try:
        return derive(layer, rule, shapes)
    except ShapeError as err:
        raise ShapeError(f"{where}: {err}{bound}") from None


def _largest(sizes: tuple[sympy.Expr, ...]) -> sympy.Expr:
    distinct = set(sizes)
    if len(distinct) == 1:
        return sizes[0]
    if all(s.is_Integer for s in distinct):
        return max(distinct)
    return sympy.Max(*distinct)


# -- the pass -------------------------------------------------------------------------------
class Builder:
    """Derives a network node by node; :meth:`network` hands the result over.

    Examples
    --------
    >>> import symcnn as sc
    >>> from symcnn.graph.derive import Builder
    >>> b = Builder()
    >>> b.add("x", sc.Input((1, 28, 28)))
    Shape((1, 28, 28))
    >>> b.add("conv", sc.Conv2d(1, 8, 5), ["x"])
    Shape((8, 24, 24))
    >>> b.add("sq", sc.Mul(), ["conv", "conv"])
    Shape((8, 24, 24))
    >>> b.network().products
    115200
    """

    def __init__(self, bindings: Mapping[sympy.Symbol, Any] | None = None):
        self.bindings = dict(bindings or {})
        self.bound = bound_text(self.bindings)
        self.wiring: dict[str, Wiring] = {}
        self.shapes: dict[str, Shape] = {}
        self.records: list[LayerRecord] = []
        self.by_name: dict[str, LayerRecord | None] = {}
        self.input_conditions: list[Condition] = []
        self.own_conditions: list[Located] = []
        self.read: set[str] = set()
        self._fields: dict[str, Fields] = {}
        self._upstream: dict[str, Upstream] = {}
        self._seen: set[int] = set()
        self.guards: list[Guard] = []
        self._guarded: Upstream | None = None  # the guards so far, as one chain
        # the modules a front-end is inside while it adds nodes (graph/hierarchy.py)
        self.scope: tuple[str, ...] = ()
        self.scopes: dict[str, tuple[str, ...]] = {}
        self.kinds: dict[str, str] = {}

    def shape(self, name: str) -> Shape:
        """The output shape of node ``name``, derived when it was added."""
        return self.shapes[name]

    def add(self, name: Any, layer: Any, inputs: Sequence[Any] = ()) -> Shape:
        """Derive node ``name`` (``layer`` fed by the nodes ``inputs``, one per port).

        Raises :class:`GraphError` for wiring and :class:`ShapeError` at the first rule
        provably broken, naming the layer, the node, the rule and the values; a failure
        inside sympy becomes a :class:`~symcnn.errors.SolverError` naming the layer.
        """
        inputs = tuple(inputs)
        if name in self.wiring:
            raise GraphError(f"two nodes are named {name!r}")
        for source in inputs:
            if source not in self.shapes:
                raise GraphError(f"node {name!r} reads {source!r}, which is not derived before it")
        check_wiring(name, layer, inputs)
        if self.scope:
            self.scopes[name] = self.scope
        try:
            return self._derive(Wiring(name, layer, inputs))
        except Exception as err:  # an error inside sympy becomes a SolverError naming the node
            failure = solver_error(err, lambda: f"deriving {layer!r} at node {name!r}")
            if failure is None:
                raise
            raise failure from (None if isinstance(err, RecursionError) else err)

    def guard(self, where: str, condition: Condition) -> None:
        """Assume ``condition`` from here on: the nodes added after it depend on it.

        A front-end tracing code that branches on sizes (``if pad > 0:``) keeps the branch
        it took as a guard; the network is valid only where every guard holds. Raises
        :class:`ShapeError` when the condition is decided false (a substitution broke it).
        """
        kept = settle([condition], where, self.bound)
        if not kept:
            return
        (condition,) = kept
        self.guards.append(Guard(len(self.wiring), where, condition))
        located = ((where, condition),)
        self._guarded = Upstream(located, () if self._guarded is None else (self._guarded,))
        self.own_conditions.extend(located)

    def _derive(self, node: Wiring) -> Shape:
        layer, name, inputs = node.layer, node.name, node.inputs
        shapes = tuple(self.shapes[p] for p in inputs)
        index = len(self.records)
        where = Place(layer, index, name)  # written out only for a message or a condition
        check_rank(where, layer, shapes, self.bound)
        conditions, out = apply_rules(where, layer, shapes, self.bound)
        own = tuple((str(where), c) for c in conditions)
        parents = [self._upstream[p] for p in inputs]
        if self._guarded is not None:
            parents.append(self._guarded)
        upstream = Upstream(own, tuple(dict.fromkeys(parents)))
        fields = propagate_fields(layer, [self._fields[p] for p in inputs], out)
        self.wiring[name] = node
        self.shapes[name] = out
        self._upstream[name] = upstream
        self._fields[name] = fields
        self.own_conditions.extend(own)
        self.read.update(inputs)
        if isinstance(layer, Input):
            self.input_conditions.extend(conditions)
            self.by_name[name] = None
            return out
        record = LayerRecord(
            index=index,
            name=str(name),
            layer=layer,
            input_shapes=shapes,
            output_shape=out,
            params_derivation=derive(layer, "params", shapes),
            products_derivation=derive(layer, "products", shapes),
            buffers_derivation=derive(layer, "buffers", shapes),
            bias_adds_derivation=derive(layer, "bias_adds", shapes),
            elementwise_derivation=derive(layer, "elementwise", shapes),
            conditions=conditions,
            shared=id(layer) in self._seen,
            upstream=upstream,
            receptive_field=fields[0],
            jump=fields[1],
        )
        self._seen.add(id(layer))
        self.records.append(record)
        self.by_name[name] = record
        return out

    def network(
        self, outputs: Sequence[Any] | None = None, *, source: str | None = None
    ) -> Network:
        """The derived network; ``outputs`` default to the nodes nothing reads."""
        from .network import Network

        return Network._adopt(self, None if outputs is None else tuple(outputs), source)

    @property
    def hierarchy(self) -> Hierarchy:
        """The modules around each node, as the front-end recorded them."""
        return Hierarchy(self.scopes, self.kinds)

    def check_complete(self, outputs: Sequence[Any] | None) -> None:
        """Raise :class:`GraphError` for an input nothing reads or an unknown output."""
        if len(self.wiring) > 1:
            for name, node in self.wiring.items():
                if isinstance(node.layer, Input) and name not in self.read:
                    raise GraphError(f"input node {name!r} is disconnected: no layer reads it")
        for name in outputs or ():
            if name not in self.wiring:
                raise GraphError(f"the output {name!r} is not a node of the graph")


def derive_all(
    wiring: Iterable[Wiring],
    bindings: Mapping[sympy.Symbol, Any] | None = None,
    guards: Iterable[Guard] = (),
    hierarchy: Hierarchy | None = None,
) -> Builder:
    """A :class:`Builder` that has derived every node of ``wiring``, in its order.

    Each of ``guards`` is assumed again before the node it preceded; ``hierarchy`` is
    kept as the nodes' modules. The garbage collector waits meanwhile
    (:func:`~symcnn.symbolic.guard.collector_paused`).
    """
    builder = Builder(bindings)
    if hierarchy is not None:
        builder.scopes, builder.kinds = dict(hierarchy.scopes), dict(hierarchy.kinds)
    pending = sorted(guards, key=lambda g: g.before)
    with collector_paused():
        for i, node in enumerate(wiring):
            while pending and pending[0].before <= i:
                guard = pending.pop(0)
                builder.guard(guard.where, guard.condition)
            builder.add(node.name, node.layer, node.inputs)
        for guard in pending:
            builder.guard(guard.where, guard.condition)
    return builder
