"""Hardening of the symcnn command and of the formula printers it relies on.

Formulas at a partial point read as written by hand (``29 - k``, never ``-k + 29``); the
printers refuse text; every error of the command is one line on stderr (a traceback only
with ``--debug``); a MODEL is a network, a torch module or a function returning one; the
domain of separable constraints is given per symbol.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import subprocess
import sys
import textwrap

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
import symcnn.cli
import symcnn.frontends.spec
import symcnn.graph.queries
from symcnn.cli import main
from symcnn.export.latex import latex_formula
from symcnn.frontends.spec import layer_names


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# -- the order of terms ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda n, k: 29 - k, "29 - k"),
        (lambda n, k: 32 * (29 - k) ** 2, "32·(29 - k)²"),
        (lambda n, k: 8 * k**2 * (29 - k) ** 2, "8·k²·(29 - k)²"),
        (lambda n, k: sympy.floor((29 - k) / 3), "⌊(29 - k)/3⌋"),
        (lambda n, k: sympy.Ge(29 - k, 3), "29 - k ≥ 3"),
        # the canonical order is kept wherever a positive symbol leads
        (lambda n, k: n - 4 * k + 4, "n - 4·k + 4"),
        (lambda n, k: n - k, "n - k"),
        (lambda n, k: -k - 2, "-k - 2"),
        (lambda n, k: -k, "-k"),
    ],
)
def test_text_puts_a_positive_term_first(nk, expr, expected):
    assert sc.format_formula(expr(*nk)) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda n, k: 29 - k, "29 - k"),
        (lambda n, k: 32 * (29 - k) ** 2, "32 \\cdot \\left(29 - k\\right)^{2}"),
        (
            lambda n, k: sympy.floor((29 - k) / 3),
            "\\left\\lfloor \\left(29 - k\\right)/3 \\right\\rfloor",
        ),
        (lambda n, k: n - 4 * k + 4, "n - 4 \\cdot k + 4"),
        (lambda n, k: -k - 2, "- k - 2"),
    ],
)
def test_latex_puts_a_positive_term_first(nk, expr, expected):
    assert latex_formula(expr(*nk)) == expected


def test_tables_at_a_partial_point(nk):
    n, k = nk
    net = sc.Sequential(sc.Conv2d(1, 8, k), sc.Flatten(), input_shape=(1, n, n)).subs({n: 28})
    assert [line.split("  ")[-1].strip() for line in sc.to_text(net).splitlines()] == [
        "# products",
        "--------------",
        "8·k²·(29 - k)²",  # the working only reordered the factors: left out
        "0",
        "8·k²·(29 - k)²",
    ]
    assert sc.to_latex(net).splitlines()[-3] == (
        "total &  & $8 \\cdot k^{2} + 8$ & $8 \\cdot k^{2} \\cdot \\left(29 - k\\right)^{2}$ \\\\"
    )


# -- the printers take formulas, never text ----------------------------------------------
HOSTILE = "__import__('pathlib').Path('{}').touch()"


@pytest.mark.parametrize("printer", [sc.format_formula, latex_formula])
def test_printers_refuse_text_without_running_it(tmp_path, printer):
    canary = tmp_path / "canary"
    source = HOSTILE.format(canary)
    name = printer.__name__ if printer is latex_formula else "format_formula"
    with pytest.raises(sc.SpecError) as caught:
        printer(source)
    assert str(caught.value) == (
        f"{name} takes a sympy expression or an integer, not text ({source!r}): "
        "parse text with symcnn.frontends.spec.parse_expression"
    )
    assert not canary.exists()
    with pytest.raises(sc.SpecError):
        printer("n - k")


@pytest.mark.parametrize("printer", [sc.format_formula, latex_formula])
def test_printers_refuse_what_is_no_formula(printer):
    with pytest.raises(sc.SpecError) as caught:
        printer(object())
    assert str(caught.value).endswith("takes a sympy expression or an integer (got object)")


def test_printers_take_parsed_text_and_integers(nk):
    expr = symcnn.frontends.spec.parse_expression("(n - k + 1) // 3")
    assert sc.format_formula(expr) == "⌊(n - k + 1)/3⌋"
    assert latex_formula(expr) == "\\left\\lfloor \\left(n - k + 1\\right)/3 \\right\\rfloor"
    assert (sc.format_formula(105506), latex_formula(105506)) == ("105506", "105506")


# -- domains, symbol by symbol -------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["Conv2d(3,8,5) | MaxPool2d(2)", "--input", "3,H,W"],
            [
                "valid exactly where:",
                "  H ≥ 6",
                "  W ≥ 6",
                "input sizes:",
                "  H: smallest 6, no largest",
                "  W: smallest 6, no largest",
            ],
        ),
        (
            ["Conv2d(3,8,5) | MaxPool2d(2) | Linear(4, 2)", "--input", "3,H,W"],
            [
                "valid exactly where:",
                "  H ≥ 6",
                "  W ≥ 12",
                "  W ≤ 13",
                "input sizes:",
                "  H: smallest 6, no largest",
                "  W: smallest 12, largest 13",
            ],
        ),
        (
            ["Conv2d(3,8,k) | MaxPool2d(2)", "--input", "3,H,W", "--at", "k=3"],
            [
                "valid exactly where:",
                "  H ≥ 4",
                "  W ≥ 4",
                "input sizes at k=3:",
                "  H: smallest 4, no largest",
                "  W: smallest 4, no largest",
            ],
        ),
        # H is coupled with k, W is not: each is answered for itself
        (
            ["Conv2d(3,8,(k,5)) | MaxPool2d(2)", "--input", "3,H,W"],
            [
                "valid exactly where:",
                "  H ≥ k + 1",
                "  W ≥ 6",
                "input sizes:",
                "  H: cannot solve for H: H >= k + 1 still depends on k (give --at k=…)",
                "  W: smallest 6, no largest",
            ],
        ),
        # a relation that truly couples H and W keeps the message, naming the other symbol
        (
            ["Flatten | Linear(12, 2)", "--input", "1,H,W"],
            [
                "valid exactly where:",
                "  H·W = 12",
                "input sizes:",
                "  H: cannot solve for H: Eq(H*W, 12) still depends on W (give --at W=…)",
                "  W: cannot solve for W: Eq(H*W, 12) still depends on H (give --at H=…)",
            ],
        ),
        (
            ["Flatten | Linear(12, 2)", "--input", "1,H,W", "--at", "W=4"],
            [
                "valid exactly where:",
                "  4·H = 12",
                "input sizes at W=4:",
                "  H: smallest 3, largest 3",
            ],
        ),
    ],
)
def test_domain_per_symbol(capsys, args, lines):
    status, out, err = run(capsys, "domain", *args)
    assert (status, err) == (0, "")
    assert out.splitlines() == lines


def test_domain_of_the_seed_is_unchanged(capsys):
    assert run(capsys, "domain") == (
        0,
        "valid exactly where:\n  n ≥ 28\n  n ≤ 33\ninput sizes at k=5:\n"
        "  n: smallest 28, largest 33\n",
        "",
    )


# -- what a MODEL may name -----------------------------------------------------------------
WANTED = "not a symcnn Network, a torch.nn.Module or a Python function returning one"


@pytest.mark.parametrize(
    ("model", "line"),
    [
        ("sys:exit", f"sys:exit is a built-in function, {WANTED}"),
        ("builtins:print", f"builtins:print is a built-in function, {WANTED}"),
        ("collections:OrderedDict", f"collections:OrderedDict is a class (OrderedDict), {WANTED}"),
        ("os:path", f"os:path is a module, {WANTED}"),
        ("symcnn.models:__all__", f"symcnn.models:__all__ is a list, {WANTED}"),
        ("symcnn:__version__", f"symcnn:__version__ is a str, {WANTED}"),
        (
            "os.path:join",
            "os.path:join takes arguments: MODEL must name a function of no arguments",
        ),  # fmt: skip
    ],
)
def test_a_model_that_is_no_network_is_refused(capsys, model, line):
    assert run(capsys, "table", model) == (1, "", f"symcnn: error: {line}\n")


def test_sys_exit_is_not_taken_for_help():
    done = subprocess.run(
        [sys.executable, "-m", "symcnn", "table", "sys:exit"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"symcnn: error: sys:exit is a built-in function, {WANTED}\n"


MODELS = """
import sys
import symcnn as sc

