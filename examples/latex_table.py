"""The seed lecture's LeNet table (n = 28, k = 5) as a LaTeX document, ready for pdflatex.

Run:  python examples/latex_table.py [path/to/table.tex]
      (default: examples/out/lenet_table.tex, beside this file, a folder git ignores)
then: pdflatex -output-directory examples/out examples/out/lenet_table.tex
"""

import sys
from pathlib import Path

import symcnn as sc
from symcnn.models import lenet

DEFAULT = Path(__file__).resolve().parent / "out" / "lenet_table.tex"
path = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT
path.parent.mkdir(parents=True, exist_ok=True)
n, k = sc.symbols("n k")
latex = sc.to_latex(
    lenet(),  # the slide's network, layer for layer, in n and k
    at={n: 28, k: 5},
    standalone=True,
    caption="LeNet on MNIST: 1×28×28 input, 5×5 kernels",
    label="tab:lenet",
)
path.write_text(latex, encoding="utf-8")
print(f"wrote {path}")
