"""The rows every exporter shows: one per layer, then the totals, read from the records.

Exporters differ in how a cell is written (plain text, LaTeX, Markdown, JSON), not in
what a row holds; this module decides the latter once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError
from ..graph.convert import EDGE_PORT, NODE_RECORD
from ..symbolic.derivation import Derivation
from ..symbolic.shape import Shape

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = [
    "Row",
    "inputs_of",
    "inputs_text",
    "paired",
    "point",
    "restates",
    "rows",
    "shapes_text",
    "show_names",
    "shows_working",
    "with_value",
]


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a table: a layer, or the totals (``index is None``).

    Attributes
    ----------
    index : int or None
        The layer's position, None on the totals row.
    name, description : str
        The node name and the PyTorch-style description; ``"total"`` on the totals row.
    input_shapes : tuple of Shape
        The layer's inputs in port order; the network's inputs on the totals row.
    output_shapes : tuple of Shape
        The layer's output; the network's outputs on the totals row.
    params, products : Derivation
        How the counts are made; leaves (the sums) on the totals row.
    shared : bool
        Whether the layer's parameters are counted at an earlier node.
    inputs : tuple of str
        The rows that feed this one, by name, when that is not simply the row above it
        (a merge, a branch); empty otherwise.
    layers : int
        How many layers the row stands for: 1, or the layers of a module's group.
    group : bool
        Whether the row sums a module's layers (a table by depth); its description is
        then the module's class and its counts are the sums of its layers'.
    """

    index: int | None
    name: str
    description: str
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    params: Derivation
    products: Derivation
    shared: bool = False
    inputs: tuple[str, ...] = ()
    layers: int = 1
    group: bool = False

    @property
    def is_total(self) -> bool:
        """Whether this is the totals row."""
        return self.index is None

    @property
    def number(self) -> str:
        """The layer's number, a group's first and last (``4–13``); empty on the totals."""
        if self.index is None:
            return ""
        last = self.index + self.layers - 1
        return str(self.index) if last == self.index else f"{self.index}–{last}"


def inputs_text(names: Iterable[str], most: int = 3) -> str:
    """The rows feeding a merge, the first few by name: a DenseNet concat reads 30.

    Examples
    --------
    >>> inputs_text(["a", "b"]), inputs_text(["a", "b", "c", "d", "e"])
    ('a, b', 'a, b, … 3 more')
    """
    names = list(names)
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[: most - 1]) + f", … {len(names) - most + 1} more"


def shapes_text(shapes: Iterable[Shape]) -> str:
    """Several shapes in one cell: ``64×H×W, 64×H×W`` (a slash would read as division)."""
    return ", ".join(map(str, shapes))