def nothing():
    return None

def number():
    return 3

def leave():
    sys.exit(3)

def leave_with_text():
    raise SystemExit("no network today")

def make(lazy=False):
    return sc.Sequential(sc.Linear(2, 1), input_shape=(2,))
"""


@pytest.fixture
def models(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    return path


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("nothing", "{ref}() returned None, not a symcnn Network or a torch.nn.Module"),
        ("number", "{ref}() returned an int, not a symcnn Network or a torch.nn.Module"),
        ("leave", "calling {ref}() failed: it exited (SystemExit: 3)"),
        ("leave_with_text", "calling {ref}() failed: it exited (SystemExit: no network today)"),
        ("sys", "{ref} is a module, " + WANTED),
    ],
)
def test_what_a_function_returns_or_does_is_checked(capsys, models, name, line):
    ref = f"{models}:{name}"
    expected = "symcnn: error: " + line.format(ref=ref) + "\n"
    assert run(capsys, "table", ref) == (1, "", expected)


def test_a_function_with_defaults_is_called(capsys, models):
    status, out, _ = run(capsys, "formula", f"{models}:make", "--quantity", "params")
    assert (status, out) == (0, "params = 3\n")


def test_a_model_file_that_exits_is_one_line(capsys, tmp_path):
    path = tmp_path / "leaving.py"
    path.write_text("import sys\nsys.exit('bye')\n")
    assert run(capsys, "table", f"{path}:net") == (
        1,
        "",
        f"symcnn: error: running {path} failed: it exited (SystemExit: bye)\n",
    )


def test_a_torch_module_class_is_built(capsys, tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "classes.py"
    path.write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(1, 2, 3)

                def forward(self, x):
                    return self.conv(x)
            """
        )
    )
    status, out, err = run(capsys, "formula", f"{path}:Net", "--input", "1,5,5", "--quantity",
                           "params")  # fmt: skip
    assert (status, out, err) == (0, "params = 20\n", "")


