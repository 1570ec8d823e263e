"""to_latex: the seed table's layout and cells, symbolic formulas, escaping, and real pdflatex."""

from __future__ import annotations

import re
import subprocess

import pytest
import sympy

import symcnn as sc
from symcnn.export.latex import latex_escape, latex_formula, latex_totals

from conftest import require_tool, seed_layers

# The seed numbers (lenet-table.md), per layer and in total.
SEED_NUMBERS = ["832", "460800", "51264", "819200", "51400", "51200", "2010", "2000"]
SEED_TOTALS = ["105506", "1333200"]


@pytest.fixture
def net28():
    return sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))


def odd_net():
    """A branching net with a shared layer and names full of LaTeX's special characters."""
    h = sc.symbols("h")
    x = sc.Input((2, h, h))
    conv = sc.Conv2d(2, 2, 3, padding=1)
    y = conv(conv(x, name="a_b&c%"), name="#1 {x}~^\\")
    return sc.Network(x, sc.Add()(x, y))


def cells(latex: str) -> list[list[str]]:
    """The body rows of a tabular, split into cells (outer tabular only)."""
    body = latex.split("\\midrule\n", 1)[1].rsplit("\\bottomrule", 1)[0]
    return [line[: -len(" \\\\")].split(" & ") for line in body.splitlines() if "&" in line]


def test_seed_layout_and_cells(net28):
    latex = sc.to_latex(net28)
    assert latex.startswith("\\begin{tabular}{@{}llll@{}}\n\\toprule\n")
    assert latex.endswith("\\bottomrule\n\\end{tabular}")
    assert latex.count("\\midrule") == 2  # under the header, above the totals
    header = "input size / layer information & output size & \\# parameters & \\# products \\\\"
    assert header in latex
    rows = cells(latex)
    assert len(rows) == 11
    first = rows[0]
    assert first[0] == (
        "\\begin{tabular}[b]{@{}l@{}}$1 \\times 28 \\times 28$"
        "\\\\\\texttt{nn.Conv2d(1, 32, kernel\\_size=5)}\\end{tabular}"
    )
    assert first[1:] == [
        "$32 \\times 24 \\times 24$",
        "$32\\cdot(5^{2}+1) = 832$",
        "$32\\cdot24^{2}\\cdot5^{2} = 460800$",
    ]
    # The slide's erratum (4² in the second convolution's parameters) is not repeated.
    assert rows[3][2:] == [
        "$64\\cdot(32\\cdot5^{2}+1) = 51264$",
        "$64\\cdot32\\cdot4^{2}\\cdot5^{2} = 819200$",
    ]
    assert "32\\cdot4^{2}+1" not in latex
    assert rows[7][2:] == ["$200\\cdot(256+1) = 51400$", "$200\\cdot256 = 51200$"]
    assert rows[-1] == ["total", "", "$105506$", "$1333200$"]


def test_at_is_the_substituted_table(seed_net, nk, net28):
    n, k = nk
    assert sc.to_latex(seed_net, at={n: 28, k: 5}) == sc.to_latex(net28)
    assert sc.to_latex(seed_net, at={"n": 28, "k": 5}) == sc.to_latex(net28)


def test_symbolic_cells_are_formulas(seed_net):
    latex = sc.to_latex(seed_net)
    assert "⌊" not in latex and "·" not in latex
    width = "\\left\\lfloor \\left(n - 4 \\cdot k + 4\\right)/6 \\right\\rfloor"
    assert f"$64 \\times {width} \\times {width}$" in latex
    rows = cells(latex)
    assert rows[0][2:] == [
        "$32 \\cdot k^{2} + 32$",
        "$32 \\cdot k^{2} \\cdot \\left(n - k + 1\\right)^{2}$",
    ]
    assert rows[-1][2] == "$2080 \\cdot k^{2} + 53506$"
    # Numeric cells of a symbolic table keep their derivation; symbolic=True drops it.
    assert rows[7][2] == "$200\\cdot(256+1) = 51400$"
    assert cells(sc.to_latex(seed_net, symbolic=True))[7][2] == "$51400$"


def test_symbolic_on_a_numeric_net_drops_derivations(net28):
    rows = cells(sc.to_latex(net28, symbolic=True))
    assert rows[0][2:] == ["$832$", "$460800$"]


