"""``Network``: a networkx DiGraph of layers with every size, count and condition derived."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import sympy
from sympy.logic.boolalg import Boolean

from ..validity import queries as analysis
from ..validity.condition import Condition
from ..validity.domain import simplify_domain
from ..errors import GraphError, ShapeError
from ..symbolic.guard import asking
from ..layers import Input, Layer
from ..layers.base import derive
from ..symbolic.printing import text
from .record import LayerRecord, Upstream
from ..symbolic.shape import Shape, as_size

if TYPE_CHECKING:
    import networkx as nx

    from ..layers.tensor import Tensor

__all__ = ["EDGE_PORT", "NODE_LAYER", "NODE_RECORD", "Network", "Sequential"]

#: Node attribute holding the :class:`~symcnn.layers.Layer`.
NODE_LAYER = "layer"
#: Node attribute holding the derived :class:`~symcnn.graph.record.LayerRecord`.
NODE_RECORD = "record"
#: Edge attribute: which input of the target node the edge feeds (0, 1, ...).
EDGE_PORT = "port"


#: How a per-sample input of each rank reads, for messages.
_AXES = {2: "(C, L)", 3: "(C, H, W)", 4: "(C, D, H, W)"}


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
        import networkx as nx  # imported on first use: `import symcnn` stays light

        if isinstance(inputs, nx.DiGraph):
            if outputs is not None:
                raise GraphError("give either a graph, or inputs and outputs")
            graph = inputs
        else:
            graph = _trace(inputs, outputs)
        self._graph = nx.DiGraph(graph)
        self._bindings = dict(bindings or {})
        self._order = _topological_order(self._graph)
        self._input_conditions: list[Condition] = []
        self._own_conditions: list[tuple[str, Condition]] = []
        self._records = self._derive()
        self._constraints: tuple[Boolean, ...] | None = None
        self._domain: tuple[tuple[str, Condition], ...] | None = None
        self._free_symbols: frozenset[sympy.Symbol] | None = None
        self._totals: dict[str, sympy.Expr] = {}
        self._read_only: nx.DiGraph | None = None

    # -- derivation ---------------------------------------------------------------------
    def _derive(self) -> tuple[LayerRecord, ...]:
        """Every node's shapes, conditions and counts, in topological order.

        A failure inside sympy is reported as a SolverError naming the layer.
        """
        where = ["the network"]  # the node being derived, for the message
        with asking(lambda: f"deriving {where[0]}"):
            return self._derive_nodes(where)

    def _derive_nodes(self, where_now: list[str]) -> tuple[LayerRecord, ...]:
        g = self._graph
        outputs: dict[Any, Shape] = {}
        fields: dict[Any, tuple[Any, Any]] = {}
        domains: dict[Any, Upstream] = {}
        seen: set[int] = set()
        records: list[LayerRecord] = []
        for node in self._order:
            layer = g.nodes[node].get(NODE_LAYER)
            if not isinstance(layer, Layer):
                raise GraphError(f"node {node!r} carries no symcnn layer under {NODE_LAYER!r}")
            where_now[0] = f"{layer!r} at node {node!r}"
            preds = sorted(g.predecessors(node), key=lambda p: g.edges[p, node].get(EDGE_PORT, 0))
            if layer.arity is None and len(preds) < 2:
                raise GraphError(
                    f"{layer!r} at node {node!r} merges two or more inputs, "
                    f"but {len(preds)} edge(s) lead to it"
                )
            if layer.arity is not None and len(preds) != layer.arity:
                raise GraphError(
                    f"{layer!r} at node {node!r} takes {layer.arity} input(s), "
                    f"but {len(preds)} edge(s) lead to it"
                )
            _check_ports(g, node, layer, preds)
            inputs = tuple(outputs[p] for p in preds)
            index = len(records)
            where = f"{layer!r} at layer {index} ({node})"
            if layer.input_rank is not None:
                for x in inputs:
                    if len(x) != layer.input_rank:
                        axes = _AXES.get(layer.input_rank, "")
                        raise ShapeError(
                            f"{where} needs a per-sample input of {layer.input_rank} axes "
                            f"{axes}, got {x}{self._bound()}"
                        )
            if layer.arity == 0:
                where = f"{layer!r} ({node})"
            # Hyperparameters first: a zero stride must be reported before any division by it.
            conditions = self._settle(derive(layer, "hyper_conditions", ()), where)
            conditions += self._settle(
                self._located(where, layer, "input_conditions", inputs), where
            )
            outputs[node] = self._located(where, layer, "output_shape", inputs)
            own = tuple((where, c) for c in conditions)
            domains[node] = Upstream(own, tuple(domains[p] for p in preds))
            self._own_conditions.extend(own)
            fields[node] = _receptive(layer, [fields[p] for p in preds], outputs[node])
            if isinstance(layer, Input):
                if g.out_degree(node) == 0 and len(g) > 1:
                    raise GraphError(f"input node {node!r} is disconnected: no layer reads it")
                g.nodes[node][NODE_RECORD] = None
                self._input_conditions.extend(conditions)
                continue
            record = LayerRecord(
                index=index,
                name=str(node),
                layer=layer,
                input_shapes=inputs,
                output_shape=outputs[node],
                params_derivation=derive(layer, "params", inputs),
                products_derivation=derive(layer, "products", inputs),
                buffers_derivation=derive(layer, "buffers", inputs),
                bias_adds_derivation=derive(layer, "bias_adds", inputs),
                elementwise_derivation=derive(layer, "elementwise", inputs),
                conditions=conditions,
                shared=id(layer) in seen,
                upstream=domains[node],
                receptive_field=fields[node][0],
                jump=fields[node][1],
            )
            seen.add(id(layer))
            g.nodes[node][NODE_RECORD] = record
            records.append(record)
        return tuple(records)

    def _located(self, where: str, layer: Layer, rule: str, inputs: tuple[Shape, ...]) -> Any:
        """Call a layer's rule, naming the layer in a structural error.

        Structural rules have no relation to decide: Flatten's dims, the ranks of a merge.
        """
        try:
            return derive(layer, rule, inputs)
        except ShapeError as err:
            raise ShapeError(f"{where}: {err}{self._bound()}") from None

    def _settle(self, conditions: Iterable[Condition], where: str) -> tuple[Condition, ...]:
        """Raise on a false condition; return those still undecided, without repeats."""
        open_: list[Condition] = []
        for cond in conditions:
            verdict = cond.decide()
            if verdict is False:
                raise ShapeError(f"{where}: {cond.explain()}{self._bound()}")
            if verdict is None and cond.relation not in (c.relation for c in open_):
                open_.append(cond)
        return tuple(open_)

    def _bound(self) -> str:
        if not self._bindings:
            return ""
        return " (" + ", ".join(f"{s}={text(v)}" for s, v in self._bindings.items()) + ")"

    # -- the graph and its records ------------------------------------------------------
    @property
    def graph(self) -> nx.DiGraph:
        """The annotated graph, read-only: each node has ``"layer"`` and ``"record"``.

        A network is a value: its totals, domain and records are derived once, so the
        graph it answers for cannot change under it. The graph is frozen (networkx's
        :func:`~networkx.freeze`) and its node, edge and graph attributes are read-only
        mappings; to change a network, copy the graph (``networkx.DiGraph(net.graph)``),
        change the copy and build a new ``Network`` from it.

        Examples
        --------
        >>> import networkx as nx, symcnn as sc
        >>> net = sc.Sequential(sc.Conv2d(1, 8, 3), input_shape=(1, 28, 28))
        >>> net.graph.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
        Traceback (most recent call last):
        ...
        TypeError: 'mappingproxy' object does not support item assignment
        >>> g = nx.DiGraph(net.graph)
        >>> g.nodes["conv1"]["layer"] = sc.Conv2d(1, 16, 3)
        >>> sc.Network(g).params, net.params
        (160, 80)
        """
        if self._read_only is None:
            self._read_only = _read_only(self._graph)
        return self._read_only

    @property
    def layers(self) -> tuple[LayerRecord, ...]:
        """One record per layer (inputs excluded), in topological order."""
        return self._records

    def __getitem__(self, key: int | str) -> LayerRecord:
        """A layer's record by index or by node name."""
        if isinstance(key, str):
            for record in self._records:
                if record.name == key:
                    return record
            raise KeyError(key)
        return self._records[key]

    def __len__(self) -> int:
        return len(self._records)

    @property
    def inputs(self) -> tuple[Input, ...]:
        """The input layers, in topological order."""
        return tuple(
            layer
            for node in self._order
            if isinstance(layer := self._graph.nodes[node][NODE_LAYER], Input)
        )

    @property
    def input_shape(self) -> Shape:
        """The per-sample shape of the (single) input."""
        (single,) = self.inputs
        return single.shape

    @property
    def outputs(self) -> tuple[Any, ...]:
        """The output nodes: those given to the constructor, else the nodes nothing reads."""
        given = self._graph.graph.get("outputs")
        if given is not None:
            return tuple(given)
        return tuple(n for n in self._order if self._graph.out_degree(n) == 0)

    @property
    def output_shapes(self) -> tuple[Shape, ...]:
        """The per-sample shape of every output, in order."""
        return tuple(self._graph.nodes[n][NODE_RECORD].output_shape for n in self.outputs)

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
        from ..conventions import convention_total

        return convention_total(convention, self.products, self.bias_adds)

    def activation_memory(self, bytes_per_element: int = 4) -> sympy.Expr:
        """Bytes of activations per sample: the inputs and every node's output, each once.

        That is the memory a forward pass needs when it keeps every activation, as
        training does; in-place layers (``ReLU(inplace=True)``) are counted as separate
        tensors, and parameters, buffers and gradients are not included.
        ``bytes_per_element`` is a positive whole number (4 for float32, 2 for bfloat16).
        """
        if (
            isinstance(bytes_per_element, bool)
            or not isinstance(bytes_per_element, int)
            or bytes_per_element < 1
        ):
            raise ShapeError(
                "activation_memory: bytes_per_element must be a positive whole number, such "
                f"as 4 for float32 (got {bytes_per_element!r})"
            )
        elements = sympy.Add(*(i.shape.numel for i in self.inputs), self.output_elements)
        return bytes_per_element * elements

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
            self._constraints = simplify_domain((c.relation for c in self.conditions), prefer)
        return self._constraints

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The undecided conditions with their explanations: inputs first, then by layer."""
        return (*self._input_conditions, *(c for r in self._records for c in r.conditions))

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """Every symbol the network's hyperparameters and input shapes contain."""
        if self._free_symbols is None:
            self._free_symbols = frozenset().union(
                *(self._graph.nodes[node][NODE_LAYER].free_symbols for node in self._order)
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
        import networkx as nx

        graph = nx.DiGraph(**self._graph.graph)
        for node in self._order:
            layer = self._graph.nodes[node][NODE_LAYER]
            if id(layer) not in memo:
                memo[id(layer)] = layer.substituted(resolved)
            graph.add_node(node, **{NODE_LAYER: memo[id(layer)]})
        graph.add_edges_from(self._graph.edges(data=True))
        new = object.__new__(type(self))
        bindings = {s: v for s, v in self._bindings.items() if not isinstance(s, sympy.Dummy)}
        Network.__init__(new, graph, bindings={**bindings, **shown})
        return new

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

        analysis._check_quantity(quantity)
        return evaluate_checked(
            getattr(self, quantity),
            self.domain,
            values,
            on_invalid,
            symbols=self.free_symbols,
            equivalent=self.constraints,
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

    # -- questions (symcnn.validity.queries) ----------------------------------------------------
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
        return analysis.is_valid(self, point)

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
        return analysis.violation(self, point)

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
        return analysis.smallest(self, x, fixed)

    def smallest(
        self,
        x: sympy.Symbol | str,
        fixed: Mapping[Any, Any] | None = None,
        *,
        require: Iterable[Boolean] = (),
    ) -> int:
        """:func:`symcnn.validity.queries.smallest`: the least valid ``x`` meeting ``require``."""
        return analysis.smallest(self, x, fixed, require=require)

    def largest(
        self,
        x: sympy.Symbol | str,
        fixed: Mapping[Any, Any] | None = None,
        *,
        require: Iterable[Boolean] = (),
    ) -> int | sympy.Expr:
        """:func:`symcnn.validity.queries.largest`: the greatest valid ``x`` meeting ``require``."""
        return analysis.largest(self, x, fixed, require=require)

    def leading_term(self, quantity: str, x: sympy.Symbol | str) -> sympy.Expr:
        """The highest-order term of a total (``"products"``, ...) as ``x`` grows."""
        analysis._check_quantity(quantity)
        symbol = self._resolve({x: 1}).popitem()[0] if isinstance(x, str) else x
        return analysis.leading_term(getattr(self, quantity), symbol)

    def dominant(
        self, quantity: str, x: sympy.Symbol | None = None, at: Mapping[Any, Any] | None = None
    ) -> LayerRecord:
        """:func:`symcnn.validity.queries.dominant`: the layer with the largest ``quantity``."""
        return analysis.dominant(self, quantity, x, at)

    # -- checks -------------------------------------------------------------------------
    def check_exact_fit(self) -> tuple[Boolean, ...]:
        """cs231n's stricter rule: every window layer's strides tile its input exactly.

        PyTorch floors ``(W - F + 2P)/S + 1`` and drops leftover rows and columns
        silently; some courses require the division to be exact. This check is offered
        apart and never changes the shapes symcnn derives. It raises
        :class:`ShapeError` at the first layer where the fit is provably inexact and
        returns the conditions that still depend on symbols.
        """
        undecided = []
        for r in self._records:
            for cond in r.layer.exact_fit_conditions(*r.input_shapes):
                verdict = cond.decide()
                if verdict is False:
                    raise ShapeError(
                        f"{r.layer!r} at layer {r.index} ({r.name}): {cond.explain()}"
                        f"{self._bound()}"
                    )
                if verdict is None and cond.relation not in undecided:
                    undecided.append(cond.relation)
        return tuple(undecided)

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        head = f"<{type(self).__name__}: {len(self)} layers"
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return head + ">"
        return f"{head}, input {self.input_shape} → output {self.output_shape}>"

    def __str__(self) -> str:
        from ..export.text import to_text

        return to_text(self)

    # -- notebook display (IPython's rich display protocol) -------------------------------
    def _repr_markdown_(self) -> str:
        from ..export.markdown import to_markdown

        return to_markdown(self)

    def _repr_html_(self) -> str:
        from ..export.markdown import to_html

        return to_html(self)

    def _repr_latex_(self) -> str:
        from ..export.latex import latex_totals

        return latex_totals(self)


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
            named = list(zip(_default_names(layers), layers, strict=True))  # type: ignore[arg-type]
        import networkx as nx

        graph = nx.DiGraph()
        previous = "input"
        graph.add_node(previous, **{NODE_LAYER: Input(input_shape)})
        for name, layer in named:
            if not isinstance(layer, Layer):
                raise GraphError(f"Sequential takes symcnn layers, got {layer!r} for {name!r}")
            if name in graph:
                raise GraphError(f"two layers are named {name!r}")
            graph.add_node(name, **{NODE_LAYER: layer})
            graph.add_edge(previous, name, **{EDGE_PORT: 0})
            previous = name
        super().__init__(graph)


def _check_ports(g: nx.DiGraph, node: Any, layer: Layer, preds: list[Any]) -> None:
    """Each input of a merge on its own port: the order must not depend on insertion."""
    ports = [g.edges[p, node].get(EDGE_PORT, 0) for p in preds]
    for i in range(1, len(preds)):
        if ports[i] == ports[i - 1]:
            raise GraphError(
                f"{layer!r} at node {node!r}: the edges from {preds[i - 1]!r} and {preds[i]!r} "
                f"both feed port {ports[i]}; give each input edge its own {EDGE_PORT!r} "
                "(0, 1, ...)"
            )


def _receptive(layer: Layer, upstream: list[tuple[Any, Any]], out: Shape) -> tuple[Any, Any]:
    """(receptive field, jump) per spatial axis of a node, None where not defined.

    Branches that meet at a merge with different fields give the largest one per axis
    (the union of their windows, not an average); with different jumps, None.
    """
    if not upstream:
        ones = (sympy.Integer(1),) * (len(out) - 1)
        return (ones, ones) if len(out) > 1 else (None, None)
    if any(f is None or j is None for f, j in upstream):
        return None, None
    field = tuple(_largest(axis) for axis in zip(*(f for f, _ in upstream), strict=True))
    jumps = {j for _, j in upstream}
    if len(jumps) != 1:
        return None, None
    return layer.receptive(field, jumps.pop())


def _largest(sizes: tuple[sympy.Expr, ...]) -> sympy.Expr:
    distinct = set(sizes)
    if len(distinct) == 1:
        return sizes[0]
    if all(s.is_Integer for s in distinct):
        return max(distinct)
    return sympy.Max(*distinct)


def _trace(inputs: Any, outputs: Any) -> nx.DiGraph:
    """The graph behind symbolic tensors: every node between ``inputs`` and ``outputs``."""
    from ..layers.tensor import Tensor, node_key, source

    given_inputs = [inputs] if isinstance(inputs, Input) else list(inputs)
    if outputs is None:
        raise GraphError("give the network's outputs: Network(inputs, outputs)")
    given_outputs = [outputs] if isinstance(outputs, (Tensor, Input)) else list(outputs)
    heads = [source(o) if isinstance(o, Input) else o for o in given_outputs]
    for o in heads:
        if not isinstance(o, Tensor):
            raise GraphError(f"outputs must be tensors returned by layers, got {o!r}")
    found: dict[int, Tensor] = {}
    stack = list(heads)
    while stack:
        t = stack.pop()
        if node_key(t) not in found:
            found[node_key(t)] = t
            stack.extend(t.parents)
    input_keys = {id(i): i for i in given_inputs}
    for i in given_inputs:
        if not isinstance(i, Input):
            raise GraphError(f"inputs must be sc.Input layers, got {i!r}")
        if id(i) not in found:
            raise GraphError(f"the outputs do not depend on the input {i!r}")
    for key, t in found.items():
        if not t.parents and key not in input_keys:
            raise GraphError(f"the outputs depend on {t.layer!r}, which is not among the inputs")
    names = _names(found, given_inputs)
    import networkx as nx

    graph = nx.DiGraph(outputs=[names[node_key(o)] for o in heads])
    ordered = sorted(found.values(), key=lambda t: (bool(t.parents), t.order))
    for t in ordered:
        graph.add_node(names[node_key(t)], **{NODE_LAYER: t.layer})
    for t in ordered:
        child = names[node_key(t)]
        for port, parent in enumerate(t.parents):
            edge = (names[node_key(parent)], child)
            if graph.has_edge(*edge):
                raise GraphError(
                    f"the same tensor ({edge[0]}) is passed twice to {t.layer!r} ({child}); "
                    "an Identity() in between makes the second use its own node"
                )
            graph.add_edge(*edge, **{EDGE_PORT: port})
    return graph


def _names(found: Mapping[int, Any], inputs: list[Input]) -> dict[int, str]:
    """Node names: the user's, else 'input' / 'input1', ... and the layer kind with a counter."""
    names: dict[int, str] = {}
    for i, layer in enumerate(inputs, start=1):
        names[id(layer)] = "input" if len(inputs) == 1 else f"input{i}"
    layers = sorted((t for t in found.values() if t.parents), key=lambda t: t.order)
    for t, default in zip(layers, _default_names(t.layer for t in layers), strict=True):
        names[id(t)] = t.name or default
    taken: dict[str, int] = {}
    for key, name in names.items():
        if name in taken:
            raise GraphError(f"two nodes are named {name!r}")
        taken[name] = key
    return names


def _default_names(layers: Iterable[Any]) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        kind = getattr(layer, "kind", "layer")
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names


def _read_only(graph: nx.DiGraph) -> nx.DiGraph:
    """A frozen copy of ``graph`` whose attribute mappings cannot be written either.

    :func:`networkx.freeze` stops adding and removing nodes and edges, but leaves each
    node's and edge's attribute dict writable; those become read-only mappings here.
    """
    import networkx as nx

    view = nx.DiGraph()
    view.add_nodes_from(graph.nodes(data=True))
    view.add_edges_from(graph.edges(data=True))
    for node, data in view._node.items():
        view._node[node] = MappingProxyType(data)
    for u, targets in view._succ.items():
        for v, data in targets.items():
            targets[v] = view._pred[v][u] = MappingProxyType(data)
    attributes = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in graph.graph.items()
    }
    view.graph = MappingProxyType(attributes)
    return nx.freeze(view)


def _topological_order(graph: nx.DiGraph) -> list[Any]:
    """Nodes in dependency order, ties broken by insertion order; cycles reported."""
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        position = {node: i for i, node in enumerate(graph.nodes)}
        return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    path = " → ".join(str(u) for u, _ in cycle) + f" → {cycle[0][0]}"
    raise GraphError(f"the graph has a cycle: {path}")
