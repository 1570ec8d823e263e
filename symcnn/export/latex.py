r"""LaTeX tables in the seed lecture's layout, and formulas through sympy's LaTeX printer.

The default table is the slide's: each layer's input size above its PyTorch-style
description, the output size, and the counts with their derivation
(``$32\cdot(5^{2}+1) = 832$``), booktabs rules and a totals row. A table needs
``\usepackage{booktabs}`` in the preamble; ``standalone=True`` returns a whole document.
A table longer than a page (ResNet-50 has 175 layers) is a ``longtable``, which breaks
across pages and repeats its header on each: the default of a standalone document with
more rows than a landscape page holds, or ``long=True`` (the preamble then needs
``\usepackage{longtable}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import sympy
from sympy.printing.latex import LatexPrinter

from ..symbolic.derivation import Derivation
from ..symbolic.notation import ordered_terms, write_rounding
from ..symbolic.printing import as_expression
from ..symbolic.shape import Shape
from ._table import Row, inputs_text, rows, show_names, with_value

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["latex_escape", "latex_formula", "latex_totals", "to_latex"]


class _FormulaPrinter(LatexPrinter):
    r"""sympy's LaTeX printer with the notation of hand-written size formulas.

    Products are joined by ``\cdot``, positive terms lead and the constant closes
    (``n - k + 1``), and a floor or ceiling of a sum over a denominator is written as one
    fraction: ``\left\lfloor \left(n - k + 1\right)/3 \right\rfloor``. Term order and
    the fraction are :mod:`symcnn.symbolic.notation`'s, shared with the text printer, so
    the LaTeX and the text tables read alike. Every other setting (``symbol_names``,
    ``mul_symbol``, ...) is sympy's own and passes through.
    """

    _default_settings = {**LatexPrinter._default_settings, "mul_symbol": "dot"}

    def _as_ordered_terms(self, expr: sympy.Expr, order: Any = None) -> list[sympy.Expr]:
        return ordered_terms(super()._as_ordered_terms(expr, order=order))

    def _print_floor(self, expr: sympy.floor, exp: str | None = None) -> str:
        return self._rounding(expr, exp)

    def _print_ceiling(self, expr: sympy.ceiling, exp: str | None = None) -> str:
        return self._rounding(expr, exp)

    def _rounding(self, expr: sympy.floor | sympy.ceiling, exp: str | None) -> str:
        # (n - k + 1)/3 rather than \frac: table rows stay one line high, as in the text.
        ceiling, inside = write_rounding(expr, self._print, lambda s: rf"\left({s}\right)")
        left, right = (r"\lceil", r"\rceil") if ceiling else (r"\lfloor", r"\rfloor")
        out = rf"\left{left} {inside} \right{right}"
        return out if exp is None else f"{out}^{{{exp}}}"


def latex_formula(expr: Any, **settings: Any) -> str:
    r"""A size formula as LaTeX math (without ``$``), products as ``\cdot``.

    ``settings`` are sympy's LaTeX printer settings, e.g. ``symbol_names``. Text is
    refused, as by :func:`symcnn.format_formula`: parse it with
    :func:`symcnn.frontends.spec.parse_expression` first.

    Parameters
    ----------
    expr : sympy.Expr or int
        The formula.
    **settings : Any
        sympy's LaTeX printer settings.

    Returns
    -------
    str
        The formula as LaTeX math.

    Raises
    ------
    SpecError
        When ``expr`` is text (a ``str``) or not a formula at all.

    Examples
    --------
    >>> import symcnn as sc
    >>> n, k = sc.symbols("n k")
    >>> print(latex_formula(64 * sympy.floor((n - 4 * k + 4) / 6) ** 2))
    64 \cdot \left\lfloor \left(n - 4 \cdot k + 4\right)/6 \right\rfloor^{2}
    >>> latex_formula(n - k + 1, symbol_names={n: "N"})
    'N - k + 1'
    >>> latex_formula(32 * (29 - k) ** 2)
    '32 \\cdot \\left(29 - k\\right)^{2}'
    """
    return _FormulaPrinter(settings).doprint(as_expression(expr, "latex_formula"))


# One pass, so the backslash of an escape is never escaped again.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # The Unicode symcnn's own text uses, which pdflatex's default input encoding lacks.
    "×": r"\texttimes{}",
    "·": r"\textperiodcentered{}",
    "−": "-",
    "⌊": r"\ensuremath{\lfloor}",
    "⌋": r"\ensuremath{\rfloor}",
    "⌈": r"\ensuremath{\lceil}",
    "⌉": r"\ensuremath{\rceil}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≠": r"\ensuremath{\neq}",
    **{s: rf"\textsuperscript{{{d}}}" for s, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True)},
}
_SPECIAL = re.compile("|".join(map(re.escape, _ESCAPES)))


def latex_escape(text: str) -> str:
    r"""Text safe to put in a LaTeX cell: every special character escaped.

    Examples
    --------
    >>> print(latex_escape("a_b&c% {x}^2 ~ \\ #1"))
    a\_b\&c\% \{x\}\textasciicircum{}2 \textasciitilde{} \textbackslash{} \#1
    """
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text)


def to_latex(
    net: Network,
    *,
    at: Mapping[Any, Any] | None = None,
    symbolic: bool = False,
    both: bool = False,
    standalone: bool = False,
    names: bool | None = None,
    caption: str | None = None,
    label: str | None = None,
    symbol_names: Mapping[sympy.Symbol, str] | None = None,
    long: bool | None = None,
    depth: int | None = None,
) -> str:
    r"""The network as a LaTeX table (booktabs) in the seed lecture's layout.

    Parameters
    ----------
    net : Network
        The network.
    at : mapping, optional
        A point such as ``{n: 28, k: 5}``: the table shows the network there.
    symbolic : bool
        Show the formulas alone, without derivations; the default for cells that hold
        symbols. Floors and ceilings are written ``\lfloor \rfloor`` / ``\lceil \rceil``.
    both : bool
        The formulas and, next to them, their values at ``at`` with the derivation.
    standalone : bool
        A complete document for ``pdflatex`` (landscape, shrunk to fit when wider; a
        ``longtable`` in a smaller font when longer than a page, see ``long``).
    names : bool, optional
        Add a first column, ``name``, with each layer's node name. By default it is shown
        for networks built by :func:`symcnn.from_torch` (whose node names are the module's
        attribute paths) and left out otherwise.
    caption, label : str, optional
        Put the table in a ``table`` float with this caption (escaped) and label; a
        ``longtable``, which no float can hold, takes them itself.
    symbol_names : mapping, optional
        How to print symbols, passed to sympy's printer: ``{n: "H_{in}"}``.
    long : bool, optional
        A ``longtable`` (True), which breaks across pages repeating its header on each,
        or a ``tabular`` (False). By default, a standalone document is long when the
        network has more layers than a landscape page holds (20) and a fragment is a
        ``tabular``; a long fragment needs ``\usepackage{longtable}`` in the preamble.
        Run pdflatex twice: longtable lines its columns up across pages on the second.
    depth : int, optional
        One row per module at this depth of the network's hierarchy (``1``: ``layer1``,
        ``layer2``, ...), its counts summed (see :func:`symcnn.to_text`).

    Returns
    -------
    str
        A ``tabular`` (or ``table`` float) or a ``longtable``, or a document with
        ``standalone=True``.

    Raises
    ------
    ValueError
        For ``both`` without ``at``, for ``symbolic`` with ``at`` but not ``both``, or for
        a label LaTeX cannot take.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_latex(sc.Sequential(sc.Linear(256, 200), input_shape=(256,))))
    \begin{tabular}{@{}llll@{}}
    \toprule
    input size / layer information & output size & \# parameters & \# products \\
    \midrule
    \begin{tabular}[b]{@{}l@{}}$256$\\\texttt{nn.Linear(256, 200)}\end{tabular}
      & $200$ & $200\cdot(256+1) = 51400$ & $200\cdot256 = 51200$ \\
    \midrule
    total &  & $51400$ & $51200$ \\
    \bottomrule
    \end{tabular}

    A long table repeats its header on every page and says when it goes on:

    >>> print(to_latex(sc.Sequential(sc.Linear(2, 3), input_shape=(2,)), long=True))
    \begin{longtable}{@{}llll@{}}
    \toprule
    input size / layer information & output size & \# parameters & \# products \\
    \midrule
    \endfirsthead
    \toprule
    input size / layer information & output size & \# parameters & \# products \\
    \midrule
    \endhead
    \midrule
    \multicolumn{4}{@{}r@{}}{\textit{continued on next page}} \\
    \endfoot
    \bottomrule
    \endlastfoot
    \begin{tabular}[b]{@{}l@{}}$2$\\\texttt{nn.Linear(2, 3)}\end{tabular}
      & $3$ & $3\cdot(2+1) = 9$ & $3\cdot2 = 6$ \\
    \midrule
    total &  & $9$ & $6$ \\
    \end{longtable}
    """
    if both and at is None:
        raise ValueError("both=True shows formulas next to their values: give the point, at=")
    if symbolic and at is not None and not both:
        raise ValueError(
            "symbolic=True shows the formulas, not their values at a point: drop at=, "
            "or give both=True for both"
        )
    if label is not None and not re.fullmatch(r"[A-Za-z0-9:_.\-]+", label):
        raise ValueError(f"a LaTeX label takes letters, digits and :_.- only (got {label!r})")
    names = show_names(net, names)
    fixed = net if at is None else net.subs(at)
    table = rows(net if both else fixed, depth)
    if long is None:
        long = standalone and len(table) - 1 > PAGE_ROWS
    cells = _Cells(dict(symbol_names or {}), _LONG_SHAPES if long else None)
    if both:
        beside = _stacked_table if long else _both_table  # eight columns exceed a long page
        grid = beside(cells, table, rows(fixed, depth), cells.point(fixed), names)
    else:
        grid = _table(cells, table, symbolic, names)
    if long:
        longtable = _longtable(grid, caption, label)
        formulas = both or symbolic or bool(fixed.free_symbols)
        font = _LONG_FORMULA_FONT if formulas and names else _LONG_FONT
        return _page([*font, longtable]) if standalone else longtable
    tabular = _tabular(grid.columns, grid.header, grid.lines)
    if standalone:
        return _document(_fit(tabular), caption, label)
    if caption is None and label is None:
        return tabular
    return _float(tabular, caption, label)


#: The layer rows a standalone document keeps in one box. A row is two lines high (the
#: input size above the description); on the landscape page (letter, 1.5 cm margins) at
#: ``\small``, 22 rows fit under the header and above the totals row, 20 leave room for a
#: caption or the three header lines of ``both``. Longer tables break across pages.
PAGE_ROWS = 20

#: A long table cannot be shrunk to the page's width as a box is: it is set smaller and
#: tighter instead, which fits torchvision's ResNet-50 and DenseNet-121 with their names.
_LONG_FONT = (r"\footnotesize", r"\setlength{\tabcolsep}{2pt}")

#: Formulas are wider than numbers: ResNet-50's symbolic table, or its formulas above
#: their values (``both``), with the names, run 83 pt past the page in ``\footnotesize``
#: and 23 pt in ``\scriptsize``; they fit in ``\tiny`` (a PDF is read zoomed in).
_LONG_FORMULA_FONT = (r"\tiny", r"\setlength{\tabcolsep}{2pt}")

#: The input sizes on one line of a long table's cell: DenseNet's concatenations take up
#: to 32 inputs, a line as wide as three pages; each line of four is about a third of one.
_LONG_SHAPES = 4

#: The terms on one line of a long table's formula: ResNet-50's products are a sum of six
#: terms (one per resolution, and the classifier's), wider than the page on one line.
_LONG_TERMS = 2


def latex_totals(net: Network, **settings: Any) -> str:
    r"""The totals as one line of display math, ``$\displaystyle ...$`` (for notebooks).

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> print(latex_totals(sc.Sequential(sc.Conv2d(1, 2, 3), input_shape=(1, n, n))))
    $\displaystyle \text{parameters} = 20, \quad \text{products} = 18 \cdot \left(n - 2\right)^{2}$
    """
    params, products = (latex_formula(v, **settings) for v in (net.params, net.products))
    return rf"$\displaystyle \text{{parameters}} = {params}, \quad \text{{products}} = {products}$"


class _Cells:
    """How each kind of cell is written, with the printer settings of one table."""

    def __init__(self, settings: dict[str, Any], wrap: int | None = None):
        self.settings = {"symbol_names": settings} if settings else {}
        self.wrap = wrap  # the input sizes on one line of a layer's cell; None: all

    def math(self, expr: Any) -> str:
        return latex_formula(expr, **self.settings)

    def shapes(self, shapes: Iterable[Shape]) -> str:
        return ", ".join(
            "$" + r" \times ".join(self._factor(d) for d in shape) + "$" for shape in shapes
        )

    def _factor(self, d: sympy.Expr) -> str:
        out = self.math(d)
        return rf"\left({out}\right)" if isinstance(d, sympy.Add) else out

    def count(self, d: Derivation, symbolic: bool) -> str:
        if symbolic or d.value.free_symbols:
            return self._formula(d.value)
        return f"${with_value(d, Derivation.latex, self.math)}$"

    def params(self, row: Row, symbolic: bool) -> str:
        cell = self.count(row.params, symbolic)
        return f"(shared: {cell})" if row.shared else cell

    def layer(self, row: Row) -> str:
        if row.is_total:
            return "total"
        lines = [self._inputs(row.input_shapes), rf"\texttt{{{latex_escape(row.description)}}}"]
        fed = latex_escape(inputs_text(row.inputs, most=2))  # a long table must fit the page
        if fed:
            lines.append(rf"\textit{{from {fed}}}")
        return _lines(*lines)

    def _formula(self, expr: sympy.Expr) -> str:
        """``$expr$``; in a long table, a long sum on lines of a few terms each."""
        terms = expr.args if isinstance(expr, sympy.Add) else ()
        if self.wrap is None or len(terms) <= _LONG_TERMS:
            return f"${self.math(expr)}$"
        # The printer's own order and signs, as in one line: only the breaks are added.
        printer = _FormulaPrinter(self.settings)
        signed = []
        for i, term in enumerate(printer._as_ordered_terms(expr)):
            if i and term.could_extract_minus_sign():
                signed.append("- " + printer.doprint(-term))
            else:
                signed.append(("+ " if i else "") + printer.doprint(term))
        lines = [" ".join(signed[i : i + _LONG_TERMS]) for i in range(0, len(signed), _LONG_TERMS)]
        return _lines(*(f"${line}$" for line in lines))

    def _inputs(self, shapes: tuple[Shape, ...]) -> str:
        if self.wrap is None or len(shapes) <= self.wrap:
            return self.shapes(shapes)
        step = self.wrap
        return r",\\".join(self.shapes(shapes[i : i + step]) for i in range(0, len(shapes), step))

    def point(self, net: Network) -> str:
        return (
            "at $"
            + ", ".join(f"{self.math(s)}={self.math(v)}" for s, v in net.bindings.items())
            + "$"
        )


_HEADERS = ("input size / layer information", "output size", r"\# parameters", r"\# products")


class _Grid(NamedTuple):
    """A table's lines before it is set as a ``tabular`` or a ``longtable``."""

    columns: int
    header: list[str]
    lines: list[str]  # one per layer, then the totals