def test_design_net_symbolic(design_net):
    latex = sc.to_latex(design_net)
    assert (
        "$64 \\cdot \\left\\lfloor \\left(n - 4 \\cdot k + 4\\right)/6 \\right\\rfloor^{2}$"
        in latex
    )
    assert "12800 \\cdot \\left\\lfloor" in cells(latex)[-1][2]


def test_both_puts_formula_and_value_side_by_side(seed_net, nk):
    n, k = nk
    latex = sc.to_latex(seed_net, at={n: 28, k: 5}, both=True)
    assert latex.startswith("\\begin{tabular}{@{}lllllll@{}}")
    assert "\\multicolumn{2}{c}{\\# parameters}" in latex
    assert "\\cmidrule(lr){2-3}\\cmidrule(lr){4-5}\\cmidrule(lr){6-7}" in latex
    assert "formula & at $n=28, k=5$" in latex
    rows = cells(latex)
    assert rows[0][1:] == [
        "$32 \\times \\left(n - k + 1\\right) \\times \\left(n - k + 1\\right)$",
        "$32 \\times 24 \\times 24$",
        "$32 \\cdot k^{2} + 32$",
        "$32\\cdot(5^{2}+1) = 832$",
        "$32 \\cdot k^{2} \\cdot \\left(n - k + 1\\right)^{2}$",
        "$32\\cdot24^{2}\\cdot5^{2} = 460800$",
    ]
    assert rows[-1][0] == "total"
    assert rows[-1][3:] == [
        "$2080 \\cdot k^{2} + 53506$",
        "$105506$",
        rows[-1][5],
        "$1333200$",
    ]
    assert "\\lfloor" in rows[-1][5]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"both": True}, "both=True"),
        ({"symbolic": True, "at": {"n": 28, "k": 5}}, "symbolic=True"),
        ({"label": "tab:a b"}, "label"),
    ],
)
def test_refused_options(seed_net, options, match):
    with pytest.raises(ValueError, match=match):
        sc.to_latex(seed_net, **options)


def test_user_text_is_escaped():
    latex = sc.to_latex(odd_net(), names=True, caption="50% of a_b & c #1 {x} ~ ^ \\ $")
    assert "\\textit{a\\_b\\&c\\%}" in latex
    assert "\\textit{\\#1 \\{x\\}\\textasciitilde{}\\textasciicircum{}\\textbackslash{}}" in latex
    assert (
        "\\caption{50\\% of a\\_b \\& c \\#1 \\{x\\} \\textasciitilde{} "
        "\\textasciicircum{} \\textbackslash{} \\$}"
    ) in latex
    assert "\\texttt{torch.add(...)}" in latex
    assert "(shared: $2\\cdot(2\\cdot3^{2}+1) = 38$)" in latex
    assert "$2 \\times h \\times h$, $2 \\times h \\times h$" in latex  # Add's two inputs


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a_b&c%", "a\\_b\\&c\\%"),
        ("{#$}", "\\{\\#\\$\\}"),
        ("\\x", "\\textbackslash{}x"),
        ("~^", "\\textasciitilde{}\\textasciicircum{}"),
        ("<|>", "\\textless{}\\textbar{}\\textgreater{}"),
        (
            "32×⌊n/3⌋²",
            "32\\texttimes{}\\ensuremath{\\lfloor}n/3\\ensuremath{\\rfloor}\\textsuperscript{2}",
        ),
    ],
)
def test_latex_escape(text, escaped):
    assert latex_escape(text) == escaped


def test_formula_printer_settings(nk):
    n, k = nk
    assert (
        latex_formula(sympy.ceiling((n - k) / 2))
        == "\\left\\lceil \\left(n - k\\right)/2 \\right\\rceil"
    )
    assert latex_formula(3 * n * k) == "3 \\cdot k \\cdot n"
    assert latex_formula(n - k + 1, symbol_names={n: "N"}) == "N - k + 1"
    assert latex_formula(2 * n, mul_symbol="times") == "2 \\times n"


def test_symbol_names_reach_every_cell(seed_net, nk):
    n, _ = nk
    latex = sc.to_latex(seed_net, symbol_names={n: "H_{in}"})
    assert "H_{in} - k + 1" in latex
    assert re.search(r"[^\\a-z]n - k", latex) is None


