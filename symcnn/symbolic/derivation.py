"""Unevaluated arithmetic that shows how a count is made: ``32·(5²+1) = 832``.

sympy evaluates ``32*(5**2 + 1)`` to ``832`` on sight (and distributes ``32*(k**2 + 1)``),
so the seed lecture's derivation strings need their own small tree: a leaf, a power, a
product or a sum. Its value is computed from the tree, so the string and the number
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import sympy

from .printing import text as expr_text

__all__ = ["Derivation", "power", "product", "side_area", "total"]

Term = Union["Derivation", sympy.Expr]


@dataclass(frozen=True, slots=True)
class Derivation:
    """An arithmetic tree: ``op`` is ``"leaf"``, ``"pow"``, ``"mul"`` or ``"add"``.

    Build it with :func:`power`, :func:`product` and :func:`total`; read it with
    :attr:`value`, :meth:`text` and :meth:`latex`.

    Examples
    --------
    >>> d = product(32, total(power(5, 2), 1))
    >>> d.text(), d.value
    ('32·(5²+1)', 832)
    """

    op: str
    args: tuple[Any, ...]

    @property
    def value(self) -> sympy.Expr:
        """The evaluated sympy expression."""
        if self.op == "leaf":
            return self.args[0]
        values = [a.value for a in self.args]
        if self.op == "pow":
            return sympy.Pow(*values)
        if self.op == "mul":
            return sympy.Mul(*values)
        return sympy.Add(*values)

    @property
    def is_leaf(self) -> bool:
        """Whether the tree is a single number or formula, with nothing to show."""
        return self.op == "leaf"

    def text(self) -> str:
        """Plain text with ``·`` and superscript powers, as on the seed slide."""
        return self._render(
            leaf=lambda e, atom: expr_text(e, atom=atom),
            power=lambda b, e: b + str(e).translate(_SUPERSCRIPT),
            times="·".join,
        )

    def latex(self) -> str:
        r"""LaTeX math (without ``$``), e.g. ``32\\cdot(5^{2}+1)``."""
        return self._render(
            leaf=lambda e, atom: _latex_atom(e) if atom else sympy.latex(e),
            power=lambda b, e: f"{b}^{{{e}}}",
            times=_latex_times,
        )

    def _render(self, leaf: Any, power: Any, times: Any, atom: bool = False) -> str:
        if self.op == "leaf":
            return str(leaf(self.args[0], atom))
        if self.op == "pow":
            base, exp = self.args
            return str(power(base._render(leaf, power, times, atom=True), exp.value))
        parts = [a._render(leaf, power, times, atom=self.op == "mul") for a in self.args]
        if self.op == "mul":
            return str(times(parts))
        joined = "+".join(parts).replace("+-", "-")
        return f"({joined})" if atom else joined


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _latex_times(parts: list[str]) -> str:
    # \cdot needs a space before a letter (\cdot k), not before a digit or brace.
    out = parts[0]
    for part in parts[1:]:
        out += ("\\cdot " if part[:1].isalpha() else "\\cdot") + part
    return out


def _latex_atom(expr: sympy.Expr) -> str:
    out = sympy.latex(expr)
    return f"\\left({out}\\right)" if isinstance(expr, sympy.Add) else out


def _term(x: Term) -> Derivation:
    return x if isinstance(x, Derivation) else Derivation("leaf", (sympy.sympify(x, strict=True),))


def power(base: Term, exp: int) -> Derivation:
    """``base`` to the power ``exp``; a plain value when that is shorter (``1²`` → ``1``)."""
    b = _term(base)
    if exp == 1 or (b.is_leaf and b.value == 1):
        return b
    return Derivation("pow", (b, _term(exp)))


def product(*factors: Term) -> Derivation:
    """The product of ``factors``, leaving out factors of one (``1·5²`` is shown ``5²``)."""
    kept: list[Derivation] = []
    for f in map(_term, factors):
        if f.op == "mul":
            kept.extend(f.args)
        elif not (f.is_leaf and f.value == 1):
            kept.append(f)
    if any(f.is_leaf and f.value == 0 for f in kept):
        return _term(0)
    if not kept:
        return _term(1)
    return kept[0] if len(kept) == 1 else Derivation("mul", tuple(kept))


def total(*terms: Term) -> Derivation:
    """The sum of ``terms``, leaving out zeros."""
    kept = [t for t in map(_term, terms) if not (t.is_leaf and t.value == 0)]
    if not kept:
        return _term(0)
    return kept[0] if len(kept) == 1 else Derivation("add", tuple(kept))


def side_area(sizes: tuple[sympy.Expr, ...]) -> Derivation:
    """The product of a kernel's or a map's sizes, ``5²`` when all sides are equal."""
    if len(sizes) > 1 and all(s == sizes[0] for s in sizes):
        return power(sizes[0], len(sizes))
    return product(*sizes)
