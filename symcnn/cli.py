"""The ``symcnn`` command: tables, formulas and validity domains without writing Python.

``symcnn table`` prints the seed lecture's LeNet table at 28×28 with k = 5. Every command
takes a MODEL: ``path/to/file.py:name`` or ``package.module:name`` (a symcnn ``Network``,
a ``torch.nn.Module``, or a function of no arguments returning one), or a spec such as
``"Conv2d(1,32,k) | MaxPool2d(3) | ReLU"`` with ``--input 1,n,n``. Loading a file or a
module runs it, as ``python file.py`` would; spec, ``--input`` and ``--at`` text is only
parsed (:mod:`symcnn.frontends.spec`), never run.

Mistakes are reported as one line on stderr, ``symcnn: error: ...``, with exit status 2
for usage and spec errors and 1 for the others (a model that cannot be loaded, a layer
that refuses its input, sympy failing on a question). Whatever goes wrong, the command
prints no traceback unless it is run with ``--debug``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import sympy

from .conventions import CONVENTIONS
from .conventions import QUANTITIES as _TOTALS
from .errors import ShapeError, SpecError, SymcnnError
from .frontends.spec import layer_names, parse_assignments, parse_sizes, parse_spec
from .graph.network import Network
from .symbolic.guard import asking
from .symbolic.printing import text
from .training.memory import FLOAT_DTYPES, OPTIMIZERS
from .validity.intsolve import largest_integer, smallest_integer

__all__ = ["FORMATS", "QUANTITIES", "main"]

#: Table formats of ``symcnn table``.
FORMATS = ("text", "markdown", "latex", "csv", "json")
#: Quantities of ``symcnn formula``: the output shape, every network total, and the counting
#: conventions of other tools (``mult-adds``, ``flops``, ``flops+bias``; see the README).
QUANTITIES = ("output", *_TOTALS, *(c for c in CONVENTIONS if c not in _TOTALS))

#: With no MODEL: the seed LeNet, its table at the slide's point, its domain at k = 5.
_DEFAULT_MODEL = "symcnn.models:lenet"
_DEFAULT_AT = {"table": "n=28,k=5", "domain": "k=5"}

_MODEL_HELP = (
    "path/to/file.py:name or package.module:name (a symcnn Network, a torch.nn.Module, or "
    "a function of no arguments returning one), or a spec such as "
    "'Conv2d(1,32,k) | MaxPool2d(3) | ReLU' with --input; default: the seed lecture's LeNet"
)


class _CommandError(Exception):
    """A mistake to report in one line, with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors reported in one line like every other mistake."""

    def error(self, message: str) -> NoReturn:
        raise _CommandError(f"{message} (see {self.prog} --help)", 2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symcnn`` command with ``argv`` (default ``sys.argv[1:]``).

    Every error becomes one line on stderr, ``symcnn: error: ...``; ``--debug`` (before
    or after the command) prints the traceback above it.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a usage or spec error, 1 for other errors.

    Examples
    --------
    >>> main(["formula", "--quantity", "params", "--at", "n=28,k=5"])
    params = 105506
    0
    >>> main(["formula", "Conv2d(1, 8, k) | Flatten", "--input", "1,n,n", "--quantity", "output"])
    output = 8·(n - k + 1)²
    0
    """
    words = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in (words[: words.index("--")] if "--" in words else words)
    try:
        args = _parser().parse_args(words)
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except Exception as err:
        return _failed(err, debug)
    try:
        out = args.run(args)
    except KeyboardInterrupt:
        return _report("interrupted", 130)
    except (Exception, SystemExit) as err:  # SystemExit: code a model runs may call exit()
        return _failed(err, args.debug)
    try:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `symcnn table | head`: the reader has gone
        _silence_stdout()
        return 1
    return 0


def _failed(err: BaseException, debug: bool) -> int:
    """Report ``err`` in one line (after its traceback with ``--debug``); its exit status."""
    status, message = _diagnosis(err)
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    return _report(message, status)


