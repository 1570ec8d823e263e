"""A training step as a table: per layer, the products forward and backward, the bytes kept.

One row per layer of :attr:`Training.layers <symcnn.training.Training.layers>`, then the
totals; with ``memory`` (an optimizer's name), the memory of the step under it, part by
part. The same cells print as text, Markdown, LaTeX (booktabs), CSV and JSON.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError
from ..symbolic.printing import text
from .latex import (
    _LONG_FONT,
    PAGE_ROWS,
    _document,
    _Grid,
    _line,
    _longtable,
    _page,
    _tabular,
    latex_escape,
    latex_formula,
)
from .markdown import _pipe, _text
from .text import grid

if TYPE_CHECKING:
    from ..training import Training

__all__ = ["TRAINING_FORMATS", "training_rows", "training_table"]

TRAINING_FORMATS = ("text", "markdown", "latex", "csv", "json")
_HEADERS = ("#", "layer", "forward products", "backward products", "saved bytes")
_KEYS = ("index", "layer", "forward_products", "backward_products", "saved_bytes")


def training_rows(t: Training, memory: str | None = None) -> list[tuple[Any, ...]]:
    """Rows of (index, description, forward, backward, saved), the totals, the memory.

    The totals row has index ``"total"``; with ``memory``, rows follow for each part of
    :meth:`Training.memory <symcnn.training.Training.memory>` (index ``"memory"``, the
    part's name in the description column, its bytes in the last).
    """
    out: list[tuple[Any, ...]] = [
        (i, r.layer.describe(), r.forward_products, r.backward_products, r.saved_bytes)
        for i, r in enumerate(t.layers)
    ]
    out.append(("total", "", t.forward_products, t.backward_products, t.saved_bytes))
    if memory is not None:
        parts = {
            "parameters": t.param_bytes,
            "buffers": t.buffer_bytes,
            "gradients": t.grad_bytes,
            f"optimizer state ({memory})": t.optimizer_bytes(memory),
            "saved activations": t.saved_bytes,
            "training memory": t.memory(memory),
        }
        out += [("memory", name, "", "", value) for name, value in parts.items()]
    return out


def training_table(t: Training, fmt: str = "text", *, memory: str | None = None) -> str:
    """The training step ``t`` as a table in ``fmt`` (one of :data:`TRAINING_FORMATS`).

    Examples
    --------
    >>> import symcnn as sc
    >>> net = sc.Sequential(sc.Conv2d(1, 2, 3), sc.ReLU(), input_shape=(1, 5, 5))
    >>> print(training_table(net.training(batch=4), memory="sgd"))
    #       layer                           forward products  backward products  saved bytes
    ------  ------------------------------  ----------------  -----------------  -----------
    0       nn.Conv2d(1, 2, kernel_size=3)  648               648                400
    1       nn.ReLU()                       0                 0                  288
    total                                   648               648                688
    memory  parameters                                                           80
    memory  buffers                                                              0
    memory  gradients                                                            80
    memory  optimizer state (sgd)                                                0
    memory  saved activations                                                    688
    memory  training memory                                                      848
    """
    if fmt not in TRAINING_FORMATS:
        raise ShapeError(f"format must be one of {', '.join(TRAINING_FORMATS)} (got {fmt!r})")
    table = training_rows(t, memory)
    if fmt in ("csv", "json"):
        records = [dict(zip(_KEYS, (_plain(v) for v in row), strict=True)) for row in table]
        if fmt == "json":
            meta = {"batch": text(t.batch), "dtype": t.dtype}
            return json.dumps({**meta, "rows": records}, indent=2)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_KEYS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buffer.getvalue()
    if fmt == "latex":
        header = [_line([latex_escape(h) for h in _HEADERS])]
        lines = [_line([_latex_cell(c) for c in row]) for row in table]
        steps = len(t.layers) + 1  # the layers and the totals; the memory parts follow
        parts = [r"\midrule", *lines[steps:]] if memory is not None else []
        if len(t.layers) > PAGE_ROWS:  # a longtable, as to_latex's: no row runs off a page
            body = _longtable(_Grid(len(_HEADERS), header, lines[:steps]), None, None)
            body = body.replace(r"\end{longtable}", "\n".join([*parts, r"\end{longtable}"]))
            return _page([*_LONG_FONT, body])
        body = _tabular(len(_HEADERS), header, lines[:steps])
        body = body.replace(r"\bottomrule", "\n".join([*parts, r"\bottomrule"]))
        return _document(body, None, None)
    cells = [tuple(_cell(c) for c in row) for row in table]
    if fmt == "markdown":
        widths = [max(len(_text(c)) for c in col) for col in zip(_HEADERS, *cells, strict=True)]
        rule = "| " + " | ".join("-" * w for w in widths) + " |"
        return "\n".join(
            [_pipe(_HEADERS, widths), rule, *(_pipe([_text(c) for c in r], widths) for r in cells)]
        )
    return grid(_HEADERS, cells)


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else text(value)


def _latex_cell(value: Any) -> str:
    if isinstance(value, str):
        return latex_escape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"${latex_formula(value)}$"


def _plain(value: Any) -> Any:
    """A JSON-ready cell: an int for a number, a formula as text."""
    if isinstance(value, sympy.Integer):
        return int(value)
    if isinstance(value, sympy.Basic):
        return text(value)
    return value