# -- every error is one line ---------------------------------------------------------------
def raising(error: BaseException):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            sympy.PolynomialError("1/n contains an element of the set of generators."),
            "symcnn: error: PolynomialError: 1/n contains an element of the set of generators. "
            "(run with --debug for the traceback)",
        ),
        (
            RecursionError("maximum recursion depth exceeded"),
            "symcnn: error: an expression is nested too deeply for sympy (RecursionError) "
            "(run with --debug for the traceback)",
        ),
        (
            NotImplementedError(),
            "symcnn: error: NotImplementedError (run with --debug for the traceback)",
        ),
        (
            ZeroDivisionError("x"),
            "symcnn: error: ZeroDivisionError: x (run with --debug for the traceback)",
        ),  # fmt: skip
        (
            SystemExit(3),
            "symcnn: error: the model's code exited (SystemExit: 3) (run with "
            "--debug for the traceback)",
        ),  # fmt: skip
    ],
)
def test_any_error_is_one_line(capsys, monkeypatch, error, line):
    monkeypatch.setattr(symcnn.cli, "text", raising(error))
    assert run(capsys, "formula") == (1, "", line + "\n")


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "formula"],
        ["formula", "--debug"],
        ["formula", "--quantity", "params", "--debug"],
    ],
)
def test_debug_prints_the_traceback_then_the_line(capsys, monkeypatch, args):
    monkeypatch.setattr(symcnn.cli, "text", raising(sympy.PolynomialError("not a polynomial")))
    status, out, err = run(capsys, *args)
    assert (status, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-2] == "sympy.polys.polyerrors.PolynomialError: not a polynomial"
    assert lines[-1] == (
        "symcnn: error: PolynomialError: not a polynomial (run with --debug for the traceback)"
    )