def _diagnosis(err: BaseException) -> tuple[int, str]:
    """The exit status and the one-line message of an error."""
    detail = str(err)
    if isinstance(err, _CommandError):
        return err.status, detail
    if isinstance(err, SpecError):
        return 2, detail
    if isinstance(err, (SymcnnError, ValueError, ImportError)) and detail:
        return 1, detail
    if isinstance(err, RecursionError):
        detail = "an expression is nested too deeply for sympy (RecursionError)"
    elif isinstance(err, SystemExit):
        detail = f"the model's code exited (SystemExit: {err.code})"
    else:
        detail = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
    return 1, f"{detail} (run with --debug for the traceback)"


def _report(message: str, status: int) -> int:
    one_line = " ".join(message.split())
    print(f"symcnn: error: {one_line}", file=sys.stderr)
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (under a test)
        pass


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="symcnn",
        description="Closed-form shapes, parameters, products and validity of CNNs.",
        epilog="Run 'symcnn table' for the seed lecture's LeNet table at 28×28, k = 5.",
    )
    parser.add_argument("--version", action="version", version=f"symcnn {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an error, for bug reports"
    )
    commands = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="{table,formula,domain}"
    )
    common = _Parser(add_help=False)
    common.add_argument("model", nargs="?", metavar="MODEL", help=_MODEL_HELP)
    common.add_argument(
        "--input",
        metavar="SIZES",
        help="per-sample input shape for a spec or a torch module, e.g. 1,n,n or 3,224,224",
    )
    common.add_argument(
        "--at", metavar="POINT", help="values for symbols, e.g. n=28,k=5 (integers only)"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # unless given here, the value before the command stands
        help="print the traceback of an error, for bug reports",
    )

    table = commands.add_parser(
        "table",
        parents=[common],
        help="the table of layers: shapes, parameters and products",
        description="The table of layers. With no MODEL: the seed LeNet at n=28,k=5.",
    )
    table.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    table.add_argument(
        "--symbolic",
        action="store_true",
        help="show the formulas; with --at, each above (LaTeX: beside) its value there "
        "(csv and json always hold both)",
    )
    table.add_argument(
        "--fragment",
        action="store_true",
        help="LaTeX: only the tabular, for \\input into a document with booktabs "
        "(default: a complete document pdflatex compiles)",
    )
    table.add_argument(
        "--names",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a name column with each layer's node name (text, markdown and latex; "
        "default: shown for torch modules, whose names are their attribute paths)",
    )
    table.add_argument(
        "--depth",
        type=_depth,
        metavar="N",
        help="one row per module N deep in the model's hierarchy (1: layer1, layer2, ...), "
        "its parameters and products summed (default: every layer)",
    )
    table.add_argument(
        "--training",
        action="store_true",
        help="a training step instead: per layer the forward and backward products and the "
        "bytes autograd keeps, per batch (see --batch, --dtype, --memory)",
    )
    table.add_argument(
        "--batch", type=int, metavar="N", help="the batch size of --training (default: symbol B)"
    )
    table.add_argument(
        "--dtype",
        choices=FLOAT_DTYPES,
        default="float32",
        help="the model's dtype for --training (default: float32)",
    )
    table.add_argument(
        "--memory",
        nargs="?",
        const="adam",
        choices=tuple(OPTIMIZERS),
        metavar="OPTIMIZER",
        help="with --training, the step's memory part by part, for OPTIMIZER (one of "
        f"{', '.join(OPTIMIZERS)}; default adam)",
    )
    table.set_defaults(run=_run_table)

    formula = commands.add_parser(
        "formula",
        parents=[common],
        help="one total as a closed-form formula",
        description="One total of the network as a closed-form formula, named: "
        "'products = 8·k²·(n - k + 1)²'.",
    )
    formula.add_argument(
        "--quantity",
        choices=QUANTITIES,
        default="products",
        help="output is the output shape (default: products)",
    )
    formula.add_argument(
        "--format",
        choices=("text", "latex", "sympy"),
        default="text",
        help="'QUANTITY = formula' in text with ⌊⌋ and powers (default) or in LaTeX, or the "
        "bare formula in sympy's str form, for sympy.sympify",
    )
    formula.set_defaults(run=_run_formula)

    domain = commands.add_parser(
        "domain",
        parents=[common],
        help="where the network is valid: constraints, smallest and largest input sizes",
        description="The validity domain: the constraints, and for each input size symbol "
        "the smallest and largest valid value given --at for the others. With no MODEL: "
        "the seed LeNet at k=5.",
    )
    domain.set_defaults(run=_run_domain)
    return parser


