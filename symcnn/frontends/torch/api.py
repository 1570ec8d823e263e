"""``from_torch``: the module traced once with ``torch.fx``, then walked (:mod:`.convert`)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import sympy

from ...errors import ShapeError, UnsupportedLayerError
from ...graph.network import Network, Sequential
from ...symbolic.guard import collector_paused
from .convert import Converter
from .functions import BY_NAME, calls
from .modules import layer_from_module, module_kind, tracer
from .rules import as_layers, user_rules
from .values import qualified

__all__ = ["from_torch"]


def _torch() -> ModuleType:
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError as err:  # pragma: no cover - the test extra installs torch
        raise ImportError("symcnn.from_torch needs PyTorch: pip install 'symcnn[torch]'") from err
    return torch


def from_torch(
    module: Any,
    input_shape: Sequence[Any] | Sequence[Sequence[Any]],
    *,
    rules: Mapping[Any, Any] | None = None,
    at: Mapping[Any, int] | None = None,
) -> Network:
    """The symcnn network of a ``torch.nn.Module``, with sizes that may be symbols.

    Parameters
    ----------
    module : torch.nn.Module
        Any module ``torch.fx`` can trace. Its train/eval flags are restored afterwards.
    input_shape : sequence
        The per-sample input shape, e.g. ``(3, H, W)`` with ``H, W = sc.symbols("H W")``;
        for a module with several inputs, one shape per input.
    rules : mapping, optional
        Your own rules, before symcnn's. A ``torch.nn.Module`` class maps to a callable
        taking the module and returning a symcnn layer (one node named after the module) or
        a sequence of layers (nodes ``<module>.0``, ``<module>.1``, ...); such modules are
        not traced into. A function (``F.gelu``, ``torch.special.erf``, a function wrapped
        with ``torch.fx.wrap``) or a Tensor method (``torch.Tensor.erf`` for ``x.erf()``)
        maps to a callable taking the call's arguments, each tensor given as its
        per-sample :class:`~symcnn.symbolic.shape.Shape`, and returning a layer (or a
        sequence of them) fed by the call's tensor arguments in order. A layer may be your
        own subclass of :class:`~symcnn.layers.base.Layer`.
    at : mapping, optional
        A point (symbol or its name → size) at which to decide what the forward's Python
        decides from sizes: ``if pad > 0:``, ``max(pad, 0)``. Each decision that depends on
        the sizes becomes a guard, a condition of the network's domain naming the line of
        code (:attr:`Network.guards`), so the formulas hold exactly where the guards hold.
        Without it, such a branch raises. Decisions true for every size need no point.

    Returns
    -------
    Network
        One node per module call and per supported function call, named after the module
        (``layer1.0.conv1``) or the traced call (``add_3``).

    Raises
    ------
    UnsupportedLayerError
        For a module or call without a symcnn rule, or a module ``torch.fx`` cannot trace;
        the message names it and its node; also for a user rule that returns something
        other than a symcnn layer or a sequence of layers, or whose layers' parameter count
        is not the module's.
    ShapeError
        When a layer cannot take its input, as a forward pass would fail (or, for
        ``x.view(-1, m)``, silently re-batch).
    TypeError
        When ``module`` is not a ``torch.nn.Module``, or a key of ``rules`` is neither a
        module class nor a function, or a rule is not callable.

    Warns
    -----
    UserWarning
        When some parameters are not reached by the eval-mode forward (GoogLeNet's
        auxiliary heads): the totals leave them out.

    Examples
    --------
    >>> import torch.nn as nn
    >>> import symcnn as sc
    >>> H, W = sc.symbols("H W")
    >>> net = sc.from_torch(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU()), (3, H, W))
    >>> [r.name for r in net.layers]
    ['0', '1']
    >>> print(net.output_shape)
    8×⌊(H - 1)/2⌋×⌊(W - 1)/2⌋
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    with collector_paused():
        return _from_module(torch, module, input_shape, rules, at)


def _from_module(
    torch: ModuleType,
    module: Any,
    input_shape: Any,
    rules: Mapping[Any, Any] | None,
    at: Mapping[Any, int] | None,
) -> Network:
    user = user_rules(torch, rules)
    shapes = _input_shapes(input_shape)
    rule = user.module_rule(module)
    if rule is not None:  # the whole module is the user's layer (or chain of layers)
        layers = as_layers(rule(module), f"module {type(module).__name__}")
        return Sequential(*layers, input_shape=shapes[0])
    kind = module_kind(module)
    if kind is not None:  # a bare layer: torch.fx would trace into its forward
        return Sequential(layer_from_module(module, kind), input_shape=shapes[0])
    traced = Traced(module)
    converter = Converter(torch, traced, user, shapes, _point(shapes, at))
    fx_tracer = tracer(torch, user.is_leaf)

    def decide(proxy: Any) -> bool:  # a branch on sizes, met while tracing
        if traced.graph is None:
            traced.graph = fx_tracer.graph
        return converter.decide(proxy.node)

    fx_tracer.decide = decide
    attrs = set(vars(module))
    try:
        _trace(torch, fx_tracer, traced, module, user, shapes)
        net = converter.network()
        _warn_unused(module, traced)
    finally:
        for name in set(vars(module)) - attrs:  # fx keeps constant tensors on the root
            if name.startswith("_tensor_constant"):
                delattr(module, name)
    return net


