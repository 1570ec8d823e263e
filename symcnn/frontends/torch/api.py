"""``from_torch``: the module traced once with ``torch.fx``, then walked (:mod:`.convert`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ...errors import UnsupportedLayerError
from ...graph.network import Network, Sequential
from ...symbolic.guard import collector_paused
from .convert import Converter
from .modules import layer_from_module, module_kind, tracer
from .rules import as_layers, user_rules

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
        return _from_module(torch, module, input_shape, rules)


def _from_module(
    torch: ModuleType, module: Any, input_shape: Any, rules: Mapping[Any, Any] | None
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
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        try:
            traced = Traced(module, tracer(torch, user.is_leaf).trace(module))
        except UnsupportedLayerError:
            raise
        except Exception as err:
            raise UnsupportedLayerError(
                f"torch.fx cannot trace {type(module).__name__}: {type(err).__name__}: {err}"
            ) from err
    finally:
        for m, training in modes:
            m.training = training
    net = Converter(torch, traced, user).network(shapes)
    _warn_unused(module, traced)
    return net


@dataclass(frozen=True)
class Traced:
    """A module and the graph ``torch.fx`` traced from it: what the walk reads.

    Not a ``torch.fx.GraphModule``, which would copy every submodule the graph calls and
    compile Python source for its forward: the walk needs neither, and on a large model
    they cost about a third of ``from_torch``.
    """

    module: Any
    graph: Any
    modules: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # one walk over the module tree; torch's get_submodule walks the path every call
        object.__setattr__(self, "modules", dict(self.module.named_modules()))

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


def _input_shapes(input_shape: Any) -> list[tuple[Any, ...]]:
    items = list(input_shape)
    if items and all(isinstance(s, (tuple, list)) for s in items):
        return [tuple(s) for s in items]
    return [tuple(items)]
