"""Render HTML in headless Chromium and measure symcnn's tables as the browser lays them out.

:func:`measure` takes several HTML fragments (each a ``_repr_html_`` as Jupyter would insert
it), writes each to its own page, loads them all as iframes of one host page (one Chromium
start for all), and returns, per fragment, what a reader would see of every
``table.symcnn``: for each cell its text, how many lines it spans on screen, how many it
would span without wrapping (one plus its ``<br>``), and the computed styles the HTML
contract names; for each table its classes, whether a ``<style>`` precedes it, and its
``div.symcnn-wrap``'s overflow and scroll widths. Each iframe is exactly ``width`` CSS pixels
wide: a window that narrow.

:func:`plain_table` rebuilds a fragment's tables as bare ``<table class="symcnn">`` with the
same cell texts and no CSS, the negative control: at a narrow width its long cells wrap.

>>> plain_table('<style>p{}</style><table><tr><td class="num">1 &lt; 2</td></tr></table>')
'<table class="symcnn">\\n<tbody>\\n<tr><td>1 &lt; 2</td></tr>\\n</tbody>\\n</table>'
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any


def _docs_script() -> Any:
    """docs/notebook.py, loaded as a module: its Chromium flags serve the tests too."""
    path = Path(__file__).resolve().parents[1] / "docs" / "notebook.py"
    spec = importlib.util.spec_from_file_location("symcnn_docs_notebook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# docs/notebook.py's flags (headless as root, no background networking on a closed
# network), and: the host page reads its iframes' documents, file:// pages of one folder
CHROMIUM_FLAGS = (*_docs_script().CHROMIUM_FLAGS, "--allow-file-access-from-files")


# Runs in the host page once every iframe has loaded: measures each iframe's document and
# writes the JSON into <pre id="symcnn-measure">, which --dump-dom then prints.
_MEASURE_JS = r"""
function cellLines(win, doc, cell) {
  // Rendered lines: the boxes of the cell's text nodes, grouped by vertical position.
  const rects = [];
  const walker = doc.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = doc.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) rects.push(r);
  }
  rects.sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const r of rects) {
    const middle = (r.top + r.bottom) / 2;
    if (middle > bottom) { lines += 1; bottom = r.bottom; }
    else bottom = Math.max(bottom, r.bottom);
  }
  return lines;
}

function column(cell) {
  // The grid column where the cell starts, counting the colspans before it.
  let col = 0;
  for (let c = cell.previousElementSibling; c; c = c.previousElementSibling) col += c.colSpan || 1;
  return col;
}

function px(value) { return parseFloat(value) || 0; }

function measureDoc(win) {
  const doc = win.document;
  const styles = [...doc.querySelectorAll("style")];
  const tables = [];
  for (const table of doc.querySelectorAll("table.symcnn")) {
    const wrap = table.closest("div.symcnn-wrap");
    const wrapStyle = wrap ? win.getComputedStyle(wrap) : null;
    const cells = [];
    for (const cell of table.querySelectorAll("th, td")) {
      if (cell.closest("table") !== table) continue;
      const cs = win.getComputedStyle(cell);
      const row = cell.parentElement;
      const section = row.parentElement.tagName.toLowerCase();
      cells.push({
        tag: cell.tagName.toLowerCase(),
        section: section,
        row_class: [...row.classList],
        row: row.sectionRowIndex,
        col: column(cell),
        span: cell.colSpan,
        cls: [...cell.classList],
        text: cell.innerText,
        lines: cellLines(win, doc, cell),
        hard_lines: cell.querySelectorAll("br").length + 1,
        white_space: cs.whiteSpace,
        text_wrap_mode: cs.textWrapMode || null,
        text_align: cs.textAlign,
        font_weight: px(cs.fontWeight),
        border_top_style: cs.borderTopStyle,
        border_top_width: px(cs.borderTopWidth),
        width: cell.getBoundingClientRect().width,
        height: cell.getBoundingClientRect().height,
      });
    }
    tables.push({
      cls: [...table.classList],
      style_before: styles.some(s =>
        s.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING),
      wrap: wrap ? {
        overflow_x: wrapStyle.overflowX,
        scroll_width: wrap.scrollWidth,
        client_width: wrap.clientWidth,
        contains_style: !!wrap.querySelector("style"),
      } : null,
      width: table.getBoundingClientRect().width,
      cells: cells,
    });
  }
  return {
    inner_width: win.innerWidth,
    page_scroll_width: doc.documentElement.scrollWidth,
    page_client_width: doc.documentElement.clientWidth,
    tables: tables,
  };
}

window.addEventListener("load", () => {
  const out = {};
  for (const frame of document.querySelectorAll("iframe[data-case]")) {
    try { out[frame.dataset.case] = measureDoc(frame.contentWindow); }
    catch (e) { out[frame.dataset.case] = {error: String(e)}; }
  }
  document.getElementById("symcnn-measure").textContent = JSON.stringify(out);
});
"""

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body>
{body}
</body></html>
"""

