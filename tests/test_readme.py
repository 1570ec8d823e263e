"""The README's Python blocks run as written, and show the values they compute.

A block that begins with an import starts a program; a block that does not continues the
one before it, in the same namespace (the README says so under "Two commands"). Within a
program, every top-level expression statement is evaluated on its own, so that the comment
beside it can be checked:

- ``expr  # 22, solved exactly``: a comment whose head (up to the first ``: ``, ``, ``,
  ``; `` or `` (`` outside brackets and quotes) looks like a value — a number, a quoted
  string, a bracketed tuple, ``True``/``False``/``None`` — must equal ``repr(expr)``. A
  comment that reads as prose (``# total parameters``) claims nothing.
- ``print(x)  # text``: a one-line output must equal the comment, or the comment's part
  before a ``:``. ``print(x)`` followed by comment-only lines: they are the output, wrapped.
  ``print(x)`` with no comment: its one-line output appears as a line elsewhere in the README.

The number of checked claims per program is pinned, so a comment that stops parsing as a
value fails here instead of passing silently. This executes the repository's own README.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import require

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")

# Third-party modules a block may import beyond symcnn's own dependencies (numpy comes with
# the test extra, as with the README's first command).
OPTIONAL = {"torch", "hypothesis", "matplotlib"}


@dataclass
class Program:
    name: str  # the section heading of its first block
    line: int  # README line of its first block
    blocks: list[str] = field(default_factory=list)


def programs() -> list[Program]:
    found: list[Program] = []
    heading = ""
    lines = TEXT.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("```"):
            end = lines.index("```", i + 1)
            if line == "```python":
                code = "\n".join(lines[i + 1 : end]) + "\n"
                first = next(s for s in code.splitlines() if s.strip())
                if first.startswith(("import ", "from ")) or not found:
                    found.append(Program(heading, i + 1))
                found[-1].blocks.append(code)
            i = end
        i += 1
    return found


PROGRAMS = programs()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def comments(code: str) -> tuple[dict[int, str], set[int]]:
    """Comment text by line (without ``#``), and the lines that hold only a comment."""
    found: dict[int, str] = {}
    alone: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            row = tok.start[0]
            found[row] = tok.string[1:].strip()
            if not tok.line[: tok.start[1]].strip():
                alone.add(row)
    return found, alone


def head(comment: str) -> str:
    """The comment up to its first ': ', ', ', '; ' or ' (' outside brackets and quotes."""
    depth, quote = 0, ""
    for i, ch in enumerate(comment):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and comment[i : i + 2] in (": ", ", ", "; ", " ("):
            return comment[:i]
    return comment


def looks_like_value(text: str) -> bool:
    return text[:1] in set("0123456789-('\"[{") or text in ("True", "False", "None")


def is_print(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
    )


def run_block(code: str, namespace: dict[str, object], where: str) -> list[str]:
    """Run one block statement by statement: the claims it checked (a wrong one fails)."""
    tree = ast.parse(code)
    notes, alone = comments(code)
    checked: list[str] = []
    for node in tree.body:
        source = ast.get_source_segment(code, node)
        assert source is not None
        label = f"{where}: {source}"
        comment = notes.get(node.end_lineno) if node.end_lineno not in alone else None
        with contextlib.redirect_stdout(io.StringIO()) as out:
            if isinstance(node, ast.Expr):
                # the project's own documentation, not user input
                value = eval(compile(ast.Expression(node.value), where, "eval"), namespace)  # noqa: S307
            else:
                exec(compile(ast.Module([node], []), where, "exec"), namespace)  # noqa: S102
        if not isinstance(node, ast.Expr):
            continue
        if is_print(node):
            printed = out.getvalue().rstrip("\n")
            if "\n" in printed:
                continue  # a table: its comment describes it
            if comment is not None:
                assert comment == printed or comment.startswith(printed + ":"), label
            else:
                following = []
                row = node.end_lineno + 1
                while row in alone:
                    following.append(notes[row])
                    row += 1
                if following:
                    assert " ".join(following) == printed, label
                else:
                    assert printed in (s.strip() for s in TEXT.splitlines()), label
            checked.append(source)
        elif comment is not None:
            claim = head(comment)
            if claim == repr(value):
                checked.append(source)
            else:
                assert not looks_like_value(claim), f"{label} is {value!r}, README says {claim}"
    return checked


def latex_shown() -> list[str]:
    """The lines of the README's LaTeX excerpt, less its '...' elisions."""
    block = TEXT.split("```latex\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line != "..."]


def check_tour(ns):
    n, k = ns["n"], ns["k"]
    assert ns["mnist"].params == 105506 and ns["mnist"].products == 1333200
    assert ns["net"].constraints == (n >= 4 * k + 2,)
    big = ns["net"].evaluate("products", n=10**6, k=5)
    # by hand, in plain integers: 32·a²·k² + 64·32·c²·k² + 200·64·d² + 2000 with a = n - k + 1,
    # c = ⌊a/3⌋ - k + 1, d = ⌊c/2⌋
    assert big == ns["net"].subs({n: 10**6, k: 5}).products == 6844244623784400
    p = ns["p"]
    assert ns["stem"].subs({p: 3, n: 224}).output_shape == (64, 112, 112)


def check_tables(ns):
    latex = ns["latex"].splitlines()
    shown = latex_shown()
    assert len(shown) == 9
    assert all(line in latex for line in shown), [line for line in shown if line not in latex]
    totals = json.loads(ns["records"])["totals"]
    assert (totals["params_value"], totals["products_value"]) == (105506, 1333200)
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(ns["csv"]))}
    assert (rows["linear2"]["params_value"], rows["linear2"]["products_value"]) == ("2010", "2000")
    assert ns["doc"].startswith("\\documentclass{article}")


