"""Text a user types, parsed safely: layer specs, input sizes and symbol assignments.

The command line takes networks as text (``"Conv2d(1,32,k) | MaxPool2d(3) | ReLU"``),
input sizes (``"1,n,n"``) and points (``"n=28,k=5"``). ``eval``, ``sympify`` and
``parse_expr`` would run that text as Python, so it is parsed with :func:`ast.parse` and
the tree is walked against a whitelist; nothing in it is ever executed. What the walk
accepts:

- the names of symcnn's one-input layers (:func:`layer_names`), called with positional
  and keyword arguments, or bare (``ReLU`` is ``ReLU()``), chained with ``|``;
- integer literals, names (every other identifier is a positive-integer symbol, as made
  by :func:`symcnn.symbols`), unary ``-``, ``+ - * / //`` and ``**`` with an exponent from
  0 to :data:`MAX_EXPONENT`, parentheses;
- one rule for names in every parser: they are folded to Unicode NFKC, as Python folds
  identifiers (a full-width ``ｎ`` is ``n``), and then must be ASCII; names sympy gives a
  meaning (``oo``, ``I``, ``E``, ``pi``, ``S``, ``N``, ``sin``, ...) are refused, since a
  symbol so named would read as that constant or function;
- where a layer's argument takes one: tuples (``kernel_size=(3, 5)``), ``True``/``False``,
  ``None``, strings (``padding="same"``) and floats (``Dropout(0.25)``).

Anything else (attribute access, subscripts, calls of other names, lambdas,
comprehensions, f-strings, dunder names, numbers beyond ``10**30``, text longer than
:data:`MAX_LENGTH` or nested deeper than :data:`MAX_DEPTH`) raises
:class:`~symcnn.errors.SpecError` naming the piece and its column.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import SpecError, SymcnnError
from ..symbolic.parse import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NUMBER,
    MAX_WORD,
    TextSource,
    _reserved,
    parse_assignments,
    parse_expression,
    parse_sizes,
)

if TYPE_CHECKING:
    from ..graph.network import Network
    from ..layers import Layer

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "layer_names",
    "parse_assignments",
    "parse_expression",
    "parse_sizes",
    "parse_spec",
]


def layer_names() -> tuple[str, ...]:
    """The layer names a spec may use: every registered layer that takes one input.

    Read from the layer registry (:mod:`symcnn.layers.registry`), so a new layer class,
    symcnn's or a user's, is usable in specs as soon as it is defined. Inputs (``Input``)
    and merges (``Add``, ``Mul``, ``Concat``) are left out: a ``|`` chain has no place for
    them.

    Examples
    --------
    >>> names = layer_names()
    >>> "Conv2d" in names, "ReLU" in names, "Add" in names, "Input" in names
    (True, True, False, False)
    """
    from ..layers.registry import layer_classes

    return tuple(sorted(name for name in layer_classes() if _layer_class(name) is not None))


def _layer_class(name: str) -> type[Layer] | None:
    from ..layers.registry import layer_class

    cls = layer_class(name)
    return cls if cls is not None and cls.arity == 1 else None


# -- the public parsers --------------------------------------------------------------------
def parse_spec(text: str, *, input_shape: str | Iterable[Any]) -> Network:
    """Build a :class:`~symcnn.graph.network.Sequential` network from a ``|``-separated spec.

    Parameters
    ----------
    text : str
        Layers with PyTorch's names and arguments, separated by ``|``; a bare name is a
        call without arguments. Identifiers that are not layer names are positive-integer
        symbols.
    input_shape : str or iterable
        The per-sample input shape: sizes (ints or sympy expressions), or text such as
        ``"1,n,n"`` read by :func:`parse_sizes`.

    Returns
    -------
    Network
        The chain of layers on one input.

    Raises
    ------
    SpecError
        If the text is not a spec: anything outside the whitelist, named with its column.
    ShapeError, UnsupportedLayerError
        If a layer refuses its arguments (the message names the layer and its column), or
        the layers do not fit together.

    Examples
    --------
    >>> net = parse_spec("Conv2d(1, 32, k) | MaxPool2d(3) | ReLU", input_shape="1,n,n")
    >>> print(net.output_shape)
    32×⌊(n - k + 1)/3⌋×⌊(n - k + 1)/3⌋
    >>> parse_spec("Conv2d(1, 32, k) | os.system('ls')", input_shape="1,n,n")
    Traceback (most recent call last):
    ...
    symcnn.errors.SpecError: attribute access is not allowed in a spec: 'os.system' at column 20
    """
    from ..graph.network import Sequential

    shape = parse_sizes(input_shape) if isinstance(input_shape, str) else tuple(input_shape)
    source = _SpecSource(text, "spec")
    layers = [source.layer(stage) for stage in source.stages()]
    try:
        return Sequential(*layers, input_shape=shape)
    except SymcnnError:
        raise
    except (TypeError, ValueError, ArithmeticError) as err:
        raise SpecError(f"the spec's layers do not fit together: {err}") from None


class _SpecSource(TextSource):
    """A spec: integer expressions (:class:`TextSource`) and layer calls chained by ``|``."""

    def check_name(self, node: ast.Name, name: str) -> None:
        if _layer_class(name) is not None:
            self.fail(node, f"{name} is a layer, not a size")

    # -- specs -------------------------------------------------------------------------
    def stages(self) -> list[ast.expr]:
        """The ``|``-separated parts, left to right."""
        out = []
        stack = [self.body]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
                stack += [node.right, node.left]
            else:
                out.append(node)
        return out

    def layer(self, node: ast.expr) -> Layer:
        """A layer from ``Name`` or ``Name(args)``."""
        call = node if isinstance(node, ast.Call) else None
        head = call.func if call is not None else node
        if not isinstance(head, ast.Name):
            self.fail(node, "expected a layer such as Conv2d(1, 32, 5) or ReLU")
        cls = self._layer(head)
        args = call.args if call is not None else []
        keywords = {str(kw.arg): kw.value for kw in call.keywords} if call is not None else {}
        signature = inspect.signature(cls)
        try:
            bound = signature.bind(*args, **keywords)
        except TypeError as err:
            self.fail(node, f"{head.id}: {err}")
        values: dict[str, Any] = {}
        positional: list[Any] = []
        for name, given in bound.arguments.items():
            param = signature.parameters[name]
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                positional = [self.argument(item, param) for item in given]
            else:
                values[name] = self.argument(given, param)
        try:
            return cls(*positional, **values)
        except SymcnnError as err:
            raise type(err)(f"{self.where(node)}: {err}") from None
        except (TypeError, ValueError, ArithmeticError) as err:
            raise SpecError(
                f"{head.id} refuses its arguments ({err}): {self.where(node)}"
            ) from None

    def _layer(self, name: ast.Name) -> type[Layer]:
        cls = _layer_class(name.id)
        if cls is not None:
            return cls
        if _reserved(name.id):
            self.fail(name, f"{name.id} is not a one-input layer, so a spec cannot chain it")
        close = difflib.get_close_matches(name.id, layer_names(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        self.fail(name, f"unknown layer {name.id}{hint}")

    def argument(self, node: ast.expr, param: inspect.Parameter) -> Any:
        """Coerce one argument by what its parameter's annotation says it takes."""
        words = set(re.findall(r"\w+", str(param.annotation)))
        optional = "None" in words or param.default is None
        if _is_none(node):
            if optional or not words <= {"bool", "float", "str", "int", "None"}:
                return None
            self.fail(node, f"{param.name} cannot be None")
        if words and words <= {"bool", "None"}:
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                return node.value
            self.fail(node, f"{param.name} takes True or False")
        if words and words <= {"float", "int", "None"} and "float" in words:
            return self.real(node, param.name)
        if words and words <= {"str", "None"}:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return self.word(node)
            self.fail(node, f"{param.name} takes a string")
        if words and words <= {"int", "None"}:
            return self.whole(node, param.name)
        return self.size(node, param.name)

    def size(self, node: ast.expr, name: str) -> Any:
        """A size-like argument: an integer expression, a tuple of them, None, or a word.

        Words and None are handed to the layer, which accepts (``padding="same"``) or
        refuses them with its own message.
        """
        if isinstance(node, ast.Tuple):
            return tuple(None if _is_none(e) else self.plain(self.integer(e)) for e in node.elts)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self.word(node)
        return self.plain(self.integer(node))

    def whole(self, node: ast.expr, name: str) -> int:
        """A plain ``int`` argument (``Flatten(start_dim=1)``): a constant integer."""
        value = self.integer(node)
        if not value.is_Integer:
            self.fail(node, f"{name} takes a whole number (got {value})")
        return int(value)

    def real(self, node: ast.expr, name: str) -> float | int:
        """A float argument (``Dropout(0.25)``): a number literal, possibly negated."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            value = node.value
            if isinstance(value, float) and not math.isfinite(value):
                self.fail(node, f"{name} must be a finite number")
            if abs(value) > MAX_NUMBER:
                self.fail(node, "the number is too large (at most 10**30 in magnitude)")
            return sign * value
        self.fail(node, f"{name} takes a number")

    def word(self, node: ast.Constant) -> str:
        value = str(node.value)
        if len(value) > MAX_WORD:
            self.fail(node, f"the string is too long (at most {MAX_WORD} characters)")
        return value

    @staticmethod
    def plain(value: sympy.Expr) -> Any:
        """Whole numbers as Python ints, as a PyTorch user would write them."""
        return int(value) if value.is_Integer else value


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
