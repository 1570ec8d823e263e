"""What a notebook shows for a network: one table value, rendered in every format.

:meth:`Network.table <symcnn.graph.network.Network.table>` returns a :class:`Table`;
Jupyter calls its ``_repr_html_`` (or ``_repr_markdown_``, ``_repr_latex_``), which show
the same rows and columns: the node names, the rows feeding each merge, and the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._table import rows

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["Table"]


@dataclass(frozen=True)
class Table:
    """A network's table at an optional point and depth, ready for any display.

    Attributes
    ----------
    network : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: each formula beside its value there.
    depth : int, optional
        Sum the layers of each module that deep in one row; None keeps every layer.

    Examples
    --------
    >>> import symcnn as sc
    >>> from symcnn.models import lenet
    >>> t = lenet(28, 5).table()
    >>> t.rows[0].name, t.rows[-1].params.value
    ('conv1', 105506)
    >>> "symcnn-total" in t._repr_html_()
    True
    """

    network: Network
    at: Mapping[Any, Any] | None = field(default=None)
    depth: int | None = None

    @property
    def rows(self) -> list[Any]:
        """The rows (:class:`~symcnn.export._table.Row`), the totals last."""
        return rows(self.network, self.depth)

    def to_html(self) -> str:
        """:func:`symcnn.export.html.to_html` with the node names."""
        from .html import to_html

        return to_html(self.network, at=self.at, depth=self.depth, names=True)

    def to_markdown(self) -> str:
        """:func:`symcnn.to_markdown` with the node names."""
        from .markdown import to_markdown

        return to_markdown(self.network, at=self.at, depth=self.depth, names=True)

    def to_latex(self, **options: Any) -> str:
        """:func:`symcnn.to_latex` with the node names; ``options`` pass through.

        A table longer than a page is a ``longtable`` (nbconvert's LaTeX template loads
        the package), so a notebook turned into a PDF keeps every row.
        """
        from .latex import PAGE_ROWS, to_latex

        options.setdefault("long", len(self.rows) - 1 > PAGE_ROWS)
        both = self.at is not None
        return to_latex(
            self.network, at=self.at, both=both, depth=self.depth, names=True, **options
        )

    def to_text(self) -> str:
        """:func:`symcnn.to_text` (names as it decides)."""
        from .text import to_text

        return to_text(self.network, at=self.at, depth=self.depth)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        shown = "" if self.depth is None else f", depth={self.depth}"
        return f"<Table of {self.network!r}{shown}>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return self.to_latex()
