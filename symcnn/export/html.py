"""HTML for notebooks: a network's table and a layer's card, with their own small CSS.

Jupyter's styles right-align every cell, centre the table and let long cells wrap; a
formula broken mid-expression (``64×(⌊(n - k`` / ``+ 1)/3⌋``) cannot be read. The CSS
here is scoped to ``table.symcnn`` inside ``div.symcnn-wrap``, so it wins over the
notebook's without touching anything else on the page: text left, numbers right on
their digits with thousands separators, every cell on one line, the wrapper scrolling
sideways instead, and a ruled, bold totals row. Separators are for the eye only: CSV
and JSON keep plain integers.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from ..symbolic.derivation import Derivation
from ..symbolic.printing import text
from ._table import Row, inputs_of, inputs_text, paired, shapes_text, show_names, shows_working

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["CSS", "count_parts", "digits", "to_html"]

#: The style sheet every table and card carries, scoped to ``div.symcnn-wrap``.
CSS = """\
.symcnn-wrap { overflow-x: auto; max-width: 100%; margin: 0.25em 0; }
.symcnn-wrap table.symcnn { border-collapse: collapse; border: none; margin: 0;
  table-layout: auto; width: auto; color: inherit; background: transparent;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; font-size: 13px; line-height: 1.45; }
.symcnn-wrap table.symcnn th, .symcnn-wrap table.symcnn td { padding: 2px 10px;
  white-space: nowrap; text-align: left; vertical-align: baseline; border: none;
  background: transparent; max-width: none; }
.symcnn-wrap table.symcnn thead th { font-weight: 600;
  border-bottom: 1px solid currentColor; }
.symcnn-wrap table.symcnn tbody tr:nth-child(even) { background: rgba(127, 127, 127, 0.08); }
.symcnn-wrap table.symcnn tbody tr:hover { background: rgba(66, 133, 244, 0.14); }
.symcnn-wrap table.symcnn .num { text-align: right; font-variant-numeric: tabular-nums; }
.symcnn-wrap table.symcnn td.deriv { padding-right: 0.3em; opacity: 0.7; }
.symcnn-wrap table.symcnn td.value { padding-left: 0; }
.symcnn-wrap table.symcnn td.shared { opacity: 0.55; }
.symcnn-wrap table.symcnn code { font-family: ui-monospace, SFMono-Regular, Menlo,
  Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; background: transparent;
  padding: 0; white-space: nowrap; }
.symcnn-wrap table.symcnn tr.symcnn-total td { font-weight: 700;
  border-top: 2px solid currentColor; }
