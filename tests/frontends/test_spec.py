"""symcnn.frontends.spec: text parsed by walking ast against a whitelist, and nothing ever run."""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import pathlib
import re
import runpy
import tempfile
import types
from collections.abc import Iterator
from typing import NoReturn
from unittest import mock

import pytest
import sympy
import sympy.parsing.sympy_parser
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.errors import SpecError
from symcnn.frontends.spec import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    layer_names,
    parse_assignments,
    parse_expression,
    parse_sizes,
    parse_spec,
)
from symcnn.layers.registry import is_builtin, layer_class

from conftest import seed_layers

SEED_SPEC = (
    "Conv2d(1,32,k) | MaxPool2d(3) | ReLU | Conv2d(32,64,k) | MaxPool2d(2) | ReLU | Flatten"
    " | LazyLinear(200) | ReLU | Linear(200,10)"
)


# -- specs that parse ----------------------------------------------------------------------
def test_the_issue_spec_is_the_design_network(design_net, nk):
    n, k = nk
    net = parse_spec(SEED_SPEC, input_shape="1,n,n")
    assert [r.layer for r in net.layers] == [r.layer for r in design_net.layers]
    assert net.params == design_net.params
    assert net.products == design_net.products
    assert net.constraints == (n >= 4 * k + 2,)
    mnist = net.subs(parse_assignments("n=28,k=5"))
    assert (mnist.params, mnist.products) == (105506, 1333200)


def test_the_seed_network_with_view(seed_net, nk):
    n, k = nk
    spec = " | ".join(
        [
            "Conv2d(1, 32, kernel_size=k)",
            "MaxPool2d(kernel_size=3)",
            "ReLU()",
            "Conv2d(32, 64, kernel_size=k)",
            "MaxPool2d(kernel_size=2)",
            "ReLU",
            "View(-1, 256)",
            "Linear(256, 200)",
            "ReLU",
            "Linear(200, 10)",
        ]
    )
    net = parse_spec(spec, input_shape=(1, n, n))
    assert [r.layer for r in net.layers] == list(seed_layers(k))
    assert net.products == seed_net.products


def test_keywords_tuples_flags_none_strings_and_floats(nk):
    n, _ = nk
    net = parse_spec(
        "MaxPool2d(kernel_size=3, stride=2, ceil_mode=True) | Conv2d(1, 8, (3, 5), "
        "padding='same', bias=False) | Dropout(0.25) | LeakyReLU(-0.2) | "
        "AdaptiveAvgPool2d((None, 3)) | GELU(approximate='tanh') | Upsample(scale_factor=2) | "
        "Flatten(start_dim=1)",
        input_shape="1,n,n",
    )
    layers = [r.layer for r in net.layers]
    assert layers == [
        sc.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        sc.Conv2d(1, 8, (3, 5), padding="same", bias=False),
        sc.Dropout(0.25),
        sc.LeakyReLU(-0.2),
        sc.AdaptiveAvgPool2d((None, 3)),
        sc.GELU(approximate="tanh"),
        sc.Upsample(scale_factor=2),
        sc.Flatten(start_dim=1),
    ]


def test_none_where_a_layer_takes_it():
    net = parse_spec("MaxPool2d(3, stride=None) | Upsample(scale_factor=2, align_corners=None)",
                     input_shape="1,n,n")  # fmt: skip
    assert [r.layer for r in net.layers] == [sc.MaxPool2d(3), sc.Upsample(scale_factor=2)]


def test_a_bare_name_is_a_call_without_arguments():
    assert parse_spec("ReLU", input_shape="4").layers[0].layer == sc.ReLU()
    assert parse_spec("ReLU()", input_shape="4").layers[0].layer == sc.ReLU()


