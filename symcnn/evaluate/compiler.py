"""Former home of the evaluation functions, kept for modules that still import it here.

The evaluation is now printed by sympy (see :mod:`symcnn.evaluate`); import from there.
"""

from .core import compile_expr, compile_relation, evaluate, holds
from .inputs import MAX_POINTS

__all__ = ["MAX_POINTS", "compile_expr", "compile_relation", "evaluate", "holds"]
