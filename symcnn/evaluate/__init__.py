"""Exact evaluation of size formulas and validity domains over many sizes at once.

Why a printer: a size formula is sums, products and integer powers of symbols, plus
``floor``, ``ceiling``, ``Min``, ``Max``, ``Mod`` and ``Abs``. sympy's code printers
already turn all of that into Python, and ``sympy.lambdify`` turns the Python into a
function; what they get wrong is only division, which they print as float arithmetic
(``floor(n/3 - k/3 + 1/3)`` is off by one at n = 22, k = 5). So the code is printed by a
subclass of sympy's NumPy printer (:mod:`.printer`) whose divisions are exact integer
floor divisions over a common integer denominator (:mod:`.integer`), and run through
``sympy.lambdify``. The same function runs on Python ints, int64 arrays and object arrays
of Python ints.

What sympy lacks, and is kept here:

- :mod:`.bounds`: whether int64 is safe. A bound of every intermediate magnitude, from
  the inputs' largest magnitudes, decides between int64 arrays and exact (slower) object
  arrays of Python ints, which never overflow.
- :mod:`.inputs`: what a value may be. Bools, floats and oversized inputs are refused,
  naming the symbol, before anything runs (:data:`MAX_POINTS`).
- :mod:`.runtime`: the checks a formula needs at run time (a symbolic divisor must be
  positive, a fraction must come out an integer), with the symbol values where they fail.
- :mod:`.sweep`: a network's quantity only where every layer's own condition holds,
  each condition decided by the same printed integer code.

numpy is imported only when an array is evaluated; ``import symcnn.evaluate`` does not
import it.
"""

from .core import compile_expr, compile_relation, evaluate, holds
from .inputs import MAX_POINTS

__all__ = ["MAX_POINTS", "compile_expr", "compile_relation", "evaluate", "holds"]
