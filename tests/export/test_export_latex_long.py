"""to_latex(long=...): longtables for networks longer than a page, compiled by pdflatex.

A standalone table of more than 20 layers is a ``longtable`` that breaks across pages
and repeats its header on each; fragments stay ``tabular`` unless asked. The compiled
documents are read back with pdftotext: every row, in order, the header on every page,
nothing running off the page.
"""

from __future__ import annotations

import re

import pytest
from latexpdf import HEADER, assert_rows, compile_pages, overfull_hboxes, row_cells

import symcnn as sc
from symcnn.export._table import rows
from symcnn.models import resnet50

from conftest import seed_layers

n = sc.symbols("n")


def chain(convs: int, *, side: object = n) -> sc.Network:
    """``convs`` pairs of Conv2d and ReLU, each convolution one channel wider."""
    layers: list[sc.Layer] = []
    for i in range(convs):
        layers += [sc.Conv2d(3 + i, 4 + i, 3, padding=1), sc.ReLU()]
    return sc.Sequential(*layers, input_shape=(3, side, side))


def hostile() -> sc.Network:
    """A long chain whose node names hold every character LaTeX treats specially."""
    image = x = sc.Input((2, n, n))
    for i in range(15):
        x = sc.Conv2d(2, 2 + i % 2, 3, padding=1)(x, name=f"conv_{i} & 50% #{i}")
        x = sc.ReLU()(x, name=f"relu_{i}&%#_")
        x = sc.Conv2d(2 + i % 2, 2, 1)(x, name=f"{{{i}}}~^\\")
    return sc.Network(image, x)


def expected(net: sc.Network, names: bool) -> list[list[str]]:
    """Each row's name (when shown), parameters and products, as the PDF should show them."""
    return [
        row_cells(r.name if names and not r.is_total else None, r.params.value, r.products.value)
        for r in rows(net)
    ]


def check_document(pages: list[str], log: str) -> None:
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        for text in HEADER:
            assert text in page, f"page {number} lacks the header {text!r}"
    for number, page in enumerate(pages[:-1], start=1):
        assert "continued on next page" in page, number
    assert "continued on next page" not in pages[-1]
    assert "Overfull \\vbox" not in log
    assert "Float too large" not in log
    assert "Undefined control sequence" not in log
    assert max(overfull_hboxes(log), default=0.0) <= 3.0, overfull_hboxes(log)


# -- the LaTeX ------------------------------------------------------------------------------
TINY = "\n".join(
    [
        r"\begin{longtable}{@{}lllll@{}}",
        r"\toprule",
        r"name & input size / layer information & output size & \# parameters & \# products \\",
        r"\midrule",
        r"\endfirsthead",
        r"\toprule",
        r"name & input size / layer information & output size & \# parameters & \# products \\",
        r"\midrule",
        r"\endhead",
        r"\midrule",
        r"\multicolumn{5}{@{}r@{}}{\textit{continued on next page}} \\",
        r"\endfoot",
        r"\bottomrule",
        r"\endlastfoot",
        r"\textit{conv1} & \begin{tabular}[b]{@{}l@{}}$3 \times n \times n$\\"
        r"\texttt{nn.Conv2d(3, 4, kernel\_size=3, padding=1)}\end{tabular}"
        r" & $4 \times n \times n$ & $4\cdot(3\cdot3^{2}+1) = 112$ & $108 \cdot n^{2}$ \\",
        r"\textit{relu1} & \begin{tabular}[b]{@{}l@{}}$4 \times n \times n$\\"
        r"\texttt{nn.ReLU()}\end{tabular} & $4 \times n \times n$ & $0$ & $0$ \\",
        r"\midrule",
        r" & total &  & $112$ & $108 \cdot n^{2}$ \\",
        r"\end{longtable}",
    ]
)


def test_a_long_fragment_is_this_longtable():
    assert sc.to_latex(chain(1), long=True, names=True) == TINY


def test_a_fragment_stays_a_tabular_by_default():
    long_net = chain(100)
    latex = sc.to_latex(long_net, at={n: 8})
    assert latex.startswith("\\begin{tabular}") and "longtable" not in latex
    assert latex == sc.to_latex(long_net, at={n: 8}, long=False)
    assert sc.to_latex(chain(1), names=True) == sc.to_latex(chain(1), names=True, long=False)


@pytest.mark.parametrize("convs", [1, 5, 10])
def test_short_documents_keep_the_box(convs):
    net = chain(convs)
    doc = sc.to_latex(net, standalone=True)
    assert doc == sc.to_latex(net, standalone=True, long=False)
    assert "\\sbox{\\symcnntable}" in doc and "\\begin{longtable}" not in doc


