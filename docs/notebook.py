"""Build, run and photograph a small notebook of symcnn's tables: docs/notebook.png.

Usage: ``python docs/notebook.py`` (writes docs/notebook.png; ``--out PATH`` elsewhere,
``--html PATH`` keeps the executed notebook's HTML). Needs ``pip install -e ".[docs]"`` and
Chromium (``chromium`` on PATH, or ``--chromium PATH``). Works offline.

The notebook is written with nbformat, run with nbconvert's ExecutePreprocessor on a kernel
of this very interpreter (a kernelspec written to a temporary folder, so another ``python3``
kernel installed on the machine is never picked up), exported with the "lab" template, its
CDN scripts dropped (the tables need none), and screenshotted by headless Chromium 1440
pixels wide and exactly as tall as the page.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WIDTH = 1440

# as in tests/browser.py: as root Chromium needs --no-sandbox, and on a closed network the
# background services must be off or start-up stalls on refused connections
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
)

_HEIGHT_JS = """<pre id="symcnn-height"></pre><script>
window.addEventListener("load", () => {
  document.getElementById("symcnn-height").textContent =
    String(Math.ceil(document.documentElement.scrollHeight));
});
</script>"""


def cells() -> list[tuple[str, str]]:
    """The notebook's cells, as (kind, source)."""
    out = [
        ("markdown", "# symcnn in a notebook\n\nThe seed lecture's LeNet, in closed form:"),
        ("code", "import symcnn as sc"),
        ("code", "net = sc.models.lenet()\nnet"),
        ("markdown", "At the seed's numbers, 28×28 inputs and 5×5 kernels:"),
        ("code", "sc.models.lenet(28, 5)"),
        ("markdown", "One layer's card:"),
        ("code", 'net["conv2"]'),
        ("markdown", "ResNet-50 at 224×224, one row per stage:"),
        ("code", 'sc.models.resnet50().subs({"H": 224, "W": 224}).table(depth=1)'),
    ]
    return out


def notebook() -> Any:
    """The notebook, not yet run."""
    import nbformat

    new = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb = nbformat.v4.new_notebook()
    nb.cells = [new[kind](source) for kind, source in cells()]
    nb.metadata["title"] = "symcnn"
    return nb


def execute(nb: Any, folder: Path) -> None:
    """Run every cell on a kernel of ``sys.executable``; raises on a cell's error."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbconvert.preprocessors import ExecutePreprocessor

    name = "symcnn-docs"
    spec = folder / "kernels" / name
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "symcnn docs", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    km = KernelManager(kernel_name=name, kernel_spec_manager=specs)
    nb.metadata["kernelspec"] = {"name": name, "display_name": "symcnn docs", "language": "python"}
    run = ExecutePreprocessor(timeout=600, kernel_name=name)
    run.preprocess(nb, {"metadata": {"path": str(folder)}}, km=km)


def to_html(nb: Any) -> str:
    """The executed notebook as one HTML page that loads nothing from the network."""
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    # require.js and MathJax from a CDN: nothing here needs them, and offline they only stall
    return re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', "", page)


def chromium_path(given: str | None) -> str:
    """The browser to run."""
    for candidate in (given, "chromium", "chromium-browser", "google-chrome"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    raise SystemExit("docs/notebook.py: Chromium not found (install chromium or pass --chromium)")


def _chromium(chromium: str, folder: Path, height: int, *args: str) -> str:
    profile = tempfile.mkdtemp(prefix="profile-", dir=folder)
    cmd = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=5000",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-10:])
        raise SystemExit(f"chromium exited {proc.returncode}:\n{tail}")
    return proc.stdout


def screenshot(page: str, out: Path, chromium: str, folder: Path) -> int:
    """Photograph the page ``WIDTH`` pixels wide and as tall as it is; returns the height."""
    probe = folder / "probe.html"
    probe.write_text(page.replace("</body>", _HEIGHT_JS + "</body>", 1), encoding="utf-8")
    dom = _chromium(chromium, folder, 800, "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="symcnn-height">(\d+)</pre>', dom)
    if found is None:
        raise SystemExit("docs/notebook.py: the page did not report its height")
    height = min(int(html.unescape(found.group(1))), 16000)
    shown = folder / "notebook.html"
    shown.write_text(page, encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    _chromium(chromium, folder, height, f"--screenshot={out.resolve()}", shown.as_uri())
    if not out.exists():
        raise SystemExit(f"docs/notebook.py: chromium wrote no {out}")
    return height


def main(argv: list[str] | None = None) -> None:
    """Build, execute, export and screenshot the notebook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "notebook.png", help="the PNG")
    parser.add_argument("--html", type=Path, help="also keep the executed notebook's HTML")
    parser.add_argument("--chromium", help="the browser's path (default: chromium on PATH)")
    args = parser.parse_args(argv)
    chromium = chromium_path(args.chromium)
    with tempfile.TemporaryDirectory(prefix="symcnn-notebook-") as tmp:
        folder = Path(tmp)
        nb = notebook()
        execute(nb, folder)
        page = to_html(nb)
        if args.html is not None:
            args.html.write_text(page, encoding="utf-8")
        height = screenshot(page, args.out, chromium, folder)
    print(f"{args.out}: {WIDTH}×{height} px, {len(nb.cells)} cells")


if __name__ == "__main__":
    main()