def rows(net: Network, depth: int | None = None) -> list[Row]:
    """One :class:`Row` per layer (or per module at ``depth``), in order, then the totals.

    With ``depth`` the layers inside one module at that depth of the hierarchy
    (:class:`~symcnn.graph.hierarchy.Hierarchy`: ``layer1`` at depth 1, ``layer1.0`` at
    2) make one row: the module's class, the shapes from its first input to its last
    output, and its parameters and products summed, as formulas. A layer outside every
    module that deep keeps its own row. ``depth=None`` keeps every layer.

    Examples
    --------
    >>> import symcnn as sc
    >>> net = sc.Sequential(sc.Linear(256, 200), input_shape=(256,))
    >>> [(r.name, r.params.value) for r in rows(net)]
    [('linear1', 51400), ('total', 51400)]
    >>> net = sc.Sequential({"block.fc1": sc.Linear(4, 3), "block.fc2": sc.Linear(3, 2),
    ...                      "head": sc.Linear(2, 1)}, input_shape=(4,))
    >>> [(r.name, r.description, str(r.params.value)) for r in rows(net, depth=1)]
    [('block', '2 layers', '23'), ('head', 'nn.Linear(2, 1)', '3'), ('total', 'total', '26')]
    """
    graph = net.graph
    runs = _runs(net, _depth(depth))
    home = {n: name for name, members, _ in runs for n in members}  # node -> its row's name
    out: list[Row] = []
    above = next(iter(_input_names(graph)), None)
    for name, members, group in runs:
        records = [graph.nodes[n][NODE_RECORD] for n in members]
        inside = set(members)
        outside = (u for n in members for u in _sources(graph, n) if u not in inside)
        feeds = tuple(dict.fromkeys(home.get(u, u) for u in outside))
        shown = () if feeds == (above,) else feeds
        above = name
        if not group:
            r = records[0]
            out.append(
                Row(r.index, r.name, r.description, r.input_shapes, (r.output_shape,),
                    r.params_derivation, r.products_derivation, r.shared, shown)
            )
            continue
        kind = net.hierarchy.kind(name)
        count = f"{len(records)} layer{'s' * (len(records) > 1)}"
        out.append(
            Row(
                index=records[0].index,
                name=name,
                description=f"{kind} ({count})" if kind else count,
                input_shapes=records[0].input_shapes,
                output_shapes=(records[-1].output_shape,),
                params=_sum(r.params for r in records if not r.shared),
                products=_sum(r.products for r in records),
                shared=all(r.shared for r in records),
                inputs=shown,
                layers=len(records),
                group=True,
            )
        )
    out.append(
        Row(
            index=None,
            name="total",
            description="total",
            input_shapes=tuple(i.shape for i in net.inputs),
            output_shapes=net.output_shapes,
            params=Derivation("leaf", (net.params,)),
            products=Derivation("leaf", (net.products,)),
        )
    )
    return out


def _depth(depth: int | None) -> int | None:
    if depth is None or (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 1):
        return depth
    raise ValueError(
        f"depth is a whole number of 1 or more, or None for every layer (got {depth!r})"
    )


def _runs(net: Network, depth: int | None) -> list[tuple[str, list[str], bool]]:
    """The rows: a name, its layers, and whether it is a module's group.

    Consecutive layers of one module make one group. A layer outside every module that
    deep keeps a row of its own, even beside a module of the same name (a node ``a``
    and a module ``a`` holding ``a.b``).
    """
    runs: list[tuple[str, list[str], bool]] = []
    for r in net.layers:
        key = None if depth is None else net.hierarchy.group(r.name, depth)
        if key is not None and runs and runs[-1][2] and runs[-1][0] == key:
            runs[-1][1].append(r.name)
        else:
            runs.append((r.name if key is None else key, [r.name], key is not None))
    return runs


def _sources(graph: Any, node: str) -> list[str]:
    """The nodes feeding ``node``, in port order."""
    edges = sorted(graph.in_edges(node, data=EDGE_PORT, keys=True), key=lambda e: e[3])
    return [u for u, _, _, _ in edges]


def _input_names(graph: Any) -> list[str]:
    return [n for n, record in graph.nodes(data=NODE_RECORD) if record is None]


def inputs_of(net: Network) -> list[tuple[str, Shape]]:
    """The network's input nodes, each with its shape, in order.

    Examples
    --------
    >>> import symcnn as sc
    >>> inputs_of(sc.Sequential(sc.Linear(2, 1), input_shape=(2,)))
    [('input', Shape((2,)))]
    """
    names = _input_names(net.graph)
    return list(zip(names, (i.shape for i in net.inputs), strict=True))


def _sum(values: Iterable[sympy.Expr]) -> Derivation:
    return Derivation("leaf", (sympy.Add(*values),))


def show_names(net: Network, names: bool | None) -> bool:
    """Whether a table shows the node-name column: ``names``, or by default when named.

    A network built by :func:`symcnn.from_torch` names its nodes after the module's
    attributes (``layer1.0.conv1``), which a reader needs to find the layer in the model,
    as does any network whose names are dotted paths (a table by depth shows them as
    its rows' names); symcnn's own default names (``conv1``) repeat the description and
    are left out by default.

    Parameters
    ----------
    net : Network
        The network the table shows.
    names : bool or None
        The caller's choice; None for the default.

    Returns
    -------
    bool
        Whether to show the column.

    Examples
    --------
    >>> import symcnn as sc
    >>> net = sc.Sequential(sc.Linear(2, 1), input_shape=(2,))
    >>> show_names(net, None), show_names(net, True)
    (False, True)
    >>> show_names(sc.Sequential({"head.fc": sc.Linear(2, 1)}, input_shape=(2,)), None)
    True
    """
    if names is not None:
        return bool(names)
    if net.graph.graph.get("source") == "torch":
        return True
    return any("." in str(r.name) for r in net.layers)