def _table(cells: _Cells, table: list[Row], symbolic: bool, names: bool) -> _Grid:
    header = _line(["name"] * names + list(_HEADERS))
    lines = [
        _line(
            [
                *_name(r, names),
                cells.layer(r),
                "" if r.is_total else cells.shapes(r.output_shapes),
                cells.params(r, symbolic),
                cells.count(r.products, symbolic),
            ]
        )
        for r in table
    ]
    return _Grid(len(_HEADERS) + names, [header], lines)


def _both_table(
    cells: _Cells, table: list[Row], values: list[Row], point: str, names: bool
) -> _Grid:
    """Each row of ``table`` (formulas) beside its row of ``values`` (at ``point``)."""
    first = 2 + names  # the first formula column, counted from 1
    groups = _line([""] * (1 + names) + [rf"\multicolumn{{2}}{{c}}{{{h}}}" for h in _HEADERS[1:]])
    rules = "".join(rf"\cmidrule(lr){{{c}-{c + 1}}}" for c in range(first, first + 6, 2))
    header = _line(["name"] * names + [_HEADERS[0]] + ["formula", point] * 3)
    lines = [
        _line(
            [
                *_name(r, names),
                cells.layer(r),
                "" if r.is_total else cells.shapes(r.output_shapes),
                "" if r.is_total else cells.shapes(p.output_shapes),
                cells.params(r, True),
                cells.params(p, False),
                cells.count(r.products, True),
                cells.count(p.products, False),
            ]
        )
        for r, p in zip(table, values, strict=True)
    ]
    return _Grid(7 + names, [groups, rules, header], lines)