def test_names_become_positive_integer_symbols_shared_with_the_input():
    c, n = sc.symbols("c n")
    net = parse_spec("Conv2d(c, 2*c, 3, padding=(n - n + 1))", input_shape="c, n, n")
    (record,) = net.layers
    assert record.layer == sc.Conv2d(c, 2 * c, 3, padding=1)
    assert record.output_shape == (2 * c, n, n)
    assert all(s.is_integer and s.is_positive for s in net.free_symbols)


def test_whole_numbers_reach_layers_as_python_ints():
    # Flatten takes plain ints, as PyTorch's dims are; 2 - 1 arrives as the int 1.
    net = parse_spec("Flatten(2 - 1, -1)", input_shape="8,4,4")
    assert net.layers[0].layer == sc.Flatten(1, -1)
    assert net.output_shape == (128,)


# -- the whitelist -------------------------------------------------------------------------
def test_the_whitelist_is_symcnns_one_input_layers():
    names = set(layer_names())
    assert {"Conv2d", "MaxPool2d", "ReLU", "Flatten", "LazyLinear", "Linear", "View"} <= names
    assert not names & {"Input", "Add", "Mul", "Concat", "Layer", "Sequential", "Network"}
    assert not names & {"symbols", "to_text", "Shape", "eval", "__import__"}
    for name in names:
        cls = layer_class(name)
        assert cls is not None and issubclass(cls, sc.Layer) and cls.arity == 1
    builtin = {name for name in names if is_builtin(layer_class(name))}
    assert builtin == {
        name
        for name in sc.__all__
        if isinstance(c := getattr(sc, name), type) and issubclass(c, sc.Layer)
        and c is not sc.Layer and c.arity == 1
    }


def test_the_whitelist_follows_the_layer_registry():
    with pytest.raises(SpecError, match="unknown layer Fresh"):
        parse_spec("Fresh", input_shape="4")

    @dataclasses.dataclass(frozen=True, slots=True, repr=False)
    class Fresh(sc.Identity):
        """A user's layer: usable in specs once its class exists."""

    assert "Fresh" in layer_names()
    assert parse_spec("Fresh | ReLU", input_shape="4").layers[0].layer == Fresh()

    @dataclasses.dataclass(frozen=True, slots=True, repr=False)
    class ReLU(sc.Identity):  # noqa: N801
        """A user's class never shadows a built-in layer of the same name."""

    assert layer_class("ReLU") is sc.ReLU


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Grumpy(sc.Identity):
    """A layer that fails with plain Python errors, as a careless new layer might."""

    mood: int = 0

    def __post_init__(self) -> None:
        if self.mood == 1:
            raise TypeError("mood 1 is not a mood")

    def output_shape(self, *inputs: sc.Shape) -> sc.Shape:
        if self.mood == 2:
            raise ValueError("too grumpy to say")
        return inputs[0]


def test_plain_python_errors_of_a_layer_become_spec_errors(monkeypatch):
    monkeypatch.setattr(sc, "Grumpy", Grumpy, raising=False)
    monkeypatch.setattr(sc, "__all__", [*sc.__all__, "Grumpy"])
    assert parse_spec("Grumpy", input_shape="4").output_shape == (4,)
    with pytest.raises(SpecError, match=r"Grumpy refuses its arguments \(mood 1 is not a mood\)"):
        parse_spec("ReLU | Grumpy(1)", input_shape="4")
    with pytest.raises(SpecError, match="the spec's layers do not fit together: too grumpy"):
        parse_spec("ReLU | Grumpy(2)", input_shape="4")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RecursionError, "the spec is nested too deeply to parse"),
        (MemoryError, "the spec is nested too deeply to parse"),
        (ValueError, "cannot parse the spec: the parser gives up"),
    ],
)
def test_the_parser_giving_up_is_a_spec_error(monkeypatch, error, message):
    def give_up(*args: object, **kwargs: object) -> None:
        raise error("the parser gives up")

    import symcnn.symbolic.parse

    monkeypatch.setattr(
        symcnn.symbolic.parse, "ast", types.SimpleNamespace(**{**vars(ast), "parse": give_up})
    )
    with pytest.raises(SpecError, match=message):
        parse_spec("ReLU", input_shape=(4,))


