"""The symcnn command: in process through main() for speed, and a few real subprocesses."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import symcnn as sc
import symcnn.frontends.spec
import symcnn.graph.queries
from symcnn.cli import FORMATS, QUANTITIES, main
from symcnn.frontends.spec import parse_spec
from symcnn.models import lenet

from conftest import require

SEED_NUMBERS = [
    "32·(5²+1) = 832",
    "32·24²·5² = 460800",
    "64·(32·5²+1) = 51264",
    "64·32·4²·5² = 819200",
    "200·(256+1) = 51400",
    "200·256 = 51200",
    "10·(200+1) = 2010",
    "10·200 = 2000",
    "105506",
    "1333200",
]
SPEC = (
    "Conv2d(1,32,k) | MaxPool2d(3) | ReLU | Conv2d(32,64,k) | MaxPool2d(2) | ReLU | Flatten"
    " | LazyLinear(200) | ReLU | Linear(200,10)"
)
HOSTILE = "__import__('pathlib').Path('{}').touch()"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def fails(capsys: pytest.CaptureFixture[str], status: int, *args: str) -> str:
    """Run, expect ``status`` and one error line on stderr; return that line."""
    got, out, err = run(capsys, *args)
    assert (got, out) == (status, "")
    assert err.startswith("symcnn: error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


# -- table ---------------------------------------------------------------------------------
def test_the_default_table_is_the_seed_slide(capsys):
    status, out, err = run(capsys, "table")
    assert (status, err) == (0, "")
    assert out == sc.to_text(lenet(28, 5)) + "\n"
    for number in SEED_NUMBERS:
        assert number in out
    rows = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [row.split()[0] for row in rows] == [str(i) for i in range(10)]
    assert "x.view(-1, 256)" in rows[6]


def test_symbolic_table_shows_formulas_above_values(capsys):
    status, out, _ = run(capsys, "table", "--symbolic")
    assert status == 0
    assert "⌊(n - 4·k + 4)/6⌋" in out
    assert "at n=28, k=5" in out
    assert "64·(32·5²+1) = 51264" in out


def test_a_model_without_at_is_left_symbolic(capsys):
    status, out, _ = run(capsys, "table", "symcnn.models:lenet")
    assert status == 0
    assert out == sc.to_text(lenet()) + "\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_carries_the_seed_totals(capsys, fmt):
    status, out, err = run(capsys, "table", "--format", fmt)
    assert (status, err) == (0, "")
    assert "460800" in out and "51264" in out
    assert "105506" in out and "1333200" in out


def test_json_and_csv_hold_exact_values(capsys):
    _, out, _ = run(capsys, "table", "--format", "json")
    data = json.loads(out)
    assert data["at"] == {"n": 28, "k": 5}
    assert data["totals"]["params_value"] == 105506
    assert data["totals"]["products_value"] == 1333200
    params = [r["params_value"] for r in data["layers"]]
    assert params == [832, 0, 0, 51264, 0, 0, 0, 51400, 0, 2010]
    _, out, _ = run(capsys, "table", "--format", "csv")
    *rows, total = csv.DictReader(io.StringIO(out))
    assert sum(int(r["products_value"]) for r in rows) == 1333200
    assert (total["name"], total["params_value"], total["products_value"]) == (
        "total",
        "105506",
        "1333200",
    )


def test_records_at_a_partial_point_are_formulas_there(capsys):
    status, out, _ = run(capsys, "table", "--format", "json", "--at", "k=5")
    assert status == 0
    data = json.loads(out)
    assert data["totals"]["params"] == "105506"
    assert "params_value" not in data["layers"][0]
    assert data["layers"][4]["output_shape"][1] == "floor(n/6 - 8/3)"


def test_markdown_table(capsys):
    _, out, _ = run(capsys, "table", "--format", "markdown")
    lines = out.splitlines()
    assert lines[0].startswith("| #") and set(lines[1]) <= {"|", "-", ":"}
    assert "`nn.Conv2d(1, 32, kernel_size=5)`" in out
    assert "64·(32·5²+1) = 51264" in out


def test_latex_is_a_document_unless_a_fragment_is_asked_for(capsys):
    _, document, _ = run(capsys, "table", "--format", "latex", "--at", "n=28,k=5")
    # The document test_export_latex compiles with pdflatex: the "done when".
    expected = sc.to_latex(lenet(), at={"n": 28, "k": 5}, standalone=True)
    assert document.rstrip("\n") == expected.rstrip("\n")
    assert document.startswith("\\documentclass")
    assert "\\end{document}" in document
    assert "$32\\cdot(5^{2}+1) = 832$" in document
    _, fragment, _ = run(capsys, "table", "--format", "latex", "--fragment")
    assert fragment.startswith("\\begin{tabular}")
    assert "\\documentclass" not in fragment
    assert fragment.strip() in document


def test_latex_symbolic_alone_and_beside_values(capsys):
    status, formulas, _ = run(
        capsys, "table", SPEC, "--input", "1,n,n", "--format", "latex", "--symbolic", "--fragment"
    )
    assert status == 0
    assert "\\lfloor" in formulas and "832" not in formulas
    status, both, _ = run(capsys, "table", "--format", "latex", "--symbolic", "--fragment")
    assert status == 0
    assert "\\lfloor" in both and "832" in both


def test_a_spec_model(capsys):
    status, out, _ = run(capsys, "table", SPEC, "--input", "1,n,n", "--at", "n=28,k=5")
    assert status == 0
    assert out == sc.to_text(parse_spec(SPEC, input_shape="1,n,n").subs({"n": 28, "k": 5})) + "\n"
    for number in SEED_NUMBERS[:2] + SEED_NUMBERS[-2:]:
        assert number in out
    assert "nn.Flatten()" in out and "nn.LazyLinear(200)" in out


def test_a_bare_layer_name_is_a_spec(capsys):
    status, out, _ = run(capsys, "formula", "ReLU", "--input", "4", "--quantity", "output")
    assert (status, out) == (0, "output = 4\n")


# -- formula and domain --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # each formula is named, except sympy's bare str form (for sympy.sympify)
        (["--quantity", "params", "--at", "n=28,k=5"], "params = 105506"),
        (["--quantity", "products", "--at", "n=28,k=5"], "products = 1333200"),
        (["--quantity", "params"], "params = 2080·k² + 53506"),
        (["--quantity", "params", "--format", "sympy"], "2080*k**2 + 53506"),
        (
            ["--quantity", "params", "--format", "latex"],
            "\\text{params} = 2080 \\cdot k^{2} + 53506",
        ),  # fmt: skip
        (["--quantity", "output"], "output = 10"),
        (["--quantity", "output", "--format", "sympy"], "(10,)"),
        (["--quantity", "output", "--format", "latex"], "\\text{output} = 10"),
        (["--quantity", "bias_adds", "--at", "n=28,k=5"], "bias_adds = 19666"),
        (
            ["--quantity", "bias_adds", "--at", "n=28,k=5", "--format", "latex"],
            "\\text{bias\\_adds} = 19666",
        ),  # fmt: skip
        # the conventions of other tools: products + 19666 bias additions, twice the products
        (["--quantity", "mult-adds", "--at", "n=28,k=5"], "mult-adds = 1352866"),
        (["--quantity", "flops", "--at", "n=28,k=5"], "flops = 2666400"),
        (["--quantity", "flops+bias", "--at", "n=28,k=5"], "flops+bias = 2686066"),
        # a partial point: the constant leads a sum that would open with a minus
        (["--quantity", "params", "--at", "k=5"], "params = 105506"),
        (
            ["--quantity", "output_elements", "--at", "n=28"],
            "output_elements = 32·(29 - k)² + 64·(⌊(29 - k)/3⌋ - k + 1)² + 128·⌊(16 - 2·k)/3⌋² "
            "+ 64·⌊(29 - k)/3⌋² + 666",
        ),  # fmt: skip
    ],
)
def test_formula(capsys, args, expected):
    status, out, err = run(capsys, "formula", "symcnn.models:lenet", *args)
    assert (status, out, err) == (0, expected + "\n", "")


def test_formula_of_a_spec_in_closed_form(capsys):
    status, out, _ = run(capsys, "formula", SPEC, "--input", "1,n,n", "--quantity", "output")
    assert (status, out) == (0, "output = 10\n")
    status, out, _ = run(capsys, "formula", "Conv2d(1,8,k) | Flatten", "--input", "1,n,n",
                         "--quantity", "output", "--format", "latex")  # fmt: skip
    assert (status, out) == (0, "\\text{output} = 8 \\cdot \\left(n - k + 1\\right)^{2}\n")
    status, out, _ = run(capsys, "formula", "Conv2d(1,8,3)", "--input", "1,n,n",
                         "--quantity", "output", "--format", "latex")  # fmt: skip
    assert (status, out) == (
        0,
        "\\text{output} = 8 \\times \\left(n - 2\\right) \\times \\left(n - 2\\right)\n",
    )
    _, out, _ = run(capsys, "formula", SPEC, "--input", "1,n,n", "--quantity", "params")
    assert out == "params = 2080·k² + 12800·⌊(n - 4·k + 4)/6⌋² + 2306\n"
    _, out, _ = run(capsys, "formula", SPEC, "--input", "1,n,n", "--at", "n=28")
    assert out == (
        "products = 32·k²·(29 - k)² + 2048·k²·(⌊(29 - k)/3⌋ - k + 1)² + 12800·⌊(16 - 2·k)/3⌋² "
        "+ 2000\n"
    )


def test_every_quantity_is_offered():
    conventions = set(sc.conventions.CONVENTIONS)
    assert set(QUANTITIES) == {"output", *sc.conventions.QUANTITIES, *conventions}


def test_domain_of_the_default_model(capsys):
    status, out, _ = run(capsys, "domain")
    assert status == 0
    assert out.splitlines()[-1] == "  n: smallest 28, largest 33"
    assert "input sizes at k=5:" in out


def test_domain_of_a_spec(capsys):
    status, out, _ = run(capsys, "domain", SPEC, "--input", "1,n,n", "--at", "k=5")
    assert status == 0
    assert out.splitlines() == [
        "valid exactly where:",
        "  n ≥ 22",
        "input sizes at k=5:",
        "  n: smallest 22, no largest",
    ]
    status, out, _ = run(capsys, "domain", SPEC, "--input", "1,n,n")
    assert status == 0
    assert "  n ≥ 4·k + 2" in out
    assert "depends on k (give --at k=…)" in out


def test_domain_without_constraints(capsys):
    _, out, _ = run(capsys, "domain", "ReLU", "--input", "4,n")
    assert out.splitlines() == [
        "valid for every positive value of its symbols",
        "input sizes:",
        "  n: smallest 1, no largest",
    ]
    _, out, _ = run(capsys, "domain", "ReLU", "--input", "4,3")
    assert out == "valid (the network has no symbols)\n"


def test_domain_at_a_point(capsys):
    _, out, _ = run(capsys, "domain", "--at", "n=28,k=5")
    assert out == "valid at n=28, k=5\n"
    _, out, _ = run(capsys, "domain", "--at", "n=21,k=5")
    assert out.startswith("invalid at n=21, k=5: MaxPool2d(kernel_size=2) at layer 4 (pool2)")


# -- models from files and modules ---------------------------------------------------------
MODEL_FILE = """
import symcnn as sc
from helper import CHANNELS