_HOST = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
body {{ margin: 0; }} iframe {{ display: block; border: 0; margin: 0 0 8px 0; }}
</style></head>
<body>
{frames}
<pre id="symcnn-measure"></pre>
<script>{script}</script>
</body></html>
"""

_RESULT = re.compile(r'<pre id="symcnn-measure">(.*?)</pre>', re.DOTALL)


class BrowserError(RuntimeError):
    """Chromium did not run, or its page did not report measurements."""


def measure(
    chromium: str,
    cases: Mapping[str, str],
    *,
    width: int = 480,
    height: int = 1500,
    timeout: float = 60,
    keep: str | Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Lay out each HTML fragment in a ``width``-pixel window and measure its symcnn tables.

    Parameters
    ----------
    chromium : str
        The browser's path (tests get it from ``conftest.require_tool("chromium")``).
    cases : mapping of str to str
        Name to HTML fragment; each becomes the body of its own page (a whole document,
        one that starts with ``<!DOCTYPE`` or ``<html``, is the page itself: an exported
        notebook).
    width, height : int
        Each page's viewport in CSS pixels.
    timeout : float
        Seconds before Chromium is given up on.
    keep : path, optional
        A folder to write the pages to and leave there (to open them by hand); by default a
        temporary folder, removed afterwards.

    Returns
    -------
    dict
        Per case: ``inner_width``, ``page_scroll_width``, ``page_client_width`` and ``tables``,
        a list with per table ``cls``, ``style_before``, ``wrap`` (or None), ``width`` and
        ``cells`` (per cell ``text``, ``lines``, ``hard_lines``, ``section``, ``row_class``,
        ``cls``, ``white_space``, ``text_align``, ``font_weight``, ``border_top_style``,
        ``border_top_width``, ...); or ``{"error": message}`` if the page could not be read.
    """
    if keep is not None:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return _measure_in(chromium, cases, Path(keep), width, height, timeout)
    with tempfile.TemporaryDirectory(prefix="symcnn-browser-") as tmp:
        return _measure_in(chromium, cases, Path(tmp), width, height, timeout)


def _measure_in(
    chromium: str,
    cases: Mapping[str, str],
    folder: Path,
    width: int,
    height: int,
    timeout: float,
) -> dict[str, dict[str, Any]]:
    frames = []
    for i, (name, fragment) in enumerate(cases.items()):
        page = folder / f"case{i}.html"
        whole = re.match(r"\s*(<!DOCTYPE|<html)", fragment, re.IGNORECASE) is not None
        text = fragment if whole else _PAGE.format(title=html.escape(name), body=fragment)
        page.write_text(text, encoding="utf-8")
        frames.append(
            f'<iframe data-case="{html.escape(name, quote=True)}" src="{page.name}" '
            f'width="{width}" height="{height}"></iframe>'
        )
    host = folder / "host.html"
    host.write_text(_HOST.format(frames="\n".join(frames), script=_MEASURE_JS), encoding="utf-8")
    profile = folder / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width + 40},{min(height, 2000)}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise BrowserError(f"chromium timed out after {timeout} s") from e
    found = _RESULT.search(proc.stdout)
    if proc.returncode != 0 or found is None or not found.group(1).strip():
        tail = "\n".join(proc.stderr.splitlines()[-15:])
        raise BrowserError(
            f"chromium exited {proc.returncode} without measurements:\n{tail}\n"
            f"stdout starts {proc.stdout[:500]!r}"
        )
    result: dict[str, dict[str, Any]] = json.loads(html.unescape(found.group(1)))
    missing = set(cases) - set(result)
    if missing:
        raise BrowserError(f"no measurements for {sorted(missing)}")
    return result


