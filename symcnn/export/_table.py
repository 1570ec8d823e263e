"""The rows every exporter shows: one per layer, then the totals, read from the records.

Exporters differ in how a cell is written (plain text, LaTeX, Markdown, JSON), not in
what a row holds; this module decides the latter once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError
from ..symbolic.derivation import Derivation
from ..symbolic.shape import Shape

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["Row", "point", "rows", "show_names", "with_value"]


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
    """

    index: int | None
    name: str
    description: str
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    params: Derivation
    products: Derivation
    shared: bool = False

    @property
    def is_total(self) -> bool:
        """Whether this is the totals row."""
        return self.index is None


def rows(net: Network) -> list[Row]:
    """One :class:`Row` per layer, in order, then the totals row.

    Examples
    --------
    >>> import symcnn as sc
    >>> net = sc.Sequential(sc.Linear(256, 200), input_shape=(256,))
    >>> [(r.name, r.params.value) for r in rows(net)]
    [('linear1', 51400), ('total', 51400)]
    """
    out = [
        Row(
            index=r.index,
            name=r.name,
            description=r.description,
            input_shapes=r.input_shapes,
            output_shapes=(r.output_shape,),
            params=r.params_derivation,
            products=r.products_derivation,
            shared=r.shared,
        )
        for r in net.layers
    ]
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


def show_names(net: Network, names: bool | None) -> bool:
    """Whether a table shows the node-name column: ``names``, or by default for torch.

    A network built by :func:`symcnn.from_torch` names its nodes after the module's
    attributes (``layer1.0.conv1``), which a reader needs to find the layer in the model;
    symcnn's own names (``conv1``) repeat the description and are left out by default.

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
    """
    if names is not None:
        return bool(names)
    return net.graph.graph.get("source") == "torch"


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
    """A count as on the seed slide, ``derivation = value``; the value alone for a leaf."""
    shown = value(d.value)
    return shown if d.is_leaf else f"{derivation(d)} = {shown}"
