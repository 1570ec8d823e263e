"""Every example runs as its docstring says, and writes nothing where it is run from.

Each runs in a fresh interpreter from an empty folder, as ``python examples/NAME.py``: a file
an example writes by default lands in examples/out/, which git ignores, never in the folder
it is run from (the repository root, when a user follows the README). The numbers they print
are pinned here or in the test of their topic (derive_formula in test_spec, torch_domain in
test_from_torch).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import symcnn as sc

from conftest import require, require_tool, seed_layers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OUT = EXAMPLES / "out"


def run_example(name: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def left_in(folder: Path) -> list[str]:
    """What a run left in the folder it ran from (hypothesis keeps its database there)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".hypothesis")


def test_the_examples_are_these():
    # a new example needs a case below
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == [
        "attention_cost.py",
        "derive_formula.py",
        "latex_table.py",
        "lenet.py",
        "property_test.py",
        "torch_domain.py",
    ]


def test_latex_table_writes_under_examples_out(tmp_path):
    written = OUT / "lenet_table.tex"
    assert run_example("latex_table.py", cwd=tmp_path) == f"wrote {written}\n"
    assert left_in(tmp_path) == []
    latex = written.read_text(encoding="utf-8")
    assert latex.startswith("\\documentclass{article}") and "\\label{tab:lenet}" in latex
    assert sc.to_latex(sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))) in latex
    assert "total &  & $105506$ & $1333200$ \\\\" in latex.splitlines()
    git = require_tool("git")
    ignored = subprocess.run(
        [git, "check-ignore", "examples/out/lenet_table.tex"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ignored.returncode, ignored.stdout) == (0, "examples/out/lenet_table.tex\n")


def test_latex_table_writes_a_given_path_relative_to_where_it_runs(tmp_path):
    assert run_example("latex_table.py", "tables/t.tex", cwd=tmp_path) == (
        f"wrote {tmp_path / 'tables' / 't.tex'}\n"
    )
    assert left_in(tmp_path) == ["tables"]
    assert (
        (tmp_path / "tables" / "t.tex")
        .read_text(encoding="utf-8")
        .startswith("\\documentclass{article}")
    )


def test_lenet_prints_the_seed_table_and_its_domain(tmp_path):
    out = run_example("lenet.py", cwd=tmp_path).splitlines()
    assert left_in(tmp_path) == []
    assert out[0] == "The seed table: MNIST, 1×28×28 input, k = 5"
    assert "Total: 105,506 parameters, 1,333,200 products per sample." in out
    assert "With k = 5 the smallest valid input is n = 28 and the largest" in out
    assert "n = 33: view(-1, 256) pins the features to 256, and PyTorch would" in out


def test_attention_cost_compares_vit_and_swin(tmp_path):
    out = run_example("attention_cost.py", cwd=tmp_path).splitlines()
    assert left_in(tmp_path) == []
    assert out[1:3] == ["  ViT-B/16 9·H²·W²/32", "  Swin-T   89481·H·W"]
    assert out[-3].split() == [
        "224×224",
        "17,563,828,224",
        "(",
        "1.0×)",
        "4,490,566,656",
        "(",
        "1.0×)",
    ]
    assert out[-1].split() == ["896×896", "449,675,526,144", "(25.6×)", "71,837,546,496", "(16.0×)"]


def test_derive_formula_writes_nothing(tmp_path):
    out = run_example("derive_formula.py", cwd=tmp_path)
    assert left_in(tmp_path) == []
    assert out.splitlines()[-1] == "Products at n = 28, k = 5: 1333200"


@pytest.mark.torch
def test_torch_domain_writes_nothing(tmp_path):
    require("torch")
    out = run_example("torch_domain.py", cwd=tmp_path)
    assert left_in(tmp_path) == []
    assert "square sizes that work: [33, 34, 35, 36, 37, 38, 39, 40]\n" in out


@pytest.mark.slow
def test_property_test_holds_when_run_directly(tmp_path):
    out = run_example("property_test.py", cwd=tmp_path)
    assert left_in(tmp_path) == []
    assert out == "3 properties held (200 + 30 + 100 examples)\n"