def test_only_text_is_parsed():
    for parse in (parse_expression, parse_sizes, parse_assignments):
        with pytest.raises(SpecError, match="must be text"):
            parse(28)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="must be text"):
        parse_spec(None, input_shape="4")  # type: ignore[arg-type]


# -- refused, with the piece and its column ------------------------------------------------
def at(text: str, piece: str) -> str:
    """The message tail for ``piece``, last found in ``text``: ``'piece' at column N``."""
    return f"{piece!r} at column {text.rindex(piece) + 1}"


LONG = "'" + "s" * 40 + "'"
DEEP = rf"nested too deeply \(at most {MAX_DEPTH} levels\)"

HOSTILE = [
    ("__import__('os').system('touch /tmp/pwned')", "attribute access", "__import__('os').system"),
    ("Conv2d(1, 32, k).__class__", "attribute access", "Conv2d(1, 32, k).__class__"),
    ("Conv2d(1, 32, k) | os.system('ls')", "attribute access", "os.system"),
    ("__import__('os')", "unknown layer __import__", "__import__"),
    ("eval('1')", "unknown layer eval", "eval"),
    ("exec", "unknown layer exec", "exec"),
    ("Conv2d(1, 32, open('f'))", "a call is not allowed", "open"),
    ("(lambda: 1)()", "a lambda", "lambda: 1"),
    ("Conv2d(1, 32, [i for i in (1, 2)])", "a comprehension", "[i for i in (1, 2)]"),
    ("Conv2d(1, 32, (i for i in (1, 2)))", "a generator expression", "(i for i in (1, 2))"),
    ("Conv2d(1, 32, k)[0]", "a subscript", "Conv2d(1, 32, k)[0]"),
    ("Conv2d(1, 32, f'{k}')", "an f-string", "f'{k}'"),
    ("Conv2d(*a)", "a starred argument", "*a"),
    ("Conv2d(**a)", "unpacking", "a"),
    ("Conv2d(1, 32, (k := 3))", "assignment expression", "k := 3"),
    ("Conv2d(1, 32, __k__)", "no dunders", "__k__"),
    ("Conv2d(1, 32, _k)", "a symbol name", "_k"),
    ("Conv2d(1, 32, __builtins__)", "a symbol name", "__builtins__"),
    ("Conv2d(1, 32, 2.5)", "a float where an integer is required", "2.5"),
    ("Conv2d(1, 32, 1e999)", "a float where an integer is required", "1e999"),
    ("Conv2d(1, 32, 3j)", "the constant 3j", "3j"),
    ("Conv2d(1, 32, b'3')", "the constant b'3'", "b'3'"),
    ("Conv2d(1, 32, ...)", "the constant Ellipsis", "..."),
    ("Conv2d(1, 32, 2**10**10)", "the exponent must be a whole number from 0 to 64", "10**10"),
    ("Conv2d(1, 32, 2**k)", "the exponent must be a whole number", "k"),
    ("Conv2d(1, 32, 2**-1)", "the exponent must be a whole number", "-1"),
    ("Conv2d(1, 32, 10**31)", "the number is too large", "10**31"),
    ("Conv2d(1, 32, 9**40)", "the number is too large", "9**40"),
    ("Conv2d(1, 32, 10**30 * 10)", "the number is too large", "10**30 * 10"),
    (
        "Conv2d(1, 32, 12345678901234567890123456789012)",
        "too large",
        "12345678901234567890123456789012",
    ),
    ("Conv2d(1, 32, (k+1)**64 * (k+1))", "the power is too high", "(k+1)**64 * (k+1)"),
    ("Conv2d(1, 32, k % 2)", "the operator '%'", "k % 2"),
    ("Conv2d(1, 32, k @ k)", "the operator '@'", "k @ k"),
    ("Conv2d(1, 32, k << 2)", "the operator '<<'", "k << 2"),
    ("Conv2d(1, 32, ~k)", "the operator '~'", "~k"),
    ("Conv2d(1, 32, not k)", "the operator 'not'", "not k"),
    ("Conv2d(1, 32, k if k else 1)", "a conditional expression", "k if k else 1"),
    ("Conv2d(1, 32, k < 3)", "a comparison", "k < 3"),
    ("Conv2d(1, 32, k and 3)", "and/or", "k and 3"),
    ("Conv2d(1, 32, {3})", "a set", "{3}"),
    ("Conv2d(1, 32, {3: 3})", "a dict", "{3: 3}"),
    ("Conv2d(1, 32, [3, 3])", "a list", "[3, 3]"),
    ("Conv2d(1, 32, k / 0)", "division by zero", "0"),
    ("Conv2d(1, 32, k // (k - k))", "division by zero", "k - k"),
    ("Conv2d(1, 32, (1 | 2))", "'|' separates layers", "1 | 2"),
    ("Conv2d(1, 32, ReLU)", "ReLU is a layer, not a size", "ReLU"),
    ("Conv2d(1, 32, Input)", "Input is a symcnn name", "Input"),
    ("Conv2d(1, 32, 3) | Add", "Add is not a one-input layer", "Add"),
    ("Conv2d(1, 32, 3) | Input((1, 2))", "Input is not a one-input layer", "Input"),
    ("Conv2D(1, 32, 3)", "unknown layer Conv2D (did you mean Conv2d?)", "Conv2D"),
    ("Conv2d(1, 32, 3) | 3", "expected a layer", "3"),
    ("Conv2d(1, 32, 3, foo=1)", "unexpected keyword argument 'foo'", "Conv2d(1, 32, 3, foo=1)"),
    ("Conv2d(1, 32)", "missing a required argument: 'kernel_size'", "Conv2d(1, 32)"),
    ("ReLU(1, 2)", "too many positional arguments", "ReLU(1, 2)"),
    ("Conv2d(1, 32, 3, bias=1)", "bias takes True or False", "1"),
    ("ReLU(inplace=None)", "inplace cannot be None", "None"),
    ("Conv2d(1, 32, True)", "True is not an integer", "True"),
    ("Dropout('half')", "p takes a number", "'half'"),
    ("Dropout(1e999)", "p must be a finite number", "1e999"),
    ("Upsample(scale_factor=2, mode=3)", "mode takes a string", "3"),
    ("Flatten(start_dim=n)", "start_dim takes a whole number", "n"),
    ("Conv2d(1, 32, (3, (3, 3)))", "a tuple where one integer is required", "(3, 3)"),
    ("LeakyReLU(1e31)", "the number is too large", "1e31"),
    (
        "Conv2d(1, 32, 3, padding='" + "s" * 40 + "')",
        "the string is too long",
        "'" + "s" * 40 + "'",
    ),
]