def test_caption_and_label_make_a_float(net28):
    latex = sc.to_latex(net28, caption="LeNet", label="tab:lenet")
    assert latex.startswith("\\begin{table}[htbp]\n\\centering\n\\begin{tabular}")
    assert latex.endswith("\\caption{LeNet}\n\\label{tab:lenet}\n\\end{table}")


def test_latex_totals(seed_net):
    math = latex_totals(seed_net)
    assert math.startswith("$\\displaystyle \\text{parameters} = 2080 \\cdot k^{2} + 53506")
    assert math.endswith("$") and "\\lfloor" in math


# -- real pdflatex: every standalone variant, one document, one run ----------------------
PAGES = ("seed28", "symbolic", "both", "escaped", "design", "training")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The pages' text as pdftotext reads it, after one pdflatex run of every variant."""
    pdflatex = require_tool("pdflatex")
    pdftotext = require_tool("pdftotext")
    n, k = sc.symbols("n k")
    seed = sc.Sequential(*seed_layers(k), input_shape=(1, n, n))
    documents = [
        sc.to_latex(seed, at={n: 28, k: 5}, standalone=True),
        sc.to_latex(seed, standalone=True),
        sc.to_latex(seed, at={n: 28, k: 5}, both=True, standalone=True, caption="Both"),
        sc.to_latex(odd_net(), names=True, standalone=True, caption="50% of a_b & c #1 {x} ~ ^ \\"),
        sc.to_latex(
            sc.Sequential(
                *seed_layers(k)[:6],
                sc.Flatten(),
                sc.LazyLinear(200),
                sc.ReLU(),
                sc.Linear(200, 10),
                input_shape=(1, n, n),
            ),
            standalone=True,
            label="tab:design",
        ),
        seed.subs({n: 28, k: 5}).training(batch=32).table("latex", memory="adam"),
    ]
    preamble, _, _ = documents[0].partition("\\begin{document}")
    bodies = []
    for doc in documents:
        head, _, rest = doc.partition("\\begin{document}")
        assert head == preamble, "every standalone document has the same preamble"
        bodies.append(rest.partition("\\end{document}")[0])
    merged = preamble + "\\begin{document}" + "\\clearpage\n".join(bodies) + "\\end{document}\n"
    tmp = tmp_path_factory.mktemp("latex")
    (tmp / "tables.tex").write_text(merged, encoding="utf-8")
    run = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (tmp / "tables.log").read_text(errors="replace") if (tmp / "tables.log").exists() else ""
    assert run.returncode == 0, run.stdout[-3000:]
    pages = {}
    for number, name in enumerate(PAGES, start=1):
        text = subprocess.run(
            [pdftotext, "-layout", "-f", str(number), "-l", str(number), "tables.pdf", "-"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages[name] = text
    return pages, log


def test_standalone_is_a_document(net28):
    doc = sc.to_latex(net28, standalone=True)
    assert doc.startswith("\\documentclass{article}\n")
    for package in ("booktabs", "amsmath"):
        assert f"\\usepackage{{{package}}}" in doc
    assert doc.rstrip().endswith("\\end{document}")
    assert sc.to_latex(net28) in doc


def test_pdflatex_compiles_the_seed_table(compiled):
    pages, log = compiled
    assert "Undefined control sequence" not in log
    text = pages["seed28"]
    for number in SEED_NUMBERS + SEED_TOTALS:
        assert re.search(rf"\b{number}\b", text), number
    assert "nn.Conv2d(1, 32, kernel_size=5)" in text
    assert "x.view(-1, 256)" in text
    assert "input size / layer information" in text and "# products" in text
    assert "total" in text


def test_pdflatex_compiles_the_other_variants(compiled):
    pages, _ = compiled
    assert "2080" in pages["symbolic"] and "53506" in pages["symbolic"]
    assert "⌊" in pages["symbolic"]  # \lfloor survives as a glyph pdftotext maps back
    for number in ("832", "460800", "105506", "1333200"):
        assert number in pages["both"]
    assert "50% of a_b & c #1 {x} ~ ^ \\" in pages["escaped"]
    assert "a_b&c%" in pages["escaped"]
    assert "12800" in pages["design"]
    training = pages["training"]
    for number in ("42662400", "70579200", "3501056", "5189152", "training memory"):
        assert number in training
