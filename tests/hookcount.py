"""Count a network's parameters and products in PyTorch itself, with forward hooks.

The reference every symcnn total is checked against, in the benchmarks (benchmarks/
bench_peers.py) and their test (tests/test_bench_peers.py): one forward pass on zeros, a hook
on every leaf module, nothing derived. The products follow the seed lecture's convention,
as symcnn's ``net.products`` does:

- a convolution does C_out·H_out·W_out·(C_in/groups)·k_h·k_w products per sample;
- a transposed convolution counts input positions, C_in·H_in·W_in·(C_out/groups)·k_h·k_w,
  as fvcore does;
- a linear layer does out·in per row.

Besides the products, the hooks count what the other conventions and the peer tools add,
so that a peer's total can be explained from measured quantities rather than from its
documentation: bias additions (one per output element of a biased convolution or linear
layer), BatchNorm outputs and affine parameters, module ReLU outputs, and the inputs and
outputs of max, average and adaptive average pooling. Functional calls (``F.relu``,
``torch.cat``, ``x += y``) are invisible to module hooks, as they are to the hook-based peers.

Needs torch; imported by the benchmarks and by tests that have already required torch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["Counts", "count_forward", "hooked_counter", "observe"]


@dataclass
class Counts:
    """Totals per sample from one hooked forward pass (batch of one)."""

    params: int = 0
    products: int = 0
    bias_adds: int = 0
    bn_elements: int = 0
    bn_affine_params: int = 0
    relu_elements: int = 0
    maxpool_inputs: int = 0
    maxpool_outputs: int = 0
    maxpool_window_reads: int = 0
    avgpool_inputs: int = 0
    avgpool_outputs: int = 0
    adaptive_avgpool_inputs: int = 0
    adaptive_avgpool_outputs: int = 0
    modules_seen: set[int] = field(default_factory=set, repr=False)

    def explainers(self) -> dict[str, int]:
        """The quantities a peer's total may add to the products, by name."""
        return {
            "bias adds": self.bias_adds,
            "BN outputs": self.bn_elements,
            "BN affine params": self.bn_affine_params,
            "ReLU outputs": self.relu_elements,
            "max-pool inputs": self.maxpool_inputs,
            "max-pool outputs": self.maxpool_outputs,
            "max-pool window reads": self.maxpool_window_reads,
            "avg-pool inputs": self.avgpool_inputs,
            "avg-pool outputs": self.avgpool_outputs,
            "adaptive avg-pool inputs": self.adaptive_avgpool_inputs,
            "adaptive avg-pool outputs": self.adaptive_avgpool_outputs,
        }


def _window(kernel_size: Any, dims: int) -> int:
    if isinstance(kernel_size, int):
        return kernel_size**dims
    return math.prod(kernel_size)


def _record(counts: Counts, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
    """Add one module call to ``counts``: its own parameters once, its work every call."""
    if id(module) not in counts.modules_seen:
        counts.modules_seen.add(id(module))
        counts.params += sum(p.numel() for p in module.parameters(recurse=False))
    if not isinstance(output, torch.Tensor):
        return
    out = output.numel()
    biased = getattr(module, "bias", None) is not None
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        counts.products += inputs[0].numel() * per_input
        counts.bias_adds += out if biased else 0
    elif isinstance(module, nn.modules.conv._ConvNd):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        counts.products += out * per_output
        counts.bias_adds += out if biased else 0
    elif isinstance(module, nn.Linear):
        counts.products += out * module.in_features
        counts.bias_adds += out if biased else 0
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        counts.bn_elements += out
        counts.bn_affine_params += sum(p.numel() for p in module.parameters(recurse=False))
    elif isinstance(module, nn.ReLU | nn.ReLU6):
        counts.relu_elements += out
    elif isinstance(module, nn.modules.pooling._MaxPoolNd):
        counts.maxpool_inputs += inputs[0].numel()
        counts.maxpool_outputs += out
        counts.maxpool_window_reads += out * _window(module.kernel_size, output.dim() - 2)
    elif isinstance(module, nn.modules.pooling._AdaptiveMaxPoolNd):
        counts.maxpool_inputs += inputs[0].numel()
        counts.maxpool_outputs += out
        counts.maxpool_window_reads += inputs[0].numel()
    elif isinstance(module, nn.modules.pooling._AvgPoolNd):
        counts.avgpool_inputs += inputs[0].numel()
        counts.avgpool_outputs += out
    elif isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd):
        counts.adaptive_avgpool_inputs += inputs[0].numel()
        counts.adaptive_avgpool_outputs += out


def hooked_counter(model: nn.Module) -> tuple[Counts, list[Any]]:
    """Fresh counts and the hook handles registered on every leaf module of ``model``.

    Remove the handles when done; :func:`count_forward` does it all in one call.
    """
    counts = Counts()

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        _record(counts, module, inputs, output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    return counts, handles


def count_forward(model: nn.Module, input_shape: tuple[int, ...]) -> Counts:
    """Run ``model`` (in eval mode, no grad) on zeros(1, *input_shape) and count.

    Parameters of modules never called in the forward pass are not counted, as in the
    hook-based peers; for the zoo's networks every parameter is used.
    """
    counts, handles = hooked_counter(model)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.eval()(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return counts


def observe(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[Any, dict[str, Any], Counts]:
    """One forward pass (eval mode, no grad) on zeros(1, *input_shape), watched by hooks.

    Returns the output, the output shape (batch axis included) of every call of every
    leaf module by its qualified name, in call order, and the :class:`Counts`. Errors of
    the forward pass propagate; the hooks are removed either way.
    """
    calls: dict[str, list[tuple[int, ...]]] = {}

    def shapes(name: str) -> Any:
        def record(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            calls.setdefault(name, []).append(tuple(output.shape))

        return record

    counts, handles = hooked_counter(model)
    handles += [
        m.register_forward_hook(shapes(name))
        for name, m in model.named_modules()
        if not list(m.children())
    ]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model.eval()(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return out, calls, counts
