"""Plain-text formulas and derivation strings."""

from __future__ import annotations

import sympy

import symcnn as sc
from symcnn.symbolic.derivation import power, product, side_area, total
from symcnn.symbolic.printing import text

n, k = sc.symbols("n k")


def test_text_writes_floors_as_people_do():
    assert text(sympy.floor((n - 4 * k + 4) / 6)) == "⌊(n - 4·k + 4)/6⌋"
    assert text(sympy.ceiling(n / 32)) == "⌈n/32⌉"
    assert text(2080 * k**2 + 12800 * sympy.floor((n - 4 * k + 4) / 6) ** 2 + 2306) == (
        "2080·k² + 12800·⌊(n - 4·k + 4)/6⌋² + 2306"
    )
    assert text(sympy.Ge(n, 4 * k + 2)) == "n ≥ 4·k + 2"
    assert text(sympy.Eq(n, 3)) == "n = 3"
    assert text(n - k + 1, atom=True) == "(n - k + 1)"
    assert text(n**10) == "n¹⁰"
    assert text(2**n) == "2^n"
    assert text(1 / (n + 1)) == "1/(n + 1)"


def test_derivations_render_as_on_the_slide():
    d = product(64, total(product(32, power(5, 2)), 1))
    assert (d.text(), d.value) == ("64·(32·5²+1)", 51264)
    assert d.latex() == "64\\cdot(32\\cdot5^{2}+1)"
    assert product(32, power(k, 2)).latex() == "32\\cdot k^{2}"
    assert product(1, power(1, 2), 7).text() == "7"
    assert product(3, 0, 7).text() == "0"
    assert total(0, 0).text() == "0"
    assert side_area((sympy.Integer(3), sympy.Integer(5))).text() == "3·5"
    assert side_area((k, k)).text() == "k²"
    assert product(2, power(n - k + 1, 2)).text() == "2·(n - k + 1)²"


def test_shape_prints_with_times_signs():
    assert str(sc.Shape((32, n - k + 1, 8))) == "32×(n - k + 1)×8"
    assert sc.Shape((3, n, n)).numel == 3 * n**2


def test_text_and_latex_share_one_notation():
    from symcnn.export.latex import latex_formula
    from symcnn.symbolic import notation, printing

    assert printing.ordered_terms is notation.ordered_terms
    stem = sympy.floor((n + 3) / 4)  # the ResNet stem's floor reads as a ceiling in both
    assert text(stem) == "⌈n/4⌉"
    assert latex_formula(stem) == "\\left\\lceil n/4 \\right\\rceil"
    mixed = 2 * sympy.floor((n - k) / (2 * k)) ** 2 - sympy.ceiling(n / 3) + 29
    assert text(mixed) == "2·⌊(n - k)/(2·k)⌋² - ⌈n/3⌉ + 29"
    assert latex_formula(mixed) == (
        "2 \\cdot \\left\\lfloor \\left(n - k\\right)/\\left(2 \\cdot k\\right) \\right\\rfloor^{2}"
        " - \\left\\lceil n/3 \\right\\rceil + 29"
    )