def _stacked_table(
    cells: _Cells, table: list[Row], values: list[Row], point: str, names: bool
) -> _Grid:
    """Each formula above its value at ``point``: ``both`` in the plain table's columns.

    A long table cannot be shrunk to the page, and formula and value side by side make
    eight columns, wider than a landscape page for ResNet-50 even in a tiny font.
    """
    header = _line(["name"] * names + list(_HEADERS))
    note = rf"\textit{{each formula above its value {point}}}"
    note = rf"\multicolumn{{{4 + names}}}{{@{{}}l@{{}}}}{{{note}}}"
    lines = [
        _line(
            [
                *_name(r, names),
                cells.layer(r),
                "" if r.is_total else _lines(*(cells.shapes(x.output_shapes) for x in (r, p))),
                _lines(cells.params(r, True), cells.params(p, False)),
                _lines(cells.count(r.products, True), cells.count(p.products, False)),
            ]
        )
        for r, p in zip(table, values, strict=True)
    ]
    return _Grid(4 + names, [header, _line([note])], lines)


def _lines(*lines: str) -> str:
    """Lines stacked in one cell, bottom-aligned with the row's other cells."""
    return r"\begin{tabular}[b]{@{}l@{}}" + r"\\".join(lines) + r"\end{tabular}"


def _name(row: Row, names: bool) -> list[str]:
    if not names:
        return []
    return [""] if row.is_total else [rf"\textit{{{latex_escape(row.name)}}}"]


