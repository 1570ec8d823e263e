"""Modules that model libraries ship, mapped to symcnn layers by their class.

torchvision's Swin attention computes its windows in a function it hides from torch.fx
(``torch.fx.wrap``): a call that reads the module's weights and folds the windows into the
batch axis, which a per-sample shape cannot follow. The module as a whole is one symcnn
layer, :class:`~symcnn.layers.ShiftedWindowAttention`, read off the module's attributes.
Only these exact classes map: a subclass may compute something else.

torchvision's MViT passes the grid of its tokens, ``thw``, beside the tensor and returns the
pooled grid with the result; its ``Pool`` folds the heads into the batch axis. Its
``MultiscaleAttention`` and ``Pool`` modules are called here with the call's ``thw``
(:func:`library_call`): one layer of :mod:`symcnn.layers.multiscale` each, built from the
module and the grid, and the call's value is the pair (tensor, pooled grid), which the
walk unpacks as torch does. ``PositionalEncoding`` is one layer, read off the module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sympy

from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from ...layers.multiscale import ClassPositionalEncoding, MultiscaleAttention, TokenPool
from ...layers.window import CPB_HIDDEN, ShiftedWindowAttention

__all__ = ["library_call", "library_rule"]


def _swin(version: int, adapt_window: bool) -> Callable[[Any], Layer]:
    def rule(m: Any) -> Layer:
        if version == 2:
            hidden = m.cpb_mlp[0].out_features
            if hidden != CPB_HIDDEN:
                raise UnsupportedLayerError(
                    f"{type(m).__name__}'s position bias MLP has {hidden} hidden units; "
                    f"symcnn's ShiftedWindowAttention(version=2) has torchvision's {CPB_HIDDEN}"
                )
        return ShiftedWindowAttention(
            m.qkv.in_features,
            tuple(m.window_size),
            tuple(m.shift_size),
            m.num_heads,
            qkv_bias=m.qkv.bias is not None,
            proj_bias=m.proj.bias is not None,
            attention_dropout=m.attention_dropout,
            dropout=m.dropout,
            version=version,
            adapt_window=adapt_window,
        )

    return rule


def _positional_encoding(m: Any) -> Layer:
    return ClassPositionalEncoding(
        m.class_token.shape[0],
        m.temporal_size,
        tuple(m.spatial_size),
        absolute=m.spatial_pos is not None,
    )


_SWIN = "torchvision.models.swin_transformer"
_MVIT = "torchvision.models.video.mvit"
#: The rule per qualified class name.
_RULES: dict[str, Callable[[Any], Layer]] = {
    f"{_SWIN}.ShiftedWindowAttention": _swin(1, False),
    f"{_SWIN}.ShiftedWindowAttentionV2": _swin(2, False),
    "torchvision.models.video.swin_transformer.ShiftedWindowAttention3d": _swin(1, True),
    f"{_MVIT}.PositionalEncoding": _positional_encoding,
}


def library_rule(m: Any) -> Callable[[Any], Layer] | None:
    """The rule symcnn has for a model library's module ``m``, or None."""
    cls = type(m)
    return _RULES.get(f"{cls.__module__}.{cls.__qualname__}")


# -- modules called with sizes beside the tensor (MViT) ------------------------------------
#: A call rule: (module, the call's arguments after the tensor) -> (layer, what the module
#: returns beside its tensor).
CallRule = Callable[[Any, Sequence[Any]], tuple[Layer, Any]]


def _exact(m: Any, name: str, *classes: str) -> Any:
    """Submodule ``name`` of ``m``, which must be of one of ``classes`` (qualified names)."""
    sub = getattr(m, name)
    if sub is None and "None" in classes:
        return None
    cls = type(sub)
    if f"{cls.__module__}.{cls.__qualname__}" not in classes:
        raise UnsupportedLayerError(
            f"its {name} is {cls.__name__}; symcnn maps it as torchvision builds it, "
            f"{' or '.join(c.rpartition('.')[2] for c in classes)}"
        )
    return sub


def _grid(where: str, args: Sequence[Any]) -> tuple[Any, ...]:
    """The ``thw`` a call passes: 3 sizes, integers or sympy expressions."""
    if len(args) != 1 or not isinstance(args[0], (tuple, list)) or len(args[0]) != 3:
        raise UnsupportedLayerError(
            f"{where} is called with {args!r} after the tensor; symcnn maps (x, thw), thw "
            "the 3 sizes (T, H, W) of the token grid"
        )
    for size in args[0]:
        if isinstance(size, bool) or not isinstance(size, (int, sympy.Expr)):
            raise UnsupportedLayerError(
                f"{where}: thw must be 3 sizes, got {args[0]!r}, which symcnn cannot read"
            )
    return tuple(args[0])


