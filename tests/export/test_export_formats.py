"""Markdown, HTML, CSV, JSON, records, DOT, plots and notebook display; golden files.

The golden files under tests/export/golden/ are written by the exporters, never by hand:
regenerate them with ``SYMCNN_UPDATE_GOLDEN=1 python -m pytest tests/export/test_export_formats.py``
and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

import symcnn as sc
from symcnn.export.records import CSV_FIELDS

from conftest import require_tool, seed_layers

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[2]

SEED_PARAMS = [832, 0, 0, 51264, 0, 0, 0, 51400, 0, 2010]
SEED_PRODUCTS = [460800, 0, 0, 819200, 0, 0, 0, 51200, 0, 2000]


@pytest.fixture
def net28():
    return sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))


class Odd(sc.ReLU):
    """A layer whose description holds every character a table must escape."""

    def describe(self) -> str:
        return "F.odd(a | b, *c_d*, `e`, <f> & [g])"


# -- golden files ---------------------------------------------------------------------
def _golden_cases():
    n, k = sc.symbols("n k")
    seed = sc.Sequential(*seed_layers(k), input_shape=(1, n, n))
    net28 = seed.subs({n: 28, k: 5})
    at = {n: 28, k: 5}
    return {
        "seed28.txt": lambda: sc.to_text(net28),
        "seed28.md": lambda: sc.to_markdown(net28),
        "seed28.html": lambda: sc.to_html(net28),
        "seed28.tex": lambda: sc.to_latex(net28),
        "seed28-standalone.tex": lambda: sc.to_latex(net28, standalone=True),
        "seed28.csv": lambda: sc.to_csv(net28),
        "seed28.json": lambda: sc.to_json(net28),
        "seed28.dot": lambda: sc.to_dot(net28),
        "seed-symbolic.tex": lambda: sc.to_latex(seed),
        "seed-symbolic.md": lambda: sc.to_markdown(seed),
        "seed-both.tex": lambda: sc.to_latex(seed, at=at, both=True),
        "seed-at28.md": lambda: sc.to_markdown(seed, at=at),
        "seed-at28.csv": lambda: sc.to_csv(seed, at=at),
        "seed-at28.json": lambda: sc.to_json(seed, at=at),
    }


@pytest.mark.parametrize("name", sorted(_golden_cases()))
def test_golden(name):
    text = _golden_cases()[name]()
    text = text if text.endswith("\n") else text + "\n"
    path = GOLDEN / name
    if os.environ.get("SYMCNN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with SYMCNN_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_golden_files_are_all_checked():
    assert sorted(p.name for p in GOLDEN.iterdir() if p.name != "README.md") == sorted(
        _golden_cases()
    )


# -- Markdown and HTML --------------------------------------------------------------------
def test_markdown_is_the_text_table(net28):
    lines = sc.to_markdown(net28).splitlines()
    assert lines[0].startswith("| #   | layer ")
    assert set(lines[1]) == {"|", "-", ":"} and lines[1].endswith("-:|")  # counts right
    assert [c.strip() for c in lines[2].split("|")[1:-1]] == [
        "0",
        "`nn.Conv2d(1, 32, kernel_size=5)`",
        "1×28×28",
        "32×24×24",
        "32·(5²+1) = 832",
        "32·24²·5² = 460800",
    ]
    assert lines[-1].split("|")[2].strip() == "total"
    assert [c.strip() for c in lines[-1].split("|")[5:7]] == ["105506", "1333200"]
    assert len({len(line) for line in lines}) == 1  # columns padded to one width


def test_markdown_with_at_stacks_formula_and_value(seed_net, nk):
    n, k = nk
    md = sc.to_markdown(seed_net, at={n: 28, k: 5})
    assert "output size<br>at n=28, k=5" in md
    assert "32·(k²+1) = 32·k² + 32<br>32·(5²+1) = 832" in md


def test_markdown_escapes_pipes_and_markup():
    x = sc.symbols("x_in")
    net = sc.Sequential(Odd(), sc.Conv2d(1, 1, 3), input_shape=(1, x, x))
    md = sc.to_markdown(net)
    # Code spans keep the text verbatim, but a pipe would still split the cell.
    assert "| ``F.odd(a \\| b, *c_d*, `e`, <f> & [g])`` |" in md
    assert "x\\_in - 2" in md  # outside code, Markdown's emphasis marker is escaped
    for line in md.splitlines():
        assert line.replace("\\|", "").count("|") == 7


def test_html_is_escaped():
    page = sc.to_html(sc.Sequential(Odd(), input_shape=(1, 3, 3)))
    assert "<code>F.odd(a | b, *c_d*, `e`, &lt;f&gt; &amp; [g])</code>" in page
    assert page.startswith('<div class="symcnn-wrap">') and page.endswith("</table>\n</div>")
    assert '<tfoot><tr class="symcnn-total"><td></td><td>odd1</td>' not in page
    assert '<tfoot><tr class="symcnn-total"><td></td><td>total</td>' in page


# -- records, CSV and JSON ------------------------------------------------------------
def test_records_of_the_seed(net28):
    records = sc.to_records(net28)
    assert [r["name"] for r in records] == [r.name for r in net28.layers]
    assert [r["params_value"] for r in records] == SEED_PARAMS
    assert [r["products_value"] for r in records] == SEED_PRODUCTS
    first = records[0]
    assert first["description"] == "nn.Conv2d(1, 32, kernel_size=5)"
    assert first["input_shapes"] == [["1", "28", "28"]]
    assert first["input_shapes_value"] == [[1, 28, 28]]
    assert first["output_shape_value"] == [32, 24, 24]
    assert records[6]["output_shape_value"] == [256]
    assert all(type(r["params_value"]) is int for r in records)


def test_symbolic_records_read_back(seed_net, nk):
    n, k = nk
    records = sc.to_records(seed_net)
    assert "params_value" not in records[0]
    names = {"n": n, "k": k}
    for record, layer in zip(records, seed_net.layers, strict=True):
        assert sympy.sympify(record["params"], locals=names) == layer.params
        assert sympy.sympify(record["products"], locals=names) == layer.products
        dims = [sympy.sympify(d, locals=names) for d in record["output_shape"]]
        assert tuple(dims) == layer.output_shape


def test_records_at_a_point(seed_net, nk):
    n, k = nk
    records = sc.to_records(seed_net, at={n: 28, k: 5})
    assert records[0]["params"] == "32*k**2 + 32"
    assert [r["params_value"] for r in records] == SEED_PARAMS
    with pytest.raises(sc.ShapeError, match="n left unbound"):
        sc.to_records(seed_net, at={k: 5})
    assert issubclass(sc.ShapeError, ValueError)  # callers catching ValueError still do


def test_json_round_trips(net28):
    data = json.loads(sc.to_json(net28))
    assert data["at"] is None
    assert data["totals"]["params_value"] == 105506
    assert data["totals"]["products_value"] == 1333200
    for record, layer in zip(data["layers"], net28.layers, strict=True):
        assert record["params_value"] == layer.params
        assert record["products_value"] == layer.products
        assert tuple(record["output_shape_value"]) == layer.output_shape
        assert type(record["products_value"]) is int
    assert sum(r["params_value"] for r in data["layers"]) == data["totals"]["params_value"]
    assert data["layers"] == sc.to_records(net28)


def test_json_values_are_integers_never_floats(nk):
    n = nk[0]
    big = sc.Sequential(sc.Conv2d(3, 512, 7), input_shape=(3, n, n))
    text = sc.to_json(big, at={n: 10**6})
    data = json.loads(text)
    assert data["at"] == {"n": 10**6}
    assert data["totals"]["products_value"] == 512 * 3 * 49 * (10**6 - 6) ** 2
    assert "e+" not in text and ".0" not in text


def test_csv_header_and_values(seed_net, nk):
    n, k = nk
    text = sc.to_csv(seed_net, at={n: 28, k: 5})
    assert text.splitlines()[0] == ",".join(CSV_FIELDS)
    *rows, total = csv.DictReader(io.StringIO(text))
    assert len(rows) == 10
    conv2 = rows[3]
    assert conv2["name"] == "conv2"
    assert conv2["description"] == "nn.Conv2d(32, 64, kernel_size=k)"
    assert conv2["params"] == "2048*k**2 + 64"
    assert conv2["input_shapes_value"] == "[(32, 8, 8)]"
    assert conv2["output_shape_value"] == "(64, 4, 4)"
    assert [int(r["params_value"]) for r in rows] == SEED_PARAMS
    assert [int(r["products_value"]) for r in rows] == SEED_PRODUCTS
    assert rows[6]["output_shape"] == "(256,)"
    symbolic = list(csv.DictReader(io.StringIO(sc.to_csv(seed_net))))
    assert symbolic[0]["params_value"] == ""
    assert text.splitlines()[-1] == (
        ",total,total,,,2080*k**2 + 53506,"
        "32*k**2*(-k + n + 1)**2 + 2048*k**2*(-k + floor(-k/3 + n/3 + 1/3) + 1)**2 + 53200"
        ",,,,105506,1333200"
    )


def test_csv_ends_with_the_totals_row(net28, nk):
    n, k = nk
    lines = sc.to_csv(net28).splitlines()
    assert len(lines) == 12
    assert lines[-1] == ",total,total,,,105506,1333200,,,,105506,1333200"
    *layers, total = csv.DictReader(io.StringIO(sc.to_csv(net28)))
    assert sum(int(r["params_value"]) for r in layers) == int(total["params_value"])
    assert sum(int(r["products_value"]) for r in layers) == int(total["products_value"])
    # symbolic, no point: the formulas, no values
    net = sc.Sequential(sc.Conv2d(1, 2, 3), input_shape=(1, n, n))
    assert sc.to_csv(net).splitlines()[-1] == ",total,total,,,20,18*(n - 2)**2,,,,,"


# -- DOT and Graphviz ------------------------------------------------------------------
def branching():
    h = sc.symbols("h")
    x = sc.Input((2, h, h))
    y = sc.Conv2d(2, 2, 3, padding=1)(x, name='say "hi"\\n')
    return sc.Network(x, sc.Concat()(x, y))


def test_dot_text(net28):
    dot = sc.to_dot(net28)
    assert dot.startswith("digraph network {") and dot.endswith("}")
    assert '"conv1" [label="conv1\\nnn.Conv2d(1, 32, kernel_size=5)\\n32×24×24"];' in dot
    assert '"input" [label="input\\n1×28×28"];' in dot
    assert '"input" -> "conv1";' in dot
    assert dot.count("->") == 10


def test_dot_quotes_names_and_labels_ports():
    dot = sc.to_dot(branching())
    assert '"say \\"hi\\"\\\\n"' in dot
    assert '"input" -> "cat1" [label="0"];' in dot
    assert '"say \\"hi\\"\\\\n" -> "cat1" [label="1"];' in dot


def test_dot_renders(tmp_path, net28):
    require_tool("dot")
    svg = sc.render(branching(), tmp_path / "net.svg")
    assert svg == tmp_path / "net.svg"
    text = svg.read_text()
    assert "<svg" in text and "cat1" in text and "say &quot;hi&quot;\\n" in text
    png = sc.render(net28, tmp_path / "lenet.out", format="png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_without_graphviz(monkeypatch, tmp_path, net28):
    monkeypatch.setattr("shutil.which", lambda program: None)
    with pytest.raises(sc.GraphvizError, match="Graphviz's `dot` program"):
        sc.render(net28, tmp_path / "x.svg")
    assert issubclass(sc.GraphvizError, sc.SymcnnError)


def test_render_refuses_unknown_formats(tmp_path, net28):
    with pytest.raises(ValueError, match="svg, png, pdf"):
        sc.render(net28, tmp_path / "x.gif")


# -- notebook display --------------------------------------------------------------------
def test_notebook_display(seed_net, net28):
    """The three notebook formats show one table, with the node names."""
    assert net28._repr_markdown_() == sc.to_markdown(net28, names=True)
    assert net28._repr_html_() == sc.to_html(net28, names=True)
    assert net28._repr_latex_() == sc.to_latex(net28, names=True)
    assert "\\left\\lfloor" in seed_net._repr_latex_()


# -- plots -------------------------------------------------------------------------------
def test_plot_products_against_n(design_net, nk):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    n, k = nk
    ax = sc.plot(design_net, "products", n, fixed={k: 5}, stop=64)
    (line,) = ax.get_lines()
    xs, ys = line.get_data()
    assert list(xs) == list(range(22, 65))
    assert list(ys) == [int(v) for v in design_net.evaluate("products", n=range(22, 65), k=5)]
    assert ax.get_xlabel() == "n" and ax.get_ylabel() == "products"


def test_plot_leaves_out_invalid_sizes(nk):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    n = nk[0]
    net = sc.Sequential(sc.Conv2d(1, 1, 3, stride=2), sc.View(-1, 9), input_shape=(1, n, n))
    (line,) = sc.plot(net, "params", "n", start=1, stop=20).get_lines()
    assert list(line.get_xdata()) == [7, 8]


def test_plot_names_the_extra(monkeypatch, design_net, nk):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"symcnn\[plot\]"):
        sc.plot(design_net, "products", nk[0], fixed={nk[1]: 5})


def test_import_does_not_load_matplotlib():
    code = "import sys, symcnn; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the example -----------------------------------------------------------------------
def test_latex_table_example(tmp_path, monkeypatch, capsys):
    script = str(ROOT / "examples" / "latex_table.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [script])
    runpy.run_path(script, run_name="__main__")
    written = ROOT / "examples" / "out" / "lenet_table.tex"  # the default: git ignores out/
    assert capsys.readouterr().out == f"wrote {written}\n"
    latex = written.read_text()
    assert latex.startswith("\\documentclass{article}") and "\\label{tab:lenet}" in latex
    assert sc.to_latex(sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))) in latex
    target = tmp_path / "out" / "table.tex"
    monkeypatch.setattr(sys, "argv", [script, "out/table.tex"])
    runpy.run_path(script, run_name="__main__")
    assert target.read_text() == latex
    assert capsys.readouterr().out == f"wrote {target}\n"
