"""``Network``: a networkx DiGraph of layers with every size, count and condition derived."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sympy
from sympy.logic.boolalg import Boolean

from ..conventions import Quantity, convention_total
from ..errors import GraphError, ShapeError
from ..layers import Input, Layer
from ..symbolic.shape import Shape, as_size
from ..validity.condition import Condition
from .convert import EDGE_PORT, NODE_LAYER, NODE_RECORD, from_networkx, is_networkx, to_networkx
from .derive import Builder, Wiring, bound_text, derive_all
from .hierarchy import Hierarchy
from .record import LayerRecord
from .trace import default_names, trace

if TYPE_CHECKING:
    import networkx as nx

    from ..export.display import Table
    from ..layers.tensor import Tensor
    from ..training import Training

__all__ = ["EDGE_PORT", "NODE_LAYER", "NODE_RECORD", "Network", "Sequential"]


def _queries() -> ModuleType:
    """graph/queries.py, imported on the first question asked of a network.

    It brings the exact integer solver; ``import symcnn`` then stays close to sympy's own
    import time (docs/ARCHITECTURE.md, "Import cost").
    """
    from . import queries

    return queries


class Network:
    """A network of layers and everything derived from it.

    Built from a ``networkx.DiGraph`` whose nodes carry a :class:`~symcnn.layers.Layer`
    under ``"layer"`` (inputs are :class:`~symcnn.layers.Input` nodes) and whose edges
    carry the input ``"port"`` they feed. The graph given is copied, never mutated;
    :attr:`graph` is the copy, annotated with each node's record. Construction derives
    shapes in topological order and raises :class:`~symcnn.errors.ShapeError` at the first
    rule that is provably broken; rules that depend on symbols are kept in
    :attr:`constraints`.

    Use :class:`Sequential` for chains, and for branching graphs call layers on symbolic
    tensors and give the inputs and outputs: ``Network(x, out)``.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> x = sc.Input((3, n, n))
    >>> branch = sc.ReLU()(sc.Conv2d(3, 3, 3, padding=1)(x))
    >>> net = sc.Network(x, sc.Concat()(sc.Add()(x, branch), branch))
    >>> net.output_shape, [r.name for r in net.layers]
    (Shape((6, n, n)), ['conv1', 'relu1', 'add1', 'cat1'])
    """

    def __init__(
        self,
        inputs: nx.DiGraph | Input | Sequence[Input],
        outputs: Tensor | Sequence[Tensor] | None = None,
        *,
        bindings: Mapping[sympy.Symbol, Any] | None = None,
    ):
        if is_networkx(inputs):
            if outputs is not None:
                raise GraphError("give either a graph, or inputs and outputs")
            wiring, given = from_networkx(inputs)
            attributes = inputs.graph  # type: ignore[union-attr]
            source = attributes.get("source")
            # a traced network's guards, before every node: the graph may have been edited
            guards = [replace(g, before=0) for g in attributes.get("guards", ())]
            hierarchy = Hierarchy.from_attributes(attributes)
        else:
            wiring, given = trace(inputs, outputs)
            source, guards, hierarchy = None, [], None
        builder = derive_all(wiring, bindings, guards, hierarchy)
        self._take(builder, None if given is None else tuple(given), source)

    @classmethod
    def _adopt(
        cls, builder: Builder, outputs: tuple[Any, ...] | None, source: str | None
    ) -> Network:
        """A network from a finished :class:`~symcnn.graph.derive.Builder`, derived once."""
        new = object.__new__(cls)
        new._take(builder, outputs, source)
        return new

    def _take(
        self, builder: Builder, outputs: tuple[Any, ...] | None, source: str | None
    ) -> None:
        builder.check_complete(outputs)
        self._wiring = tuple(builder.wiring.values())
        self._by_name = builder.by_name
        self._bindings = builder.bindings
        self._given_outputs = outputs
        self._source = source
        self._read = frozenset(builder.read)
        self._input_conditions = tuple(builder.input_conditions)
        self._own_conditions = tuple(builder.own_conditions)
        self._guards = tuple(builder.guards)
        self._records = tuple(builder.records)
        self._hierarchy = builder.hierarchy
        self._constraints: tuple[Boolean, ...] | None = None
        self._domain: tuple[tuple[str, Condition], ...] | None = None
        self._free_symbols: frozenset[sympy.Symbol] | None = None
        self._totals: dict[str, sympy.Expr] = {}
        self._read_only: nx.MultiDiGraph | None = None

    def _bound(self) -> str:
        return bound_text(self._bindings)

    # -- the graph and its records ------------------------------------------------------
    @property
    def graph(self) -> nx.MultiDiGraph:
        """The annotated graph, read-only: each node has ``"layer"`` and ``"record"``.

        A ``networkx.MultiDiGraph`` with one edge per input port, keyed and labelled by the
        port: ``x * x`` is two edges from ``x``. A network is a value, derived once, so
        the graph is frozen (networkx's :func:`~networkx.freeze`), its attributes
        read-only; to change a network, change a copy (``networkx.MultiDiGraph(net.graph)``)
        and build a new ``Network`` from it. A traced network's graph also carries
        ``"source"``, ``"guards"``, and its modules (:class:`~.hierarchy.Hierarchy`).

        Examples
        --------
        >>> import networkx as nx, symcnn as sc
        >>> net = sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, 28, 28))
        >>> net.graph.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
        Traceback (most recent call last):
        ...
        TypeError: 'mappingproxy' object does not support item assignment
        >>> g = nx.MultiDiGraph(net.graph)
        >>> g.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
        >>> sc.Network(g).params, net.params
        (160, 80)
        """
        if self._read_only is None:
            attributes: dict[str, Any] = {}
            if self._given_outputs is not None:
                attributes["outputs"] = list(self._given_outputs)
            if self._source is not None:
                attributes["source"] = self._source
            if self._guards:
                attributes["guards"] = self._guards
            attributes |= self._hierarchy.attributes()
            self._read_only = to_networkx(self._wiring, self._by_name, attributes)
        return self._read_only

    @property
    def layers(self) -> tuple[LayerRecord, ...]:
        """One record per layer (inputs excluded), in topological order."""
        return self._records

    def __getitem__(self, key: int | str) -> LayerRecord:
        """A layer's record by index or by node name."""
        record = self._by_name.get(key) if isinstance(key, str) else self._records[key]
        if record is None:
            raise KeyError(key)
        return record

    def __len__(self) -> int:
        return len(self._records)

    @property
    def inputs(self) -> tuple[Input, ...]:
        """The input layers, in topological order."""
        return tuple(node.layer for node in self._wiring if isinstance(node.layer, Input))

    @property
    def input_shape(self) -> Shape:
        """The per-sample shape of the (single) input."""
        (single,) = self.inputs
        return single.shape

    @property
    def outputs(self) -> tuple[Any, ...]:
        """The output nodes: those given to the constructor, else the nodes nothing reads."""
        if self._given_outputs is not None:
            return self._given_outputs
        return tuple(node.name for node in self._wiring if node.name not in self._read)

    @property
    def output_shapes(self) -> tuple[Shape, ...]:
        """The per-sample shape of every output, in order."""
        return tuple(self._shape_of(n) for n in self.outputs)

    def _shape_of(self, name: Any) -> Shape:
        record = self._by_name[name]
        if record is None:  # an input given as an output
            node = next(w for w in self._wiring if w.name == name)
            return node.layer.shape  # type: ignore[attr-defined]
        return record.output_shape

    @property
    def output_shape(self) -> Shape:
        """The per-sample output shape of the network's single output."""
        shapes = self.output_shapes
        if len(shapes) != 1:
            raise GraphError(
                f"the network has {len(shapes)} outputs ({list(self.outputs)}), not one: "
                "see output_shapes"
            )
        return shapes[0]

    # -- totals -------------------------------------------------------------------------
    @property
    def params(self) -> sympy.Expr:
        """Total learnable parameters; a layer used at several nodes is counted once."""
        return self._total("params", once=True)

    @property
    def buffers(self) -> sympy.Expr:
        """Total non-learned state (BatchNorm's running statistics), reported apart."""
        return self._total("buffers", once=True)

    @property
    def products(self) -> sympy.Expr:
        """Total multiplications per sample, the seed's convention."""
        return self._total("products")

    @property
    def bias_adds(self) -> sympy.Expr:
        """Total bias additions per sample (see :mod:`symcnn.conventions`)."""
        return self._total("bias_adds")

    @property
    def elementwise(self) -> sympy.Expr:
        """Total elementwise multiplications per sample (gates, BatchNorm, average pooling).

        A quantity of its own: never added to :attr:`products`.
        """
        return self._total("elementwise")

    def _total(self, quantity: str, *, once: bool = False) -> sympy.Expr:
        """The sum of a per-layer quantity, built once (the network is immutable).

        ``once``: a layer used at several nodes counts at its first node only.
        """
        if quantity not in self._totals:
            self._totals[quantity] = sympy.Add(
                *(getattr(r, quantity) for r in self._records if not (once and r.shared))
            )
        return self._totals[quantity]

    def count(self, convention: str) -> sympy.Expr:
        """Total operations under a named convention (:mod:`symcnn.conventions`).

        The conventions are ``"products"``, ``"mult-adds"``, ``"flops"`` and ``"flops+bias"``.

        Examples
        --------
        >>> import symcnn as sc
        >>> conv = sc.Sequential(sc.Conv2d(1, 32, 5), input_shape=(1, 28, 28))
        >>> [conv.count(c) for c in ("products", "mult-adds", "flops", "flops+bias")]
        [460800, 479232, 921600, 940032]
        """
        return convention_total(convention, self.products, self.bias_adds)

    def activation_memory(self, bytes_per_element: int = 4) -> sympy.Expr:
        """Bytes of activations per sample: the inputs and every node's output, each once.

        An upper bound that keeps every activation; what a training step really keeps,
        tensor by tensor as autograd does, is :meth:`training`'s ``saved_bytes``.
        ``bytes_per_element`` is a positive whole number (4 for float32, 2 for bfloat16).
        """
        size = bytes_per_element
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ShapeError(
                "activation_memory: bytes_per_element must be a positive whole number, such "
                f"as 4 for float32 (got {bytes_per_element!r})"
            )
        elements = sympy.Add(*(i.shape.numel for i in self.inputs), self.output_elements)
        return size * elements

    def training(self, batch: Any = None, dtype: str = "float32") -> Training:
        """A training step on ``batch`` samples in closed form (:mod:`symcnn.training`).

        ``batch`` is a size or a symbol (by default ``B``); ``dtype`` the model's. Backward
        products, the bytes autograd keeps, and :meth:`Training.memory
        <symcnn.training.Training.memory>` with the optimizer's state.
        """
        from ..training import Training

        return Training(self, batch, dtype)

    @property
    def output_elements(self) -> sympy.Expr:
        """Sum over layers of the output elements per sample (a proxy of activation memory)."""
        return self._total("output_elements")

    @property
    def constraints(self) -> tuple[Boolean, ...]:
        """The validity domain: relations still undecided, simplified.

        Floors are removed where an identity allows, bounds are solved for the input's
        symbols and bounds implied by stronger ones dropped: the seed network with a lazy
        linear layer gives ``(n >= 4*k + 2,)``. :attr:`conditions` keeps every rule as the
        layers state it, with its explanation.
        """
        if self._constraints is None:
            prefer = sorted((s for i in self.inputs for s in i.free_symbols), key=str)
            from ..validity.domain import simplify_domain  # on first use: see _queries

            self._constraints = simplify_domain((c.relation for c in self.conditions), prefer)
        return self._constraints

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The undecided conditions with their explanations: inputs, guards, then by layer."""
        guards = (g.condition for g in self._guards)
        return (*self._input_conditions, *guards, *(c for r in self._records for c in r.conditions))

    @property
    def guards(self) -> tuple[tuple[str, Condition], ...]:
        """What traced code assumed of the sizes, each with the line that assumed it.

        :func:`~symcnn.from_torch` keeps each branch on sizes it took (``if pad > 0:``),
        and each ``torch._assert`` on sizes, as a guard; they are part of :attr:`domain`.
        """
        return tuple((g.where, g.condition) for g in self._guards)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """Every symbol the network's hyperparameters and input shapes contain."""
        if self._free_symbols is None:
            self._free_symbols = frozenset().union(
                *(node.layer.free_symbols for node in self._wiring)
            )
        return set(self._free_symbols)

    @property
    def bindings(self) -> dict[sympy.Symbol, Any]:
        """Symbols substituted so far by :meth:`subs`, shown in error messages."""
        return dict(self._bindings)

    # -- substitution -------------------------------------------------------------------
    def subs(self, mapping: Mapping[Any, Any]) -> Network:
        """The same network with symbols replaced (by numbers or by other expressions).

        Keys are symbols or their names; values are integers or integer expressions. A
        positive-integer symbol only takes positive values. Every rule is checked again,
        so a substitution that breaks a layer raises :class:`ShapeError` naming it.

        Examples
        --------
        >>> import symcnn as sc
        >>> n = sc.symbols("n")
        >>> net = sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, n, n))
        >>> net.subs({"n": 28}).output_shape
        Shape((8, 26, 26))
        """
        resolved = self._resolve(mapping)
        if any(v.free_symbols & resolved.keys() for v in resolved.values()):
            # sympy substitutes one key after another: {H: W, W: H} would give W, W. Each
            # symbol goes to a stand-in first, so that every value is put in at once.
            stand_in = {s: sympy.Dummy(s.name, **s.assumptions0) for s in resolved}
            step = self._substituted(stand_in, {})
            return step._substituted({stand_in[s]: v for s, v in resolved.items()}, resolved)
        return self._substituted(resolved, resolved)

    def _substituted(
        self, resolved: Mapping[sympy.Symbol, Any], shown: Mapping[sympy.Symbol, Any]
    ) -> Network:
        memo: dict[int, Layer] = {}
        bindings = {s: v for s, v in self._bindings.items() if not isinstance(s, sympy.Dummy)}
        wiring = []
        for node in self._wiring:
            if id(node.layer) not in memo:
                memo[id(node.layer)] = node.layer.substituted(resolved)
            wiring.append(Wiring(node.name, memo[id(node.layer)], node.inputs))
        guards = [g.subs(resolved) for g in self._guards]
        builder = derive_all(wiring, {**bindings, **shown}, guards, self._hierarchy)
        return type(self)._adopt(builder, self._given_outputs, self._source)

    def _resolve(self, mapping: Mapping[Any, Any]) -> dict[sympy.Symbol, sympy.Expr]:
        by_name = {str(s): s for s in self.free_symbols}
        resolved = {}
        for key, value in mapping.items():
            symbol = by_name.get(key) if isinstance(key, str) else key
            if isinstance(key, sympy.Symbol) and by_name.get(str(key), key) != key:
                # a same-named symbol with other assumptions would be silently ignored
                raise ShapeError(
                    f"cannot substitute {key}: this network's {key} is another symbol "
                    "(its assumptions differ); create every symbol with symcnn.symbols"
                )
            if not isinstance(symbol, sympy.Symbol):
                known = ", ".join(sorted(by_name)) or "none"
                raise ShapeError(
                    f"cannot substitute {key!r}: not a symbol of this network "
                    f"(its symbols: {known})"
                )
            size = as_size(value, str(symbol))
            if symbol.is_positive and size.is_positive is False:
                raise ShapeError(f"{symbol} is a positive integer and cannot be {size}")
            resolved[symbol] = size
        return resolved

    # -- exact evaluation over many sizes -------------------------------------------------
    def evaluate(self, quantity: str, *, on_invalid: str = "raise", **values: Any) -> Any:
        """A total (``"params"``, ``"products"``, ``"output_elements"``) at many sizes, exactly.

        Values are given by symbol name, as integers or integer arrays that broadcast
        together. Floors are integer floor divisions, never float rounding; the result is a
        numpy int64 array when every intermediate provably fits, else an object array of
        Python ints. A point outside the validity domain raises
        :class:`~symcnn.errors.ShapeError` naming the first such point, its layer, the rule
        and the numbers; with ``on_invalid="mask"`` such points are masked out of a
        ``numpy.ma.MaskedArray`` instead. Needs numpy (``pip install "symcnn[numpy]"``).

        Examples
        --------
        >>> import symcnn as sc
        >>> n, k = sc.symbols("n k")
        >>> net = sc.Sequential(sc.Conv2d(1, 8, k), sc.MaxPool2d(2), input_shape=(1, n, n))
        >>> net.evaluate("products", n=[6, 28, 10**6], k=5)
        array([            800,          115200, 199998400003200])
        >>> net.evaluate("products", n=[5, 6], k=5)
        Traceback (most recent call last):
        ...
        symcnn.errors.ShapeError: MaxPool2d(kernel_size=2) at layer 1 (pool1): the kernel must
        fit in the padded input height (got padded height = 1, effective kernel size = 2)
        (n=5, k=5)
        """
        from ..evaluate.sweep import evaluate_checked

        quantity = Quantity.parse(quantity).value
        return evaluate_checked(
            getattr(self, quantity),
            self.domain,
            values,
            on_invalid,
            symbols=self.free_symbols,
        )

    @property
    def domain(self) -> tuple[tuple[str, Condition], ...]:
        """Every undecided condition of every layer, each with the layer it comes from.

        Unsimplified, in layer order: what evaluation checks point by point, and where
        :attr:`constraints` starts from.
        """
        if self._domain is None:  # the network is immutable: gathered once
            self._domain = tuple(dict.fromkeys(self._own_conditions))
        return self._domain

    # -- questions (symcnn.graph.queries) ----------------------------------------------------
    def is_valid(self, point: Mapping[Any, Any]) -> bool:
        """Whether every layer is valid at ``point`` (every symbol given), a plain bool.

        Examples
        --------
        >>> import symcnn as sc
        >>> n = sc.symbols("n")
        >>> net = sc.Sequential(sc.Conv2d(1, 8, 5), sc.MaxPool2d(2), input_shape=(1, n, n))
        >>> net.is_valid({n: 6}), net.is_valid({n: 5})
        (True, False)
        """
        return _queries().is_valid(self, point)

    def violation(self, point: Mapping[Any, Any]) -> str | None:
        """The first layer and rule that fail at ``point``, with the numbers; None if valid.

        Examples
        --------
        >>> import symcnn as sc
        >>> n = sc.symbols("n")
        >>> net = sc.Sequential(sc.Conv2d(1, 8, 5), sc.MaxPool2d(2), input_shape=(1, n, n))
        >>> print(net.violation({n: 5}))
        MaxPool2d(kernel_size=2) at layer 1 (pool1): the kernel must fit in the padded input
        height (got padded height = 1, effective kernel size = 2) (n=5)
        """
        return _queries().violation(self, point)

    def min_input(self, x: sympy.Symbol | str, fixed: Mapping[Any, Any] | None = None) -> int:
        """The smallest value of size symbol ``x`` for which every layer is valid, exactly.

        Examples
        --------
        >>> import symcnn as sc
        >>> n, k = sc.symbols("n k")
        >>> net = sc.Sequential(sc.Conv2d(1, 8, k), sc.MaxPool2d(3), input_shape=(1, n, n))
        >>> net.min_input(n, {k: 5})
        7
        """
        return _queries().smallest(self, x, fixed)

    def smallest(
        self,
        x: sympy.Symbol | str,
        fixed: Mapping[Any, Any] | None = None,
        *,
        require: Iterable[Boolean] = (),
    ) -> int:
        """:func:`symcnn.graph.queries.smallest`: the least valid ``x`` meeting ``require``."""
        return _queries().smallest(self, x, fixed, require=require)

    def largest(
        self,
        x: sympy.Symbol | str,
        fixed: Mapping[Any, Any] | None = None,
        *,
        require: Iterable[Boolean] = (),
    ) -> int | sympy.Expr:
        """:func:`symcnn.graph.queries.largest`: the greatest valid ``x`` meeting ``require``."""
        return _queries().largest(self, x, fixed, require=require)

    def leading_term(self, quantity: str, x: sympy.Symbol | str) -> sympy.Expr:
        """The highest-order term of a total (``"products"``, ...) as ``x`` grows."""
        quantity = Quantity.parse(quantity).value
        symbol = self._resolve({x: 1}).popitem()[0] if isinstance(x, str) else x
        return _queries().leading_term(getattr(self, quantity), symbol)

    def dominant(
        self, quantity: str, x: sympy.Symbol | None = None, at: Mapping[Any, Any] | None = None
    ) -> LayerRecord:
        """:func:`symcnn.graph.queries.dominant`: the layer with the largest ``quantity``."""
        return _queries().dominant(self, quantity, x, at)

    def check_exact_fit(self) -> tuple[Boolean, ...]:
        """:func:`symcnn.graph.queries.check_exact_fit`: strides that tile exactly (cs231n)."""
        return _queries().check_exact_fit(self)

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        head = f"<{type(self).__name__}: {len(self)} layers"
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return head + ">"
        return f"{head}, input {self.input_shape} → output {self.output_shape}>"

    def __str__(self) -> str:
        return str(self.table())

    @property
    def hierarchy(self) -> Hierarchy:
        """The modules each node was called inside, which :meth:`table` groups by depth."""
        return self._hierarchy

    def table(self, *, at: Mapping[Any, Any] | None = None, depth: int | None = None) -> Table:
        """The table a notebook shows (:class:`~symcnn.export.display.Table`).

        ``at`` puts each formula next to its value at a point; ``depth`` sums the layers
        of each module that deep in one row (``depth=1``: ``layer1``, ``layer2``, ...).
        """
        from ..export.display import Table

        return Table(self, at=at, depth=depth)

    # IPython's rich display: the table in HTML, Markdown and LaTeX, showing the same
    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_markdown_(self) -> str:
        return self.table()._repr_markdown_()

    def _repr_latex_(self) -> str:
        return self.table()._repr_latex_()


class Sequential(Network):
    """A chain of layers on one input, like ``torch.nn.Sequential``.

    Layers are given in order, or as one mapping from names to layers. Default node
    names are the layer kind and a counter: ``conv1, pool1, relu1, conv2, ...``.

    Examples
    --------
    >>> import symcnn as sc
    >>> net = sc.Sequential(sc.Conv2d(1, 32, kernel_size=5), sc.MaxPool2d(kernel_size=3),
    ...                     input_shape=(1, 28, 28))
    >>> [r.name for r in net.layers], net.output_shape
    (['conv1', 'pool1'], Shape((32, 8, 8)))
    """

    def __init__(self, *layers: Layer | Mapping[str, Layer], input_shape: Iterable[Any]):
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            named = list(layers[0].items())
        else:
            named = list(zip(default_names(layers), layers, strict=True))  # type: ignore[arg-type]
        wiring = [Wiring("input", Input(input_shape))]
        for name, layer in named:
            if not isinstance(layer, Layer):
                raise GraphError(f"Sequential takes symcnn layers, got {layer!r} for {name!r}")
            wiring.append(Wiring(name, layer, (wiring[-1].name,)))
        self._take(derive_all(wiring), None, None)