@pytest.mark.parametrize(("text", "message", "piece"), HOSTILE)
def test_hostile_and_malformed_specs_are_refused(text, message, piece):
    with pytest.raises(SpecError) as info:
        parse_spec(text, input_shape="1,n,n")
    error = str(info.value)
    assert message in error
    assert "\n" not in error
    if len(piece) <= 40:
        assert error.endswith(at(text, piece))
    else:  # long pieces are shortened, the column still given
        assert f"at column {text.index(piece) + 1}" in error


def test_columns_count_characters_not_bytes():
    text = "Conv2d(1, 2, 3, padding='ééé') | x.y"
    with pytest.raises(SpecError, match=f"'x.y' at column {text.index('x.y') + 1}$"):
        parse_spec(text, input_shape="1,n,n")


def test_a_long_chain_is_not_deep():
    net = parse_spec("|".join(["ReLU"] * 300), input_shape="4,n")
    assert len(net.layers) == 300


def test_a_syntax_error_on_a_later_line():
    with pytest.raises(SpecError, match=r"invalid syntax at line 2, column 3 \(near ',\)\)'\)$"):
        parse_spec("  (ReLU |\nx(,))", input_shape="1,n,n")


def test_a_later_line_is_named():
    with pytest.raises(SpecError, match="'x.y' at line 2, column 3$"):
        parse_spec("(ReLU\n| x.y)", input_shape="1,n,n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the spec is empty"),
        ("   ", "the spec is empty"),
        ("Conv2d(1,,2)", r"cannot parse the spec: invalid syntax at column 10 \(near ',2\)'\)"),
        ("Conv2d(1, 32, k)\x00", "the spec contains a null byte at column 17"),
        ("ReLU | " * 400, f"the spec is too long \\(2800 characters; at most {MAX_LENGTH}\\)"),
        ("Conv2d(1, 32, " + "(" * 250 + "1" + ")" * 250 + ")", "too many nested parentheses"),
        ("Conv2d(1, 32, " + "-" * 1900 + "1)", "nest"),
        (
            "Conv2d(1, 32, " + "-(" * 40 + "1" + ")" * 40 + ")",
            DEEP,
        ),
        (
            "Conv2d(1, 32, " + "1+" * 600 + "1)",
            DEEP,
        ),
        ("ReLU\nReLU", "cannot parse the spec"),
        ("import os", "cannot parse the spec"),
        ("ReLU; import os", "cannot parse the spec"),
    ],
)
def test_malformed_text(text, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(text, input_shape="1,n,n")


def test_layer_errors_name_the_layer_and_its_column():
    text = "ReLU | Conv2d(1, 32, 0)"
    with pytest.raises(sc.ShapeError, match=r"'Conv2d\(1, 32, 0\)' at column 8: .*kernel_size"):
        parse_spec(text, input_shape="1,n,n")
    with pytest.raises(sc.UnsupportedLayerError, match="padding='bogus' is not a padding"):
        parse_spec("Conv2d(1, 8, 3, padding='bogus')", input_shape="1,n,n")
    with pytest.raises(sc.ShapeError, match="'kernel_size' must be an integer .*'3'"):
        parse_spec("Conv2d(1, 8, '3')", input_shape="1,n,n")
    with pytest.raises(sc.ShapeError, match="'kernel_size' must be an integer .*got None"):
        parse_spec("Conv2d(1, 8, None)", input_shape="1,n,n")


def test_network_errors_name_the_layer():
    with pytest.raises(sc.ShapeError, match=r"at layer 1 \(conv1\): the input must have"):
        parse_spec("ReLU | Conv2d(3, 8, 3)", input_shape="1,n,n")


# -- expressions, sizes and assignments ----------------------------------------------------
def test_expressions():
    n, k = sc.symbols("n k")
    assert parse_expression("(n - k + 1) // 3") == sympy.floor((n - k + 1) / 3)
    assert parse_expression("2**10 - -1") == 1025
    assert parse_expression(f"n**{MAX_EXPONENT}") == n**MAX_EXPONENT
    assert parse_expression("10**30") == 10**30
    assert parse_expression("7 / 2") == sympy.Rational(7, 2)  # a layer refuses it as a size
    assert parse_expression("n*k/k") == n
    with pytest.raises(SpecError, match=f"from 0 to {MAX_EXPONENT} \\(got 65\\)"):
        parse_expression("n**65")
    with pytest.raises(SpecError, match="a tuple where one integer is required"):
        parse_expression("1, 2")


def test_sizes():
    n, h, w = sc.symbols("n h w")
    assert parse_sizes("1,n,n") == (1, n, n)
    assert parse_sizes("1×28×28") == (1, 28, 28)
    assert parse_sizes(" 3, (h+1)//2, w ") == (3, sympy.floor((h + 1) / 2), w)
    assert parse_sizes("256") == (256,)


def test_assignments():
    n, k = sc.symbols("n k")
    assert parse_assignments("n=28,k=5") == {n: 28, k: 5}
    assert parse_assignments(" n = 2**5 , k=5 ") == {n: 32, k: 5}
    assert parse_assignments("n=-3") == {n: -3}  # the network refuses it, naming n
    assert parse_assignments("") == {}
    assert all(isinstance(v, sympy.Integer) for v in parse_assignments("n=28").values())
    with pytest.raises(SpecError, match="too long"):
        parse_assignments("n=1," * 600)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_sizes, "1,n,2.5", "a float where an integer is required: '2.5' at column 5"),
        (parse_sizes, "", "the size list is empty"),
        (parse_sizes, "()", "give at least one size"),
        (parse_sizes, "1,,2", "cannot parse the size list"),
        (parse_sizes, "1,n.real", "attribute access is not allowed in a size list: 'n.real'"),
        (parse_sizes, "1,Conv2d(1,2,3)", "a call is not allowed in a size list"),
        (parse_assignments, "n=28,n=32", "n is given twice: 'n=32' at column 6"),
        (parse_assignments, "n", "an assignment reads name=value, as in n=28: 'n' at column 1"),
        (parse_assignments, "n=28,,k=3", "an assignment is missing between two commas at column 6"),
        (parse_assignments, "n=", "the value of n is empty"),
        (parse_assignments, "=3", "an assignment reads name=value"),
        (parse_assignments, "__class__=3", "'__class__' is not a symbol name"),
        (parse_assignments, "Conv2d=3", "'Conv2d' is not a symbol name"),
        (parse_assignments, "n=k", "the value of n must be a whole number (got k): 'k' at"),
        (parse_assignments, "n=3.5", "a float where an integer is required: '3.5' at column 3"),
        (parse_assignments, "n=7/2", "must be a whole number (got 7/2)"),
        (parse_assignments, "k=5, n=__import__('os')", "a call is not allowed in a value of n"),
        (parse_assignments, "n=2**100", "the exponent must be a whole number from 0 to 64"),
    ],
)
def test_refused_sizes_and_assignments(parse, text, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        parse(text)


# -- nothing runs: a fuzz with canaries ----------------------------------------------------
CANARY = pathlib.Path(tempfile.gettempdir()) / "symcnn-spec-canary"

PIECES = [
    *layer_names()[:8],
    "Conv2d",
    "ReLU",
    "Input",
    "Add",
    "n",
    "k",
    "0",
    "1",
    "3",
    "-1",
    "2.5",
    "None",
    "True",
    "'same'",
    "__import__",
    "__builtins__",
    "__class__",
    "os",
    "system",
    "eval",
    "exec",
    "open",
    "getattr",
    "globals()",
    f"open({str(CANARY)!r}, 'w')",
    f"__import__('pathlib').Path({str(CANARY)!r}).touch()",
    "setattr(__builtins__, 'symcnn_pwned', 1)",
    "lambda: 0",
    "10**10",
    "9" * 40,
    "...",
    "b''",
    "[]",
]
TEMPLATES = [
    "{}({})",
    "{}({}, {})",
    "{}(kernel_size={}, stride={})",
    "{} | {}",
    "{}.{}",
    "{}[{}]",
    "({}, {})",
    "{}**{}",
    "{} + {} * {}",
    "{} // {}",
    "-{}",
    "{}={},{}={}",
    "{},{},{}",
    "{} if {} else {}",
    "[{} for _ in {}]",
    "f'{{{}}}'",
    "{}; {}",
    "({} := {})",
    "*{}",
    "**{}",
]


@st.composite
def grammar_text(draw: st.DrawFn, depth: int = 3) -> str:
    """Spec-like text: whitelisted and hostile pieces in Python-ish templates."""
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(PIECES))
    template = draw(st.sampled_from(TEMPLATES))
    parts = [draw(grammar_text(depth - 1)) for _ in range(template.count("{}"))]
    return template.format(*parts)


