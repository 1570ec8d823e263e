"""Exact, vectorized evaluation of size formulas with integer arithmetic only.

A size formula is turned once into a small Python function of its symbols: ``floor(p/q)``
becomes ``p // q``, ``ceiling(p/q)`` becomes ``-(-p // q)``, ``Min``/``Max`` become
elementwise minimum/maximum and ``Mod`` becomes ``%``. Rational coefficients are carried
as an exact integer numerator over a positive integer denominator, so no float is ever
formed. The same function runs on Python ints and on numpy arrays (int64, or object arrays
of Python ints when a magnitude bound computed beforehand says int64 could overflow).

The pipeline is parse → plan → execute: the sympy tree becomes a DAG of integer
operations (repeated subexpressions shared), the DAG becomes Python source, and the source
is compiled once and cached. :func:`evaluate` compiles a variant that knows which symbols
are scalars (so ``1 - k`` is one Python-int operation) and, when all arrays have one
shape, updates dying temporaries in place instead of allocating new arrays.

numpy is imported only when an array is evaluated; ``import symcnn.evaluate`` does not
import it.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from ..validity.condition import Condition
from ..errors import ShapeError
from ..symbolic.printing import text

if TYPE_CHECKING:
    import numpy

__all__ = ["MAX_POINTS", "compile_expr", "compile_relation", "evaluate", "holds"]

# Every intermediate magnitude must stay below this for the int64 path; 2**62 rather than
# 2**63 - 1 leaves a margin for the bounds' own ``+ 1`` slack.
_INT64_LIMIT = 2**62

_numpy_module: ModuleType | None = None


def _numpy() -> ModuleType:
    """numpy, imported on first use, with the extra to install when it is missing."""
    global _numpy_module
    if _numpy_module is None:
        try:
            import numpy
        except ImportError as error:
            raise ImportError(
                'symcnn.evaluate needs numpy for arrays: pip install "symcnn[numpy]"'
            ) from error
        _numpy_module = numpy
    return _numpy_module


# --------------------------------------------------------------------------------------
# Runtime helpers called by the generated functions. They keep Python ints as Python ints
# (exact at any size) and hand arrays to numpy.


class _CheckError(ShapeError):
    """A check inside a compiled formula failed; ``evaluate`` adds the symbol bindings."""

    def __init__(self, what: str, bad: Any, parts: tuple[Any, ...], render: Callable[..., str]):
        self.what, self.bad, self.parts, self.render = what, bad, parts, render
        index, got = _first_failure(bad, parts, None)
        where = "" if index is None else f" at index {index}"
        super().__init__(f"{what} (got {render(*got)}{where})")


def _first_failure(
    bad: Any, parts: tuple[Any, ...], shape: tuple[int, ...] | None
) -> tuple[tuple[int, ...] | None, list[int]]:
    """The first index where ``bad`` holds (broadcast to ``shape``) and ``parts`` there."""
    if isinstance(bad, bool) or not getattr(bad, "ndim", 0):
        return None, [int(p) for p in parts]
    np = _numpy()
    if shape is None:
        shape = np.broadcast_shapes(np.shape(bad), *(np.shape(p) for p in parts))
    flat = np.broadcast_to(bad, shape).ravel()
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(flat)), shape))
    return index, [int(np.broadcast_to(p, shape)[index]) for p in parts]


def _minimum(*xs: Any) -> Any:
    result = xs[0]
    for x in xs[1:]:
        if type(result) is int and type(x) is int:
            result = result if result <= x else x
        else:
            result = _numpy().minimum(result, x)
    return result


def _maximum(*xs: Any) -> Any:
    result = xs[0]
    for x in xs[1:]:
        if type(result) is int and type(x) is int:
            result = result if result >= x else x
        else:
            result = _numpy().maximum(result, x)
    return result


def _and(*xs: Any) -> Any:
    if all(isinstance(x, bool) for x in xs):
        return all(xs)
    return functools.reduce(_numpy().logical_and, xs)


def _or(*xs: Any) -> Any:
    if all(isinstance(x, bool) for x in xs):
        return any(xs)
    return functools.reduce(_numpy().logical_or, xs)


def _not(x: Any) -> Any:
    return (not x) if isinstance(x, bool) else _numpy().logical_not(x)


def _any(bad: Any) -> bool:
    return bool(bad) if isinstance(bad, bool) else bool(bad.any())


def _exact(p: Any, q: Any, what: str) -> Any:
    """``p // q`` after checking that ``q`` divides ``p``: the formula's value is an integer."""
    bad = p % q != 0
    if _any(bad):
        raise _CheckError(what, bad, (p, q), lambda a, b: str(Fraction(a, b)))
    return p // q


def _positive(q: Any, what: str) -> None:
    bad = q <= 0
    if _any(bad):
        raise _CheckError(what, bad, (q,), str)


def _nonzero(q: Any, what: str) -> None:
    bad = q == 0
    if _any(bad):
        raise _CheckError(what, bad, (q,), str)


_RUNTIME = {
    "_minimum": _minimum,
    "_maximum": _maximum,
    "_and": _and,
    "_or": _or,
    "_not": _not,
    "_exact": _exact,
    "_positive": _positive,
    "_nonzero": _nonzero,
}


# --------------------------------------------------------------------------------------
# The integer program: a DAG of hash-consed nodes, so a repeated subexpression (the seed
# network's n - k + 1, inside and outside its floor) is computed once.

# A positive denominator: an integer times a product of (checked or provably) positive
# integer nodes, kept as a sorted tuple of node ids with repetition.
_Den = tuple[int, tuple[int, ...]]
_ONE: _Den = (1, ())
# An exact rational value: integer node over a positive denominator.
_Rat = tuple[int, _Den]

_ATOM, _UNARY, _MUL, _ADD, _CMP = 5, 4, 3, 2, 1
_COMMUTATIVE = frozenset({"add", "mul", "min", "max", "and", "or"})
_CHECKS = frozenset({"positive", "nonzero"})