# -- the commands --------------------------------------------------------------------------
def _run_table(args: argparse.Namespace) -> str:
    net, at = _model_and_point(args)
    fmt = args.format
    if args.fragment and fmt != "latex":
        raise _CommandError("--fragment applies to --format latex only", 2)
    if args.names is not None and fmt in ("csv", "json"):
        flag = "--names" if args.names else "--no-names"
        raise _CommandError(
            f"{flag} applies to text, markdown and latex tables (csv and json always hold "
            "the names)",
            2,
        )
    if args.training or args.batch is not None or args.memory is not None:
        return _training_table(args, net, at)
    names, depth = args.names, args.depth
    if fmt == "latex":
        from .export.latex import to_latex

        if args.symbolic:
            options: dict[str, Any] = {"at": at, "both": True} if at else {"symbolic": True}
        else:
            options = {"at": at}
        return to_latex(net, standalone=not args.fragment, names=names, depth=depth, **options)
    if fmt in ("csv", "json"):
        from .export.records import to_csv, to_json

        # Records hold the formulas, and their values when the point binds every symbol;
        # a partial point is substituted into the formulas.
        records = to_csv if fmt == "csv" else to_json
        if at and {str(s) for s in net.free_symbols} - set(at):
            return records(net.subs(at), depth=depth)
        return records(net, at=at or None, depth=depth)
    if fmt == "markdown":
        from .export.markdown import to_markdown as render
    else:
        from .export.text import to_text as render
    if args.symbolic:
        return render(net, at=at, names=names, depth=depth)
    return render(net.subs(at) if at else net, names=names, depth=depth)


def _training_table(args: argparse.Namespace, net: Network, at: dict[str, int]) -> str:
    """``table --training``: the training step's table, at ``at`` and the batch size."""
    from .export.training import training_table

    if not args.training:
        raise _CommandError("--batch and --memory apply to --training tables", 2)
    if args.symbolic or args.fragment or args.names is not None or args.depth is not None:
        raise _CommandError(
            "--symbolic, --fragment, --names and --depth apply to the layer table", 2
        )
    if args.batch is not None and args.batch < 1:
        raise _CommandError(f"--batch must be a positive integer (got {args.batch})", 2)
    step = net.training(batch=args.batch, dtype=args.dtype)
    if at:
        step = step.subs(at)
    return training_table(step, args.format, memory=args.memory)


def _depth(value: str) -> int:
    """``--depth``: a whole number of 1 or more."""
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more (got {value!r})")
    return int(value)


def _run_formula(args: argparse.Namespace) -> str:
    net, at = _model_and_point(args)
    target = net.subs(at) if at else net
    quantity, fmt = args.quantity, args.format
    if quantity == "output":
        shapes = target.output_shapes
        if fmt == "sympy":
            return str(tuple(shapes[0]) if len(shapes) == 1 else tuple(map(tuple, shapes)))
        if fmt == "text":
            return f"{quantity} = {' / '.join(map(str, shapes))}"
        from .export.latex import latex_escape, latex_formula

        def factor(d: sympy.Expr) -> str:
            out = latex_formula(d)
            return rf"\left({out}\right)" if isinstance(d, sympy.Add) else out

        shown = " / ".join(r" \times ".join(map(factor, shape)) for shape in shapes)
        return rf"\text{{{latex_escape(quantity)}}} = {shown}"
    value = getattr(target, quantity) if quantity in _TOTALS else target.count(quantity)
    if fmt == "sympy":
        return str(value)
    if fmt == "text":
        return f"{quantity} = {text(value)}"
    from .export.latex import latex_escape, latex_formula

    return rf"\text{{{latex_escape(quantity)}}} = {latex_formula(value)}"


