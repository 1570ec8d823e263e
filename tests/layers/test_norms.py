"""The normalization layers, each against torch: shape, parameters, buffers, products.

Every layer of ``symcnn/layers/norm.py`` runs beside its ``torch.nn`` module on a concrete
input: the same output shape, ``sum(p.numel())`` parameters, ``sum(b.numel())`` buffers,
and no products, where PyTorch's FlopCounterMode counts no flops for a normalization at
all (train or eval). The elementwise count is one multiplication per element. Properties:
GroupNorm accepts exactly the group counts that divide the channels, and LayerNorm exactly
the normalized shapes that end the input, as torch does; refusals name the layer, the rule
and the values.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")
nn = torch.nn

#: (symcnn layer, the torch module, a per-sample input both accept)
CASES: list[tuple[sc.Layer, Any, tuple[int, ...]]] = [
    (sc.BatchNorm1d(6), nn.BatchNorm1d(6), (6,)),
    (sc.BatchNorm1d(6), nn.BatchNorm1d(6), (6, 5)),
    (sc.BatchNorm1d(6, affine=False), nn.BatchNorm1d(6, affine=False), (6, 5)),
    (sc.BatchNorm1d(6, bias=False), nn.BatchNorm1d(6, bias=False), (6, 5)),
    (
        sc.BatchNorm2d(6, track_running_stats=False),
        nn.BatchNorm2d(6, track_running_stats=False),
        (6, 3, 4),
    ),
    (sc.BatchNorm3d(4), nn.BatchNorm3d(4), (4, 2, 3, 5)),
    (sc.BatchNorm3d(4, momentum=None), nn.BatchNorm3d(4, momentum=None), (4, 2, 3, 5)),
    (sc.InstanceNorm1d(6), nn.InstanceNorm1d(6), (6, 5)),
    (sc.InstanceNorm1d(6, affine=True), nn.InstanceNorm1d(6, affine=True), (6, 5)),
    (
        sc.InstanceNorm2d(6, track_running_stats=True),
        nn.InstanceNorm2d(6, track_running_stats=True),
        (6, 3, 4),
    ),
    (
        sc.InstanceNorm2d(6, affine=True, track_running_stats=True, bias=False),
        nn.InstanceNorm2d(6, affine=True, track_running_stats=True, bias=False),
        (6, 3, 4),
    ),
    (sc.InstanceNorm3d(4, affine=True), nn.InstanceNorm3d(4, affine=True), (4, 2, 3, 5)),
    (sc.GroupNorm(3, 6), nn.GroupNorm(3, 6), (6, 3, 4)),
    (sc.GroupNorm(2, 6), nn.GroupNorm(2, 6), (6,)),
    (sc.GroupNorm(6, 6, affine=False), nn.GroupNorm(6, 6, affine=False), (6, 2, 3, 5)),
    (sc.GroupNorm(1, 6, bias=False), nn.GroupNorm(1, 6, bias=False), (6, 5)),
    (sc.LayerNorm(5), nn.LayerNorm(5), (6, 5)),
    (sc.LayerNorm(5), nn.LayerNorm(5), (5,)),
    (sc.LayerNorm((3, 4)), nn.LayerNorm((3, 4)), (6, 3, 4)),
    (sc.LayerNorm([6, 3, 4], bias=False), nn.LayerNorm([6, 3, 4], bias=False), (6, 3, 4)),
    (sc.LayerNorm(4, elementwise_affine=False), nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    (sc.LocalResponseNorm(2), nn.LocalResponseNorm(2), (6, 5)),
    (sc.LocalResponseNorm(5, 1e-3, 0.5, 2.0), nn.LocalResponseNorm(5, 1e-3, 0.5, 2.0), (6, 3, 4)),
    (sc.LocalResponseNorm(3), nn.LocalResponseNorm(3), (6, 2, 3, 4)),
]


def flops(module: Any, x: Any, *, training: bool) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module.train(training)(x)
    return int(counter.get_total_flops())


@pytest.mark.parametrize(("layer", "module", "shape"), CASES, ids=[repr(c[0]) for c in CASES])
def test_each_norm_counts_what_torch_counts(layer, module, shape):
    net = sc.Sequential(layer, input_shape=shape)
    x = torch.randn(2, *shape)  # two samples: batch norm trains on more than one value
    with torch.no_grad():
        out = module.eval()(x)
    assert net.output_shape == tuple(out.shape[1:]) == shape
    assert net.params == sum(p.numel() for p in module.parameters())
    assert net.buffers == sum(b.numel() for b in module.buffers())
    assert net.products == 0 == flops(module, x, training=True) == flops(module, x, training=False)
    assert net.elementwise == math.prod(shape)  # one scaling per element
    assert net.bias_adds == 0
    for value in (net.params, net.buffers, net.elementwise):
        assert type(value) is not float and value.is_Integer


@pytest.mark.parametrize(("layer", "module", "shape"), CASES, ids=[repr(c[0]) for c in CASES])
def test_each_norm_mirrors_the_torch_module(layer, module, shape):
    assert type(layer).mirrors_torch and type(layer).__name__ == type(module).__name__
    assert sc.from_torch(module, shape).layers[0].layer == layer


def test_batchnorm_rules_live_in_one_base():
    bases = {
        type(sc.BatchNorm1d(1)).__mro__[1] is type(n(1)).__mro__[1]
        for n in (sc.BatchNorm2d, sc.BatchNorm3d)
    }
    assert bases == {True}
    assert sc.BatchNorm2d(4, bias=False).params(sc.Shape((4, 2, 2))).text() == "4"
    assert sc.BatchNorm1d(4).buffers(sc.Shape((4,))).text() == "2·4+1"


# -- refusals: the layer, the rule, the values ----------------------------------------------------
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: sc.Sequential(sc.BatchNorm1d(4), input_shape=(4, 3, 3)),
            r"^BatchNorm1d\(4\) at layer 0 \(bn1\): the input must have 1 or 2 axes, \(C,\) or "
            r"\(C, L\), per sample \(got 4×3×3, 3 axes\)$",
        ),
        (
            lambda: sc.Sequential(sc.BatchNorm3d(4), input_shape=(4, 3, 3)),
            r"^BatchNorm3d\(4\) at layer 0 \(bn1\) needs a per-sample input of 4 axes",
        ),
        (
            lambda: sc.Sequential(sc.BatchNorm1d(4), input_shape=(3, 5)),
            r"^BatchNorm1d\(4\) at layer 0 \(bn1\): the input must have num_features = 4 channels "
            r"\(got input channels = 3, num_features = 4\)$",
        ),
        (
            lambda: sc.Sequential(sc.InstanceNorm2d(4), input_shape=(4, 1, 1)),
            r"^InstanceNorm2d\(4\) at layer 0 \(inorm1\): normalizing with the input's own "
            r"statistics needs more than one position per channel \(got positions = 1\)$",
        ),
        (
            lambda: sc.Sequential(sc.InstanceNorm1d(4, affine=True), input_shape=(3, 5)),
            r"^InstanceNorm1d\(4, affine=True\) at layer 0 \(inorm1\): the input must have "
            r"num_features = 4 channels \(got input channels = 3, num_features = 4\)$",
        ),
        (
            lambda: sc.Sequential(sc.GroupNorm(2, 4), input_shape=(6, 3)),
            r"^GroupNorm\(2, 4\) at layer 0 \(gn1\): the input must have num_channels = 4 "
            r"channels \(got input channels = 6, num_channels = 4\)$",
        ),
        (
            lambda: sc.Sequential(sc.GroupNorm(2, 4, affine=False), input_shape=(5, 3)),
            r"^GroupNorm\(2, 4, affine=False\) at layer 0 \(gn1\): num_groups must divide the "
            r"input's channels \(got input channels = 5, num_groups = 2\)$",
        ),
        (
            lambda: sc.GroupNorm(0, 4),
            r"^GroupNorm\(0, 4\): num_groups must be positive \(got num_groups = 0\)$",
        ),
        (
            lambda: sc.Sequential(sc.LayerNorm((4, 5)), input_shape=(2, 3, 5)),
            r"^LayerNorm\(\(4, 5\)\) at layer 0 \(ln1\): the input's last 2 sizes must equal "
            r"normalized_shape = \(4, 5\) \(got input axis 1 = 3, normalized_shape\[0\] = 4\)$",
        ),
        (
            lambda: sc.Sequential(sc.LayerNorm((3, 5)), input_shape=(5,)),
            r"^LayerNorm\(\(3, 5\)\) at layer 0 \(ln1\): the input must have at least 2 axes, "
            r"normalized_shape's, per sample \(got 5, 1 axes\)$",
        ),
        (
            lambda: sc.LayerNorm(()),
            r"^LayerNorm: normalized_shape must have at least one size \(got \(\)\)$",
        ),
        (
            lambda: sc.LayerNorm(0),
            r"^LayerNorm\(0\): normalized_shape must be positive \(got normalized_shape = 0\)$",
        ),
        (
            lambda: sc.Sequential(sc.LocalResponseNorm(2), input_shape=(5,)),
            r"^LocalResponseNorm\(2\) at layer 0 \(lrn1\): the input must have at least 2 axes, "
            r"\(C, L, \.\.\.\), per sample \(got 5, 1 axes\)$",
        ),
        (
            lambda: sc.LocalResponseNorm(0),
            r"^LocalResponseNorm\(0\): size must be positive \(got size = 0\)$",
        ),
        (
            lambda: sc.LocalResponseNorm(2, k="x"),
            r"^LocalResponseNorm: k must be a real number \(got 'x'\)$",
        ),
        (
            lambda: sc.BatchNorm1d(4, eps=0),
            r"^BatchNorm1d: eps must be a positive, finite number \(got 0\)$",
        ),
        (
            lambda: sc.GroupNorm(2, 4, eps=-1e-5),
            r"^GroupNorm: eps must be a non-negative, finite number \(got -1e-05\)$",
        ),
        (
            lambda: sc.InstanceNorm3d(4, momentum="x"),
            r"^InstanceNorm3d: momentum must be a real number or None \(got 'x'\)$",
        ),
    ],
)
def test_refusals_name_the_layer_the_rule_and_the_values(build, message):
    with pytest.raises(sc.ShapeError, match=message):
        build()


def test_torch_refuses_what_symcnn_refuses_there():
    """The refusals above that mirror a torch rule (not the stricter eps ones)."""
    for build, x in [
        (lambda: nn.BatchNorm1d(4), (2, 4, 3, 3)),
        (lambda: nn.InstanceNorm2d(4).eval(), (2, 4, 1, 1)),
        (lambda: nn.InstanceNorm1d(4, affine=True), (2, 3, 5)),
        (lambda: nn.GroupNorm(2, 4), (2, 6, 3)),
        (lambda: nn.GroupNorm(2, 4, affine=False), (2, 5, 3)),
        (lambda: nn.GroupNorm(3, 4), (2, 4)),
        (lambda: nn.LayerNorm((4, 5)), (2, 2, 3, 5)),
        (lambda: nn.LayerNorm(()), (2, 3)),
        (lambda: nn.LocalResponseNorm(2), (2, 5)),
        (lambda: nn.LocalResponseNorm(0), (2, 5, 3)),
    ]:
        with pytest.raises((RuntimeError, ValueError)):
            build()(torch.randn(*x))


def test_instance_norm_without_weights_ignores_num_features_as_torch_does():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that num_features is unused
        out = nn.InstanceNorm1d(4)(torch.randn(2, 3, 5))
    net = sc.Sequential(sc.InstanceNorm1d(4), input_shape=(3, 5))
    assert net.output_shape == tuple(out.shape[1:]) and net.params == net.buffers == 0


def test_symbolic_sizes_become_conditions():
    g, c, n = sc.symbols("g c n")
    net = sc.Sequential(sc.GroupNorm(g, c), input_shape=(c, n))
    assert net.params == 2 * c and net.elementwise == c * n
    assert not net.is_valid({g: 3, c: 8, n: 4}) and net.is_valid({g: 4, c: 8, n: 4})
    assert "num_groups must divide num_channels" in net.violation({g: 3, c: 8, n: 4})
    ln = sc.Sequential(sc.LayerNorm(c), input_shape=(n, c))  # channels-last, matched
    assert ln.params == 2 * c and ln.conditions == ()
    k = sc.symbols("k")
    mismatched = sc.Sequential(sc.LayerNorm(k), input_shape=(n, c))
    assert mismatched.is_valid({k: 5, c: 5, n: 2}) and not mismatched.is_valid({k: 4, c: 5, n: 2})
    assert sc.LayerNorm((c, k)).subs({c: 2, k: 3}) == sc.LayerNorm((2, 3))


def test_repr_keeps_layer_norms_tuple():
    assert repr(sc.LayerNorm((4, 4))) == "LayerNorm((4, 4))"
    assert repr(sc.LayerNorm([7], eps=1e-6, bias=False)) == "LayerNorm(7, eps=1e-06, bias=False)"
    assert sc.LayerNorm(7) == sc.LayerNorm((7,)) == sc.LayerNorm([7])
    assert repr(sc.GroupNorm(2, 4, affine=False)) == "GroupNorm(2, 4, affine=False)"


# -- properties against torch ----------------------------------------------------------------------
@torch_settings
@given(groups=st.integers(1, 12), channels=st.integers(1, 24), affine=st.booleans())
def test_group_norm_accepts_exactly_the_divisors(groups, channels, affine):
    try:
        module = nn.GroupNorm(groups, channels, affine=affine)
        out = module(torch.randn(2, channels, 3))
    except ValueError as err:
        assert "divisible" in str(err)
        out = None
    if channels % groups == 0:
        assert out is not None
        net = sc.Sequential(
            sc.GroupNorm(groups, channels, affine=affine), input_shape=(channels, 3)
        )
        assert net.output_shape == tuple(out.shape[1:])
        assert net.params == sum(p.numel() for p in module.parameters())
    else:
        assert out is None
        rule = (
            f"GroupNorm({groups}, {channels}{', affine=False' if not affine else ''}): num_groups "
            f"must divide num_channels (got num_channels = {channels}, num_groups = {groups})"
        )
        with pytest.raises(sc.ShapeError, match=f"^{re.escape(rule)}$"):
            sc.GroupNorm(groups, channels, affine=affine)


sizes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@torch_settings
@given(shape=sizes, normalized=sizes, take=st.integers(0, 3), bias=st.booleans())
def test_layer_norm_accepts_exactly_the_trailing_sizes(shape, normalized, take, bias):
    if take:  # often the input's own trailing sizes: the matching case
        normalized = shape[-min(take, len(shape)) :]
    layer = sc.LayerNorm(normalized, bias=bias)
    try:
        net = sc.Sequential(layer, input_shape=shape)
    except sc.ShapeError as err:
        net, message = None, str(err)
    if len(normalized) > len(shape):
        # torch would take the batch axis for a normalized one: symcnn's shapes are per sample
        assert net is None and "per sample" in message
        return
    module = nn.LayerNorm(normalized, bias=bias)
    try:
        out = module(torch.randn(1, *shape))
    except RuntimeError:
        out = None
    assert (net is None) == (out is None) == (shape[len(shape) - len(normalized) :] != normalized)
    if net is None:
        assert message.startswith(f"{layer!r} at layer 0 (ln1): the input's last")
        assert "must equal normalized_shape" in message and "(got input axis" in message
        return
    assert net.output_shape == tuple(out.shape[1:])
    assert net.params == sum(p.numel() for p in module.parameters())