def point(net: Network, at: Mapping[Any, Any]) -> Network:
    """The network at ``at``, checked to bind every symbol (records hold integers there).

    Raises
    ------
    ShapeError
        When symbols are left unbound (a ``ValueError`` too, as every ShapeError is).
    """
    fixed = net.subs(at)
    left = sorted(map(str, fixed.free_symbols))
    if left:
        raise ShapeError(
            f"'at' must give a value to every symbol of the network; {', '.join(left)} left unbound"
        )
    return fixed


def with_value(
    d: Derivation,
    derivation: Callable[[Derivation], str],
    value: Callable[[sympy.Expr], str],
) -> str:
    """A count as on the seed slide, ``derivation = value``; the value alone for a leaf.

    A symbolic derivation that only restates the value's factors in another order
    (``32·(n - k + 1)²·k²`` for ``32·k²·(n - k + 1)²``) is left out too; a numeric one is
    the slide's working (``32·24²·5² = 460800``) and stays.
    """
    shown = value(d.value)
    return f"{derivation(d)} = {shown}" if shows_working(d) else shown


def shows_working(d: Derivation) -> bool:
    """Whether a count is shown with its working: not a leaf, and not a mere restatement."""
    return not (d.is_leaf or restates(d))


def paired(
    net: Network, fixed: Network | None, depth: int | None = None
) -> list[tuple[Row, Row | None]]:
    """Each row of ``net`` with the same row of ``fixed`` (the network at a point), if any."""
    if fixed is None:
        return [(r, None) for r in rows(net, depth)]
    return list(zip(rows(net, depth), rows(fixed, depth), strict=True))


def restates(d: Derivation) -> bool:
    """Whether a symbolic derivation is its value's factors, constants multiplied out.

    Examples
    --------
    >>> from symcnn.symbolic.derivation import power, product, total
    >>> n, k = sympy.symbols("n k", positive=True, integer=True)
    >>> restates(product(32, power(n - k + 1, 2), power(k, 2)))
    True
    >>> restates(product(32, total(power(k, 2), 1)))  # 32·(k²+1) = 32·k² + 32
    False
    >>> restates(product(32, power(24, 2), power(5, 2)))  # numbers: the slide's working
    False
    """
    value = d.value
    if d.is_leaf or not getattr(value, "free_symbols", None):
        return False
    return _factors(d) == _powers(value)


def _factors(d: Derivation) -> dict[sympy.Expr, sympy.Expr]:
    if d.op == "mul":
        out: dict[sympy.Expr, sympy.Expr] = {}
        for a in d.args:
            _merge(out, _factors(a))
        return out
    if d.op == "pow":
        base, exp = d.args
        return _scaled(_factors(base), exp.value)
    return _powers(d.value)


def _powers(value: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    """``value`` as a product: each base with its exponent, the constants as one number."""
    out: dict[sympy.Expr, sympy.Expr] = {}
    for factor in sympy.Mul.make_args(value):
        base, exp = factor.as_base_exp()
        _merge(out, {sympy.Integer(1): factor} if factor.is_number else {base: exp})
    return out


def _scaled(powers: dict[sympy.Expr, sympy.Expr], exp: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    return {b: (e**exp if b == 1 else e * exp) for b, e in powers.items()}


def _merge(into: dict[sympy.Expr, sympy.Expr], powers: dict[sympy.Expr, sympy.Expr]) -> None:
    for base, exp in powers.items():  # base 1 holds the constant factor, multiplied
        if base == 1:
            into[base] = into.get(base, sympy.Integer(1)) * exp
        else:
            into[base] = into.get(base, sympy.Integer(0)) + exp