@contextlib.contextmanager
def nothing_runs() -> Iterator[None]:
    """Fail on eval, exec or compile of anything but a module file, and on parse_expr.

    Python's import machinery compiles and execs module files (a lazy ``import`` inside
    sympy does), so code whose file name is a ``.py`` file is let through; text from a
    user has no such file name. ``compile`` to an AST only, as :func:`ast.parse` does, is
    what the parser is allowed.
    """
    real_compile, real_exec = builtins.compile, builtins.exec

    def refuse(what: object, *args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"user text reached a code runner: {what!r}")

    def from_file(code: object) -> bool:
        return isinstance(code, types.CodeType) and code.co_filename.endswith(".py")

    def guarded_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST and not str(filename).endswith(".py"):
            refuse(source)
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def guarded_exec(code, *args, **kwargs):
        if not from_file(code):
            refuse(code)
        return real_exec(code, *args, **kwargs)

    with (
        mock.patch.object(builtins, "eval", refuse),
        mock.patch.object(builtins, "exec", guarded_exec),
        mock.patch.object(builtins, "compile", guarded_compile),
        mock.patch.object(sympy.parsing.sympy_parser, "parse_expr", refuse),
    ):
        yield


def assert_parsers_are_safe(text: str) -> None:
    with nothing_runs():
        for parse in (
            lambda t: parse_spec(t, input_shape="1,n,n"),
            parse_assignments,
            parse_sizes,
            parse_expression,
        ):
            try:
                parse(text)
            except sc.SymcnnError as err:
                assert "\n" not in str(err), "an error message is one line"
    assert not CANARY.exists(), f"{text!r} created the canary file"
    assert not hasattr(builtins, "symcnn_pwned"), f"{text!r} changed builtins"


