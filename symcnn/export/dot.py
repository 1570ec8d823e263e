"""The network's graph as Graphviz DOT text, and rendered to SVG/PNG/PDF by ``dot``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GraphvizError
from ..graph.network import EDGE_PORT, NODE_LAYER, NODE_RECORD
from ..layers import Input

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["FORMATS", "render", "to_dot"]

#: The output formats :func:`render` accepts.
FORMATS = ("svg", "png", "pdf")


def to_dot(net: Network) -> str:
    r"""The network as a DOT digraph: a box per node, an edge per tensor.

    Each node shows its name, its PyTorch-style description and its output shape (an
    input, its shape). Edges into a node with several inputs are labelled with the port
    they feed. Every label is quoted and escaped.

    Examples
    --------
    >>> import symcnn as sc
    >>> print(to_dot(sc.Sequential(sc.Linear(256, 200), input_shape=(256,))))
    digraph network {
      rankdir=TB;
      node [shape=box, style=rounded, fontname="Helvetica"];
      "input" [label="input\n256"];
      "linear1" [label="linear1\nnn.Linear(256, 200)\n200"];
      "input" -> "linear1";
    }
    """
    g = net.graph
    lines = [
        "digraph network {",
        "  rankdir=TB;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
    ]
    for node, data in g.nodes(data=True):
        layer = data[NODE_LAYER]
        if isinstance(layer, Input):
            label = [str(node), str(layer.shape)]
        else:
            record = data[NODE_RECORD]
            label = [str(node), record.description, str(record.output_shape)]
        lines.append(f"  {_quote(node)} [label={_quote(chr(10).join(label))}];")
    for source, target, data in g.edges(data=True):
        edge = f"  {_quote(source)} -> {_quote(target)}"
        if g.in_degree(target) > 1:
            edge += f" [label={_quote(data.get(EDGE_PORT, 0))}]"
        lines.append(edge + ";")
    lines.append("}")
    return "\n".join(lines)


def render(net: Network, path: str | Path, format: str | None = None) -> Path:
    """Draw the network with Graphviz's ``dot`` program into ``path``.

    Parameters
    ----------
    net : Network
        The network.
    path : str or Path
        The file to write.
    format : {"svg", "png", "pdf"}, optional
        The picture format; by default the file's suffix, else SVG.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    GraphvizError
        When ``dot`` is not installed or fails.
    ValueError
        For a format not in :data:`FORMATS`.
    """
    path = Path(path)
    fmt = format or (path.suffix[1:].lower() if path.suffix else "svg")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(
            "rendering needs Graphviz's `dot` program, which is not on PATH: install "
            "Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), or "
            "write the DOT text of symcnn.to_dot(net) and render it elsewhere"
        )
    done = subprocess.run(
        [program, f"-T{fmt}", "-o", str(path)],
        input=to_dot(net).encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise GraphvizError(f"`dot -T{fmt}` failed with status {done.returncode}: {message}")
    return path


def _quote(value: object) -> str:
    r"""A DOT double-quoted string; newlines become ``\n`` line breaks of the label."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'
