"""Markdown and HTML tables, in the layout of the text table (:func:`~symcnn.to_text`)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._table import show_names
from .text import text_table

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["to_html", "to_markdown"]

# Characters that would start emphasis, code, links, HTML or a new cell in a table.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<>\[\]|])")


def to_markdown(
    net: Network, *, at: Mapping[Any, Any] | None = None, names: bool | None = None
) -> str:
    r"""The network as a GitHub-flavoured Markdown table, the cells of :func:`to_text`.

    Layer descriptions are code spans; a cell of several lines (formula above value,
    with ``at``) is joined with ``<br>``; ``|`` and Markdown's other special characters
    are escaped.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: each formula with its value there below it.
    names : bool, optional
        Add a ``name`` column of node names; by default only for networks built by
        :func:`symcnn.from_torch` (see :func:`symcnn.to_text`).

    Returns
    -------
    str
        The table.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_markdown(sc.Sequential(sc.Linear(2, 1), input_shape=(2,))))
    | #   | layer             | input size | output size | # parameters | # products |
    |-----|-------------------|------------|-------------|--------------|------------|
    | 0   | `nn.Linear(2, 1)` | 2          | 1           | 2+1 = 3      | 2          |
    |     | total             |            |             | 3            | 2          |
    """
    shown = show_names(net, names)
    headers, rows = text_table(net, at=at, names=shown)
    layer = 1 + shown  # the description's column
    table = [[_text(h) for h in headers]]
    for i, row in enumerate(rows):
        code = i < len(rows) - 1  # the totals row's "total" is a word, not code
        table.append([_code(c) if code and j == layer else _text(c) for j, c in enumerate(row)])
    widths = [max(3, *(len(r[j]) for r in table)) for j in range(len(headers))]
    lines = [_pipe(r, widths) for r in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def to_html(net: Network, *, at: Mapping[Any, Any] | None = None, names: bool | None = None) -> str:
    """The network as an HTML table, the cells of :func:`to_text`, every cell escaped.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: each formula with its value there below it.
    names : bool, optional
        Add a ``name`` column of node names; by default only for networks built by
        :func:`symcnn.from_torch` (see :func:`symcnn.to_text`).

    Returns
    -------
    str
        The ``<table>`` element.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_html(sc.Sequential(sc.Linear(2, 1), input_shape=(2,))))  # doctest: +ELLIPSIS
    <table>
    <thead><tr><th>#</th><th>layer</th>...<th># products</th></tr></thead>
    <tbody>
    <tr><td>0</td><td><code>nn.Linear(2, 1)</code></td>...<td>2+1 = 3</td><td>2</td></tr>
    </tbody>
    <tfoot><tr><td></td><td>total</td><td></td><td></td><td>3</td><td>2</td></tr></tfoot>
    </table>
    """
    shown = show_names(net, names)
    headers, rows = text_table(net, at=at, names=shown)
    *layers, total = rows
    layer = 1 + shown  # the description's column

    def tr(cells: Sequence[str], tag: str = "td", code: bool = False) -> str:
        out = []
        for j, cell in enumerate(cells):
            inner = html.escape(cell).replace("\n", "<br>")
            if code and j == layer:
                inner = f"<code>{inner}</code>"
            out.append(f"<{tag}>{inner}</{tag}>")
        return "<tr>" + "".join(out) + "</tr>"

    return "\n".join(
        [
            "<table>",
            f"<thead>{tr(headers, 'th')}</thead>",
            "<tbody>",
            *(tr(row, code=True) for row in layers),
            "</tbody>",
            f"<tfoot>{tr(total)}</tfoot>",
            "</table>",
        ]
    )


def _text(cell: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", cell).replace("\n", "<br>")


def _code(cell: str) -> str:
    # A code span shows its text verbatim, except that a table still splits cells at |.
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", cell)), default=0))
    pad = " " if cell.startswith("`") or cell.endswith("`") else ""
    return f"{fence}{pad}{cell.replace('|', chr(92) + '|')}{pad}{fence}"


def _pipe(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
