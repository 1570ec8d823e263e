"""docs/notebook.py: the notebook builds, runs, exports and photographs; its tables hold up.

The script runs into a temporary folder (docs/notebook.png is left alone). Its PNG is
checked from the IHDR header (no image library needed), and its executed HTML, the
JupyterLab template with JupyterLab's own table CSS (which right-aligns every cell), is
measured in a 700-pixel Chromium window: symcnn's scoped style must win there too.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from browser import contract_failures, measure

from conftest import require, require_tool

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "notebook.py"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, str]:
    for module in ("nbformat", "nbconvert", "ipykernel"):
        require(module)
    chromium = require_tool("chromium")
    out = tmp_path_factory.mktemp("notebook")
    png, page = out / "notebook.png", out / "notebook.html"
    cmd = [sys.executable, str(SCRIPT), "--out", str(png), "--html", str(page)]
    proc = subprocess.run(
        [*cmd, "--chromium", chromium], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return png, page, chromium


def test_png(built):
    png, _, _ = built
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1440  # docs/notebook.py: WIDTH
    assert 800 <= height <= 16000  # three tables and their cells at least
    assert len(data) > 20_000


def test_html_offline(built):
    _, page, _ = built
    text = page.read_text(encoding="utf-8")
    assert 'src="http' not in text  # nothing fetched: the CDN scripts are dropped


def test_notebook_tables(built):
    """In JupyterLab's CSS, at 700 px: no cell wraps, totals bold, text left, numbers right."""
    _, page, chromium = built
    case = measure(chromium, {"notebook": page.read_text(encoding="utf-8")}, width=700)[
        "notebook"
    ]
    assert contract_failures(case) == []
    cards = [t for t in case["tables"] if "symcnn-card" in t["cls"]]
    assert len(cards) == 1
    assert len(case["tables"]) >= 3
