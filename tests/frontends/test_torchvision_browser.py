"""torchvision's ResNet bottleneck through from_torch, its HTML table laid out by Chromium.

The same checks as tests/export/test_browser.py on a converted network, which adds the
``name`` column: in a 480-pixel window no cell wraps, the totals row is bold with a top
border, numbers are right-aligned and the wrapper, not the page, scrolls sideways.
"""

from __future__ import annotations

import pytest
from browser import column, contract_failures, measure, plain_table, wrapped

import symcnn as sc

from conftest import require, require_tool

pytestmark = [pytest.mark.torchvision, pytest.mark.slow]

WIDTH = 480


@pytest.fixture(scope="module")
def pages() -> dict:
    chromium = require_tool("chromium")
    resnet = require("torchvision.models.resnet")
    H, W = sc.symbols("H W")  # noqa: N806
    net = sc.from_torch(resnet.Bottleneck(256, 64), (256, H, W))
    html = net._repr_html_()
    return measure(chromium, {"bottleneck": html, "control": plain_table(html)}, width=WIDTH)


def test_control_wraps_without_css(pages):
    assert wrapped(pages["control"])


def test_bottleneck_table(pages):
    case = pages["bottleneck"]
    assert contract_failures(case, scrolls=True) == []
    assert len(case["tables"]) == 1
    names = [c["text"] for c in column(case, "name")]
    assert {"conv1", "conv3", "relu"} <= set(names), names
