"""symcnn.strategies: what each strategy promises, its argument checks, and its import rules.

Examples run at the active hypothesis profile (conftest: 200 under CI=true, 60 locally).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import symcnn as sc
import symcnn.strategies as scst

from conftest import seed_layers

# Drawing a network derives it with sympy (tens of milliseconds each): generation is slow
# by design and must not trip hypothesis' too_slow health check on a loaded CI machine.
# The example budget stays the active profile's (conftest: 200 under CI=true, 60 locally).
slow_draws = settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

n, k = sc.symbols("n k")
H, W = sc.symbols("H W")


# -- imports ---------------------------------------------------------------------------------
def test_import_symcnn_does_not_import_hypothesis():
    code = (
        "import sys, symcnn; print('hypothesis' in sys.modules, 'symcnn.strategies' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_strategies_without_hypothesis_name_the_extra():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import symcnn.strategies\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        'symcnn.strategies needs hypothesis: pip install "symcnn[strategies]"'
    )


def test_nothing_is_reexported_from_symcnn():
    assert not set(scst.__all__) & set(sc.__all__)
    assert sorted(scst.__all__) == [
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


def test_public_names_live_in_their_modules():
    homes = {
        "symcnn.strategies.layers": [
            "activation_layers",
            "adaptive_pool_layers",
            "batch_norm_layers",
            "conv_layers",
            "conv_transpose_layers",
            "linear_layers",
            "pool_layers",
        ],
        "symcnn.strategies.networks": [
            "branching_networks",
            "sequential_networks",
            "symbolic_networks",
        ],
        "symcnn.strategies.points": ["inputs_in_domain", "inputs_outside_domain"],
    }
    for module, names in homes.items():
        assert all(getattr(scst, name).__module__ == module for name in names)
    assert scst.LAYER_KINDS is sys.modules["symcnn.strategies.networks"].LAYER_KINDS


# -- argument checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: scst.conv_layers(ndim=4), r"ndim must be 1, 2 or 3 \(got 4\)"),
        (
            lambda: scst.conv_layers(min_out_channels=5, max_out_channels=2),
            r"min_out_channels=5 must not exceed max_out_channels=2",
        ),
        (lambda: scst.conv_layers(max_kernel_size=0), r"max_kernel_size must be at least 1"),
        (lambda: scst.conv_layers(max_stride=True), r"max_stride must be an int \(got True\)"),
        (
            lambda: scst.conv_layers(input_shape=(3, 0, 4)),
            r"input_shape must be .*positive ints \(got \(3, 0, 4\)\)",
        ),
        (
            lambda: scst.conv_layers(input_shape=(3, 8, 8), ndim=1),
            r"ndim=1 contradicts input_shape=\(3, 8, 8\)",
        ),
        (
            lambda: scst.conv_layers(input_shape=(3, 8, 8), in_channels=4),
            r"in_channels=4 contradicts input_shape=\(3, 8, 8\)",
        ),
        (lambda: scst.conv_layers(input_shape=5), r"input_shape must be a tuple of ints"),
        (lambda: scst.pool_layers(kinds=["lp"]), r"kinds must be a non-empty subset"),
        (lambda: scst.pool_layers(ceil_mode="yes"), r"ceil_mode must be None or a bool"),
        (lambda: scst.linear_layers(lazy=1), r"lazy must be None or a bool"),
        (lambda: scst.linear_layers(in_features=0), r"in_features must be at least 1"),
        (lambda: scst.batch_norm_layers(num_features=-1), r"num_features must be at least 1"),
        (lambda: scst.adaptive_pool_layers(max_output_size=0), r"max_output_size must be"),
        (
            lambda: scst.sequential_networks(min_layers=3, max_layers=2),
            r"min_layers=3 must not exceed max_layers=2",
        ),
        (
            lambda: scst.sequential_networks(kinds=["conv", "attention"]),
            r"kinds must be a non-empty subset .*unknown: \['attention'\]",
        ),
        (
            lambda: scst.sequential_networks(input_shape=(1, 8, 8), ndim=3),
            r"ndim=3 contradicts",
        ),
        (lambda: scst.symbolic_networks(square=0), r"square must be None or a bool"),
        (
            lambda: scst.branching_networks(input_shape=(1, 8)),
            r"input_shape must be 2-D \(C, \*spatial\)",
        ),
        (lambda: scst.inputs_in_domain("net"), r"net must be a symcnn Network \(got 'net'\)"),
        (
            lambda: scst.inputs_in_domain(
                sc.Sequential(sc.ReLU(), input_shape=(1, n, n)), max_size=0
            ),
            r"max_size must be at least 1",
        ),
        (
            lambda: scst.inputs_in_domain(
                sc.Sequential(sc.ReLU(), input_shape=(1, n, n)), fixed={"m": 3}
            ),
            r"fixed: cannot substitute 'm': not a symbol of this network",
        ),
        (
            lambda: scst.inputs_outside_domain(sc.Sequential(sc.ReLU(), input_shape=(1, n, n))),
            r"has no constraint on a symbol that is not fixed: every point is valid",
        ),
    ],
)
def test_bad_arguments_raise_invalid_argument(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


# -- layers ----------------------------------------------------------------------------------
shapes_2d = st.tuples(st.integers(1, 6), st.integers(1, 12), st.integers(1, 12))
shapes_nd = st.integers(1, 3).flatmap(
    lambda nd: st.tuples(st.integers(1, 6), *[st.integers(1, 9)] * nd)
)


@given(shapes_nd, st.data())
def test_conv_layers_are_valid_on_their_input(shape, data):
    layer = data.draw(scst.conv_layers(input_shape=shape, max_out_channels=6))
    net = sc.Sequential(layer, input_shape=shape)
    assert type(layer).__name__ == f"Conv{len(shape) - 1}d"
    assert layer.in_channels == shape[0]
    assert 1 <= layer.out_channels <= 6
    assert layer.out_channels % layer.groups == 0 and shape[0] % layer.groups == 0
    assert all(size >= 1 for size in net.output_shape)
    if layer.padding == "same":
        assert layer.stride == (1,) * (len(shape) - 1)
        assert net.output_shape[1:] == shape[1:]


@given(shapes_nd, st.data())
def test_conv_transpose_layers_are_valid_on_their_input(shape, data):
    layer = data.draw(scst.conv_transpose_layers(input_shape=shape))
    net = sc.Sequential(layer, input_shape=shape)
    assert all(size >= 1 for size in net.output_shape)
    for op, s, d in zip(layer.output_padding, layer.stride, layer.dilation, strict=True):
        assert op < s or op < d


@given(shapes_nd, st.data())
def test_pool_layers_are_valid_on_their_input(shape, data):
    layer = data.draw(scst.pool_layers(input_shape=shape))
    net = sc.Sequential(layer, input_shape=shape)
    assert net.output_shape[0] == shape[0]
    assert all(size >= 1 for size in net.output_shape)
    assert all(2 * p <= kk for p, kk in zip(layer.padding, layer.kernel_size, strict=True))


@given(st.integers(1, 3), st.data())
def test_layers_without_input_shape_use_ndim_and_channels(ndim, data):
    conv = data.draw(scst.conv_layers(ndim=ndim, in_channels=5, max_kernel_size=3))
    assert conv.in_channels == 5 and len(conv.kernel_size) == ndim
    assert max(conv.kernel_size) <= 3
    pool = data.draw(scst.pool_layers(ndim=ndim, kinds=["avg"], ceil_mode=True))
    assert type(pool).__name__ == f"AvgPool{ndim}d" and pool.ceil_mode
    up = data.draw(scst.conv_transpose_layers(ndim=ndim, in_channels=2, max_out_channels=2))
    assert up.in_channels == 2 and up.out_channels <= 2


@given(
    scst.linear_layers(in_features=12, min_out_features=3, max_out_features=5, lazy=False),
    scst.linear_layers(lazy=True),
    scst.adaptive_pool_layers(max_output_size=2),
    scst.activation_layers(),
    scst.batch_norm_layers(num_features=7),
)
def test_other_layer_strategies(linear, lazy, adaptive, activation, bn):
    assert isinstance(linear, sc.Linear) and linear.in_features == 12
    assert 3 <= linear.out_features <= 5
    assert isinstance(lazy, sc.LazyLinear)
    out = sc.Sequential(adaptive, input_shape=(3, 5, 4)).output_shape
    assert out[0] == 3 and out[1] in (1, 2, 5) and out[2] in (1, 2)
    assert sc.Sequential(activation, input_shape=(3, 5, 4)).output_shape == (3, 5, 4)
    assert bn.num_features == 7 and sc.Sequential(bn, input_shape=(7, 2, 2)).params in (0, 14)


# -- networks --------------------------------------------------------------------------------
@slow_draws
@given(scst.sequential_networks(min_layers=2, max_layers=6, max_channels=5, max_size=10))
def test_sequential_networks_are_valid_and_bounded(net):
    assert 2 <= len(net) <= 6
    assert net.constraints == ()
    assert net.free_symbols == set()
    c, *spatial = net.input_shape
    assert 1 <= c <= 5 and all(1 <= s <= 10 for s in spatial)
    for record in net.layers:
        if isinstance(record.layer, (sc.Conv2d, sc.ConvTranspose2d)):
            assert record.layer.out_channels <= 5


@slow_draws
@given(scst.sequential_networks(input_shape=(2, 9), kinds=["conv", "pool", "flatten", "linear"]))
def test_sequential_networks_follow_input_shape_and_kinds(net):
    assert net.input_shape == (2, 9)
    allowed = (sc.Conv1d, sc.MaxPool1d, sc.AvgPool1d, sc.Flatten, sc.Linear, sc.LazyLinear)
    assert all(isinstance(r.layer, allowed + (sc.Identity,)) for r in net.layers)


@slow_draws
@given(scst.symbolic_networks(symbolic_kernels=True, square=True))
def test_symbolic_networks_are_valid_at_their_point(case):
    net, point = case
    assert net.is_valid(point)
    assert set(point) == net.free_symbols
    assert n in point
    assert all(str(s) == "n" or str(s).startswith("k") for s in point)
    assert net.subs(point).constraints == ()


@slow_draws
@given(scst.branching_networks(max_blocks=3))
def test_branching_networks_are_valid(net):
    assert net.constraints == ()
    assert len(net.inputs) == 1 and len(net.outputs) == 1


@slow_draws
@given(scst.branching_networks(symbolic=True, min_blocks=2))
def test_symbolic_branching_networks_are_valid_at_their_point(case):
    net, point = case
    assert set(point) == {H, W}
    assert net.is_valid(point)


# -- points ----------------------------------------------------------------------------------
def seed_net():
    return sc.Sequential(
        *seed_layers(k)[:6], sc.Flatten(), sc.LazyLinear(10), input_shape=(1, n, n)
    )


SEED = seed_net()


@slow_draws
@given(scst.inputs_in_domain(SEED, fixed={"k": 5}, max_size=60))
def test_inputs_in_domain_of_the_seed_network(point):
    assert point[k] == 5
    assert point[n] >= 22
    assert SEED.is_valid(point)


@slow_draws
@given(scst.inputs_in_domain(SEED, max_size=30))
def test_inputs_in_domain_solve_sizes_for_the_kernel_drawn(point):
    assert point[n] >= 4 * point[k] + 2
    assert SEED.is_valid(point)


@slow_draws
@given(scst.inputs_outside_domain(SEED, fixed={k: 5}))
def test_inputs_outside_domain_are_just_below_min_input(point):
    assert point[k] == 5
    assert 18 <= point[n] <= 21
    assert SEED.violation(point) is not None


def unet():
    """Two levels: pool, pool, then upsample and concatenate each skip."""
    x = sc.Input((1, H, W))
    down = sc.MaxPool2d(2)(x)
    inner = sc.Concat()(down, sc.Upsample(scale_factor=2)(sc.MaxPool2d(2)(down)))
    return sc.Network(x, sc.Concat()(x, sc.Upsample(scale_factor=2)(inner)))


UNET = unet()


def test_unet_domain_is_divisibility_by_four():
    # the simplifier leaves 2·⌊H/4⌋ = ⌊H/2⌋ as it is; together the rules say H mod 4 = 0
    assert UNET.constraints == (
        H >= 4,
        W >= 4,
        sympy.Eq(2 * sympy.floor(H / 4), sympy.floor(H / 2)),
        sympy.Eq(2 * sympy.floor(W / 4), sympy.floor(W / 2)),
        sympy.Eq(sympy.Mod(H, 2), 0),
        sympy.Eq(sympy.Mod(W, 2), 0),
    )
    assert [h for h in range(1, 30) if UNET.is_valid({H: h, W: 8})] == [4, 8, 12, 16, 20, 24, 28]


@slow_draws
@given(scst.inputs_in_domain(UNET, max_size=40))
def test_inputs_in_domain_meet_divisibility(point):
    assert point[H] % 4 == 0 and point[W] % 4 == 0
    assert 4 <= point[H] <= 40 and 4 <= point[W] <= 40


@slow_draws
@given(scst.inputs_outside_domain(UNET, max_size=40))
def test_inputs_outside_domain_break_divisibility(point):
    assert (point[H] % 4, point[W] % 4) != (0, 0)
    assert not UNET.is_valid(point)


LINEAR_AFTER_FLATTEN = sc.Sequential(
    sc.Conv2d(1, 2, 3), sc.Flatten(), sc.Linear(2 * 4 * 6, 3), input_shape=(1, H, W)
)


@slow_draws
@given(scst.inputs_in_domain(LINEAR_AFTER_FLATTEN, max_size=12))
def test_coupled_rules_are_solved_jointly(point):
    # 2·(H − 2)·(W − 2) = 48: (H, W) ∈ {(3, 26), (4, 14), (5, 10), (6, 8), (8, 6), ...}
    assert 2 * (point[H] - 2) * (point[W] - 2) == 48


@slow_draws
@given(scst.inputs_outside_domain(LINEAR_AFTER_FLATTEN, max_size=12))
def test_points_outside_a_coupled_rule(point):
    assert 2 * (point[H] - 2) * (point[W] - 2) != 48