@dataclass(frozen=True, slots=True)
class _Node:
    op: str
    args: tuple[int, ...]
    payload: Any
    scalar: bool


class _Builder:
    """Translates a sympy tree into nodes; every node's value is an integer (or a bool)."""

    def __init__(self, root: sympy.Basic, symbols: Sequence[sympy.Symbol], scalar: Sequence[bool]):
        self.root = root
        self.nodes: list[_Node] = []
        self.ids: dict[tuple[str, tuple[int, ...], Any], int] = {}
        self.messages: list[str] = []
        self.memo: dict[sympy.Basic, _Rat] = {}
        self.args = {s: self.node("arg", (), i, scalar[i]) for i, s in enumerate(symbols)}

    # -- node constructors, folding constants ------------------------------------------

    def node(
        self, op: str, args: tuple[int, ...], payload: Any = None, scalar: bool = False
    ) -> int:
        if op != "arg":
            scalar = all(self.nodes[a].scalar for a in args)
        if op in _COMMUTATIVE:
            # Constants, then scalar operands, then arrays: a scalar-only part is then one
            # Python-int operation, and a product's coefficient comes first.
            args = tuple(sorted(args, key=self._rank))
        key = (op, args, payload)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.nodes)
            self.nodes.append(_Node(op, args, payload, scalar))
        return found

    def _rank(self, i: int) -> tuple[int, int]:
        n = self.nodes[i]
        return (0 if n.op in ("const", "bool") else 1 if n.scalar else 2), i

    def const(self, value: int) -> int:
        return self.node("const", (), int(value))

    def value(self, i: int) -> int | None:
        n = self.nodes[i]
        return n.payload if n.op == "const" else None

    def _grouped(self, op: str, terms: list[int]) -> int:
        if len(terms) == 1:
            return terms[0]
        scalars = [t for t in terms if self.nodes[t].scalar]
        arrays = [t for t in terms if not self.nodes[t].scalar]
        if len(scalars) > 1 and arrays:
            terms = [self.node(op, tuple(scalars)), *arrays]
        return self.node(op, tuple(terms))

    def add(self, terms: Iterable[int]) -> int:
        total, rest = 0, []
        for t in terms:
            v = self.value(t)
            if v is None:
                rest.append(t)
            else:
                total += v
        if total or not rest:
            rest.insert(0, self.const(total))
        return self._grouped("add", rest)

    def mul(self, factors: Iterable[int]) -> int:
        factors = list(factors)
        values = [self.value(f) for f in factors]
        variable = [f for f, v in zip(factors, values, strict=True) if v is None]
        if len(variable) == 1 and math.prod(v for v in values if v is not None) == 1:
            return variable[0]  # x·1 is x, as it stands
        coeff, rest = 1, []
        for f in factors:
            v = self.value(f)
            node = self.nodes[f]
            if v is not None:
                coeff *= v
            elif node.op == "mul" and self.value(node.args[0]) is not None:
                # 2·(-x) is -2·x: a nested product gives up its coefficient.
                coeff *= self.nodes[node.args[0]].payload
                rest.append(self.mul(node.args[1:]))
            else:
                rest.append(f)
        if coeff == 0:
            return self.const(0)
        if coeff != 1 or not rest:
            rest.insert(0, self.const(coeff))
        return self._grouped("mul", rest)

    def power(self, base: int, exp: int) -> int:
        """``base**exp`` by repeated squaring; shared squares become temporaries."""
        if exp == 1:
            return base
        if exp % 2:
            return self.mul([base, self.power(base, exp - 1)])
        half = self.power(base, exp // 2)
        return self.mul([half, half])

    def den_node(self, den: _Den) -> int:
        return self.mul([self.const(den[0]), *den[1]])

    def common(self, rats: Sequence[_Rat]) -> tuple[list[int], _Den]:
        """Numerators over a common denominator (integer lcm, max multiplicity of factors)."""
        c = math.lcm(*(d[0] for _, d in rats))
        counts: dict[int, int] = {}
        for _, (_, factors) in rats:
            for f in set(factors):
                counts[f] = max(counts.get(f, 0), factors.count(f))
        den: _Den = (c, tuple(sorted(f for f, m in counts.items() for _ in range(m))))
        nums = []
        for num, (ci, factors) in rats:
            missing = list(den[1])
            for f in factors:
                missing.remove(f)
            nums.append(self.mul([num, self.const(c // ci), *missing]))
        return nums, den

    def check(self, op: str, operand: int, what: str) -> None:
        self.messages.append(what)
        self.node(op, (operand,), len(self.messages) - 1)

    # -- translation ----------------------------------------------------------------------

    def integer(self, expr: sympy.Basic) -> int:
        """A node for an integer-valued expression (checked at run time if it has a denominator)."""
        num, den = self.rat(expr)
        if den == _ONE:
            return num
        self.messages.append(f"{text(expr)} is not an integer")
        return self.node("exact", (num, self.den_node(den)), len(self.messages) - 1)

    def rat(self, e: sympy.Basic) -> _Rat:
        if e not in self.memo:
            self.memo[e] = self._rat(e)
        return self.memo[e]

    def _rat(self, e: sympy.Basic) -> _Rat:
        if e.is_Integer:
            return self.const(int(e)), _ONE
        if e.is_Rational:
            return self.const(int(e.p)), (int(e.q), ())
        if isinstance(e, sympy.Symbol):
            return self.args[e], _ONE
        if isinstance(e, sympy.Add):
            nums, den = self.common([self.rat(a) for a in e.args])
            return self.add(nums), den
        if isinstance(e, sympy.Mul):
            rats = [self.rat(a) for a in e.args]
            factors = tuple(sorted(f for _, d in rats for f in d[1]))
            return self.mul(n for n, _ in rats), (math.prod(d[0] for _, d in rats), factors)
        if isinstance(e, sympy.Pow):
            return self._pow(e)
        if isinstance(e, (sympy.floor, sympy.ceiling)):
            num, den = self.rat(e.args[0])
            if den == _ONE:
                return num, _ONE
            op = "floordiv" if isinstance(e, sympy.floor) else "ceildiv"
            return self.node(op, (num, self.den_node(den))), _ONE
        if isinstance(e, (sympy.Min, sympy.Max)):
            nums, den = self.common([self.rat(a) for a in e.args])
            op = "min" if isinstance(e, sympy.Min) else "max"
            return self.node(op, tuple(nums)), den
        if isinstance(e, sympy.Mod):
            (p, q), den = self.common([self.rat(a) for a in e.args])
            if not e.args[1].is_nonzero:
                self.check("nonzero", q, f"the divisor of {text(e)} must be nonzero")
            return self.node("mod", (p, q)), den
        if isinstance(e, sympy.Abs):
            num, den = self.rat(e.args[0])
            return self.node("abs", (num,)), den
        raise self.unsupported(e)

    def _pow(self, e: sympy.Pow) -> _Rat:
        base, exp = e.args
        if not exp.is_Integer:
            raise self.unsupported(e, "only integer powers with a number as exponent")
        m = abs(int(exp))
        num, (c, factors) = self.rat(base)
        if exp > 0:
            return self.power(num, m), (c**m, factors * m)
        # A negative power is a division: its base must be positive (checked when unproven).
        if not base.is_positive:
            self.check("positive", num, f"{text(base)} must be positive to divide by it")
        numerator = self.power(self.den_node((c, factors)), m)
        v = self.value(num)
        if v is not None:
            return numerator, (v**m, ())
        return numerator, (1, (num,) * m)

    def relation(self, e: Any) -> int:
        if isinstance(e, BooleanTrue):
            return self.node("bool", (), True)
        if isinstance(e, BooleanFalse):
            return self.node("bool", (), False)
        if isinstance(e, Relational) and e.rel_op in ("==", "!=", ">=", ">", "<=", "<"):
            (lhs, rhs), _ = self.common([self.rat(e.lhs), self.rat(e.rhs)])
            return self.node("cmp", (lhs, rhs), e.rel_op)
        if isinstance(e, (sympy.And, sympy.Or)):
            op = "and" if isinstance(e, sympy.And) else "or"
            return self.node(op, tuple(self.relation(a) for a in e.args))
        if isinstance(e, sympy.Not):
            return self.node("not", (self.relation(e.args[0]),))
        raise self.unsupported(e, "relations are built from ==, !=, <, <=, >, >=, And, Or, Not")

    def unsupported(self, e: Any, reason: str | None = None) -> ShapeError:
        if reason is None:
            if isinstance(e, sympy.Float):
                reason = "a float is not exact; write sizes as integers or sympy.Rational"
            elif e.is_Number:
                reason = "it is not a finite rational number"
            else:
                reason = (
                    f"{type(e).__name__} is none of +, ·, integer powers, floor, ceiling, "
                    "Min, Max, Mod, Abs"
                )
        # sympy's own notation: these are sympy objects symcnn has no rendering for.
        inside = "" if e == self.root else f" in {self.root}"
        return ShapeError(f"cannot evaluate {e} exactly{inside}: {reason}")


# --------------------------------------------------------------------------------------
# Code generation and the compiled plan.


def _source(nodes: Sequence[_Node], root: int, arity: int, inplace: bool) -> str:
    """Python source of a function ``(a0, a1, …)`` computing node ``root``.

    Nodes used more than once become temporaries; checks are statements, emitted in node
    order, so each runs before any division by the value it checks. With ``inplace`` (for
    callers that guarantee every array argument has the same shape) each array operation
    is a statement, and one whose operand dies there updates that operand's buffer in
    place (``t += u``) instead of allocating a new array.
    """
    checks = [i for i, n in enumerate(nodes) if n.op in _CHECKS]
    live: set[int] = set()
    stack = [root, *checks]
    while stack:
        i = stack.pop()
        if i not in live:
            live.add(i)
            stack.extend(nodes[i].args)
    uses = [0] * len(nodes)
    for i in live:
        for a in nodes[i].args:
            uses[a] += 1
    temps: dict[int, str] = {}

    def code(i: int, top: bool = False) -> tuple[str, int]:
        if i in temps and not top:
            return temps[i], _ATOM
        n = nodes[i]
        if n.op == "const":
            return str(n.payload), _ATOM if n.payload >= 0 else _UNARY
        if n.op == "bool":
            return str(n.payload), _ATOM
        if n.op == "arg":
            return f"a{n.payload}", _ATOM
        args = [code(a) for a in n.args]
        if n.op == "add":
            out = wrap(args[0], _ADD)
            for a, item in zip(n.args[1:], args[1:], strict=True):
                negated = negative(a)
                out += f" - {negated}" if negated is not None else f" + {wrap(item, _ADD)}"
            return out, _ADD
        if n.op == "mul":
            if leading_coefficient(i) == -1:
                return "-" + "*".join(wrap(a, _UNARY) for a in args[1:]), _MUL
            return "*".join(wrap(a, _UNARY) for a in args), _MUL
        if n.op in ("floordiv", "mod"):
            sign = "//" if n.op == "floordiv" else "%"
            return f"{wrap(args[0], _MUL)} {sign} {wrap(args[1], _UNARY)}", _MUL
        if n.op == "ceildiv":
            return f"-(-{wrap(args[0], _ATOM)} // {wrap(args[1], _UNARY)})", _UNARY
        if n.op == "abs":
            return f"abs({args[0][0]})", _ATOM
        if n.op == "cmp":
            return f"{args[0][0]} {n.payload} {args[1][0]}", _CMP
        if n.op in ("min", "max", "and", "or", "not"):
            name = {"min": "_minimum", "max": "_maximum"}.get(n.op, f"_{n.op}")
            return f"{name}({', '.join(s for s, _ in args)})", _ATOM
        # exact, positive, nonzero: a call carrying the index of its message.
        return f"_{n.op}({', '.join(s for s, _ in args)}, _W[{n.payload}])", _ATOM

    def wrap(item: tuple[str, int], least: int) -> str:
        s, p = item
        return s if p >= least else f"({s})"

    def leading_coefficient(i: int) -> int | None:
        n = nodes[i]
        first = nodes[n.args[0]] if n.op == "mul" else n
        return first.payload if first.op == "const" else None

    def negative(i: int) -> str | None:
        """``x`` when node ``i`` is ``-x`` (a negative constant or a product led by one)."""
        c = leading_coefficient(i)
        if i in temps or c is None or c >= 0:
            return None
        if nodes[i].op == "const":
            return str(-c)
        rest = [wrap(code(a), _UNARY) for a in nodes[i].args[1:]]
        return "*".join(rest if c == -1 else [str(-c), *rest])

    def updated_in_place(i: int) -> list[str] | None:
        """Statements computing array node ``i`` into the buffer of an operand dying here."""
        n = nodes[i]
        if n.op not in ("add", "mul", "floordiv", "mod", "ceildiv"):
            return None
        positions = range(len(n.args)) if n.op in ("add", "mul") else range(1)
        for position in positions:
            a = n.args[position]
            if a in temps and a in owned and last_use[a] == i:
                break
        else:
            return None
        acc, others = temps[a], [*n.args[:position], *n.args[position + 1 :]]
        temps[i] = acc
        owned.add(i)
        if n.op == "add":
            return [
                f"{acc} -= {negated}" if (negated := negative(o)) else f"{acc} += {code(o)[0]}"
                for o in others
            ]
        if n.op == "mul":
            return [f"{acc} *= {code(o)[0]}" for o in others]
        q = code(n.args[1])[0]
        if n.op == "ceildiv":
            # ⌈p/q⌉ = ⌊(p + q - 1)/q⌋ for q > 0, which every denominator here is.
            return [f"{acc} += {q} - 1", f"{acc} //= {q}"]
        return [f"{acc} {'//' if n.op == 'floordiv' else '%'}= {q}"]

    def negation(i: int) -> bool:
        # -x is free as the subtrahend of a sum, where it is almost always used.
        n = nodes[i]
        return n.op == "mul" and len(n.args) == 2 and leading_coefficient(i) == -1

    # When each node's value is last read. A negation -x is not a statement of its own but
    # is inlined into its consumers, so x is read when they are computed.
    read_at = {i: i for i in live}
    last_use = [-1] * len(nodes)
    for i in sorted(live, reverse=True):
        if negation(i) and i != root:
            read_at[i] = max((read_at[c] for c in live if i in nodes[c].args), default=i)
        for a in nodes[i].args:
            last_use[a] = max(last_use[a], read_at[i])

    # Array nodes whose value is a buffer of this function's own, free to overwrite.
    owned: set[int] = set()
    lines = []
    for i in sorted(live):
        n = nodes[i]
        if n.op in _CHECKS:
            lines.append(code(i, top=True)[0])
        elif n.op in ("const", "arg", "bool") or (negation(i) and i != root):
            continue
        elif inplace and not n.scalar:
            statements = updated_in_place(i)
            if statements is None:
                name = f"t{len(set(temps.values()))}"
                if n.op == "ceildiv":
                    p, q = code(n.args[0])[0], code(n.args[1])[0]
                    statements = [f"{name} = {p} + ({q} - 1)", f"{name} //= {q}"]
                else:
                    statements = [f"{name} = {code(i, top=True)[0]}"]
                temps[i] = name
                if n.op not in ("cmp", "and", "or", "not"):
                    owned.add(i)
            lines += statements
        elif i != root and uses[i] > 1:
            temps[i] = f"t{len(set(temps.values()))}"
            lines.append(f"{temps[i]} = {code(i, top=True)[0]}")
    lines.append(f"return {temps[root] if root in temps else code(root, top=True)[0]}")
    params = ", ".join(f"a{i}" for i in range(arity))
    return f"def _formula({params}):\n" + "".join(f"    {line}\n" for line in lines)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled formula: the function, its source, and its nodes for magnitude bounds."""

    function: Callable[..., Any]
    source: str
    nodes: tuple[_Node, ...]

    def bound(self, magnitudes: Sequence[int]) -> int:
        """An upper bound of every intermediate |value| given each symbol's max |value|."""
        b: list[int] = []
        for n in self.nodes:
            args = [b[a] for a in n.args]
            if n.op == "const":
                v = abs(n.payload)
            elif n.op == "arg":
                v = magnitudes[n.payload]
            elif n.op == "add":
                v = sum(args)
            elif n.op == "mul":
                v = math.prod(args)
            elif n.op == "floordiv":
                v = args[0] + 1
            elif n.op == "ceildiv":  # also computed as (p + q - 1) // q
                v = args[0] + args[1] + 1
            elif n.op == "mod":
                v = args[1]
            elif n.op in ("min", "max", "abs", "exact", "positive", "nonzero"):
                v = max(args)
            else:  # comparisons and boolean connectives
                v = 1
            b.append(v)
        return max(b, default=0)


def _check_symbols(symbols: Sequence[sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    symbols = tuple(symbols)
    for s in symbols:
        if not isinstance(s, sympy.Symbol):
            raise ShapeError(f"symbols must be sympy Symbols (got {s!r})")
    if len(set(symbols)) != len(symbols):
        raise ShapeError(f"symbols must be distinct (got {', '.join(map(str, symbols))})")
    return symbols


def _missing(free: Iterable[sympy.Symbol], given: Iterable[Any], formula: sympy.Basic) -> None:
    given = list(given)
    missing = sorted(set(free) - set(given), key=sympy.default_sort_key)
    if not missing:
        return
    names = {str(g) for g in given}
    clash = [str(m) for m in missing if str(m) in names]
    hint = (
        f"; a value is given for a different symbol named {', '.join(clash)} (other "
        "assumptions: create every symbol with symcnn.symbols)"
        if clash
        else ""
    )
    raise ShapeError(f"no value for {', '.join(map(str, missing))} in {text(formula)}{hint}")


@functools.lru_cache(maxsize=512)
def _plan(
    formula: sympy.Basic,
    symbols: tuple[sympy.Symbol, ...],
    scalar: tuple[bool, ...],
    inplace: bool,
) -> _Plan:
    builder = _Builder(formula, symbols, scalar)
    is_expr = isinstance(formula, sympy.Expr)
    root = builder.integer(formula) if is_expr else builder.relation(formula)
    source = _source(builder.nodes, root, len(symbols), inplace)
    namespace: dict[str, Any] = {**_RUNTIME, "_W": tuple(builder.messages)}
    # The source was generated above from the sympy tree: symbol names and other user text
    # never enter it (parameters are a0, a1, …; messages are passed in the namespace), so
    # exec runs only code of our own making.
    exec(compile(source, "<symcnn.evaluate>", "exec"), namespace)
    function = namespace["_formula"]
    function.__doc__ = f"{text(formula)} as a function of ({', '.join(map(str, symbols))})"
    return _Plan(function, source, tuple(builder.nodes))


def _as_expr(expr: Any) -> sympy.Expr:
    if isinstance(expr, sympy.Expr):
        return expr
    if isinstance(expr, numbers.Integral) and not isinstance(expr, bool):
        return sympy.Integer(int(expr))
    if isinstance(expr, (Boolean, Condition)):
        raise ShapeError(f"{text(_as_relation(expr))} is a relation: use holds, not evaluate")
    raise ShapeError(f"expected a sympy expression or an integer (got {expr!r})")


def _as_relation(rel: Any) -> Boolean:
    # A sympy Symbol is a Boolean too; a relation is never an Expr.
    if isinstance(rel, Condition):
        rel = rel.relation
    if isinstance(rel, bool):
        return sympy.true if rel else sympy.false
    if isinstance(rel, sympy.Expr) or not isinstance(rel, Boolean):
        raise ShapeError(f"expected a sympy relation (got {rel!r}): use evaluate for a formula")
    return rel


def compile_expr(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> Callable[..., Any]:
    r"""Compile a size formula into a function of integers, exact in integer arithmetic.

    Parameters
    ----------
    expr : sympy.Expr
        An integer-valued formula built from integers, symbols, +, ·, integer powers,
        ``floor``, ``ceiling``, ``Min``, ``Max``, ``Mod`` and ``Abs``; rational
        coefficients are allowed when the value is an integer.
    symbols : sequence of sympy.Symbol
        The function's parameters, in order; must include every free symbol of ``expr``.

    Returns
    -------
    callable
        ``f(*values)`` taking Python ints or numpy integer arrays (which broadcast).
        Python ints give an exact Python int. int64 arrays are computed in int64 without
        overflow checks; :func:`evaluate` decides beforehand whether int64 is safe. The
        function trusts its inputs: symbols declared positive must be at least 1.

    Raises
    ------
    ShapeError
        If ``expr`` contains anything else (a float, ``sqrt``, a symbolic exponent),
        naming the subexpression, or a free symbol is missing from ``symbols``.

    Notes
    -----
    .. math:: \lfloor p/q \rfloor \mapsto p \mathbin{/\!/} q, \qquad
              \lceil p/q \rceil \mapsto -((-p) \mathbin{/\!/} q)

    Every subexpression is carried as an integer numerator over a positive integer
    denominator; the division happens only where ``floor`` or ``ceiling`` asks for it, or
    at the end after checking divisibility. Repeated subexpressions are computed once.
    Compiled functions are cached. ``sympy.lambdify`` by contrast computes
    ``floor((n - k + 1)/3)`` as ``floor(n/3 - k/3 + 1/3)`` in floats, which is off by one
    at n = 22, k = 5.

    Examples
    --------
    >>> import numpy as np
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> f = compile_expr(sympy.floor((n - k + 1) / 3), [n, k])
    >>> f(28, 5)
    8
    >>> f(np.array([22, 23, 24, 25]), 5)
    array([6, 6, 6, 7])
    """
    expr = _as_expr(expr)
    symbols = _check_symbols(symbols)
    _missing(expr.free_symbols, symbols, expr)
    return _plan(expr, symbols, (False,) * len(symbols), False).function


def compile_relation(rel: Any, symbols: Sequence[sympy.Symbol]) -> Callable[..., Any]:
    """Compile a relation between size formulas into a function returning bools.

    Parameters
    ----------
    rel : sympy relation, boolean or Condition
        ``Ge``, ``Gt``, ``Le``, ``Lt``, ``Eq`` or ``Ne`` between formulas that
        :func:`compile_expr` accepts, ``And``/``Or``/``Not`` of those, ``true``/``false``,
        or a :class:`symcnn.Condition`.
    symbols : sequence of sympy.Symbol
        The function's parameters, in order.

    Returns
    -------
    callable
        ``f(*values)``: a bool for Python ints, a boolean array for arrays. Both sides are
        compared exactly, over a common positive denominator.

    Raises
    ------
    ShapeError
        As for :func:`compile_expr`.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> fits = compile_relation(sympy.Eq(sympy.Mod(n - k + 1, 3), 0), [n, k])
    >>> fits(28, 5), fits(29, 5)
    (True, False)
    """
    rel = _as_relation(rel)
    symbols = _check_symbols(symbols)
    _missing(rel.free_symbols, symbols, rel)
    return _plan(rel, symbols, (False,) * len(symbols), False).function


# --------------------------------------------------------------------------------------
# evaluate and holds: checked values, int64 or exact object arrays.


#: The most points one evaluation takes: the size of each array value (a ``range`` counts
#: its length, an array view its full shape) and of the shape all values broadcast to.
#: Bigger inputs raise :class:`~symcnn.errors.ShapeError` before anything is allocated.
#: Why this many: an int64 array of 2·10**8 points is 1.6 GB, and an evaluation holds a
#: few arrays of the result's shape at once (temporaries, the domain's boolean verdicts,
#: the result), so a sweep this large needs several GB, about what a workstation has;
#: exact object arrays take about five times as much per point. Refusing beyond that
#: turns a mistaken ``range(3, 10**12)``, or a grid of two long vectors, into an error
#: with the count at once instead of a bare MemoryError (or swapping) part-way through.
#: Sweep more points in chunks.
MAX_POINTS = 2 * 10**8

# Values an int64 array holds exactly.
_INT64_MIN, _INT64_END = -(2**63), 2**63

# Scalar kinds that are never a size, though some of them (bool) are ints to Python.
_NOT_VALUES = (bool, float, complex, str, bytes, bytearray, memoryview, sympy.Basic)


def _coerce(symbol: sympy.Symbol, value: Any) -> tuple[Any, int]:
    """A value as a Python int or an int64/object integer array, and its max magnitude.

    Parameters
    ----------
    symbol : sympy.Symbol
        The symbol the value is for, named in every error.
    value : object
        A Python or numpy integer; a numpy array (or anything with ``__array__``) of an
        integer dtype or of Python ints; a ``range``; or a (nested) list or tuple of ints.

    Returns
    -------
    tuple
        A Python int, or an int64 array when every value fits in int64, else an object
        array of Python ints; and the largest magnitude among the values (0 if none).

    Raises
    ------
    ShapeError
        If the value, or any element of it, is a bool, a float or anything else but an
        integer (naming the value, and its index in a list); if a symbol declared positive
        or nonnegative gets a value below that; if the value is not rectangular; or if it
        has more than :data:`MAX_POINTS` points, before allocating them.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        v = int(value)
        _check_sign(symbol, v, None)
        return v, abs(v)
    if isinstance(value, _NOT_VALUES) or value is None:
        raise _bad_value(symbol, value)
    if isinstance(value, range):
        return _from_range(symbol, value)
    if isinstance(value, Sequence):
        return _from_sequence(symbol, value)
    if not hasattr(value, "__array__"):
        raise _bad_value(symbol, value)
    array = _as_array(symbol, value)
    if array.ndim == 0:
        return _coerce(symbol, array.item())  # a numpy scalar, np.bool_ among them
    return _from_array(symbol, array)


def _range_length(r: range) -> int:
    """``len(r)``, also past ``sys.maxsize`` where ``len`` raises OverflowError."""
    return max(0, -((r.start - r.stop) // r.step))


def _nested_size(value: Any) -> int | None:
    """How many points a nested list holds, read from the first element at each depth.

    Exact for a rectangular nesting (numpy refuses any other), and cheap: it lets a list
    of ranges or of array views be refused before numpy materialises it. None when the
    value has no length to read.
    """
    count = 1
    for _ in range(64):  # numpy's limit on dimensions
        if isinstance(value, range):
            length = _range_length(value)
        elif isinstance(value, Sequence) and not isinstance(value, _NOT_VALUES):
            length = len(value)
        else:
            shape = getattr(value, "shape", None)
            if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
                return count * math.prod(shape)
            return count
        count *= length
        if not length:
            return 0
        try:
            value = value[0]
        except (IndexError, KeyError, TypeError):  # a sequence numpy will refuse anyway
            return None
    return None


def _check_size(symbol: sympy.Symbol, points: int) -> None:
    if points > MAX_POINTS:
        raise ShapeError(
            f"the value of {symbol} has {points:,} points, more than the {MAX_POINTS:,} one "
            "evaluation takes (symcnn.evaluate.MAX_POINTS): evaluate it in chunks"
        )


def _from_range(symbol: sympy.Symbol, r: range) -> tuple[Any, int]:
    """A range as an array, built without a Python loop when its values fit in int64."""
    count = _range_length(r)
    _check_size(symbol, count)
    np = _numpy()
    if not count:
        return np.empty(0, dtype=np.int64), 0
    first, last = r.start, r.start + (count - 1) * r.step
    lo, hi = min(first, last), max(first, last)
    if _INT64_MIN <= lo and hi < _INT64_END:
        # first + i·step in int64. Intermediate products may wrap around, but int64
        # arithmetic is exact modulo 2**64 and every final value fits, so each is exact;
        # the step is reduced modulo 2**64 for the same reason.
        array = np.arange(count, dtype=np.int64)
        array *= (r.step - _INT64_MIN) % 2**64 + _INT64_MIN
        array += first
    else:
        array = _object_array(list(r), (count,))
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _as_array(symbol: sympy.Symbol, value: Any) -> Any:
    """``numpy.asarray(value)``, its size checked first where it can be read without it."""
    size = _nested_size(value)
    if size is not None:
        _check_size(symbol, size)
    try:
        return _numpy().asarray(value)
    except (ValueError, TypeError, OverflowError, MemoryError) as error:
        raise ShapeError(f"the value of {symbol} is not an array of integers ({error})") from None


def _from_sequence(symbol: sympy.Symbol, value: Sequence[Any]) -> tuple[Any, int]:
    """A (nested) list or tuple as an array, every element checked to be an integer."""
    np = _numpy()
    array = _as_array(symbol, value)
    _check_size(symbol, array.size)
    if array.dtype.kind in "iu" and (not array.size or int(array.min()) > 1):
        return _from_array(symbol, array)  # numpy's fast conversion, and no bool can hide
    # numpy's conversion counts True as 1, makes 2**63 + 3 a float and 2.0 an integer
    # float: read the elements as given instead (only when a 0 or 1 or a non-int appears).
    return _from_objects(symbol, np.asarray(value, dtype=object))


def _from_array(symbol: sympy.Symbol, array: numpy.ndarray[Any, Any]) -> tuple[Any, int]:
    """A numpy array as an int64 array, or an object array when a value passes int64."""
    _check_size(symbol, array.size)
    np = _numpy()
    kind = array.dtype.kind
    if kind == "O":
        return _from_objects(symbol, array)
    if kind == "u" and array.size and int(array.max()) >= _INT64_END:
        array = array.astype(object)
        lo = int(array.min())
        _check_sign(symbol, lo, array)
        return array, int(array.max())
    if kind not in "iu" and array.size:
        flat = array.ravel()
        if kind == "f":
            # Name a fractional (or non-finite) entry when there is one, else the first.
            fractional = ~np.isfinite(flat) | (flat != np.round(flat))
            flat = flat[fractional] if fractional.any() else flat
        first = flat[0].item()
        raise _bad_value(symbol, first, array=True, dtype=str(array.dtype))
    array = array.astype(np.int64, copy=False)
    if not array.size:
        return array, 0
    lo, hi = int(array.min()), int(array.max())
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _from_objects(symbol: sympy.Symbol, objects: numpy.ndarray[Any, Any]) -> tuple[Any, int]:
    """An object array of the caller's own elements, each checked to be a (non-bool) int."""
    np = _numpy()
    items = objects.ravel().tolist()
    if set(map(type, items)) - {int}:  # numpy or sympy integers, or something refused
        for position, item in enumerate(items):
            if isinstance(item, np.ndarray) and item.ndim == 0:
                items[position] = item = item[()]  # a 0-d array in a list: its scalar
            if isinstance(item, bool) or not isinstance(item, numbers.Integral):
                index = np.unravel_index(position, objects.shape)
                raise _bad_item(symbol, item, tuple(int(i) for i in index))
        items = [int(item) for item in items]
    if not items:
        return np.empty(objects.shape, dtype=np.int64), 0
    lo, hi = min(items), max(items)
    if _INT64_MIN <= lo and hi < _INT64_END:
        array = np.array(items, dtype=np.int64).reshape(objects.shape)
    else:
        array = _object_array(items, objects.shape)
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _object_array(items: list[int], shape: tuple[int, ...]) -> numpy.ndarray[Any, Any]:
    array = _numpy().empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def _bad_value(
    symbol: sympy.Symbol, value: Any, array: bool = False, dtype: str | None = None
) -> ShapeError:
    got = f"{_shown(value)} in a {dtype} array" if dtype else _shown(value)
    what = "an integer array" if array else "an integer or an array of integers"
    return ShapeError(f"the value of {symbol} must be {what} (got {got})")


def _bad_item(symbol: sympy.Symbol, item: Any, index: tuple[int, ...]) -> ShapeError:
    at = index[0] if len(index) == 1 else index
    return ShapeError(
        f"the value of {symbol} must be an integer array (got {_shown(item)} at index {at})"
    )


def _shown(value: Any) -> str:
    """``repr`` of a refused value, a numpy scalar shown as the Python value it holds."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        value = value.item()
    return repr(value)


def _check_sign(symbol: sympy.Symbol, lowest: int, array: Any) -> None:
    least = 1 if symbol.is_positive else 0 if symbol.is_nonnegative else None
    if least is None or lowest >= least:
        return
    kind = "positive" if least else "nonnegative"
    if array is None:
        raise ShapeError(f"{symbol} is declared {kind} but its value is {lowest}")
    np = _numpy()
    index = tuple(int(i) for i in np.argwhere(array < least)[0])
    at = index[0] if len(index) == 1 else index
    raise ShapeError(
        f"{symbol} is declared {kind} but its value at index {at} is {int(array[index])}"
    )


#: Values checked by :func:`_coerce_values`: each symbol's int or array and max magnitude.
_Coerced = Mapping[sympy.Symbol, tuple[Any, int]]


def _check_keys(values: Mapping[Any, Any]) -> None:
    if not isinstance(values, Mapping):
        raise ShapeError(f"values must be a mapping from symbols to values (got {values!r})")
    for key in values:
        if not isinstance(key, sympy.Symbol):
            raise ShapeError(f"values must be keyed by sympy Symbols (got key {key!r})")


def _coerce_values(values: Mapping[Any, Any]) -> dict[sympy.Symbol, tuple[Any, int]]:
    """Every value checked and converted once (see :func:`_coerce`), keyed by its symbol."""
    _check_keys(values)
    return {s: _coerce(s, v) for s, v in values.items()}


@functools.lru_cache(maxsize=512)
def _free_symbols(formula: sympy.Basic) -> tuple[sympy.Symbol, ...]:
    """A formula's free symbols in sympy's sort order, remembered.

    sympy walks the whole tree each time it is asked, which was most of the cost of a
    scalar evaluation.
    """
    return tuple(sorted(formula.free_symbols, key=sympy.default_sort_key))


def _run(formula: sympy.Basic, values: Mapping[Any, Any], relation: bool) -> Any:
    _check_keys(values)
    _missing(_free_symbols(formula), values, formula)  # before any value is converted
    return _run_coerced(formula, {s: _coerce(s, v) for s, v in values.items()}, relation)


def _run_coerced(formula: sympy.Basic, coerced: _Coerced, relation: bool) -> Any:
    """:func:`evaluate` or :func:`holds` at values already checked by :func:`_coerce_values`."""
    symbols = _free_symbols(formula)
    _missing(symbols, coerced, formula)
    arrays = {s: v for s, (v, _) in coerced.items() if not isinstance(v, int)}
    args = [coerced[s][0] for s in symbols]
    # In-place updates are safe when every array argument has the result's full shape.
    inplace = len({a.shape for a in args if not isinstance(a, int)}) == 1
    plan = _plan(formula, symbols, tuple(isinstance(a, int) for a in args), inplace)
    if not arrays:
        try:
            result = plan.function(*args)
        except _CheckError as failure:
            raise _with_bindings(failure, None, coerced) from None
        return bool(result) if relation else int(result)
    np = _numpy()
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{s} has shape {a.shape}" for s, a in arrays.items())
        raise ShapeError(f"the values do not broadcast together: {shapes}") from None
    points = math.prod(shape)
    if points > MAX_POINTS:
        shapes = ", ".join(f"{s} has shape {a.shape}" for s, a in arrays.items())
        raise ShapeError(
            f"the values broadcast to shape {shape}, {points:,} points, more than the "
            f"{MAX_POINTS:,} one evaluation takes (symcnn.evaluate.MAX_POINTS): {shapes}"
        )
    if plan.bound([coerced[s][1] for s in symbols]) < _INT64_LIMIT:
        dtype: Any = np.int64
    else:
        dtype = object
        args = [a if isinstance(a, int) else a.astype(object) for a in args]
    try:
        result = plan.function(*args)
    except _CheckError as failure:
        raise _with_bindings(failure, shape, coerced) from None
    if relation:
        dtype = bool
    if (
        isinstance(result, np.ndarray)
        and result.shape == shape
        and result.dtype == dtype
        and not any(result is a for a in args)
    ):
        return result
    out = np.empty(shape, dtype=dtype)
    out[...] = result
    return out


def _with_bindings(
    failure: _CheckError, shape: tuple[int, ...] | None, coerced: _Coerced
) -> ShapeError:
    """The failure's message with the value of every symbol where it first happens."""
    index, got = _first_failure(failure.bad, failure.parts, shape)
    bound = []
    for s, (v, _) in sorted(coerced.items(), key=lambda item: sympy.default_sort_key(item[0])):
        if isinstance(v, int):
            bound.append(f"{s}={v}")
        elif index is not None:
            bound.append(f"{s}={int(_numpy().broadcast_to(v, shape)[index])}")
    where = "" if index is None else f"index {index[0] if len(index) == 1 else index}: "
    return ShapeError(f"{failure.what} (got {failure.render(*got)} at {where}{', '.join(bound)})")


def evaluate(expr: sympy.Expr, values: Mapping[sympy.Symbol, Any]) -> numpy.ndarray[Any, Any] | int:
    """Evaluate a size formula exactly, for one point or for arrays of points at once.

    Parameters
    ----------
    expr : sympy.Expr
        A formula :func:`compile_expr` accepts.
    values : mapping of sympy.Symbol to int or array-like of int
        A value for every free symbol of ``expr``: Python or numpy integers, or integer
        arrays, which broadcast together: numpy arrays of any integer dtype (uint64 past
        int64 included), object arrays of ints, ranges, and lists or tuples (nested for
        more dimensions) of ints of any size.

    Returns
    -------
    int or numpy.ndarray
        A Python int when every value is a scalar. Otherwise an array of the broadcast
        shape of all values: int64 when a magnitude bound of every intermediate result
        stays below 2**62, else an object array of exact Python ints.

    Raises
    ------
    ShapeError
        If a value, or an element of one, is not an integer (a bool, a float, a float or
        bool array), naming the symbol, the value and its index in a list; if a symbol
        declared positive gets a value below 1, naming the first bad value; if a value, or
        the shape all values broadcast to, has more than :data:`MAX_POINTS` points, with
        the count, before allocating them; if a free symbol has no value, listing them; if
        ``expr`` contains something :func:`compile_expr` refuses; or if a division in it
        is by zero or the value is not an integer, with the symbol values where that
        happens.
    ImportError
        If arrays are given and numpy is not installed.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> width = sympy.floor((n - k + 1) / 3) - k + 1
    >>> products = 32*k**2*(n - k + 1)**2 + 2048*k**2*width**2 + 53200
    >>> evaluate(products, {n: 28, k: 5})
    1333200
    >>> evaluate(products, {n: [28, 31, 34], k: 5})
    array([1333200, 1916400, 2616400])
    >>> evaluate(n**4, {n: [10**7]})
    array([10000000000000000000000000000], dtype=object)
    >>> evaluate(n - 2**64, {n: [2**64 + 3, 5]})
    array([3, -18446744073709551611], dtype=object)
    >>> evaluate(n + 1, {n: [28, True]})
    Traceback (most recent call last):
    ...
    symcnn.errors.ShapeError: the value of n must be an integer array (got True at index 1)
    """
    return _run(_as_expr(expr), values, relation=False)


def holds(rel: Any, values: Mapping[sympy.Symbol, Any]) -> numpy.ndarray[Any, Any] | bool:
    """Decide a relation between size formulas exactly, at one point or for arrays.

    Parameters
    ----------
    rel : sympy relation, boolean or Condition
        A relation :func:`compile_relation` accepts.
    values : mapping of sympy.Symbol to int or array-like of int
        As for :func:`evaluate`.

    Returns
    -------
    bool or numpy.ndarray
        A bool when every value is a scalar, else a boolean array of the broadcast shape.

    Raises
    ------
    ShapeError
        As for :func:`evaluate`.

    Examples
    --------
    >>> import symcnn
    >>> n, k = symcnn.symbols("n k")
    >>> holds(sympy.Eq(sympy.Mod(n - k + 1, 3), 0), {n: [28, 29, 30], k: 5})
    array([ True, False, False])
    >>> holds(sympy.floor((n - k + 1) / 3) >= k, {n: 28, k: 5})
    True
    """
    return _run(_as_relation(rel), values, relation=True)
