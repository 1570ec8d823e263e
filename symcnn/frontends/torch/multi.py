"""Module calls beyond one tensor: several inputs, call options, a tuple returned.

``nn.MultiheadAttention`` is called ``attn(x, x, x, need_weights=False)`` and returns
``(attn_output, attn_weights)``, the weights None unless asked for. A module whose layer
takes several inputs (its ``arity``) maps here; keyword arguments are accepted only when
they are call options of the layer that leave the shapes alone, each with the values
symcnn knows (``attn_mask=None``, ``need_weights=True`` or False, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...errors import UnsupportedLayerError
from ...layers.attention import MultiheadAttention
from ...layers.base import Layer
from .modules import layer_from_module

__all__ = ["AttentionWeights", "layer_for", "module_call", "module_inputs"]


def _is_none(value: Any) -> bool:
    return value is None


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


#: Per layer class: the forward's arguments after the tensors, in torch's order, each with
#: the test its value must pass and the values it means.
_OPTIONS: dict[type[Layer], tuple[tuple[str, Callable[[Any], bool], str], ...]] = {
    MultiheadAttention: (
        ("key_padding_mask", _is_none, "None"),
        ("need_weights", _is_bool, "True or False"),
        ("attn_mask", _is_none, "None"),
        ("average_attn_weights", _is_bool, "True or False"),
        ("is_causal", lambda v: v is False, "False"),
    ),
}


class AttentionWeights:
    """The attention weights a ``need_weights=True`` call returns: not mapped by symcnn.

    Using them as a tensor raises :class:`~symcnn.errors.UnsupportedLayerError` (the walk
    expects a tensor and finds this value, whose ``repr`` says what it is).
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def __repr__(self) -> str:
        return (
            f"the attention weights of module {self.target!r} (need_weights=True), which "
            "symcnn does not map; pass need_weights=False or leave them unused"
        )


def layer_for(m: Any, kind: type[Layer]) -> Layer:
    """The symcnn layer for module ``m``, reading the fields torch does not keep as such."""
    if kind is not MultiheadAttention:
        return layer_from_module(m, kind)
    if not m.batch_first:
        raise UnsupportedLayerError(
            "batch_first=False puts the sequence axis before the batch axis; symcnn's "
            "shapes are per sample with the batch axis first: use batch_first=True"
        )
    return MultiheadAttention(
        m.embed_dim,
        m.num_heads,
        dropout=m.dropout,
        bias=m.in_proj_bias is not None,
        add_bias_kv=m.bias_k is not None,
        add_zero_attn=m.add_zero_attn,
        kdim=None if m.kdim == m.embed_dim else m.kdim,
        vdim=None if m.vdim == m.embed_dim else m.vdim,
        batch_first=m.batch_first,
    )


def module_inputs(
    where: str, kind: type[Layer], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The tensors a call passes to a layer of class ``kind``, and its checked options.

    Raises :class:`UnsupportedLayerError` naming the argument, the values symcnn maps and
    the value given, for a wrong count of tensors or an option that would change shapes.
    """
    arity = kind.arity
    options = _OPTIONS.get(kind, ())
    count = arity if arity is not None else len(args)
    if arity is None and not kwargs and len(args) >= 2:
        return list(args), {}
    if len(args) < count or len(args) > count + len(options):
        raise UnsupportedLayerError(
            f"{where} is called with {len(args)} positional arguments; symcnn maps "
            f"{count} tensor{'s' if count != 1 else ''}"
            + (f" and the options {_names(options)}" if options else "")
        )
    given = dict(zip((name for name, _, _ in options), args[count:], strict=False))
    for name, value in kwargs.items():
        if name in given:
            raise UnsupportedLayerError(f"{where} is given {name!r} twice")
        given[name] = value
    known = {name: (test, words) for name, test, words in options}
    for name, value in given.items():
        if name not in known:
            raise UnsupportedLayerError(
                f"{where} is called with the keyword {name!r}, which symcnn does not map"
                + (f"; it maps {_names(options)}" if options else "")
            )
        test, words = known[name]
        if not test(value):
            raise UnsupportedLayerError(
                f"{where}: {name} must be {words} for symcnn, which maps the calls whose "
                f"shapes and counts do not depend on it (got {value!r})"
            )
    return list(args[:count]), given


def _names(options: Sequence[tuple[str, Any, str]]) -> str:
    return ", ".join(f"{name}={words}" for name, _, words in options)


def module_call(
    conv: Any, node: Any, m: Any, kind: type[Layer], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Any:
    """The value of a call of module ``m``, whose layer takes several inputs, in ``conv``'s walk.

    ``conv`` is the :class:`~symcnn.frontends.torch.convert.Converter`; its parameter
    checks run on the whole module (an attention's ``out_proj`` is its own).
    """
    where = f"module {node.target!r} at node {node.name!r}"
    inputs, options = module_inputs(where, kind, args, kwargs)
    known = conv.layers_by_module.get(id(m))
    if known is None:
        try:
            layer = layer_for(m, kind)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(f"{where}: {err}") from None
        layer = conv._shared_with(node.target, m, layer)
        conv.layers_by_module[id(m)] = (layer,)
    else:
        (layer,) = known
    if kind is MultiheadAttention:  # a call option that changes what training keeps
        layer = dataclasses.replace(layer, need_weights=options.get("need_weights", True))
    name = conv._call_name(node.target)
    value = conv._add(node, name, layer, inputs)
    conv._check_params(node, m, layer, [name], recurse=True)
    if kind is MultiheadAttention:
        weights = AttentionWeights(node.target) if options.get("need_weights", True) else None
        return value, weights
    return value