def test_twenty_layers_fit_a_page_twenty_one_do_not():
    net = sc.Sequential(*[sc.Linear(4, 4) for _ in range(21)], input_shape=(4,))
    short = sc.Sequential(*[sc.Linear(4, 4) for _ in range(20)], input_shape=(4,))
    assert "\\begin{longtable}" in sc.to_latex(net, standalone=True)
    assert "\\begin{longtable}" not in sc.to_latex(short, standalone=True)


def test_a_long_document_is_a_small_longtable_under_the_same_preamble():
    seed = sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))
    doc = sc.to_latex(chain(100), at={n: 8}, standalone=True)
    preamble = sc.to_latex(seed, standalone=True).partition("\\begin{document}")[0]
    head, _, body = doc.partition("\\begin{document}")
    assert head == preamble and "\\usepackage{longtable}" in head
    assert "\\begin{longtable}" in body and "\\sbox" not in body and "center" not in body
    fragment = sc.to_latex(chain(100), at={n: 8}, long=True)
    small = "\n\\small\n\\footnotesize\n\\setlength{\\tabcolsep}{2pt}\n"
    assert body == f"{small}{fragment}\n\\end{{document}}\n"


def test_a_long_table_takes_its_caption_and_label():
    latex = sc.to_latex(chain(2), long=True, caption="50% of a_b", label="tab:chain")
    assert "\\begin{table}" not in latex
    assert latex.startswith(
        "\\begin{longtable}{@{}llll@{}}\n\\caption{50\\% of a\\_b}\\label{tab:chain}\\\\\n"
        "\\toprule\n"
    )
    first, _, rest = latex.partition("\\endfirsthead\n")
    assert rest.startswith("\\caption[]{50\\% of a\\_b (continued)}\\\\\n\\toprule\n")
    assert latex.count("\\label") == 1
    labelled = sc.to_latex(chain(2), long=True, label="tab:chain")
    assert "\\caption" not in labelled
    assert "\\toprule\n\\label{tab:chain}input size / layer information & " in labelled
    with pytest.raises(ValueError, match="label"):
        sc.to_latex(chain(2), long=True, label="tab chain")


def test_the_header_repeats_and_the_totals_follow_a_rule():
    latex = sc.to_latex(chain(2), long=True)
    header = "input size / layer information & output size & \\# parameters & \\# products \\\\"
    assert latex.count(header) == 2
    head, _, body = latex.partition("\\endlastfoot\n")
    assert head.index("\\endfirsthead") < head.index("\\endhead") < head.index("\\endfoot")
    total = sc.to_latex(chain(2)).splitlines()[-3]  # as in the tabular, after its rule
    assert total.startswith("total & ")
    assert body.endswith(f"\\midrule\n{total}\n\\end{{longtable}}")


def test_both_in_a_longtable_stacks_each_formula_above_its_value(nk):
    """Side by side, formulas and values make eight columns: too wide for a long page."""
    n_, k = nk
    seed = sc.Sequential(*seed_layers(k), input_shape=(1, n_, n_))
    latex = sc.to_latex(seed, at={n_: 28, k: 5}, both=True, long=True)
    assert latex.startswith("\\begin{longtable}{@{}llll@{}}\n\\toprule\n")
    note = "\\multicolumn{4}{@{}l@{}}{\\textit{each formula above its value at $n=28, k=5$}}"
    assert latex.count(note) == 2  # first page and the pages after
    assert (
        "\\begin{tabular}[b]{@{}l@{}}$32 \\cdot k^{2} + 32$\\\\$32\\cdot(5^{2}+1) = 832$"
        "\\end{tabular}"
    ) in latex
    assert latex.count("\\begin{tabular}[b]{@{}l@{}}$0$\\\\$0$\\end{tabular}") == 12
    tabular = sc.to_latex(seed, at={n_: 28, k: 5}, both=True)  # short: side by side
    assert tabular.startswith("\\begin{tabular}{@{}lllllll@{}}")


