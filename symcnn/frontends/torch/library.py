"""Modules that model libraries ship, mapped to symcnn layers by their class.

torchvision's Swin attention computes its windows in a function it hides from torch.fx
(``torch.fx.wrap``): a call that reads the module's weights and folds the windows into the
batch axis, which a per-sample shape cannot follow. The module as a whole is one symcnn
layer, :class:`~symcnn.layers.ShiftedWindowAttention`, read off the module's attributes.
Only these exact classes map: a subclass may compute something else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import UnsupportedLayerError
from ...layers.base import Layer
from ...layers.window import CPB_HIDDEN, ShiftedWindowAttention

__all__ = ["library_rule"]


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


_SWIN = "torchvision.models.swin_transformer"
#: The rule per qualified class name.
_RULES: dict[str, Callable[[Any], Layer]] = {
    f"{_SWIN}.ShiftedWindowAttention": _swin(1, False),
    f"{_SWIN}.ShiftedWindowAttentionV2": _swin(2, False),
    "torchvision.models.video.swin_transformer.ShiftedWindowAttention3d": _swin(1, True),
}


def library_rule(m: Any) -> Callable[[Any], Layer] | None:
    """The rule symcnn has for a model library's module ``m``, or None."""
    cls = type(m)
    return _RULES.get(f"{cls.__module__}.{cls.__qualname__}")
