"""Functional layers on a module's own tensors: the rules of ``F.conv2d``, ``F.batch_norm`` ...

Each function makes the symcnn layer of one call from its bound arguments (the walk binds
them with :mod:`.functions`' signatures and calls these). The weights are a module's
parameters or buffers read directly (``self.weight``), or computed from them alone
(:mod:`.weights`); the layer's hyperparameters come from their shapes, as ``torch.nn``'s
modules make them: ``F.conv2d``'s in_channels is ``weight.shape[1] * groups``. The layer
then counts what its weights read (:meth:`~.params.Params.layer`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import layers as sl
from ...errors import ShapeError, UnsupportedLayerError
from ...layers.base import Layer
from .params import weights

__all__ = [
    "batch_norm",
    "by_rank",
    "conv",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "linear",
    "num_features",
    "prelu",
]


def conv(kind: Any, *, transposed: bool = False) -> Callable[..., Layer]:
    """``F.convNd``, ``F.conv_transposeNd``: the layer of the weight's shape, zero padding.

    The weight is (out, in / groups, *k), a transposed convolution's (in, out / groups, *k).
    """
    axes = "(in_channels, out_channels" if transposed else "(out_channels, in_channels"

    def make(weight: Any, bias: Any, groups: Any, **kw: Any) -> Layer:
        shape = weights("weight", weight, None)
        if shape is None or len(shape) != kind.ndim + 2:
            raise ShapeError(
                f"the weight must have {kind.ndim + 2} axes {axes} / groups, *kernel_size), "
                f"got the {weight!r}"
            )
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ShapeError(f"groups must be a positive int (got {groups!r})")
        in_channels, out_channels = shape[0], shape[1] * groups
        if not transposed:
            in_channels, out_channels = shape[1] * groups, shape[0]
        weights("bias", bias, (out_channels,))
        return kind(
            in_channels, out_channels, shape[2:], groups=groups, bias=bias is not None, **kw
        )

    return make


def by_rank(what: str, ranks: dict[int, Any], input_shape: Any) -> Any:
    """The layer class for the input's per-sample rank."""
    kind = ranks.get(len(input_shape))
    if kind is None:
        raise ShapeError(
            f"{what} on a per-sample input of {len(input_shape)} axes ({input_shape}) has no "
            f"symcnn layer: it maps inputs of {' or '.join(map(str, sorted(set(ranks))))} axes"
        )
    return kind


def num_features(what: str, tensors: dict[str, Any], input_shape: Any) -> Any:
    """num_features: the tensors' size, or the input's channels when none is given.

    Each tensor given must have shape (C,); the running statistics come both or neither,
    and a bias only with a weight, as torch's modules make them.
    """
    given = [(n, v) for n, v in tensors.items() if v is not None]
    shape = weights(*given[0], None) if given else None
    channels = shape[0] if shape else input_shape[0]
    for name, value in given:
        weights(name, value, (channels,))
    if (tensors.get("running_mean") is None) != (tensors.get("running_var") is None):
        raise UnsupportedLayerError(
            f"{what} with only one of running_mean and running_var has no symcnn rule"
        )
    if tensors["weight"] is None and tensors["bias"] is not None:
        raise UnsupportedLayerError(
            f"{what} with a bias but no weight has no symcnn rule (torch's modules have "
            "both, a weight alone, or neither)"
        )
    return channels


