"""PyTorch's own account of a training step: products forward and backward, bytes saved.

The reference the training tests compare symcnn with, run on the meta device (no memory,
no data): ``FlopCounterMode`` over ``model(x).sum().backward()`` (flops / 2 = products),
and ``saved_tensors_hooks`` over the forward pass, every saved tensor's storage counted
once by its identity, the model's parameters and buffers left out (they are parameter
memory).

One defect of the reference is corrected: PyTorch's flop formula for
``convolution_backward`` counts the weight gradient of a grouped convolution as if it
were dense, ``groups`` times too many (a depthwise 3×3 on 32×56×56 then shows a backward
of 33 times its forward). :func:`conv_backward_flop` divides that term by ``groups``, as
the forward formula does; ``tests/training/test_reference.py`` shows the defect on a
minimal case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

aten = torch.ops.aten


def _swap(shape: Any) -> list[int]:
    return [shape[1], shape[0], *shape[2:]]


def conv_backward_flop(
    grad_out_shape: Any,
    x_shape: Any,
    w_shape: Any,
    _bias: Any,
    _stride: Any,
    _padding: Any,
    _dilation: Any,
    transposed: bool,
    _output_padding: Any,
    groups: int,
    output_mask: Any,
    out_shape: Any,
    **kwargs: Any,
) -> int:
    """``torch.utils.flop_counter``'s convolution backward, the weight term divided by groups."""
    flops = 0
    if output_mask[0]:
        flops += conv_flop_count(grad_out_shape, w_shape, out_shape[0], not transposed)
    if output_mask[1]:
        first, second = (grad_out_shape, x_shape) if transposed else (x_shape, grad_out_shape)
        dense = conv_flop_count(_swap(first), _swap(second), _swap(out_shape[1]), False)
        flops += dense // groups
    return flops


CORRECTED = {aten.convolution_backward: conv_backward_flop}


@dataclass(frozen=True)
class Step:
    """One training step as PyTorch counts it."""

    forward: int
    backward: int
    saved: int


def measure(
    model: Any, shape: tuple[int, ...], *, dtype: Any = None, corrected: bool = True
) -> Step:
    """Products of forward and backward and the bytes autograd keeps, for ``model(x)``.

    ``model`` is moved to the meta device in training mode; ``shape`` includes the batch.
    """
    dtype = dtype or torch.float32
    model = model.to(device="meta", dtype=dtype).train()
    x = torch.empty(shape, device="meta", dtype=dtype)
    saved = saved_bytes(model, x)
    # The products from a second step without the hooks: with them, autograd would not
    # notice a kept tensor overwritten in place, and the backward would run where it fails.
    mapping = CORRECTED if corrected else {}
    with FlopCounterMode(display=False, custom_mapping=mapping) as forward:
        y = model(x)
    with FlopCounterMode(display=False, custom_mapping=mapping) as backward:
        y.sum().backward()
    return Step(forward.get_total_flops() // 2, backward.get_total_flops() // 2, saved)


def saved_bytes(model: Any, x: Any) -> int:
    """Bytes autograd keeps over ``model(x)``: each storage once, the model's own left out."""
    own = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage._cdata not in own:
            kept[storage._cdata] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(kept.values())


def symcnn_step(net: Any, batch: int, dtype: str = "float32") -> Step:
    """symcnn's account of the same step, at a batch size."""
    t = net.training(batch=batch, dtype=dtype)
    return Step(int(t.forward_products), int(t.backward_products), int(t.saved_bytes))
