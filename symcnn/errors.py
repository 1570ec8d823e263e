"""The exceptions symcnn raises, in one tree.

Every leaf also inherits the built-in exception a caller would expect (``ValueError`` for
bad values, ``TypeError`` for unsupported kinds of thing), so ``except ValueError`` keeps
working for code that does not know symcnn.
"""

from __future__ import annotations

__all__ = [
    "GraphError",
    "GraphvizError",
    "ShapeError",
    "SolverError",
    "SpecError",
    "SymcnnError",
    "UnsupportedLayerError",
]


class SymcnnError(Exception):
    """Root of every error symcnn raises on purpose."""


class ShapeError(SymcnnError, ValueError):
    """A size, a hyperparameter or a layer's input breaks a shape rule.

    The message names the layer (index, name and description), the rule, and the values
    that break it, with the symbol bindings in force.
    """


class GraphError(SymcnnError, ValueError):
    """A network's graph is malformed: a cycle, a dangling node, a missing input."""


class UnsupportedLayerError(SymcnnError, TypeError):
    """Something symcnn has no rule for; raised instead of counting it as zero."""


class SpecError(SymcnnError, ValueError):
    """Text a user typed (a network spec, a size assignment) could not be parsed."""


class SolverError(SymcnnError, ArithmeticError):
    """sympy failed, or ran past its budget, on a question symcnn asked it.

    The message names the question (a layer's rule, ``min_input(n)``, ...) and what sympy
    said; nothing is guessed in its place.
    """


class GraphvizError(SymcnnError, RuntimeError):
    """Graphviz's ``dot`` program is missing, or failed to render a graph."""
