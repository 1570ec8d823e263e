"""The node-name column of the text, Markdown, HTML and LaTeX tables.

Shown by default for networks built by from_torch (their node names are the module's
attribute paths, the way to find a layer in the model), left out otherwise; ``names``
and the command's ``--names/--no-names`` decide either way.
"""

from __future__ import annotations

import textwrap

import pytest

import symcnn as sc
from symcnn.cli import main


@pytest.fixture
def plain():
    return sc.Sequential(sc.Linear(2, 1), input_shape=(2,))


@pytest.fixture
def from_torch(torch):
    nn = torch.nn
    n = sc.symbols("n")
    body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    return sc.from_torch(nn.Sequential(body, nn.Flatten()), (1, n, n)).subs({n: 5})


PLAIN_NAMED = [
    "#  name     layer            input size  output size  # parameters  # products",
    "-  -------  ---------------  ----------  -----------  ------------  ----------",
    "0  linear1  nn.Linear(2, 1)  2           1            2+1 = 3       2",
    "            total                                     3             2",
]
TORCH_NAMED = [
    "#  name  layer                           input size  output size  # parameters   # products",
    "-  ----  ------------------------------  ----------  -----------  -------------  "
    "-------------",
    "0  0.0   nn.Conv2d(1, 4, kernel_size=3)  1×5×5       4×3×3        4·(3²+1) = 40  "
    "4·3²·3² = 324",
    "1  0.1   nn.ReLU()                       4×3×3       4×3×3        0              0",
    "2  1     nn.Flatten()                    4×3×3       36           0              0",
    "         total                                                    40             324",
]


# -- text ----------------------------------------------------------------------------------
def test_text_leaves_names_out_of_a_symcnn_network(plain):
    assert sc.to_text(plain).splitlines()[0] == (
        "#  layer            input size  output size  # parameters  # products"
    )
    assert sc.to_text(plain, names=True).splitlines() == PLAIN_NAMED


def test_text_names_a_torch_network_by_default(from_torch):
    assert sc.to_text(from_torch).splitlines() == TORCH_NAMED
    assert sc.to_text(from_torch, names=False) == sc.to_text(
        sc.Sequential(sc.Conv2d(1, 4, 3), sc.ReLU(), sc.Flatten(), input_shape=(1, 5, 5))
    )


def test_text_names_beside_values_at_a_point(torch):
    nn = torch.nn
    n = sc.symbols("n")
    net = sc.from_torch(nn.Sequential(nn.Conv2d(1, 2, 3)), (1, n, n))
    assert sc.to_text(net, at={n: 5}).splitlines() == [
        "#  name  layer                           output size        # parameters   # products",
        "                                         at n=5             at n=5         at n=5",
        "-  ----  ------------------------------  -----------------  -------------  "
        "-------------",
        "0  0     nn.Conv2d(1, 2, kernel_size=3)  2×(n - 2)×(n - 2)  2·(3²+1) = 20  18·(n - 2)²",
        "                                         2×3×3              2·(3²+1) = 20  2·3²·3² = 162",
        "         total                           2×(n - 2)×(n - 2)  20             18·(n - 2)²",
        "                                         2×3×3              20             162",
    ]


# -- Markdown and HTML ---------------------------------------------------------------------
def test_markdown_names(plain, from_torch):
    assert sc.to_markdown(plain, names=True).splitlines() == [
        "| #   | name    | layer             | input size | output size | # parameters "
        "| # products |",
        "|-----|---------|-------------------|------------|-------------|-------------:"
        "|-----------:|",
        "| 0   | linear1 | `nn.Linear(2, 1)` | 2          | 1           | 2+1 = 3      "
        "| 2          |",
        "|     |         | total             |            |             | 3            "
        "| 2          |",
    ]
    lines = sc.to_markdown(from_torch).splitlines()
    assert lines[2] == (
        "| 0   | 0.0  | `nn.Conv2d(1, 4, kernel_size=3)` | 1×5×5      | 4×3×3       "
        "| 4·(3²+1) = 40 | 4·3²·3² = 324 |"
    )
    assert "name" not in sc.to_markdown(from_torch, names=False).splitlines()[0]