def batch_norm(
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    training: Any,
    momentum: Any,
    eps: Any,
    input_shape: Any,
) -> Layer:
    """``F.batch_norm``: BatchNorm1d/2d/3d by the input's rank, affine if weighted."""
    tensors = {"running_mean": running_mean, "running_var": running_var}
    tensors |= {"weight": weight, "bias": bias}
    ranks = {1: sl.BatchNorm1d, 2: sl.BatchNorm1d, 3: sl.BatchNorm2d, 4: sl.BatchNorm3d}
    kind = by_rank("F.batch_norm", ranks, input_shape)
    channels = num_features("F.batch_norm", tensors, input_shape)
    if running_mean is None and not training:
        raise ShapeError("running_mean must be defined in evaluation mode (as in PyTorch)")
    # the running statistics are read, not num_batches_tracked: the walk counts what is read
    return kind(
        channels,
        eps=eps,
        momentum=momentum,
        affine=weight is not None,
        track_running_stats=running_mean is not None,
        bias=weight is None or bias is not None,  # torch's default when not affine
    )


def instance_norm(
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    use_input_stats: Any,
    momentum: Any,
    eps: Any,
    input_shape: Any,
) -> Layer:
    """``F.instance_norm``: InstanceNorm1d/2d/3d by the input's rank, as modules call it."""
    tensors = {"running_mean": running_mean, "running_var": running_var}
    tensors |= {"weight": weight, "bias": bias}
    ranks = {2: sl.InstanceNorm1d, 3: sl.InstanceNorm2d, 4: sl.InstanceNorm3d}
    kind = by_rank("F.instance_norm", ranks, input_shape)
    channels = num_features("F.instance_norm", tensors, input_shape)
    if bool(use_input_stats) != (running_mean is None):
        raise UnsupportedLayerError(
            f"F.instance_norm with use_input_stats={use_input_stats!r} and "
            f"{'no ' if running_mean is None else ''}running statistics has no symcnn rule: "
            "symcnn maps nn.InstanceNorm's eval-mode calls, the input's own statistics "
            "without running ones, or the running ones with use_input_stats=False"
        )
    return kind(
        channels,
        eps=eps,
        momentum=momentum,
        affine=weight is not None,
        track_running_stats=running_mean is not None,
        bias=weight is None or bias is not None,  # torch's default when not affine
    )


def group_norm(num_groups: Any, weight: Any, bias: Any, eps: Any, input_shape: Any) -> Layer:
    """``F.group_norm``: a GroupNorm of the weight's channels, or the input's."""
    if len(input_shape) < 1:
        raise ShapeError(f"F.group_norm needs a per-sample input (C, ...) (got {input_shape})")
    channels = num_features("F.group_norm", {"weight": weight, "bias": bias}, input_shape)
    affine = weight is not None  # not affine: torch's default bias=True, as the module has
    bias = not affine or bias is not None
    return sl.GroupNorm(num_groups, channels, eps=eps, affine=affine, bias=bias)


def prelu(weight: Any) -> Layer:
    """``F.prelu``: a PReLU of the weight's ``num_parameters`` slopes."""
    shape = weights("weight", weight, None)
    if shape is None or len(shape) != 1:
        raise ShapeError(f"the weight of F.prelu must have 1 axis (num_parameters), got {weight!r}")
    return sl.PReLU(shape[0])


def layer_norm(normalized_shape: Any, weight: Any, bias: Any, eps: Any) -> Layer:
    """``F.layer_norm``: a LayerNorm of ``normalized_shape``, affine if weighted."""
    shape = normalized_shape
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    weights("weight", weight, shape)
    weights("bias", bias, shape)
    if weight is None and bias is not None:
        raise UnsupportedLayerError(
            "F.layer_norm with a bias but no weight has no symcnn rule (nn.LayerNorm "
            "has both or neither)"
        )
    return sl.LayerNorm(
        shape, eps=eps, elementwise_affine=weight is not None, bias=bias is not None
    )


def linear(weight: Any, bias: Any) -> Layer:
    """``F.linear``: a Linear of the weight's (out, in) shape."""
    shape = weights("weight", weight, None)
    if shape is None or len(shape) != 2:
        raise ShapeError(f"the weight of F.linear must have 2 axes (out, in), got {weight!r}")
    weights("bias", bias, shape[:1])
    return sl.Linear(shape[1], shape[0], bias=bias is not None)
