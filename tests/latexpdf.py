"""pdflatex and pdftotext for the LaTeX tests: compile a document, read its pages back.

``compile_pages`` runs pdflatex until longtable's column widths settle (it asks for a
rerun when they change) and returns each page's text and the log; ``assert_rows`` checks
that every row's cells appear on a line of their own, in the table's order.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from conftest import require_tool

__all__ = ["HEADER", "assert_rows", "compile_pages", "overfull_hboxes", "row_cells"]

#: Text of the table's header as pdftotext reads it back.
HEADER = ("input size / layer information", "# parameters", "# products")


def compile_pages(tex: str, directory: Path, name: str = "table") -> tuple[list[str], str]:
    """The text of every page of ``tex`` (pdftotext -layout) and pdflatex's last log."""
    pdflatex = require_tool("pdflatex")
    pdftotext = require_tool("pdftotext")
    (directory / f"{name}.tex").write_text(tex, encoding="utf-8")
    log = ""
    for _ in range(4):  # longtable settles its column widths over the runs
        run = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        log = (directory / f"{name}.log").read_text(errors="replace")
        assert run.returncode == 0, run.stdout[-3000:]
        if "Rerun LaTeX" not in log:
            break
    assert "Rerun LaTeX" not in log, "longtable's widths did not settle"
    text = subprocess.run(
        [pdftotext, "-layout", f"{name}.pdf", "-"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return pages, log


def overfull_hboxes(log: str) -> list[float]:
    """How far each overfull line of the log sticks out, in pt."""
    return [float(pt) for pt in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def row_cells(name: str | None, *values: object) -> list[str]:
    """The texts one row shows on its line: the name (if shown), then each value."""
    return ([name] if name is not None else []) + [str(v) for v in values]


#: Ligatures pdftotext may read back as one character: the Unicode ligature, or from the
#: bitmap fonts TeX makes where cm-super is missing, a control character (``classi\x1cer``).
_LIGATURE = re.compile("ffi|ffl|ff|fi|fl")


def _token(text: str) -> re.Pattern[str]:
    # A whole word: 0 is not the 0 of 10, conv1 not the conv1 of layer1.0.conv1's prefix.
    parts = _LIGATURE.split(text)
    ligatures = [rf"(?:{re.escape(m)}|.)" for m in _LIGATURE.findall(text)]
    pattern = "".join(p + q for p, q in zip(map(re.escape, parts), [*ligatures, ""], strict=True))
    return re.compile(rf"(?<![\w.]){pattern}(?![\w.])")


def assert_rows(pages: Sequence[str], table: Iterable[Sequence[str]]) -> None:
    """Every row's cells on one line, left to right, each row on a later line than the last.

    A row is found on the first line at or after the previous row's that holds its cells in
    order; a row missing, or out of order, fails with the row and where the search stood.
    """
    # Not splitlines(): a ligature may read back as a control character it splits at.
    lines = [line for page in pages for line in page.split("\n")]
    at = 0
    for number, cells in enumerate(table):
        patterns = [_token(c) for c in cells]
        while at < len(lines):
            pos = 0
            for pattern in patterns:
                found = pattern.search(lines[at], pos)
                if found is None:
                    break
                pos = found.end()
            else:
                break
            at += 1
        assert at < len(lines), f"row {number} {list(cells)} not found in order"
        at += 1
