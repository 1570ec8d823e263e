"""Exact evaluation of formulas and validity domains over many sizes at once.

See docs/ARCHITECTURE.md (evaluation) for how formulas become integer code.
"""

from .compiler import MAX_POINTS, compile_expr, compile_relation, evaluate, holds

__all__ = ["MAX_POINTS", "compile_expr", "compile_relation", "evaluate", "holds"]