def _run_domain(args: argparse.Namespace) -> str:
    net, at = _model_and_point(args)
    given = ", ".join(f"{name}={value}" for name, value in at.items())
    resolved = net._resolve(at)  # a symbol the network lacks is a mistake, not an answer
    try:
        bound = net.subs(resolved) if at else net
    except ShapeError as err:
        return f"invalid at {given}: {err}"
    lines = []
    if not bound.free_symbols:
        return f"valid at {given}" if at else "valid (the network has no symbols)"
    if bound.constraints:
        lines.append("valid exactly where:")
        lines += [f"  {text(c)}" for c in bound.constraints]
    else:
        lines.append("valid for every positive value of its symbols")
    inputs = set().union(*(i.shape.free_symbols for i in net.inputs))
    sizes = sorted((s for s in inputs if str(s) not in at), key=str)
    if sizes:
        lines.append(f"input sizes at {given}:" if at else "input sizes:")
    lines += [f"  {x}: {_range(bound, x)}" for x in sizes]
    return "\n".join(lines)


def _range(bound: Network, x: sympy.Symbol) -> str:
    """'smallest 28, largest 33' for ``x``, or why it cannot be found.

    Only the relations that mention ``x`` decide its range: with ``H ≥ 8`` and ``W ≥ 8``
    each size has its own answer. Where a relation also mentions another symbol
    (``H ≥ k + 1``), the range depends on that symbol's value, which ``--at`` gives.
    """
    relations = [c for c in bound.constraints if x in c.free_symbols]
    coupled = sorted({str(s) for r in relations for s in r.free_symbols} - {str(x)})
    lower = 1 if x.is_positive else 0
    try:
        with asking(f"the smallest and largest {x}"):
            low = smallest_integer(relations, x, lower)
            high = None if low is None else largest_integer(relations, x, lower)
    except SymcnnError as err:
        hint = f" (give --at {'=…,'.join(coupled)}=…)" if coupled else ""
        return f"{err}{hint}"
    if low is None or high is None:
        return f"no value of {x} makes the network valid"
    top = "no largest" if high == sympy.oo else f"largest {high}"
    return f"smallest {low}, {top}"


# -- loading a model -----------------------------------------------------------------------
def _model_and_point(args: argparse.Namespace) -> tuple[Network, dict[str, int]]:
    """The network MODEL names, and the --at point by symbol name."""
    point = args.at
    if args.model is None and point is None:
        point = _DEFAULT_AT.get(args.command)
    at = {str(s): int(v) for s, v in parse_assignments(point or "").items()}
    return load_model(args.model, args.input), at


def load_model(ref: str | None, input_sizes: str | None = None) -> Network:
    """The network a MODEL argument names; ``None`` is the seed LeNet.

    Parameters
    ----------
    ref : str or None
        ``path/to/file.py:name``, ``package.module:name`` or a spec.
    input_sizes : str, optional
        The ``--input`` text, needed by specs and torch modules.

    Returns
    -------
    Network
        The network.
    """
    sizes = parse_sizes(input_sizes) if input_sizes is not None else None
    ref = _DEFAULT_MODEL if ref is None else ref
    if _is_spec(ref):
        if sizes is None:
            raise _CommandError("a spec needs its input shape: add --input, e.g. --input 1,n,n", 2)
        return parse_spec(ref, input_shape=sizes)
    where, _, name = ref.rpartition(":")
    if not where or not name:
        raise _CommandError(f"MODEL must be {_MODEL_HELP.split(';')[0]} (got {ref!r})", 2)
    module = _load_file(where) if _is_path(where) else _import(where)
    if not hasattr(module, name):
        raise _CommandError(f"{where} has no attribute {name!r}", 1)
    return _network(getattr(module, name), ref, sizes)