n = sc.symbols("n")
net = sc.Sequential(sc.Conv2d(1, CHANNELS, 3), sc.ReLU(), input_shape=(1, n, n))

def make():
    return net

number = 3

if __name__ == "__main__":
    raise SystemExit("a model file is loaded, not run as a script")
"""


@pytest.fixture
def model_file(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "helper.py").write_text("CHANNELS = 8\n")
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL_FILE)
    return path


@pytest.mark.parametrize("name", ["net", "make"])
def test_a_file_model(capsys, model_file, name):
    status, out, err = run(capsys, "formula", f"{model_file}:{name}", "--quantity", "output")
    assert (status, out, err) == (0, "output = 8×(n - 2)×(n - 2)\n", "")


def test_a_module_model(capsys, model_file, monkeypatch):
    monkeypatch.chdir(model_file.parent)
    monkeypatch.syspath_prepend(str(model_file.parent))  # for `from helper import ...`
    status, out, _ = run(capsys, "formula", "mymodel:net", "--at", "n=10", "--quantity", "params")
    assert (status, out) == (0, "params = 80\n")


def test_a_torch_module(capsys, tmp_path):
    require("torch")
    path = tmp_path / "torchmodel.py"
    path.write_text(
        textwrap.dedent(
            """
            import torch.nn as nn
            model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Flatten())
            """
        )
    )
    status, out, _ = run(capsys, "formula", f"{path}:model", "--input", "3,H,W", "--quantity",
                         "output")  # fmt: skip
    assert (status, out) == (0, "output = 8·⌊(H - 1)/2⌋·⌊(W - 1)/2⌋\n")
    assert "give its input shape with --input" in fails(capsys, 2, "table", f"{path}:model")
    status, out, _ = run(capsys, "formula", f"{path}:nn.Conv2d", "--input", "3,H,W")
    assert status == 1  # a dotted name is not looked up


# -- mistakes: one line on stderr, status 2 for usage and spec errors, 1 for the rest -------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["table", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
        ([], "the following arguments are required"),
        (["plot"], "invalid choice: 'plot'"),
        (["table", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["table", "--fragment"], "--fragment applies to --format latex only"),
        (["table", SPEC], "a spec needs its input shape: add --input"),
        (["table", "lenet"], "MODEL must be path/to/file.py:name or package.module:name"),
        (["table", "ReLU", "--input", "1,n,n.real"], "attribute access is not allowed"),
        (["table", "--at", "n=28;k=5"], "cannot parse the value of n"),
        (["table", "--at", "n=2.5"], "a float where an integer is required: '2.5' at column 3"),
        (["table", "ReLU | x.y", "--input", "4"], "attribute access is not allowed in a spec"),
        (["table", "symcnn.models:lenet", "--input", "1,n,n"], "--input applies to specs"),
    ],
)
def test_usage_and_spec_errors_exit_2(capsys, args, message):
    assert message in fails(capsys, 2, *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["table", "no/such/file.py:net"], "no such file: no/such/file.py"),
        (["table", "symcnn.models:resnet"], "symcnn.models has no attribute 'resnet'"),
        (["table", "no_such_module_xyz:net"], "cannot import no_such_module_xyz"),
        (["table", "symcnn.models:__all__"], "is a list, not a symcnn Network"),
        (["table", "ReLU | Conv2d(3, 8, 3)", "--input", "1,n,n"], "at layer 1 (conv1)"),
        (["table", "Conv2d(1, 8, 0)", "--input", "1,n,n"], "kernel_size must be positive"),
        (["table", "--at", "n=28,q=5"], "cannot substitute 'q': not a symbol of this network"),
        (["table", "--at", "n=3,k=5"], "at layer 0 (conv1)"),
        (["domain", "--at", "q=5"], "cannot substitute 'q': not a symbol of this network"),
        (["domain", "--at", "n=-3"], "n is a positive integer and cannot be -3"),
        (["formula", "ReLU", "--input", "1,0,n"], "input size must be positive"),
    ],
)
def test_other_errors_exit_1(capsys, args, message):
    assert message in fails(capsys, 1, *args)


def test_symcnn_errors_of_a_model_keep_their_message(capsys, tmp_path, monkeypatch):
    bad = "sc.Sequential(sc.Conv2d(3, 8, 3), input_shape=(1, 4, 4))"
    (tmp_path / "eager.py").write_text(f"import symcnn as sc\nnet = {bad}\n")
    (tmp_path / "lazy.py").write_text(f"import symcnn as sc\ndef make():\n    return {bad}\n")
    monkeypatch.chdir(tmp_path)
    for model in (f"{tmp_path / 'eager.py'}:net", "eager:net", "lazy:make"):
        line = fails(capsys, 1, "table", model)
        assert line.startswith("symcnn: error: Conv2d(3, 8, kernel_size=3) at layer 0 (conv1)")


def test_a_file_that_is_not_python(capsys, tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("net = 1\n")
    assert f"cannot load {path} as Python" in fails(capsys, 1, "table", f"{path}:net")


def test_a_failing_model_file_is_one_line(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("x = 1 / 0\n")
    line = fails(capsys, 1, "table", f"{path}:net")
    assert line.endswith("failed: ZeroDivisionError: division by zero")
    path.write_text("def make():\n    raise RuntimeError('no\\nnetwork')\n")
    assert "calling" in fails(capsys, 1, "table", f"{path}:make")


def test_a_hostile_spec_runs_nothing(capsys, tmp_path):
    canary = tmp_path / "canary"
    for spec in (HOSTILE.format(canary), f"ReLU | {HOSTILE.format(canary)}"):
        assert "attribute access is not allowed in a spec" in fails(
            capsys, 2, "table", spec, "--input", "1,n,n"
        )
    line = fails(capsys, 2, "table", "--at", f"n={HOSTILE.format(canary)}")
    assert "attribute access is not allowed in a value of n" in line
    assert not canary.exists()


def test_help_exits_0(capsys):
    status, out, _ = run(capsys, "table", "--help")
    assert status == 0
    assert "--format {text,markdown,latex,csv,json}" in out


# -- real processes (each pays for importing sympy: keep them few) --------------------------
def python_m_symcnn(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "symcnn", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
    )


def test_python_m_symcnn_table_prints_the_seed_table():
    done = python_m_symcnn("table")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == sc.to_text(lenet(28, 5)) + "\n"


def test_python_m_symcnn_refuses_a_hostile_spec(tmp_path):
    canary = tmp_path / "canary"
    done = python_m_symcnn("table", HOSTILE.format(canary), "--input", "1,n,n", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("symcnn: error: attribute access is not allowed in a spec")
    assert done.stderr.count("\n") == 1
    assert not canary.exists()


def test_python_m_symcnn_loads_a_file_model(model_file):
    done = python_m_symcnn("table", f"{model_file.name}:make", "--at", "n=5",
                           cwd=model_file.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "8×3×3" in done.stdout and "8·(3²+1) = 80" in done.stdout


# -- table --training ----------------------------------------------------------------------
def test_training_table_with_batch_and_memory(capsys):
    assert main(["table", "--training", "--batch", "32", "--memory"]) == 0
    out = capsys.readouterr().out
    assert "forward products" in out and "backward products" in out and "saved bytes" in out
    lines = out.splitlines()
    assert lines[-7].split()[1:] == ["42662400", "70579200", "3501056"]
    assert lines[-1].split()[-1] == "5189152" and "optimizer state (adam)" in out


def test_training_table_keeps_the_batch_symbolic_and_takes_a_dtype(capsys):
    assert main(["table", "--training", "--dtype", "bfloat16", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "index,layer,forward_products,backward_products,saved_bytes"
    assert "1568·B" in out  # the 28×28 image in bfloat16, kept by the first convolution


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["table", "--batch", "3"], "--batch and --memory apply to --training"),
        (["table", "--training", "--symbolic"], "apply to the layer table"),
        (["table", "--training", "--batch", "0"], "--batch must be a positive integer"),
        (["table", "--training", "--memory", "lion"], "invalid choice"),
    ],
)
def test_training_table_mistakes(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# -- --depth: one row per module ------------------------------------------------------------
RESNET_STAGES = [
    ("layer1", 215808, 667942912),
    ("layer2", 1219584, 1027604480),
    ("layer3", 7098368, 1464336384),
    ("layer4", 14964736, 809238528),
]


def test_depth_sums_each_stage_in_every_format(capsys):
    model = ["table", "symcnn.models:resnet50", "--depth", "1", "--at", "H=224,W=224"]
    status, text, _ = run(capsys, *model)
    assert status == 0
    for name, params, products in RESNET_STAGES:
        assert any(line.split()[1:2] == [name] and line.split()[-2:] == [str(params),
                   str(products)] for line in text.splitlines()), name  # fmt: skip
    _, out, _ = run(capsys, *model, "--format", "json")
    stages = [r for r in json.loads(out)["layers"] if r["name"].startswith("layer")]
    assert [(r["name"], r["params_value"], r["products_value"]) for r in stages] == RESNET_STAGES
    assert [r["layers"] for r in stages] == [32, 42, 62, 32]
    _, out, _ = run(capsys, *model, "--format", "csv")
    assert sum(1 for _ in csv.DictReader(io.StringIO(out))) == 12  # 11 rows and the totals
    _, out, _ = run(capsys, *model, "--format", "latex", "--fragment")
    assert "\\textit{layer3} & " in out and "$7098368$" in out
    _, out, _ = run(capsys, *model, "--format", "markdown")
    assert "| 78–139  | layer3  | 62 layers " in out


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5", "²"])
def test_depth_is_a_whole_number(capsys, bad):
    status, out, err = run(capsys, "table", "--depth", bad)
    assert (status, out) == (2, "")
    assert f"argument --depth: a whole number of 1 or more (got {bad!r})" in err


def test_depth_is_for_the_layer_table(capsys):
    status, _, err = run(capsys, "table", "--training", "--depth", "1")
    assert status == 2
    assert "--symbolic, --fragment, --names and --depth apply to the layer table" in err
