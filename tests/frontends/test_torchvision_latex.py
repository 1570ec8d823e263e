"""torchvision's ResNet-50 and DenseNet-121 as LaTeX documents: every row on the pages.

What ``symcnn table model.py:model --input 3,H,W --format latex --at H=224,W=224``
writes: a longtable of 175 (427) layers with their names, compiled by pdflatex and read
back by pdftotext. Every row's name, parameters and products appear, in order, with the
header on every page and nothing running off a page. Models are built on the meta device.

torchvision imports only in CI's second venv (.ci/run: pytest -m torchvision); elsewhere
these skip.
"""

from __future__ import annotations

import warnings

import pytest
from latexpdf import assert_rows, compile_pages, overfull_hboxes, row_cells

import symcnn as sc
from symcnn.export._table import rows

from conftest import require

torch = require("torch")

H, W = sc.symbols("H W")

pytestmark = [pytest.mark.torchvision, pytest.mark.slow]

#: The totals at 224×224: parameters (torch's sum of numel) and products.
TOTALS = {
    "resnet50": (25_557_032, 4_089_184_256),
    "densenet121": (7_978_856, 2_834_161_664),
}


def build(name: str):
    models = require("torchvision.models")
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        return getattr(models, name)(weights=None).eval()


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_every_row_reaches_the_pdf(tmp_path, name):
    model = build(name)
    net = sc.from_torch(model, (3, H, W))
    fixed = net.subs({H: 224, W: 224})
    assert (fixed.params, fixed.products) == TOTALS[name]
    assert fixed.params == sum(p.numel() for p in model.parameters())
    doc = sc.to_latex(net, at={H: 224, W: 224}, standalone=True)
    assert "\\begin{longtable}" in doc and "\\textit{" in doc  # names shown for torch
    pages, log = compile_pages(doc, tmp_path, name)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert "input size / layer information" in page, number
        assert "# products" in page, number
    assert "Overfull \\vbox" not in log
    assert max(overfull_hboxes(log), default=0.0) <= 3.0, overfull_hboxes(log)
    table = rows(fixed)
    assert len(table) == len(net.layers) + 1
    assert_rows(
        pages,
        [
            row_cells(None if r.is_total else r.name, r.params.value, r.products.value)
            for r in table
        ],
    )
    assert_rows(pages[-1:], [["total", *map(str, TOTALS[name])]])