.symcnn-wrap table.symcnn-card tbody th { font-weight: 600; padding-right: 1.5em; }
.symcnn-wrap table.symcnn .rule { opacity: 0.7; }
"""


@dataclass(frozen=True, slots=True)
class _Cell:
    """One cell: its text (escaped when written) and its CSS classes."""

    text: str
    css: str = ""
    code: bool = False
    span: int = 1

    def html(self, tag: str = "td") -> str:
        inner = html.escape(self.text)
        if self.code:
            inner = f"<code>{inner}</code>"
        attributes = f' class="{self.css}"' if self.css else ""
        if self.span > 1:
            attributes += f' colspan="{self.span}"'
        return f"<{tag}{attributes}>{inner}</{tag}>"


def digits(value: Any) -> str:
    """A value as the display writes it: integers with thousands separators.

    Examples
    --------
    >>> digits(sympy.Integer(1333200)), digits(sympy.Symbol("n") + 1)
    ('1,333,200', 'n + 1')
    """
    if isinstance(value, int | sympy.Integer):
        return f"{int(value):,}"
    return text(value)


def count_parts(d: Derivation) -> tuple[str, str]:
    """A count as its two display cells: the working (``32·(5²+1) =``) and the value.

    The working is empty for a plain value and for a symbolic derivation that only
    restates the value's factors (:func:`~symcnn.export._table.restates`).

    Examples
    --------
    >>> from symcnn.symbolic.derivation import power, product, total
    >>> count_parts(product(32, total(power(5, 2), 1)))
    ('32·(5²+1) =', '832')
    """
    return (f"{d.text()} =" if shows_working(d) else ""), digits(d.value)


def to_html(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    depth: int | None = None,
    names: bool | None = True,
) -> str:
    r"""The network's table as a notebook shows it: a ``<table class="symcnn">`` with CSS.

    The network's inputs, one row per layer (or per module, with ``depth``), then the
    totals in a ruled, bold row. Columns: ``#``, the node name, the layer, the rows
    feeding a merge or a branch (when the network has one), the output size, and the
    parameters and products, each as its working and its value so that values align on
    their digits. A row's input is the output of the row above it or of the rows its
    ``inputs`` name, so no column repeats the sizes (wide symbolic sizes once, not
    twice). With ``at`` each quantity shows its formula beside its value at that point.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: formulas beside their values there.
    depth : int, optional
        Sum the layers of each module at this depth of the hierarchy in one row.
    names : bool or None
        The node-name column; shown unless False (None: as :func:`to_text` decides).

    Returns
    -------
    str
        A ``<div class="symcnn-wrap">`` holding the ``<style>`` and the ``<table>``.

    Examples
    --------
    >>> import symcnn as sc
    >>> page = to_html(sc.Sequential(sc.Linear(256, 200), input_shape=(256,)))
    >>> body = page[page.index("<tbody>"):]
    >>> print(body.replace("</td>", "</td>\n"))  # doctest: +ELLIPSIS
    <tbody>
    <tr class="symcnn-input"><td></td>
    <td>input</td>
    <td>input</td>
    <td>256</td>
    <td class="num deriv"></td>
    <td class="num value"></td>
    <td class="num deriv"></td>
    <td class="num value"></td>
    </tr>
    <tr><td class="num">0</td>
    <td>linear1</td>
    <td><code>nn.Linear(256, 200)</code></td>
    <td>200</td>
    <td class="num deriv">200·(256+1) =</td>
    <td class="num value">51,400</td>
    <td class="num deriv">200·256 =</td>
    <td class="num value">51,200</td>
    </tr>
    </tbody>
    <tfoot><tr class="symcnn-total"><td></td>
    <td>total</td>
    ...
    """
    fixed = None if at is None else net.subs(at)
    pairs = paired(net, fixed, depth)
    table = [r for r, _ in pairs]
    shown = show_names(net, names)
    merges = any(r.inputs for r in table)
    head = _head(shown, merges, fixed)
    sources = _sources(net, fixed, shown, merges)
    # a column of formulas reads from the left; one of numbers aligns on the digits
    formulas = (
        fixed is None and any(r.params.value.free_symbols for r in table),
        fixed is None and any(r.products.value.free_symbols for r in table),
    )
    body = [_row(r, shown, merges, p, formulas) for r, p in pairs]
    *layers, total = body
    return wrap(
        "\n".join(
            [
                '<table class="symcnn">',
                "<thead>" + "".join(head) + "</thead>",
                "<tbody>",
                *(_tr(cells, "symcnn-input") for cells in sources),
                *(_tr(cells) for cells in layers),
                "</tbody>",
                f"<tfoot>{_tr(total, 'symcnn-total')}</tfoot>",
                "</table>",
            ]
        )
    )


def wrap(table: str) -> str:
    """A table in the scrolling wrapper, after the style sheet."""
    return f'<div class="symcnn-wrap">\n<style>\n{CSS}</style>\n{table}\n</div>'


def _head(names: bool, merges: bool, fixed: Network | None) -> list[str]:
    left = [_Cell("#", "num"), *[_Cell("name")] * names, _Cell("layer")]
    left += [_Cell("inputs")] * merges
    if fixed is None:
        cells = [
            *left,
            _Cell("output size"),
            _Cell("# parameters", "num", span=2),
            _Cell("# products", "num", span=2),
        ]
        return [_tr([c.html("th") for c in cells])]
    where = "at " + ", ".join(f"{s}={text(v)}" for s, v in fixed.bindings.items())
    groups = [_Cell("output size", span=2), _Cell("# parameters", span=3)]
    groups.append(_Cell("# products", span=3))
    top = [c.html("th").replace("<th", '<th rowspan="2"', 1) for c in left]
    top += [c.html("th") for c in groups]
    sub = [_Cell("formula"), _Cell(where)]
    sub += [_Cell("formula"), _Cell(where, "num", span=2)] * 2
    return [_tr(top), _tr([c.html("th") for c in sub])]


def _row(
    r: Row, names: bool, merges: bool, p: Row | None, formulas: tuple[bool, bool]
) -> list[str]:
    if r.is_total:
        cells = [_Cell(""), *[_Cell("total")] * names, _Cell("" if names else "total")]
    else:
        cells = [
            _Cell(r.number, "num"),
            *[_Cell(r.name)] * names,
            _Cell(r.description, code=not r.group),
        ]
    cells += [_Cell(inputs_text(r.inputs))] * merges
    total = r.is_total
    if p is None:
        cells += [_Cell("" if total else shapes_text(r.output_shapes))]
        cells += _count(r.params, formulas[0], r.shared) + _count(r.products, formulas[1])
    else:
        cells += [_Cell("" if total else shapes_text(r.output_shapes))]
        cells += [_Cell("" if total else shapes_text(p.output_shapes))]
        cells += [_Cell(text(r.params.value)), *_count(p.params, False, p.shared)]
        cells += [_Cell(text(r.products.value)), *_count(p.products, False)]
    return [c.html() for c in cells]


def _sources(net: Network, fixed: Network | None, names: bool, merges: bool) -> list[list[str]]:
    """A row per input of the network: its name and size, where the first layer reads."""
    points = inputs_of(fixed) if fixed is not None else [(None, None)] * len(net.inputs)
    out = []
    for (name, shape), (_, there) in zip(inputs_of(net), points, strict=True):
        cells = [_Cell(""), *[_Cell(name)] * names, _Cell("input"), *[_Cell("")] * merges]
        cells.append(_Cell(str(shape)))
        blank = [_Cell("", "num deriv"), _Cell("", "num value")]  # no counts: an input
        if there is not None:
            cells += [_Cell(str(there)), *([_Cell("")] + blank) * 2]
        else:
            cells += blank * 2
        out.append([c.html() for c in cells])
    return out


def _count(d: Derivation, formulas: bool, shared: bool = False) -> list[_Cell]:
    working, value = count_parts(d)
    css = "value" if formulas else "num value"
    if shared and d.value != 0:  # a parameter-free module called twice: nothing to say
        return [_Cell("shared:", "num deriv"), _Cell(f"({value})", css + " shared")]
    return [_Cell(working, "num deriv"), _Cell(value, css)]


def _tr(cells: Sequence[str], css: str = "") -> str:
    attributes = f' class="{css}"' if css else ""
    return f"<tr{attributes}>" + "".join(cells) + "</tr>"
