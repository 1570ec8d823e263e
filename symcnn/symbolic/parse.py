"""Integer expressions a user types, parsed by walking ``ast``: never run, never sympified.

``eval``, ``sympify`` and ``parse_expr`` would run text as Python, so text is parsed with
:func:`ast.parse` and the tree walked against a whitelist: integer literals, names (each a
positive-integer symbol, as made by :func:`symcnn.symbols`), unary ``-``, ``+ - * / //``
and ``**`` with an exponent from 0 to :data:`MAX_EXPONENT`, parentheses. Names are folded
to Unicode NFKC, as Python folds identifiers, and must then be ASCII; names sympy gives a
meaning (``oo``, ``I``, ``E``, ``pi``, ``S``, ``N``, ``sin``, ...) and symcnn's public
names are refused. :class:`TextSource` is also the base of the layer-spec parser
(:mod:`symcnn.frontends.spec`), which adds layer calls and their arguments.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import math
import re
import sys
import unicodedata
from collections.abc import Iterable
from typing import Any, NoReturn

import sympy
from sympy.logic.boolalg import Boolean, BooleanAtom

from ..errors import SpecError, SymcnnError
from .symbols import symbols

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NUMBER",
    "TextSource",
    "parse_assignments",
    "parse_expression",
    "parse_sizes",
    "requirement",
]

#: Longest text accepted, in characters (a 40-layer spec is about 1200).
MAX_LENGTH = 2000
#: Deepest nesting of the expression tree accepted.
MAX_DEPTH = 32
#: Largest exponent of ``**``, and largest power a result may hold.
MAX_EXPONENT = 64
#: Largest magnitude of any number, literal or computed: ``10**30``.
MAX_NUMBER = 10**30

_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
MAX_WORD = 32

# Node types the walk may meet; each use is checked again where it appears.
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
    ast.keyword,
    ast.Tuple,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Pow,
    ast.BitOr,
    ast.USub,
)

# What people call the constructs a spec refuses, for messages.
_CONSTRUCTS = {
    "Attribute": "attribute access",
    "Subscript": "a subscript",
    "Slice": "a slice",
    "Lambda": "a lambda",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a generator expression",
    "JoinedStr": "an f-string",
    "FormattedValue": "an f-string",
    "Starred": "a starred argument",
    "NamedExpr": "an assignment expression (:=)",
    "Compare": "a comparison",
    "BoolOp": "and/or",
    "IfExp": "a conditional expression",
    "List": "a list (use a tuple)",
    "Dict": "a dict",
    "Set": "a set",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Not": "the operator 'not'",
    "Invert": "the operator '~'",
    "UAdd": "unary '+'",
    "Mod": "the operator '%'",
    "MatMult": "the operator '@'",
    "LShift": "the operator '<<'",
    "RShift": "the operator '>>'",
    "BitAnd": "the operator '&'",
    "BitXor": "the operator '^'",
}

_OPERATORS = {
    ast.Add: sympy.Add,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: sympy.Mul,
}


def parse_expression(text: str) -> sympy.Expr:
    """An integer expression: literals, symbols, ``+ - * / // **`` and parentheses.

    ``a // b`` is ``floor(a/b)``; names become positive-integer symbols.

    Examples
    --------
    >>> from symcnn import format_formula
    >>> format_formula(parse_expression("(n - k + 1) // 3"))
    '⌊(n - k + 1)/3⌋'
    >>> parse_expression("2**k")
    Traceback (most recent call last):
    ...
    symcnn.errors.SpecError: the exponent must be a whole number from 0 to 64 (got k): 'k' at
    column 4
    """
    source = TextSource(text, "expression")
    return source.integer(source.body)


def parse_sizes(text: str) -> tuple[sympy.Expr, ...]:
    """A shape such as ``"1,n,n"`` (or ``"1×n×n"``): one integer expression per axis.

    Examples
    --------
    >>> parse_sizes("3, H, W")
    (3, H, W)
    >>> parse_sizes("1×28×28")
    (1, 28, 28)
    """
    if not isinstance(text, str):
        raise SpecError(f"sizes must be text such as '1,n,n' (got {type(text).__name__})")
    source = TextSource(text.replace("×", ","), "size list")
    body = source.body
    items = body.elts if isinstance(body, ast.Tuple) else [body]
    if not items:
        source.fail(body, "give at least one size")
    return tuple(source.integer(item) for item in items)


def parse_assignments(text: str) -> dict[sympy.Symbol, sympy.Integer]:
    """Values for symbols, such as ``"n=28,k=5"``: names to whole numbers.

    Values may be integer expressions of numbers (``n=2**5``), not of other symbols.
    Blank text gives no assignment.

    Examples
    --------
    >>> parse_assignments("n=28, k=5")
    {n: 28, k: 5}
    >>> parse_assignments("n=28,n=32")
    Traceback (most recent call last):
    ...
    symcnn.errors.SpecError: n is given twice: 'n=32' at column 6
    """
    if not isinstance(text, str):
        raise SpecError(f"assignments must be text such as 'n=28,k=5' (got {type(text).__name__})")
    _check_length(text, "assignment list")
    out: dict[sympy.Symbol, sympy.Integer] = {}
    if not text.strip():
        return out
    start = 0
    for piece in text.split(","):
        column = start + len(piece) - len(piece.lstrip()) + 1
        start += len(piece) + 1
        name, equals, value = piece.strip().partition("=")
        name = name.strip()
        if not piece.strip():
            raise SpecError(f"an assignment is missing between two commas at column {column}")
        if not equals or not name:
            raise SpecError(
                f"an assignment reads name=value, as in n=28: {piece.strip()!r} at column {column}"
            )
        folded = _identifier(name)
        if folded is None or not _SYMBOL.fullmatch(folded) or _reserved(folded):
            raise SpecError(f"{name!r} is not a symbol name: {piece.strip()!r} at column {column}")
        if _sympy_name(folded):
            raise SpecError(f"{_sympy_reserved(folded)}: {piece.strip()!r} at column {column}")
        name = folded
        symbol = symbols(name)
        if symbol in out:
            raise SpecError(f"{name} is given twice: {piece.strip()!r} at column {column}")
        offset = column - 1 + piece.strip().index("=") + 1
        source = TextSource(value, f"value of {name}", offset=offset)
        result = source.integer(source.body)
        if not result.is_Integer:
            source.fail(source.body, f"the value of {name} must be a whole number (got {result})")
        out[symbol] = sympy.Integer(result)
    return out


# -- the walk ------------------------------------------------------------------------------
def _check_length(text: str, what: str) -> None:
    if len(text) > MAX_LENGTH:
        raise SpecError(f"the {what} is too long ({len(text)} characters; at most {MAX_LENGTH})")


def _reserved(name: str) -> bool:
    """Names a symbol may not take: symcnn's public names (layers, Input, Add, ...).

    Read off the loaded package (Python runs ``symcnn/__init__.py`` before any of its
    modules), not imported: this module sits below everything the package exports.
    """
    package = sys.modules.get("symcnn")
    return name in getattr(package, "__all__", ())


def _identifier(text: str) -> str | None:
    """``text`` as Python reads an identifier, folded to NFKC; None if it is not one.

    The one rule for names in every parser: :func:`ast.parse` folds the identifiers of a
    spec, an expression and a size list this way, and :func:`parse_assignments`, which
    splits its text itself, calls this. A full-width ``ｎ`` is ``n`` everywhere;
    ``n²`` is not an identifier anywhere (NFKC would make it ``n2``).
    """
    if not text.isidentifier() or keyword.iskeyword(text):
        return None
    return unicodedata.normalize("NFKC", text)


def _sympy_name(name: str) -> bool:
    """Whether sympy's namespace gives ``name`` a meaning: a constant, function or class.

    ``oo``, ``I``, ``E``, ``pi``, ``zoo``, ``nan``, ``S``, ``N``, ``O``, ``Q``, ``sin``,
    ``gamma``, ``ZZ``, ...: a symbol named so prints, reads back and is exported as that
    thing rather than as a size.
    """
    return name in _SYMPY_NAMES


def _sympy_reserved(name: str) -> str:
    """The message for a name :func:`_sympy_name` refuses, with a free name to use."""
    other = next(
        candidate
        for candidate in (f"{name}_", f"{name}0", f"{name}_1", f"{name}_n")
        if not _sympy_name(candidate)
    )
    return (
        f"the name {name} is reserved by sympy (a symbol so named reads as sympy's {name}); "
        f"call the size {other} instead"
    )


_SYMPY_NAMES = frozenset(
    name for name in sympy.__all__ if not inspect.ismodule(getattr(sympy, name, None))
)


class TextSource:
    """Text being parsed: its tree, and messages that quote a node and give its column."""

    def __init__(self, text: str, what: str, *, offset: int = 0) -> None:
        if not isinstance(text, str):
            raise SpecError(f"a {what} must be text (got {type(text).__name__})")
        _check_length(text, what)
        self.what = what
        stripped = text.lstrip(" \t")
        self.offset = offset + len(text) - len(stripped)
        self.text = stripped
        if "\x00" in stripped:
            column = self.offset + stripped.index("\x00") + 1
            raise SpecError(f"the {what} contains a null byte at column {column}")
        if not stripped.strip():
            raise SpecError(f"the {what} is empty")
        self.body = self._parse()
        self._prescan()
        self.names: dict[str, sympy.Symbol] = {}

    def _parse(self) -> ast.expr:
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as err:
            first = (err.lineno or 1) == 1
            column = (err.offset or 1) + (self.offset if first else 0)
            line = "column" if first else f"line {err.lineno}, column"
            lines = self.text.split("\n")
            row = lines[(err.lineno or 1) - 1] if (err.lineno or 1) <= len(lines) else ""
            near = row[(err.offset or 1) - 1 :][:20]
            raise SpecError(
                f"cannot parse the {self.what}: {err.msg} at {line} {column} (near {near!r})"
            ) from None
        except (RecursionError, MemoryError):
            raise SpecError(f"the {self.what} is nested too deeply to parse") from None
        except (ValueError, OverflowError) as err:  # null bytes, on some Python versions
            raise SpecError(f"cannot parse the {self.what}: {err}") from None
        return tree.body

    def _prescan(self) -> None:
        """Refuse unknown constructs anywhere, and over-deep nesting, before any walk."""
        stack: list[tuple[ast.AST, int]] = [(self.body, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.fail(
                    node, f"the {self.what} is nested too deeply (at most {MAX_DEPTH} levels)"
                )
            operator = getattr(node, "op", None)
            if not isinstance(node, _ALLOWED) or not isinstance(operator, (type(None), *_ALLOWED)):
                construct = operator if isinstance(node, _ALLOWED) else node
                kind = _CONSTRUCTS.get(type(construct).__name__, type(construct).__name__)
                self.fail(node, f"{kind} is not allowed in a {self.what}")
            if isinstance(node, ast.keyword) and node.arg is None:
                self.fail(node.value, f"** unpacking is not allowed in a {self.what}")
            if isinstance(node, ast.Constant) and (
                node.value is Ellipsis or isinstance(node.value, (bytes, complex))
            ):
                self.fail(node, f"the constant {node.value!r} is not allowed in a {self.what}")
            # A chain of layers a | b | c nests one level per layer: it does not count.
            chained = isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
            stack.extend(
                (child, depth if chained else depth + 1)
                for child in ast.iter_child_nodes(node)
                if not isinstance(child, (ast.operator, ast.unaryop, ast.expr_context))
            )

    # -- messages ----------------------------------------------------------------------
    def where(self, node: ast.AST) -> str:
        """The text of ``node`` (shortened) and where it starts."""
        piece = ast.get_source_segment(self.text, node) or self.text
        if len(piece) > 40:
            piece = piece[:37] + "..."
        lineno = getattr(node, "lineno", 1)
        row = self.text.split("\n")[lineno - 1]
        column = len(row.encode()[: getattr(node, "col_offset", 0)].decode(errors="replace")) + 1
        if lineno == 1:
            return f"{piece!r} at column {column + self.offset}"
        return f"{piece!r} at line {lineno}, column {column}"

    def fail(self, node: ast.AST, message: str) -> NoReturn:
        """Raise :class:`SpecError` with ``message``, quoting ``node`` and its column."""
        raise SpecError(f"{message}: {self.where(node)}")

    # -- integer expressions -----------------------------------------------------------
    def integer(self, node: ast.expr) -> sympy.Expr:
        """Walk an integer expression: literals, symbols, + - * / // **, unary minus."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, float):
                self.fail(node, "a float where an integer is required")
            if isinstance(value, str):
                self.fail(node, "a string where an integer is required")
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(node, f"{value!r} is not an integer")
            if abs(value) > MAX_NUMBER:
                self.fail(node, "the number is too large (at most 10**30 in magnitude)")
            return sympy.Integer(value)
        if isinstance(node, ast.Name):
            return self.symbol(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.integer(node.operand)
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.BitOr):
            return self.binary(node)
        if isinstance(node, ast.BinOp):
            self.fail(node, f"'|' separates layers and cannot appear inside a {self.what}")
        if isinstance(node, ast.Call):
            where = " (only layers are called, between the |)" if self.what == "spec" else ""
            self.fail(node.func, f"a call is not allowed in a {self.what}{where}")
        if isinstance(node, ast.Tuple):
            self.fail(node, "a tuple where one integer is required")
        kind = _CONSTRUCTS.get(type(node).__name__, type(node).__name__)
        self.fail(node, f"{kind} is not allowed in a {self.what}")

    def binary(self, node: ast.BinOp) -> sympy.Expr:
        """``a + b``, ``a - b``, ``a * b``, ``a / b``, ``a // b`` (a floor), ``a ** b``."""
        left = self.integer(node.left)
        right = self.integer(node.right)
        op = node.op
        if isinstance(op, ast.Pow):
            if not (right.is_Integer and 0 <= right <= MAX_EXPONENT):
                self.fail(
                    node.right,
                    f"the exponent must be a whole number from 0 to {MAX_EXPONENT} (got {right})",
                )
            if left.is_Integer and abs(left) > 1 and int(right) * math.log10(abs(left)) > 30.5:
                self.fail(node, "the number is too large (at most 10**30 in magnitude)")
            result = left**right
        elif isinstance(op, (ast.Div, ast.FloorDiv)):
            if right.is_zero:
                self.fail(node.right, "division by zero")
            result = left / right
            if isinstance(op, ast.FloorDiv):
                result = sympy.floor(result)
        else:
            result = _OPERATORS[type(op)](left, right)
        self._bounded(result, node)
        return result

    def _bounded(self, value: sympy.Expr, node: ast.AST) -> None:
        for atom in sympy.preorder_traversal(value):
            if atom.is_Rational and (abs(atom.p) > MAX_NUMBER or atom.q > MAX_NUMBER):
                self.fail(node, "the number is too large (at most 10**30 in magnitude)")
            if atom.is_Pow and atom.exp.is_Number and abs(atom.exp) > MAX_EXPONENT:
                self.fail(node, f"the power is too high (exponents up to {MAX_EXPONENT})")

    def check_name(self, node: ast.Name, name: str) -> None:
        """A hook for a parser that knows more names than sizes (the spec's layers)."""

    def symbol(self, node: ast.Name) -> sympy.Symbol:
        """A positive-integer symbol, one per name in this text."""
        # ast has folded the identifier to NFKC already; folding again is the same rule
        # as parse_assignments', stated once in _identifier.
        name = _identifier(node.id) or node.id
        if name in self.names:
            return self.names[name]
        self.check_name(node, name)
        if not _SYMBOL.fullmatch(name):
            self.fail(
                node,
                "a symbol name is a letter then letters, digits or _ (32 at most, no dunders)",
            )
        if _reserved(name):
            self.fail(node, f"{name} is a symcnn name, not a size")
        if _sympy_name(name):
            self.fail(node, _sympy_reserved(name))
        symbol: sympy.Symbol = symbols(name)
        self.names[name] = symbol
        return symbol