def test_many_inputs_and_long_sums_break_into_lines():
    x = sc.Input((2, n, n))
    parts = [sc.Conv2d(2, 1, 1)(x) for _ in range(9)]
    net = sc.Network(x, sc.Concat(1)(*parts))
    one = "$1 \\times n \\times n$"
    long_cell = sc.to_latex(net, long=True).split("\\endlastfoot\n")[1]
    lines = ", ".join([one] * 4) + ",\\\\" + ", ".join([one] * 4) + ",\\\\" + one
    assert f"\\begin{{tabular}}[b]{{@{{}}l@{{}}}}{lines}\\\\\\texttt{{torch.cat" in long_cell
    assert ", ".join([one] * 9) + "\\\\\\texttt{torch.cat" in sc.to_latex(net)
    assert "\\textit{from conv1, … 8 more}" in sc.to_latex(net)  # the merge's inputs
    total = sc.to_latex(resnet50(), long=True).rsplit("\\midrule\n", 1)[1]
    assert total.count("$") == 2 + 6  # the parameters, the products' six terms on 3 lines
    assert "\\end{tabular}$" not in total
    one_line = sc.to_latex(resnet50()).rsplit("\\midrule\n", 1)[1]
    assert one_line.count("$") == 4
    for term in one_line.split("$")[-2].split(" + "):
        assert term in total


def test_hostile_names_are_escaped_in_a_longtable():
    latex = sc.to_latex(hostile(), standalone=True, names=True)
    assert "\\begin{longtable}" in latex
    assert "\\textit{conv\\_0 \\& 50\\% \\#0}" in latex
    assert "\\textit{relu\\_3\\&\\%\\#\\_}" in latex
    assert "\\textit{\\{7\\}\\textasciitilde{}\\textasciicircum{}\\textbackslash{}}" in latex


# -- real pdflatex --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "net", "names"),
    [
        ("chain", chain(100).subs({n: 8}), True),
        ("resnet50-224", resnet50().subs({"H": 224, "W": 224}), False),
        ("resnet50-names", resnet50().subs({"H": 224, "W": 224}), True),
        ("hostile", hostile().subs({n: 5}), True),
    ],
)
def test_pdflatex_shows_every_row_on_pages_with_headers(tmp_path, case, net, names):
    doc = sc.to_latex(net, standalone=True, names=names)
    assert "\\begin{longtable}" in doc
    pages, log = compile_pages(doc, tmp_path, case)
    check_document(pages, log)
    assert_rows(pages, expected(net, names))


def test_pdflatex_hostile_names_read_back(tmp_path):
    pages, log = compile_pages(sc.to_latex(hostile(), standalone=True, names=True), tmp_path)
    check_document(pages, log)
    text = "".join(pages)
    for i in range(15):
        assert f"conv_{i} & 50% #{i}" in text
        assert f"relu_{i}&%#_" in text
        assert f"{{{i}}}~^\\" in text


def test_pdflatex_symbolic_resnet50(tmp_path):
    net = resnet50()
    # Without names: with them, the formulas in H and W make the table ~30pt too wide.
    pages, log = compile_pages(sc.to_latex(net, standalone=True, names=False), tmp_path)
    check_document(pages, log)
    # Parameters are numbers even here; products are formulas in H and W.
    assert_rows(pages, [row_cells(None, r.params.value) for r in rows(net)[:-1]])
    assert_rows(pages[-1:], [["total", "25557032"]])
    assert "⌈H/32⌉" in pages[-1].replace(" ", "")


def test_pdflatex_both_in_a_longtable(tmp_path, nk):
    net = chain(12)
    fixed = net.subs({n: 8})
    doc = sc.to_latex(net, at={n: 8}, both=True, standalone=True, caption="Both")
    assert "\\begin{longtable}" in doc
    pages, log = compile_pages(doc, tmp_path)
    check_document(pages, log)
    assert all("each formula above its value at n = 8" in page for page in pages)
    assert "Table 1: Both" in pages[0] and "Table 1: Both (continued)" in pages[1]
    # each value below its formula; pdftotext may set a superscript of the working on a
    # line of its own, so the values are found in order in the text, not line by line
    text, at = "\n".join(pages), 0
    for p in rows(fixed):
        for value in (p.params.value, p.products.value):
            found = re.compile(rf"(?<![\w.]){value}(?![\w.])").search(text, at)
            assert found, (p.name, value)
            at = found.end()


@pytest.mark.parametrize("both", [True, False], ids=["formula-above-value", "symbolic"])
def test_pdflatex_resnet50_formulas_with_names_fit_the_page(tmp_path, both):
    """The widest long tables: formulas and node names. Every value in order, no overflow."""
    net = resnet50()
    point = {"H": 224, "W": 224}
    doc = sc.to_latex(net, at=point if both else None, both=both, standalone=True, names=True)
    assert "\\tiny" in doc
    pages, log = compile_pages(doc, tmp_path)
    check_document(pages, log)
    assert overfull_hboxes(log) == []
    assert_rows(pages, [[r.name] for r in rows(net)[:-1]])  # every row, in order