def test_markdown_escapes_names():
    x = sc.Input((2,))
    y = sc.ReLU()(x, name="a_b|c")
    md = sc.to_markdown(sc.Network(x, y), names=True)
    assert md.splitlines()[2] == (
        "| 0   | a\\_b\\|c | `nn.ReLU()` | 2          | 2           | 0            | 0          |"
    )


def test_html_names(plain):
    page = sc.to_html(plain, names=True)
    assert "<th>#</th>" not in page  # numbers are right-aligned, the header too
    assert (
        '<thead><tr><th class="num">#</th><th>name</th><th>layer</th>'
        '<th>output size</th><th class="num" colspan="2"># parameters</th>'
        '<th class="num" colspan="2"># products</th></tr></thead>'
    ) in page
    assert "<td>linear1</td><td><code>nn.Linear(2, 1)</code></td>" in page
    assert "<th>name</th>" not in sc.to_html(plain, names=None)
    assert "<th>name</th>" not in sc.to_html(plain, names=False)


# -- LaTeX ---------------------------------------------------------------------------------
def test_latex_names(plain, from_torch):
    assert sc.to_latex(plain, names=True).splitlines() == [
        "\\begin{tabular}{@{}lllll@{}}",
        "\\toprule",
        "name & input size / layer information & output size & \\# parameters & \\# products \\\\",
        "\\midrule",
        "\\textit{linear1} & \\begin{tabular}[b]{@{}l@{}}$2$\\\\\\texttt{nn.Linear(2, 1)}"
        "\\end{tabular} & $1$ & $2+1 = 3$ & $2$ \\\\",
        "\\midrule",
        " & total &  & $3$ & $2$ \\\\",
        "\\bottomrule",
        "\\end{tabular}",
    ]
    assert sc.to_latex(from_torch).splitlines()[4].startswith("\\textit{0.0} & ")
    assert sc.to_latex(from_torch, names=False).startswith("\\begin{tabular}{@{}llll@{}}")


def test_names_survive_substitution(torch):
    nn = torch.nn
    n = sc.symbols("n")
    net = sc.from_torch(nn.Sequential(nn.Conv2d(1, 2, 3)), (1, n, n))
    assert sc.to_text(net.subs({n: 5})).splitlines()[0].startswith("#  name  layer")


# -- the command ---------------------------------------------------------------------------
def run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def torch_file(torch, tmp_path):
    path = tmp_path / "torchmodel.py"
    path.write_text(
        textwrap.dedent(
            """
            import torch.nn as nn
            model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), nn.Flatten())
            """
        )
    )
    return path


def test_cli_names_a_torch_module(capsys, torch_file):
    status, out, err = run(capsys, "table", f"{torch_file}:model", "--input", "1,5,5")
    assert (status, err) == (0, "")
    assert out.splitlines() == TORCH_NAMED
    status, out, _ = run(capsys, "table", f"{torch_file}:model", "--input", "1,5,5", "--no-names")
    assert status == 0
    assert out.splitlines()[0] == (
        "#  layer                           input size  output size  # parameters   # products"
    )


def test_cli_names_on_request(capsys):
    status, out, _ = run(capsys, "table", "Linear(2, 1)", "--input", "2", "--names")
    assert status == 0
    assert out.splitlines() == PLAIN_NAMED
    status, out, _ = run(
        capsys, "table", "Linear(2, 1)", "--input", "2", "--names", "--format", "markdown"
    )
    assert out.splitlines()[2].startswith("| 0   | linear1 | `nn.Linear(2, 1)` |")
    _, out, _ = run(capsys, "table", "Linear(2,1)", "--input", "2", "--names", "--format", "latex",
                    "--fragment")  # fmt: skip
    assert out.splitlines()[2].startswith("name & input size / layer information")


@pytest.mark.parametrize(("flag", "fmt"), [("--names", "csv"), ("--no-names", "json")])
def test_cli_names_refused_for_records(capsys, flag, fmt):
    status, out, err = run(capsys, "table", "ReLU", "--input", "2", flag, "--format", fmt)
    assert (status, out) == (2, "")
    assert err == (
        f"symcnn: error: {flag} applies to text, markdown and latex tables (csv and json "
        "always hold the names)\n"
    )