_COMPARISON = re.compile(r"(<=|>=|==|!=|<|>)")
_RELATIONS = {
    "<=": sympy.Le, ">=": sympy.Ge, "==": sympy.Eq, "!=": sympy.Ne, "<": sympy.Lt, ">": sympy.Gt
}  # fmt: skip


def requirement(item: Any, symbols: Iterable[sympy.Symbol]) -> Boolean:
    """A relation to meet, given as a sympy relation or as text such as ``"n <= 512"``.

    Text is read by the spec parser's whitelist (:func:`parse_expression` on
    each side of one comparison), never run; its names must be symbols of the network.

    Examples
    --------
    >>> import symcnn as sc
    >>> n = sc.symbols("n")
    >>> requirement("2*n // 3 >= 7", [n])
    floor(2*n/3) >= 7
    >>> requirement("__import__('os')", [n])
    Traceback (most recent call last):
    ...
    symcnn.errors.SpecError: a requirement is one comparison such as 'n <= 512' (got
    "__import__('os')")
    """
    if isinstance(item, bool):
        return sympy.true if item else sympy.false
    if isinstance(item, (sympy.core.relational.Relational, BooleanAtom)):
        return item
    if not isinstance(item, str):
        raise SymcnnError(
            f"a requirement is a sympy relation such as net.products <= 10**9, or text such "
            f"as 'n <= 512' (got {type(item).__name__} {item!r:.60})"
        )
    parts = _COMPARISON.split(item)
    if len(parts) != 3:
        raise SpecError(f"a requirement is one comparison such as 'n <= 512' (got {item!r:.80})")
    lhs, op, rhs = parts
    left, right = parse_expression(lhs), parse_expression(rhs)
    by_name = {str(s): s for s in symbols}
    mapping = {}
    for s in left.free_symbols | right.free_symbols:
        if str(s) not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise SpecError(
                f"the requirement {item!r:.80} names {s}, not a symbol of this network "
                f"(its symbols: {known})"
            )
        mapping[s] = by_name[str(s)]
    return _RELATIONS[op](left.xreplace(mapping), right.xreplace(mapping))
