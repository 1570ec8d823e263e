"""The user's own rules: ``from_torch(model, shape, rules={MyBlock: ..., F.gelu: ...})``.

``rules`` maps

- a ``torch.nn.Module`` class to a callable taking the module instance and returning a
  symcnn :class:`~symcnn.layers.base.Layer` (one node named after the module) or a
  sequence of layers (a chain of nodes ``<module>.0``, ``<module>.1``, ...). Such a module
  (and an instance of a subclass, through its class's MRO) is a leaf of the trace: its
  ``forward`` is not traced into, and its tensor arguments feed the first layer;
- a function (``F.gelu``, ``torch.special.erf``, a function wrapped with
  ``torch.fx.wrap``) or a Tensor method (``torch.Tensor.erf``, for ``x.erf()``) to a
  callable taking the call's own arguments, each tensor replaced by its per-sample
  :class:`~symcnn.symbolic.shape.Shape` (``x.size(0)`` stays the batch marker), and
  returning a layer or a sequence of layers fed by the call's tensor arguments, in order.

A user rule takes precedence over symcnn's own. A layer may be the user's own subclass of
:class:`~symcnn.layers.base.Layer` (a frozen dataclass overriding ``output_shape``,
``params``, ``products``, ``input_conditions`` as needed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ...errors import UnsupportedLayerError
from ...layers.base import Layer
from ...symbolic.shape import Shape
from .library import library_call, library_rule
from .values import Value, name_of

__all__ = ["UserRules", "as_layers", "as_shapes", "user_rules"]


@dataclass(frozen=True)
class UserRules:
    """The user's rules, sorted by what they match."""

    modules: dict[type, Callable[[Any], Any]] = field(default_factory=dict)
    functions: dict[Any, Callable[..., Any]] = field(default_factory=dict)
    methods: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def module_rule(self, m: Any) -> Callable[[Any], Any] | None:
        """The rule for module ``m``'s class, or for the nearest base class that has one.

        Without a rule of the user's, symcnn's own for a model library's module, such as
        torchvision's Swin attention (:mod:`.library`), or None.
        """
        for cls in type(m).__mro__ if self.modules else ():
            rule = self.modules.get(cls)
            if rule is not None:
                return rule
        return library_rule(m)

    def is_leaf(self, m: Any) -> bool:
        """Whether the tracer keeps ``m`` as one call: it has a rule of its own."""
        return self.module_rule(m) is not None or library_call(m) is not None

    def function_rule(self, target: Any) -> Callable[..., Any] | None:
        """The rule for call target ``target`` (a function, or a Tensor method), or None."""
        if not self.functions:
            return None
        try:
            return self.functions.get(target)
        except TypeError:  # an unhashable target
            return None


NO_RULES = UserRules()


def user_rules(torch: ModuleType, rules: Mapping[Any, Any] | None) -> UserRules:
    """Check and sort ``rules``; raise :class:`TypeError` for a key or value of no use."""
    if rules is None:
        return NO_RULES
    if not isinstance(rules, Mapping):
        raise TypeError(
            f"from_torch: rules must be a mapping from torch.nn.Module classes and functions "
            f"to callables, got {type(rules).__name__}"
        )
    out = UserRules()
    for key, rule in rules.items():
        if isinstance(key, type):
            if not issubclass(key, torch.nn.Module):
                raise TypeError(
                    f"from_torch: the rules key {key.__name__} is a class but not a "
                    "torch.nn.Module subclass"
                )
            what = key.__name__
        elif callable(key):
            what = name_of(key)
        else:
            raise TypeError(
                f"from_torch: the rules key {key!r} is neither a torch.nn.Module class nor a "
                "function or Tensor method"
            )
        if not callable(rule):
            raise TypeError(
                f"from_torch: the rule for {what} must be callable (a function returning a "
                f"symcnn layer), got {rule!r}"
            )
        if isinstance(key, type):
            out.modules[key] = rule
            continue
        out.functions[key] = rule
        name = getattr(key, "__name__", None)
        if name is not None and getattr(torch.Tensor, name, None) is key:
            out.methods[name] = rule  # torch.Tensor.erf: the call x.erf()
    return out


def as_layers(result: Any, where: str) -> tuple[Layer, ...]:
    """A user rule's result as a chain of layers; raise naming ``where`` when it is not one."""
    if isinstance(result, Layer):
        return (result,)
    if (
        isinstance(result, (list, tuple))
        and result
        and all(isinstance(layer, Layer) for layer in result)
    ):
        return tuple(result)
    raise UnsupportedLayerError(
        f"the rule for {where} returned {result!r} ({type(result).__name__}), which is not a "
        "symcnn Layer or a non-empty sequence of Layers"
    )


def as_shapes(value: Any) -> Any:
    """A call's arguments for a user rule: each tensor as its per-sample shape."""
    if isinstance(value, Value):
        return value.shape
    if isinstance(value, tuple) and not isinstance(value, Shape):
        return tuple(as_shapes(v) for v in value)
    if isinstance(value, list):
        return [as_shapes(v) for v in value]
    if isinstance(value, dict):
        return {k: as_shapes(v) for k, v in value.items()}
    return value