def test_debug_is_off_by_default_and_harmless(capsys):
    assert run(capsys, "--debug", "formula", "--at", "n=28,k=5") == (0, "products = 1333200\n", "")
    status, out, err = run(capsys, "table", "--at", "n=3,k=5", "--debug")
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == "Traceback (most recent call last):"
    assert err.splitlines()[-1].startswith("symcnn: error: Conv2d(1, 32, kernel_size=5) at layer 0")
    assert "--debug" not in err.splitlines()[-1]  # an expected error needs no hint


def test_an_interrupt_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(symcnn.cli, "text", raising(KeyboardInterrupt()))
    assert run(capsys, "formula") == (130, "", "symcnn: error: interrupted\n")


def test_a_closed_pipe_is_no_error(monkeypatch):
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    errors = io.StringIO()
    monkeypatch.setattr(sys, "stdout", Closed())
    monkeypatch.setattr(sys, "stderr", errors)
    assert main(["formula", "--at", "n=28,k=5"]) == 1
    assert errors.getvalue() == ""


# -- random text never makes a traceback ---------------------------------------------------
_PIECES = st.sampled_from(
    [*sorted(layer_names())[:40], "(", ")", ",", "|", " | ", "=", "k", "n", "H", "1", "3",
     "32", "-1", "0", "**", "//", "*", "+", "-", "/", "kernel_size=", "stride=", "padding=",
     "(2, 3)", "'", '"', "[", "]", "{", "}", ".", ":", "__import__", "lambda", "\\", "\n",
     "1e3", "2.5", "10**30", "True", "None"]
)  # fmt: skip
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
_ARG = st.sampled_from(["1", "2", "3", "8", "k", "n", "0", "-1", "2*k", "k+1", "n//2"])
_LAYER = st.one_of(
    st.sampled_from(["ReLU", "Flatten", "Identity", "Sigmoid"]),
    st.builds("MaxPool2d({})".format, _ARG),
    st.builds("AvgPool2d({}, stride={})".format, _ARG, _ARG),
    st.builds("Conv2d({}, {}, {})".format, _ARG, _ARG, _ARG),
    st.builds("Conv2d(1, 8, {}, stride={}, padding={})".format, _ARG, _ARG, _ARG),
    st.builds("Linear({}, {})".format, _ARG, _ARG),
    st.builds("LazyLinear({})".format, _ARG),
)
_SPECS = st.one_of(
    st.lists(_LAYER, min_size=1, max_size=5).map(" | ".join),  # often a valid network
    st.lists(_PIECES, min_size=1, max_size=12).map("".join),
    _TEXT,
).map(lambda spec: spec if "(" in spec or "|" in spec else spec + " | ReLU")  # always a spec
_POINTS = st.one_of(
    st.lists(st.sampled_from(["n", "k", "H", "q", "=", "28", "5", "-3", "0", ",", ";", " ",
                              "2**", "10**40", "//2", "(", ")", "'", "x.y", "1.5"]),
             max_size=10).map("".join),
    _TEXT,
)  # fmt: skip


@given(
    command=st.sampled_from(["table", "formula", "domain"]),
    spec=_SPECS,
    sizes=st.sampled_from(["1,n,n", "3,H,W", "4", "1,28,28", "1,0,n", "n,", "2*n,n//2"]),
    point=st.one_of(st.none(), _POINTS),
)
def test_random_specs_and_points_never_make_a_traceback(command, spec, sizes, point):
    args = [command, spec, "--input", sizes] + ([] if point is None else ["--at", point])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    assert status in (0, 1, 2)
    assert "Traceback" not in err.getvalue()
    if status == 0:
        assert err.getvalue() == ""
    else:
        assert out.getvalue() == ""
        assert err.getvalue().startswith("symcnn: error: ")
        assert err.getvalue().count("\n") == 1