def _is_spec(ref: str) -> bool:
    return "(" in ref or "|" in ref or ref.strip() in layer_names()


def _is_path(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


def _load_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise _CommandError(f"no such file: {path}", 1)
    name = f"_symcnn_model_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise _CommandError(f"cannot load {path} as Python", 1)
    module = importlib.util.module_from_spec(spec)
    folder = str(file.resolve().parent)
    sys.path.insert(0, folder)  # sibling imports work, as under `python file.py`
    sys.modules[name] = module  # dataclasses and pickling look their module up
    try:
        spec.loader.exec_module(module)
    except SymcnnError:
        raise
    except (Exception, SystemExit) as err:  # a model file that calls sys.exit() too
        del sys.modules[name]
        raise _CommandError(f"running {path} failed: {_describe_error(err)}", 1) from err
    finally:
        sys.path.remove(folder)
    return module


def _import(dotted: str) -> Any:
    here = os.getcwd()
    sys.path.insert(0, here)  # as `python -m` does
    try:
        return importlib.import_module(dotted)
    except SymcnnError:
        raise
    except (Exception, SystemExit) as err:
        raise _CommandError(f"cannot import {dotted}: {_describe_error(err)}", 1) from err
    finally:
        sys.path.remove(here)


def _network(obj: Any, ref: str, sizes: tuple[Any, ...] | None, *, call: bool = True) -> Network:
    """A Network from what MODEL names: a network, a torch module, or a factory of either.

    A factory is a Python function (or a torch module's class) called with no arguments;
    anything else, a built-in function such as ``sys.exit`` included, is refused without
    being called.
    """
    if isinstance(obj, Network):
        if sizes is not None:
            raise _CommandError(
                f"--input applies to specs and torch modules; {ref} is a symcnn network "
                f"with its own input shape",
                2,
            )
        return obj
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        if sizes is None:
            raise _CommandError(f"{ref} is a torch module: give its input shape with --input", 2)
        from .frontends.torch import from_torch

        return from_torch(obj, input_shape=sizes)
    wanted = "a symcnn Network, a torch.nn.Module or a Python function returning one"
    if not call:
        raise _CommandError(
            f"{ref} returned {_kind(obj)}, not a symcnn Network or a torch.nn.Module", 1
        )
    if not _is_factory(obj, torch):
        raise _CommandError(f"{ref} is {_kind(obj)}, not {wanted}", 1)
    try:
        inspect.signature(obj).bind()
    except TypeError:
        raise _CommandError(
            f"{ref} takes arguments: MODEL must name a function of no arguments", 1
        ) from None
    except ValueError:  # no signature to read: let the call decide
        pass
    try:
        made = obj()
    except SymcnnError:
        raise
    except (Exception, SystemExit) as err:
        raise _CommandError(f"calling {ref}() failed: {_describe_error(err)}", 1) from err
    return _network(made, f"{ref}()", sizes, call=False)


def _is_factory(obj: Any, torch: Any) -> bool:
    """Whether MODEL names something to call: a Python function, or a torch module class."""
    if inspect.isfunction(obj) or inspect.ismethod(obj) or isinstance(obj, functools.partial):
        return True
    return torch is not None and isinstance(obj, type) and issubclass(obj, torch.nn.Module)


def _kind(obj: Any) -> str:
    """What an object is, for a message: 'a list', 'a built-in function', 'None'."""
    if obj is None:
        return "None"
    if inspect.isbuiltin(obj):
        return "a built-in function"
    if inspect.isclass(obj):
        return f"a class ({obj.__name__})"
    if inspect.ismodule(obj):
        return "a module"
    name = type(obj).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _describe_error(err: BaseException) -> str:
    """'ZeroDivisionError: division by zero', or what a SystemExit carried."""
    if isinstance(err, SystemExit):
        return f"it exited (SystemExit: {err.code})"
    return f"{type(err).__name__}: {err}"