def check_strategies(ns):
    # the two properties the README writes: calling them runs hypothesis
    ns["test_outputs_are_positive_inside_the_domain"]()
    ns["test_just_outside_symcnn_names_the_layer"]()


# Per program: the claims its comments make that were checked (a changed count means a
# comment stopped, or started, parsing as a value), and what else it is pinned to.
EXPECTED = {
    "a-short-tour": (13, check_tour),
    "branching-networks": (2, None),
    "from-pytorch": (3, None),
    "attention-in-closed-form-vit-against-swin": (3, None),
    "training-in-closed-form-backward-products-and-memory-in-the-batch-size": (4, None),
    "code-that-branches-on-sizes": (5, None),
    "tables-to-publish-latex-markdown-csv-json-pictures": (0, check_tables),
    "property-testing-symcnn-strategies": (0, check_strategies),
}


def test_the_readme_programs_are_the_expected_ones():
    assert [(slug(p.name), len(p.blocks)) for p in PROGRAMS] == [
        ("a-short-tour", 2),
        ("branching-networks", 1),
        ("from-pytorch", 1),
        ("attention-in-closed-form-vit-against-swin", 1),
        ("training-in-closed-form-backward-products-and-memory-in-the-batch-size", 1),
        ("code-that-branches-on-sizes", 1),
        ("tables-to-publish-latex-markdown-csv-json-pictures", 1),
        ("property-testing-symcnn-strategies", 1),
    ]


def imports(program: Program) -> set[str]:
    """The top-level packages a program imports."""
    found: set[str] = set()
    for block in program.blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    return found


def params() -> list:
    """One case per program; the property-testing one runs hypothesis, and is slow."""
    return [
        pytest.param(
            p, id=slug(p.name), marks=[pytest.mark.slow] if "hypothesis" in imports(p) else []
        )
        for p in PROGRAMS
    ]


@pytest.mark.parametrize("program", params())
def test_readme_program_runs_and_shows_its_values(program):
    for module in sorted(imports(program) & OPTIONAL):
        require(module)
    namespace: dict[str, object] = {"__name__": "readme"}
    checked: list[str] = []
    for block in program.blocks:
        checked += run_block(block, namespace, f"README.md ({program.name})")
    claims, check = EXPECTED[slug(program.name)]
    assert len(checked) == claims, checked
    if check is not None:
        check(namespace)


# -- the checker itself ------------------------------------------------------------------
def test_a_value_comment_is_checked_and_prose_is_not():
    code = "x = 20\nx + 2  # 22, solved exactly\nx  # the size\n(x, 'a')  # (20, 'a'): both\n"
    assert run_block(code, {}, "t") == ["x + 2", "(x, 'a')"]


def test_a_wrong_value_comment_fails():
    with pytest.raises(AssertionError, match=r"x \+ 2 is 22, README says 23"):
        run_block("x = 20\nx + 2  # 23: wrong\n", {}, "t")
    with pytest.raises(AssertionError, match="x == 20"):
        run_block("x = 20\nx == 20  # False (a plain bool)\n", {}, "t")


def test_print_comments_are_its_output_wrapped_or_beside_it():
    code = "print('a b: c')  # a b: c\nprint('a b c')\n# a b\n# c\nprint('x\\ny')  # two lines\n"
    assert run_block(code, {}, "t") == ["print('a b: c')", "print('a b c')"]
    with pytest.raises(AssertionError, match="print"):
        run_block("print('a b c')\n# a b\n# d\n", {}, "t")
    with pytest.raises(AssertionError, match="print"):
        run_block("print('no such README line, anywhere')\n", {}, "t")