def _line(cells: list[str]) -> str:
    return " & ".join(cells) + r" \\"


def _tabular(columns: int, header: list[str], lines: list[str]) -> str:
    *layers, total = lines
    return "\n".join(
        [
            rf"\begin{{tabular}}{{@{{}}{'l' * columns}@{{}}}}",
            r"\toprule",
            *header,
            r"\midrule",
            *layers,
            r"\midrule",
            total,
            r"\bottomrule",
            r"\end{tabular}",
        ]
    )


def _longtable(grid: _Grid, caption: str | None, label: str | None) -> str:
    """The table as a ``longtable``: the header on every page, the totals at the end."""
    *layers, total = grid.lines
    first, more = [r"\toprule", *grid.header, r"\midrule"], [r"\toprule", *grid.header]
    if caption is not None:
        title = latex_escape(caption)
        mark = "" if label is None else rf"\label{{{label}}}"
        first.insert(0, rf"\caption{{{title}}}{mark}\\")
        more.insert(0, rf"\caption[]{{{title} (continued)}}\\")
    elif label is not None:  # longtable steps the table counter: the label refers to it
        first[1] = rf"\label{{{label}}}" + first[1]
    more_rule = rf"\multicolumn{{{grid.columns}}}{{@{{}}r@{{}}}}"
    return "\n".join(
        [
            rf"\begin{{longtable}}{{@{{}}{'l' * grid.columns}@{{}}}}",
            *first,
            r"\endfirsthead",
            *more,
            r"\midrule",
            r"\endhead",
            r"\midrule",
            more_rule + r"{\textit{continued on next page}} \\",
            r"\endfoot",
            r"\bottomrule",
            r"\endlastfoot",
            *layers,
            r"\midrule",
            total,
            r"\end{longtable}",
        ]
    )


