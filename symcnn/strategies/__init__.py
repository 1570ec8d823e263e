"""Hypothesis strategies for property tests of shape rules: layers, networks, domain points.

In the style of ``hypothesis.extra.numpy``: plural names, keyword-only ``min_*``/``max_*``
bounds, :class:`hypothesis.errors.InvalidArgument` for bad arguments, and generation that is
valid by construction (each hyperparameter is drawn from the range the previous ones leave
open, so nothing is filtered). Install the extra with ``pip install "symcnn[strategies]"``;
``import symcnn`` never imports hypothesis, only ``import symcnn.strategies`` does.

Layers and networks are drawn for a *concrete* per-sample input shape, and every layer is
valid on the shape it receives: a sequential network is built one layer at a time, each
chosen for the current output shape. :func:`symbolic_networks` then replaces the input
sizes (and, on request, kernel sizes) by symbols and hands back the network with a point
where it is valid. :func:`inputs_in_domain` and :func:`inputs_outside_domain` draw points
inside a network's validity domain and just outside it, solved exactly from
:attr:`~symcnn.graph.network.Network.constraints` (no sampling and filtering).

Every strategy prints as the call that made it, e.g. ``conv_layers(max_kernel_size=5)``.

A user's property test reads::

    from hypothesis import given, strategies as st
    import symcnn.strategies as scst

    @given(scst.symbolic_networks(max_layers=4), st.data())
    def test_valid_points_have_positive_outputs(case, data):
        net, _ = case
        point = data.draw(scst.inputs_in_domain(net, max_size=40))
        assert all(size >= 1 for size in net.subs(point).output_shape)

The package has one job per module: :mod:`~symcnn.strategies.layers` (single layers),
:mod:`~symcnn.strategies.networks` (sequential, symbolic and branching networks) and
:mod:`~symcnn.strategies.points` (points in and out of a validity domain); every public
name is re-exported here.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  (checked first, to name the extra when it is missing)
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'symcnn.strategies needs hypothesis: pip install "symcnn[strategies]"'
    ) from error

from .layers import (
    activation_layers,
    adaptive_pool_layers,
    batch_norm_layers,
    conv_layers,
    conv_transpose_layers,
    linear_layers,
    pool_layers,
)
from .networks import LAYER_KINDS, branching_networks, sequential_networks, symbolic_networks
from .points import inputs_in_domain, inputs_outside_domain

__all__ = [
    "LAYER_KINDS",
    "activation_layers",
    "adaptive_pool_layers",
    "batch_norm_layers",
    "branching_networks",
    "conv_layers",
    "conv_transpose_layers",
    "inputs_in_domain",
    "inputs_outside_domain",
    "linear_layers",
    "pool_layers",
    "sequential_networks",
    "symbolic_networks",
]