def test_the_canaries_work():
    for run in (
        lambda: eval("1"),
        lambda: exec("x = 1"),
        lambda: exec(compile("x = 1", "<spec>", "exec")),
        lambda: sympy.sympify("1 + 1"),
    ):
        with pytest.raises(AssertionError, match="code runner"), nothing_runs():
            run()
    with nothing_runs():
        assert isinstance(ast.parse("1", mode="eval"), ast.Expression)


@given(grammar_text())
def test_grammar_fuzz_only_raises_symcnn_errors_and_runs_nothing(text):
    assert_parsers_are_safe(text)


@given(st.text(max_size=200))
def test_text_fuzz_only_raises_symcnn_errors_and_runs_nothing(text):
    assert_parsers_are_safe(text)


@given(st.text(alphabet="Conv2dReLU(),|=+-*/ 0123456789nk_.'\"[]:", max_size=80))
def test_near_miss_fuzz_only_raises_symcnn_errors_and_runs_nothing(text):
    assert_parsers_are_safe(text)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch /tmp/pwned')",
        f"open({str(CANARY)!r}, 'w')",
        f"ReLU | __import__('pathlib').Path({str(CANARY)!r}).touch()",
        "setattr(__builtins__, 'symcnn_pwned', 1)",
        f"Conv2d(1, 8, (lambda: open({str(CANARY)!r}, 'w'))())",
        "ReLU | Conv2d(1, 8, 3).__class__.__init__.__globals__['os'].system('x')",
    ],
)
def test_the_issues_hostile_strings_run_nothing(text):
    with pytest.raises(SpecError):
        parse_spec(text, input_shape="1,n,n")
    assert_parsers_are_safe(text)


def test_the_derive_formula_example(capsys):
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "derive_formula.py"
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out
    assert "  n ≥ 4·k + 2\n" in out
    assert "Smallest input at k = 5: n = 22\n" in out
    assert "Products at n = 28, k = 5: 1333200\n" in out
