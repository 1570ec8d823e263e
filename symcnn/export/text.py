"""A plain-text table for terminals, in the seed lecture's layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..printing import text

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["to_text"]


def to_text(net: Network, *, at: Mapping[Any, Any] | None = None) -> str:
    """The network as a text table: one row per layer, then the totals.

    Counts show their derivation (``32·(5²+1) = 832``), as on the seed slide; for a
    symbolic network the cells are formulas. With ``at`` (a substitution such as
    ``{n: 28, k: 5}``) every cell holds the formula and, below it, its value at that
    point; the input-size column is then left out, being the previous row's output.

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
    -  ------------------------------  -----------------  -------------  ---------------------------
    0  nn.Conv2d(1, 2, kernel_size=3)  2×(n - 2)×(n - 2)  2·(3²+1) = 20  2·(n - 2)²·3² = 18·(n - 2)²
                                       2×3×3              2·(3²+1) = 20  2·3²·3² = 162
       total                           2×(n - 2)×(n - 2)  20             18·(n - 2)²
                                       2×3×3              20             162
    """
    rows: list[tuple[str, ...]]
    if at is None:
        rows = [
            (
                str(r.index),
                r.description,
                " / ".join(map(str, r.input_shapes)),
                str(r.output_shape),
                _params_cell(r),
                r.products_text,
            )
            for r in net.layers
        ]
        rows.append(("", "total", "", "", text(net.params), text(net.products)))
        return grid(("#", "layer", "input size", "output size", "# parameters", "# products"), rows)
    point = net.subs(at)
    where = "at " + ", ".join(f"{s}={text(v)}" for s, v in point.bindings.items())
    rows = [
        (
            str(r.index),
            r.description,
            f"{r.output_shape}\n{p.output_shape}",
            f"{_params_cell(r)}\n{_params_cell(p)}",
            f"{r.products_text}\n{p.products_text}",
        )
        for r, p in zip(net.layers, point.layers, strict=True)
    ]
    rows.append(
        (
            "",
            "total",
            f"{net.output_shape}\n{point.output_shape}",
            f"{text(net.params)}\n{text(point.params)}",
            f"{text(net.products)}\n{text(point.products)}",
        )
    )
    headers = (
        "#",
        "layer",
        f"output size\n{where}",
        f"# parameters\n{where}",
        f"# products\n{where}",
    )
    return grid(headers, rows)


def _params_cell(record: Any) -> str:
    return f"(shared: {record.params_text})" if record.shared else str(record.params_text)


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