def _trace(
    torch: ModuleType, fx_tracer: Any, traced: Traced, module: Any, user: Any, shapes: Any
) -> None:
    """Trace ``module`` in eval mode into ``traced.graph``; its modes are restored after."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        with _traced_into(torch, lambda fn: user.function_rule(fn) is not None):
            traced.graph = fx_tracer.trace(module, concrete_args=_defaults(module, shapes))
    except (UnsupportedLayerError, ShapeError):
        raise
    except Exception as err:
        raise UnsupportedLayerError(
            f"torch.fx cannot trace {type(module).__name__}: {type(err).__name__}: {err}"
        ) from err
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def _traced_into(torch: ModuleType, has_rule: Callable[[Any], bool]) -> Iterator[None]:
    """Trace into the functions a library hides from torch.fx, unless a rule maps them.

    ``torch.fx.wrap`` keeps a function as one call because its Python branches on sizes
    (Swin3D's ``_compute_pad_size_3d``, MViT's ``_unsqueeze``): symcnn follows such
    Python (:mod:`.guards`), so it traces into them, except those the user's ``rules``
    or symcnn's call table map as a whole. fx keeps the wrapped functions in a
    module-level table (torch 2.x), emptied of those here for the trace and restored;
    with another torch the functions stay wrapped, and name themselves when unmapped.
    """
    table = getattr(getattr(torch.fx, "_symbolic_trace", None), "_wrapped_fns_to_patch", None)
    if not isinstance(table, dict):  # pragma: no cover - a torch without the table
        yield
        return
    functions, _ = calls(torch)
    hidden = {}
    for key, frame in list(table.items()):
        fn = frame.get(key[1]) if isinstance(frame, dict) else None
        if callable(fn) and not (has_rule(fn) or fn in functions or qualified(fn) in BY_NAME):
            hidden[key] = table.pop(key)
    try:
        yield
    finally:
        table.update(hidden)


class Traced:
    """A module and the graph ``torch.fx`` traces from it: what the walk reads.

    Not a ``torch.fx.GraphModule``, which would copy every submodule the graph calls and
    compile Python source for its forward: the walk needs neither, and on a large model
    they cost about a third of ``from_torch``. The graph is set while tracing, when a
    branch on sizes needs the walk to run ahead of the tracer (:mod:`.guards`).
    """

    def __init__(self, module: Any, graph: Any = None) -> None:
        self.module = module
        self.graph = graph
        # one walk over the module tree; torch's get_submodule walks the path every call
        self.modules = dict(module.named_modules())

    def get_submodule(self, target: str) -> Any:
        """The submodule a ``call_module`` node calls."""
        found = self.modules.get(target)
        return self.module.get_submodule(target) if found is None else found

    def parameters(self) -> Iterator[Any]:
        """Every parameter the graph reaches: its modules' and its attributes'."""
        from torch.nn import Parameter

        for node in self.graph.nodes:
            if node.op == "call_module":
                yield from self.get_submodule(node.target).parameters()
            elif node.op == "get_attr":
                owner, _, name = node.target.rpartition(".")
                value = getattr(self.get_submodule(owner), name)
                if isinstance(value, Parameter):
                    yield value


def _warn_unused(module: Any, traced: Any) -> None:
    """Warn about parameters the traced forward never reaches, which symcnn cannot count.

    GoogLeNet's auxiliary classifiers run only in training: in eval mode their parameters
    are in ``module.parameters()`` but in no node, so the totals leave them out.
    """
    used = {id(p) for p in traced.parameters()}  # what the graph reaches
    unused: dict[str, int] = {}
    for name, p in module.named_parameters():
        if id(p) not in used:
            owner = name.rpartition(".")[0] or name
            top = owner.split(".")[0]
            unused[top] = unused.get(top, 0) + p.numel()
    if unused:
        total = sum(unused.values())
        where = ", ".join(f"{name} ({count})" for name, count in unused.items())
        warnings.warn(
            f"from_torch: {total} parameters are not used by the traced forward (eval "
            f"mode) and are not counted: {where}",
            stacklevel=4,  # from_torch's caller: _warn_unused, _from_module, from_torch
        )


def _defaults(module: Any, shapes: Sequence[Any]) -> dict[str, Any] | None:
    """The optional arguments of ``forward`` beyond the inputs given: traced as defaults.

    ``forward(x, mask=None)`` with one input shape takes ``mask=None``, so that
    ``if mask is not None:`` follows the default's branch rather than a traced tensor's.
    """
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a builtin forward
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    extra = [p for p in params if p.kind in positional][len(shapes) :]
    found = {p.name: p.default for p in extra if p.default is not inspect.Parameter.empty}
    return found or None


def _point(shapes: Sequence[Any], at: Mapping[Any, int] | None) -> dict[Any, Any] | None:
    """``at`` keyed by the input shapes' symbols, each value an integer size."""
    if at is None:
        return None
    symbols = {str(s): s for shape in shapes for d in shape for s in _free(d)}
    point = {}
    for key, value in at.items():
        symbol = symbols.get(str(key))
        if symbol is None:
            raise ShapeError(
                f"at= names {key!r}, which is no symbol of the input shapes "
                f"({', '.join(sorted(symbols)) or 'none'})"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ShapeError(f"at= gives {key} = {value!r}; a size is an integer of at least 1")
        point[symbol] = sympy.Integer(value)
    return point


def _free(size: Any) -> set[Any]:
    return set(getattr(size, "free_symbols", ()))


def _input_shapes(input_shape: Any) -> list[tuple[Any, ...]]:
    items = list(input_shape)
    if items and all(isinstance(s, (tuple, list)) for s in items):
        return [tuple(s) for s in items]
    return [tuple(items)]
