"""A plain-text table for terminals, in the seed lecture's layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..symbolic.derivation import Derivation
from ..symbolic.printing import text
from ._table import Row, inputs_text, rows, shapes_text, show_names, with_value

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["count_text", "grid", "text_table", "to_text"]


def to_text(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    names: bool | None = None,
    depth: int | None = None,
) -> str:
    """The network as a text table: one row per layer, then the totals.

    Counts show their derivation (``32·(5²+1) = 832``), as on the seed slide; for a
    symbolic network the cells are formulas. With ``at`` (a substitution such as
    ``{n: 28, k: 5}``) every cell holds the formula and, below it, its value at that
    point; the input-size column is then left out, being the previous row's output.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: each formula with its value there below it.
    names : bool, optional
        Add a ``name`` column with each layer's node name after the ``#`` column. By
        default it is shown for networks built by :func:`symcnn.from_torch` (whose node
        names are the module's attribute paths) and left out otherwise.
    depth : int, optional
        One row per module at this depth of the network's hierarchy (``1``:
        ``layer1``, ``layer2``, ...), its counts summed; None keeps every layer.

    Returns
    -------
    str
        The table, lines joined by newlines. A network with merges gets an ``inputs``
        column naming the rows that feed each merge.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_text(sc.Sequential(sc.Linear(256, 200), input_shape=(256,))))
    #  layer                input size  output size  # parameters         # products
    -  -------------------  ----------  -----------  -------------------  ---------------
    0  nn.Linear(256, 200)  256         200          200·(256+1) = 51400  200·256 = 51200
       total                                         51400                51200
    >>> n = sc.symbols("n")
    >>> print(to_text(sc.Sequential(sc.Conv2d(1, 2, 3), input_shape=(1, n, n)), at={n: 5}))
    #  layer                           output size        # parameters   # products
                                       at n=5             at n=5         at n=5
    -  ------------------------------  -----------------  -------------  -------------
    0  nn.Conv2d(1, 2, kernel_size=3)  2×(n - 2)×(n - 2)  2·(3²+1) = 20  18·(n - 2)²
                                       2×3×3              2·(3²+1) = 20  2·3²·3² = 162
       total                           2×(n - 2)×(n - 2)  20             18·(n - 2)²
                                       2×3×3              20             162
    >>> print(to_text(sc.Sequential(sc.Linear(2, 1), input_shape=(2,)), names=True))
    #  name     layer            input size  output size  # parameters  # products
    -  -------  ---------------  ----------  -----------  ------------  ----------
    0  linear1  nn.Linear(2, 1)  2           1            2+1 = 3       2
                total                                     3             2
    """
    return grid(*text_table(net, at=at, names=names, depth=depth))


def text_table(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    names: bool | None = None,
    depth: int | None = None,
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The headers and rows of :func:`to_text`, each cell plain text, maybe several lines.

    The last row holds the totals. :func:`symcnn.export.markdown.to_markdown` writes the
    same cells as a Markdown table. With the ``name`` column (``names``, see
    :func:`to_text`) the description is the third cell of a row, else the second; an
    ``inputs`` column follows the description when the network merges branches.
    """
    table = rows(net, depth)
    headers, cells = _cells(net, at, table, depth)
    if any(r.inputs for r in table):
        headers = (*headers[:2], "inputs", *headers[2:])
        cells = [(*c[:2], inputs_text(r.inputs), *c[2:]) for c, r in zip(cells, table, strict=True)]
    if not show_names(net, names):
        return headers, cells
    named = [r.name if not r.is_total else "" for r in table]
    return (
        (headers[0], "name", *headers[1:]),
        [(row[0], name, *row[1:]) for row, name in zip(cells, named, strict=True)],
    )


def _cells(
    net: Network, at: Mapping[Any, Any] | None, table: list[Row], depth: int | None
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    if at is None:
        headers: tuple[str, ...] = (
            "#",
            "layer",
            "input size",
            "output size",
            "# parameters",
            "# products",
        )
        return headers, [
            (
                r.number,
                r.description,
                shapes_text(r.input_shapes) if not r.is_total else "",
                shapes_text(r.output_shapes) if not r.is_total else "",
                _params_cell(r),
                count_text(r.products),
            )
            for r in table
        ]
    fixed = net.subs(at)
    where = "at " + ", ".join(f"{s}={text(v)}" for s, v in fixed.bindings.items())
    headers = (
        "#",
        "layer",
        f"output size\n{where}",
        f"# parameters\n{where}",
        f"# products\n{where}",
    )
    return headers, [
        (
            r.number,
            r.description,
            f"{shapes_text(r.output_shapes)}\n{shapes_text(p.output_shapes)}",
            f"{_params_cell(r)}\n{_params_cell(p)}",
            f"{count_text(r.products)}\n{count_text(p.products)}",
        )
        for r, p in zip(table, rows(fixed, depth), strict=True)
    ]


def count_text(d: Derivation) -> str:
    """A count in plain text with its derivation: ``32·(5²+1) = 832``."""
    return with_value(d, Derivation.text, text)


def _params_cell(row: Row) -> str:
    cell = count_text(row.params)
    return f"(shared: {cell})" if row.shared else cell


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, a dashed rule under the header.

    A cell may hold several lines; its row is then as tall as its tallest cell.
    """
    table = [[cell.split("\n") for cell in row] for row in [headers, *rows]]
    widths = [
        max(len(line) for cell in column for line in cell) for column in zip(*table, strict=True)
    ]

    def lines(row: list[list[str]]) -> list[str]:
        height = max(len(cell) for cell in row)
        return [
            "  ".join(
                (cell[i] if i < len(cell) else "").ljust(w)
                for cell, w in zip(row, widths, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    rule = "  ".join("-" * w for w in widths)
    out = lines(table[0]) + [rule]
    for row in table[1:]:
        out += lines(row)
    return "\n".join(out)
