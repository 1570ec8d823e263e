"""symcnn's HTML as a browser lays it out: no cell wraps in a narrow window, the table scrolls.

Every case renders in headless Chromium (one start for the file, tests/browser.py), each in a
window 480 CSS pixels wide, and the tests read the layout back: lines per cell, computed
styles, scroll widths. The negative control, the same cell texts in a bare table without
CSS, must wrap at that width: the measurement can fail.
"""

from __future__ import annotations

import re

import pytest
from browser import column, contract_failures, measure, plain_table, wrapped

import symcnn as sc
import symcnn.models  # noqa: F401  (sc.models)

from conftest import require_tool

WIDTH = 480

# The CSS of a minimal table that meets the contract by hand: the harness passes it whatever
# the library's own HTML does, so a failure elsewhere is the library's, not the measurement's.
_REFERENCE_CSS = """<style>
.symcnn-wrap { overflow-x: auto; }
table.symcnn th, table.symcnn td { white-space: nowrap; text-align: left; }
table.symcnn .num { text-align: right; }
table.symcnn tr.symcnn-total td { font-weight: 700; border-top: 1px solid black; }
</style>"""


def _reference(fragment: str) -> str:
    """The fragment's cells in a bare table (:func:`plain_table`) styled to the contract by hand."""
    table = plain_table(fragment).replace("<tfoot>\n<tr>", '<tfoot>\n<tr class="symcnn-total">')
    # the last two columns (parameters, products) are the numbers
    table = re.sub(
        r"<td>([^<]*)</td><td>([^<]*)</td></tr>",
        r'<td class="num">\1</td><td class="num">\2</td></tr>',
        table,
    )
    return f'{_REFERENCE_CSS}<div class="symcnn-wrap">{table}</div>'


def _residual() -> sc.Network:
    """README's ResNet basic block: two convolutions and an Add merging the skip."""
    H, W = sc.symbols("H W")  # noqa: N806
    x = sc.Input((64, H, W))
    y = sc.ReLU()(sc.BatchNorm2d(64)(sc.Conv2d(64, 64, 3, padding=1, bias=False)(x)))
    y = sc.BatchNorm2d(64)(sc.Conv2d(64, 64, 3, padding=1, bias=False)(y, name="conv2"))
    return sc.Network(x, sc.ReLU()(sc.Add()(x, y)))


def _card() -> str:
    return sc.models.lenet()["conv2"]._repr_html_()


BUILDERS = {
    "lenet": lambda: sc.models.lenet()._repr_html_(),
    "lenet-28-5": lambda: sc.models.lenet(28, 5)._repr_html_(),
    "residual": lambda: _residual()._repr_html_(),
    "card": _card,
}


@pytest.fixture(scope="module")
def fragments() -> dict[str, str | Exception]:
    out: dict[str, str | Exception] = {}
    for name, build in BUILDERS.items():
        try:
            out[name] = build()
        except Exception as e:  # noqa: BLE001  (reported by the test of that case)
            out[name] = e
    return out


@pytest.fixture(scope="module")
def pages(fragments) -> dict:
    chromium = require_tool("chromium")
    cases = {name: html for name, html in fragments.items() if isinstance(html, str)}
    cases["control"] = plain_table(fragments["lenet"])
    cases["reference"] = _reference(fragments["lenet"])
    return measure(chromium, cases, width=WIDTH)


def _case(pages, fragments, name):
    if isinstance(fragments.get(name), Exception):
        pytest.fail(f"{name}: building its HTML raised {fragments[name]!r}")
    return pages[name]


def test_control_wraps_without_css(pages):
    """The negative control: the same texts without symcnn's CSS wrap at 480 px."""
    control = pages["control"]
    assert control["inner_width"] == WIDTH
    assert wrapped(control), "the bare table did not wrap: the measurement cannot fail"
    failures = contract_failures(control)
    assert any("wraps onto" in f for f in failures)
    assert any("white-space normal" in f for f in failures)
    assert any("symcnn-total" in f for f in failures)


def test_reference_meets_contract(pages):
    """A table styled by hand to the contract passes: the checks can pass."""
    assert contract_failures(pages["reference"], scrolls=True) == []


@pytest.mark.parametrize(
    ("name", "scrolls"), [("lenet", True), ("lenet-28-5", False), ("residual", True)]
)
def test_network_table(pages, fragments, name, scrolls):
    """No cell wraps; bold totals with a top border; numbers right; the wrapper scrolls."""
    case = _case(pages, fragments, name)
    assert contract_failures(case, scrolls=scrolls) == []
    assert len(case["tables"]) == 1


def test_evaluated_numbers_are_num(pages, fragments):
    """At numbers, the parameter and product columns are number cells, the text is not."""
    case = _case(pages, fragments, "lenet-28-5")
    if not case["tables"]:
        pytest.fail("no table.symcnn on the page")
    for header in ("param", "product"):
        cells = column(case, header)
        assert cells and all("num" in c["cls"] for c in cells), [
            c["text"] for c in cells if "num" not in c["cls"]
        ]
    for header in ("layer", "output"):
        assert not any("num" in c["cls"] for c in column(case, header))


def test_symbolic_formulas_are_text(pages, fragments):
    """Layers, shapes and formulas are left-aligned text, in the symbolic table too.

    A derivation cell (``td.deriv``, ``32·(k²+1) =``) may be ``num``: right-aligned, its
    ``=`` lines up with the next row's before the formula it equals.
    """
    case = _case(pages, fragments, "lenet")
    if not case["tables"]:
        pytest.fail("no table.symcnn on the page")
    for header in ("layer", "output"):
        assert not any("num" in c["cls"] for c in column(case, header))
    formulas = [
        c
        for header in ("param", "product")
        for c in column(case, header)
        if re.search(r"[a-zA-Z]", c["text"]) and "deriv" not in c["cls"]
    ]
    assert formulas
    assert not any("num" in c["cls"] for c in formulas), [
        c["text"] for c in formulas if "num" in c["cls"]
    ]


def test_layer_card(pages, fragments):
    """``net["conv2"]``'s card: ``table.symcnn.symcnn-card``, no cell wraps."""
    case = _case(pages, fragments, "card")
    assert contract_failures(case, card=True) == []
