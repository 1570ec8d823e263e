"""The training table: one row per layer, the totals, the memory; five formats, one content."""

from __future__ import annotations

import csv
import io
import json

import pytest

import symcnn as sc
from symcnn.export.training import training_rows, training_table

from conftest import seed_layers

N, K, B = sc.symbols("n k B")


@pytest.fixture(scope="module")
def step():
    return (
        sc.Sequential(*seed_layers(K), input_shape=(1, N, N)).subs({N: 28, K: 5}).training(batch=32)
    )


def test_rows_hold_the_layers_the_totals_and_the_memory(step):
    rows = training_rows(step, "adam")
    assert len(rows) == len(step.layers) + 1 + 6
    assert rows[0][:2] == (0, "nn.Conv2d(1, 32, kernel_size=5)")
    assert rows[len(step.layers)] == ("total", "", 42662400, 70579200, 3501056)
    assert rows[-1] == ("memory", "training memory", "", "", 5189152)
    memory = {name: value for tag, name, *_, value in rows if tag == "memory"}
    assert memory["parameters"] == memory["gradients"] == 4 * 105506
    assert memory["optimizer state (adam)"] == 8 * 105506
    assert sum(v for k, v in memory.items() if k != "training memory") == 5189152


def test_text_and_markdown_show_the_same_cells(step):
    text = training_table(step, memory="sgd")
    assert (
        text.splitlines()[0].split()
        == "# layer forward products backward products saved bytes".split()
    )
    assert "total" in text and "70579200" in text and "optimizer state (sgd)" in text
    md = training_table(step, "markdown")
    assert md.splitlines()[0].startswith("| # ") and "| 70579200 " in md
    assert str(step) == training_table(step) and step._repr_markdown_() == md


def test_csv_and_json_hold_numbers_and_formulas():
    t = sc.Sequential(sc.Conv2d(1, 2, 3), input_shape=(1, N, N)).training(batch=B)
    records = json.loads(training_table(t, "json"))
    assert records["batch"] == "B" and records["dtype"] == "float32"
    assert records["rows"][0]["saved_bytes"] == "4·B·n²"
    sized = json.loads(training_table(t.subs({B: 2, N: 5}), "json"))
    assert sized["rows"][-1] == {
        "index": "total", "layer": "", "forward_products": 324, "backward_products": 324,
        "saved_bytes": 200,
    }  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(training_table(t.subs({B: 2, N: 5}), "csv"))))
    assert rows[0]["forward_products"] == "324" and rows[-1]["index"] == "total"


def test_unknown_format_is_refused(step):
    with pytest.raises(sc.ShapeError, match="format must be one of"):
        training_table(step, "html")


# -- a training table of a real model reaches the PDF whole ------------------------------
@pytest.mark.slow
def test_a_long_training_table_breaks_across_pages(tmp_path):
    """ResNet-50's 175 layers: a longtable, every row and memory part found in the PDF."""
    from latexpdf import assert_rows, compile_pages, overfull_hboxes

    from symcnn.models import resnet50

    step = resnet50().training(batch=32).subs({"H": 224, "W": 224})
    tex = training_table(step, "latex", memory="adam")
    assert "\\begin{longtable}" in tex and "\\begin{tabular}" not in tex
    pages, log = compile_pages(tex, tmp_path)
    assert len(pages) > 1 and "Overfull \\vbox" not in log
    assert overfull_hboxes(log) == []
    assert all("backward products" in page for page in pages)  # the header on each page
    rows = training_rows(step, "adam")
    assert len(rows) == 175 + 1 + 6
    assert_rows(pages, [[str(c) for c in row[2:] if c != ""] for row in rows])
    assert str(step.memory("adam")) in pages[-1]
