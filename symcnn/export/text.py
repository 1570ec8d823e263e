"""A plain-text table for terminals, in the seed lecture's layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..printing import text

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["to_text"]

HEADERS = ("#", "layer", "input size", "output size", "# parameters", "# products")


def to_text(net: Network) -> str:
    """The network as a text table: one row per layer, then the totals.

    Counts show their derivation (``32·(5²+1) = 832``), as on the seed slide; for a
    symbolic network the cells are formulas. Rows of a layer whose parameters are
    counted at an earlier node say so.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_text(sc.Sequential(sc.Linear(256, 200), input_shape=(256,))))
    #  layer                input size  output size  # parameters         # products
    -  -------------------  ----------  -----------  -------------------  ---------------
    0  nn.Linear(256, 200)  256         200          200·(256+1) = 51400  200·256 = 51200
       total                                         51400                51200
    """
    rows = [
        (
            str(r.index),
            r.description,
            " / ".join(str(s) for s in r.input_shapes),
            str(r.output_shape),
            f"(shared: {r.params_text})" if r.shared else r.params_text,
            r.products_text,
        )
        for r in net.layers
    ]
    rows.append(("", "total", "", "", text(net.params), text(net.products)))
    return grid(HEADERS, rows)


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the header."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = tuple("-" * w for w in widths)
    return "\n".join([line(headers), line(rule), *map(line, rows)])