def _pool_of(m: Any, name: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(kernel, stride) of attention pool ``name``: a depthwise Conv3d, then LayerNorm."""
    pool = _exact(m, name, f"{_MVIT}.Pool", "None")
    if pool is None:
        return None
    conv = _exact(pool, "pool", "torch.nn.modules.conv.Conv3d")
    norm = _exact(pool, "norm_act", "torch.nn.modules.container.Sequential")
    layer_norm = _exact(norm, "0", "torch.nn.modules.normalization.LayerNorm")
    head_dim = m.head_dim
    kernel, stride = tuple(conv.kernel_size), tuple(conv.stride)
    if (
        pool.norm_before_pool
        or len(norm) != 1
        or conv.groups != head_dim
        or conv.bias is not None
        or tuple(conv.padding) != tuple(k // 2 for k in kernel)
        or tuple(conv.dilation) != (1, 1, 1)
        or tuple(layer_norm.normalized_shape) != (head_dim,)
        or not layer_norm.elementwise_affine
        or layer_norm.bias is None
    ):
        raise UnsupportedLayerError(
            f"its {name} is not torchvision's depthwise Conv3d(head_dim, head_dim, kernel, "
            "stride, padding=kernel // 2, groups=head_dim, bias=False) then "
            "LayerNorm(head_dim), which symcnn maps"
        )
    return kernel, stride


def _attention(m: Any, args: Sequence[Any]) -> tuple[Layer, Any]:
    thw = _grid("MultiscaleAttention", args)
    q, kv = _pool_of(m, "pool_q"), _pool_of(m, "pool_k")
    if (kv is None) != (m.pool_v is None) or (kv is not None and _pool_of(m, "pool_v") != kv):
        raise UnsupportedLayerError("its pool_k and pool_v differ; symcnn maps equal ones")
    rel = None
    if m.rel_pos_h is not None:
        rel = tuple(int(t.shape[0]) for t in (m.rel_pos_t, m.rel_pos_h, m.rel_pos_w))
    project = _exact(m, "project", "torch.nn.modules.container.Sequential")[0]
    layer = MultiscaleAttention(
        m.qkv.in_features,
        m.output_dim,
        m.num_heads,
        thw,
        kernel_q=None if q is None else q[0],
        stride_q=None if q is None else q[1],
        kernel_kv=None if kv is None else kv[0],
        stride_kv=None if kv is None else kv[1],
        residual_pool=m.residual_pool,
        residual_with_cls_embed=m.residual_with_cls_embed,
        rel_pos=rel,
        qkv_bias=m.qkv.bias is not None,
        proj_bias=project.bias is not None,
    )
    return layer, layer.grid_q()


def _token_pool(m: Any, args: Sequence[Any]) -> tuple[Layer, Any]:
    thw = _grid("Pool", args)
    pool = _exact(m, "pool", "torch.nn.modules.pooling.MaxPool3d")
    if m.norm_act is not None or pool.ceil_mode or pool.return_indices:
        raise UnsupportedLayerError(
            "symcnn maps torchvision's Pool of a MaxPool3d without norm, ceil_mode or "
            "return_indices (MViT's skip connections)"
        )
    sizes = {}
    for name in ("kernel_size", "stride", "padding", "dilation"):
        value = getattr(pool, name)
        sizes[name] = tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3
    if sizes.pop("dilation") != (1, 1, 1):
        raise UnsupportedLayerError("symcnn maps its MaxPool3d without dilation")
    layer = TokenPool(thw, **sizes)
    return layer, layer.grid()


#: The call rule per qualified class name.
_CALLS: dict[str, CallRule] = {
    f"{_MVIT}.MultiscaleAttention": _attention,
    f"{_MVIT}.Pool": _token_pool,
}


def library_call(m: Any) -> CallRule | None:
    """The rule symcnn has for a library module called with sizes beside its tensor, or None."""
    cls = type(m)
    return _CALLS.get(f"{cls.__module__}.{cls.__qualname__}")


def call_module(
    conv: Any, node: Any, m: Any, rule: CallRule, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Any:
    """The value of a call of library module ``m`` in ``conv``'s walk: (tensor, sizes).

    ``conv`` is the :class:`~symcnn.frontends.torch.convert.Converter`. The layer depends on
    the call's sizes as well as the module; a module with parameters called again must be
    called with the same sizes (its parameters are counted once, with its layer).
    """
    where = f"module {node.target!r} ({type(m).__name__}) at node {node.name!r}"
    if kwargs or not args:
        raise UnsupportedLayerError(
            f"{where} is called with {len(args)} positional and {len(kwargs)} keyword "
            "arguments; symcnn maps (x, thw)"
        )
    x, *rest = args
    try:
        layer, extra = rule(m, rest)
    except UnsupportedLayerError as err:
        raise UnsupportedLayerError(f"{where}: {err}") from None
    except (ShapeError, TypeError) as err:
        raise ShapeError(f"{where}: {err}") from None
    known = conv.layers_by_module.get(id(m))
    if known is None:
        layer = conv._shared_with(node.target, m, layer)
        conv.layers_by_module[id(m)] = (layer,)
    elif known == (layer,):
        layer = known[0]  # the same object: its parameters are counted once
    elif any(True for _ in m.parameters()):
        raise UnsupportedLayerError(
            f"{where} is called again with other sizes ({known[0]!r}, then {layer!r}); "
            "symcnn counts a module's parameters once, with one layer"
        )
    name = conv._call_name(node.target)
    value = conv._add(node, name, layer, [x])
    conv._check_params(node, m, layer, [name], recurse=True)
    return value, extra