def _float(body: str, caption: str | None, label: str | None) -> str:
    lines = [r"\begin{table}[htbp]", r"\centering", body]
    if caption is not None:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        lines.append(rf"\label{{{label}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines)


def _fit(tabular: str) -> str:
    """The table boxed, and shrunk to the line width only when it is wider."""
    return "\n".join(
        [
            r"\sbox{\symcnntable}{%",
            tabular + "%",
            "}%",
            r"\ifdim\wd\symcnntable>\linewidth",
            r"\resizebox{\linewidth}{!}{\usebox{\symcnntable}}%",
            r"\else",
            r"\usebox{\symcnntable}%",
            r"\fi",
        ]
    )


def _document(body: str, caption: str | None, label: str | None) -> str:
    """A document of one boxed table, centred or in a float with its caption and label."""
    if caption is None and label is None:
        return _page([r"\begin{center}", body, r"\end{center}"])
    return _page([_float(body, caption, label)])


def _page(body: list[str]) -> str:
    """A landscape document of ``body``'s lines; every table's preamble is this one."""
    return "\n".join(
        [
            r"\documentclass{article}",
            r"\usepackage[T1]{fontenc}",
            r"\usepackage[landscape,margin=1.5cm]{geometry}",
            r"\usepackage{amsmath}",
            r"\usepackage{booktabs}",
            r"\usepackage{graphicx}",
            r"\usepackage{longtable}",
            r"\pagestyle{empty}",
            r"\newsavebox{\symcnntable}",
            r"\begin{document}",
            r"\small",
            *body,
            r"\end{document}",
            "",
        ]
    )
