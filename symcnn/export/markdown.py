"""Markdown tables, in the layout of the text table (:func:`~symcnn.to_text`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._table import rows as table_rows
from ._table import show_names
from .text import text_table

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["to_markdown"]

# Characters that would start emphasis, code, links, HTML or a new cell in a table.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<>\[\]|])")


def to_markdown(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    names: bool | None = None,
    depth: int | None = None,
) -> str:
    r"""The network as a GitHub-flavoured Markdown table, the cells of :func:`to_text`.

    Layer descriptions are code spans; a cell of several lines (formula above value,
    with ``at``) is joined with ``<br>``; ``|`` and Markdown's other special characters
    are escaped. The count columns are right-aligned, as the HTML table's numbers are.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: each formula with its value there below it.
    names : bool, optional
        Add a ``name`` column of node names; by default only for networks built by
        :func:`symcnn.from_torch` (see :func:`symcnn.to_text`).
    depth : int, optional
        One row per module at this depth of the hierarchy (see :func:`symcnn.to_text`).

    Returns
    -------
    str
        The table.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_markdown(sc.Sequential(sc.Linear(2, 1), input_shape=(2,))))
    | #   | layer             | input size | output size | # parameters | # products |
    |-----|-------------------|------------|-------------|-------------:|-----------:|
    | 0   | `nn.Linear(2, 1)` | 2          | 1           | 2+1 = 3      | 2          |
    |     | total             |            |             | 3            | 2          |
    """
    shown = show_names(net, names)
    headers, rows = text_table(net, at=at, names=shown, depth=depth)
    layer = 1 + shown  # the description's column
    table = [[_text(h) for h in headers]]
    # a layer's description is code; a module's group ("Bottleneck (10 layers)") and the
    # totals row's "total" are words
    words = [r.group or r.is_total for r in table_rows(net, depth)]
    for row, word in zip(rows, words, strict=True):
        code = not word
        table.append([_code(c) if code and j == layer else _text(c) for j, c in enumerate(row)])
    widths = [max(3, *(len(r[j]) for r in table)) for j in range(len(headers))]
    lines = [_pipe(r, widths) for r in table]
    counts = {j for j, h in enumerate(headers) if h.startswith("#") and j > 0}
    rule = ("-" * (w + 1) + (":" if j in counts else "-") for j, w in enumerate(widths))
    lines.insert(1, "|" + "|".join(rule) + "|")
    return "\n".join(lines)


def _text(cell: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", cell).replace("\n", "<br>")


def _code(cell: str) -> str:
    # A code span shows its text verbatim, except that a table still splits cells at |.
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", cell)), default=0))
    pad = " " if cell.startswith("`") or cell.endswith("`") else ""
    return f"{fence}{pad}{cell.replace('|', chr(92) + '|')}{pad}{fence}"


def _pipe(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