class _Cells(HTMLParser):
    """Rows of (section, [(tag, text)]) of every table, ``<br>`` kept as a newline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[str, list[tuple[str, str]]]] = []
        self.section = "tbody"
        self.cell: list[str] | None = None
        self.skip = 0  # inside <style> or <script>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self.skip += 1
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr":
            self.rows.append((self.section, []))
        elif tag in ("td", "th") and self.rows:
            self.cell = []
            self.rows[-1][1].append((tag, ""))
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.skip -= 1
        elif tag in ("td", "th") and self.cell is not None:
            kind, _ = self.rows[-1][1][-1]
            self.rows[-1][1][-1] = (kind, "".join(self.cell).strip())
            self.cell = None
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = "tbody"

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not self.skip:
            self.cell.append(data)


def plain_table(fragment: str) -> str:
    """The fragment's cells as one bare ``<table class="symcnn">``: no CSS, no classes on cells.

    The negative control of the no-wrap tests: the same texts, laid out by the browser's
    defaults, wrap at a narrow width.
    """
    parser = _Cells()
    parser.feed(fragment)
    parser.close()
    out = ['<table class="symcnn">']
    section = None
    for sec, cells in parser.rows:
        if sec != section:
            if section is not None:
                out.append(f"</{section}>")
            out.append(f"<{sec}>")
            section = sec
        inner = "".join(
            f"<{tag}>{html.escape(text, quote=False).replace(chr(10), '<br>')}</{tag}>"
            for tag, text in cells
        )
        out.append(f"<tr>{inner}</tr>")
    if section is not None:
        out.append(f"</{section}>")
    out.append("</table>")
    return "\n".join(out)


def wrapped(case: Mapping[str, Any]) -> list[str]:
    """The cells of a measured case that take more lines than their text has (wrapped)."""
    return [
        f"{c['section']} row {c['row']} col {c['col']}: {c['lines']} lines for "
        f"{c['hard_lines']}: {c['text']!r}"
        for table in case["tables"]
        for c in table["cells"]
        if c["lines"] > c["hard_lines"]
    ]


def _is_right(align: str) -> bool:
    return align in ("right", "end", "-webkit-right")


def _is_left(align: str) -> bool:
    return align in ("left", "start", "-webkit-left")


def contract_failures(
    case: Mapping[str, Any], *, card: bool = False, total: bool = True, scrolls: bool = False
) -> list[str]:
    """Where a measured case breaks symcnn's HTML contract; empty when it meets it.

    The contract: every table is ``table.symcnn`` (with ``card``, a layer card, also
    ``symcnn-card``), after a ``<style>``, inside a ``div.symcnn-wrap`` with
    ``overflow-x: auto``; no cell wraps (``white-space: nowrap``, and on screen no more lines
    than its ``<br>`` make); the totals row ``tfoot tr.symcnn-total`` (when ``total``; a
    card has none) has cells of weight 600 or more with a visible top border; ``num``
    cells are right-aligned, other data cells left-aligned.
    With ``scrolls``, the table is wider than the window: its wrapper scrolls sideways and
    the page itself does not.
    """
    if "error" in case:
        return [f"page not measured: {case['error']}"]
    tables = case["tables"]
    if not tables:
        return ["no table.symcnn on the page"]
    out = []
    for t, table in enumerate(tables):
        where = f"table {t}"
        if card and "symcnn-card" not in table["cls"]:
            out.append(f"{where}: class {table['cls']} lacks symcnn-card")
        if not table["style_before"]:
            out.append(f"{where}: no <style> before the table")
        wrap = table["wrap"]
        if wrap is None:
            out.append(f"{where}: not inside div.symcnn-wrap")
        else:
            if wrap["overflow_x"] not in ("auto", "scroll"):
                out.append(f"{where}: wrapper overflow-x is {wrap['overflow_x']}")
            if scrolls and not wrap["scroll_width"] > wrap["client_width"]:
                out.append(
                    f"{where}: wrapper does not scroll sideways (scrollWidth "
                    f"{wrap['scroll_width']} <= clientWidth {wrap['client_width']})"
                )
        cells = table["cells"]
        for c in cells:
            at = f"{where} {c['section']} row {c['row']} col {c['col']} {c['text']!r}"
            if c["white_space"] not in ("nowrap", "pre") and c.get("text_wrap_mode") != "nowrap":
                out.append(f"{at}: white-space {c['white_space']}")
            if c["lines"] > c["hard_lines"]:
                out.append(f"{at}: wraps onto {c['lines']} lines")
            if "num" in c["cls"]:
                if not _is_right(c["text_align"]):
                    out.append(f"{at}: class num but text-align {c['text_align']}")
            elif c["tag"] == "td" and not _is_left(c["text_align"]):
                out.append(f"{at}: text cell with text-align {c['text_align']}")
        if total and "symcnn-card" not in table["cls"]:
            foot = [
                c for c in cells if c["section"] == "tfoot" and "symcnn-total" in c["row_class"]
            ]
            if not foot:
                out.append(f"{where}: no tfoot tr.symcnn-total")
            for c in foot:
                at = f"{where} total col {c['col']} {c['text']!r}"
                if c["font_weight"] < 600:
                    out.append(f"{at}: font-weight {c['font_weight']}")
                if c["border_top_style"] in ("none", "hidden") or c["border_top_width"] <= 0:
                    out.append(
                        f"{at}: top border {c['border_top_style']} {c['border_top_width']}px"
                    )
    if scrolls and case["page_scroll_width"] > case["page_client_width"]:
        out.append(
            f"the page itself scrolls sideways ({case['page_scroll_width']} > "
            f"{case['page_client_width']} px): the wrapper should"
        )
    return out


def column(case: Mapping[str, Any], header: str, table: int = 0) -> list[dict[str, Any]]:
    """The body and footer cells under the ``thead`` cell that contains ``header``.

    A header spanning several columns (``# parameters`` over a derivation and its value)
    gives the cells of all of them.
    """
    cells = case["tables"][table]["cells"]
    heads = [c for c in cells if c["section"] == "thead" and header in c["text"]]
    if len(heads) != 1:
        raise KeyError(f"{len(heads)} columns headed {header!r}")
    (head,) = heads
    first, end = head["col"], head["col"] + head["span"]
    return [c for c in cells if c["section"] != "thead" and first <= c["col"] < end]
