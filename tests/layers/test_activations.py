"""The activations added for torchvision's CNNs, each cross-checked against its torch.nn twin.

Hardsigmoid, Mish, ELU, Softplus, Softmax, LogSoftmax and PReLU: same verdict and output
shape as torch, ``sum(p.numel())`` parameters, and no products (FlopCounterMode counts
none for them either). Softmax's ``dim`` counts torch's batch axis, which a per-sample
shape lacks: valid dims work, the batch axis and out-of-range dims raise, naming the layer.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from torchcheck import (
    assert_same_verdict,
    n_params,
    run_symcnn,
    run_torch,
    torch_layer,
    torch_settings,
)

pytestmark = pytest.mark.filterwarnings("ignore:Implicit dimension choice")

NEW = ("Hardsigmoid", "Mish", "ELU", "Softplus", "Softmax", "LogSoftmax", "PReLU")

CASES: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("Hardsigmoid", {}, (3, 5, 4)),
    ("Hardsigmoid", {"inplace": True}, (7,)),
    ("Mish", {}, (2, 3, 4, 5)),
    ("ELU", {"alpha": 0.5}, (3, 6, 6)),
    ("ELU", {"alpha": -2.0, "inplace": True}, (4, 3)),
    ("Softplus", {"beta": 2.0, "threshold": 10.0}, (3, 5, 5)),
    ("Softplus", {}, (9,)),
    ("Softmax", {"dim": 1}, (10,)),
    ("Softmax", {"dim": -1}, (3, 4, 5)),
    ("LogSoftmax", {"dim": 2}, (3, 4, 5)),
    ("LogSoftmax", {}, (3, 4, 5)),
    ("PReLU", {}, (3, 5, 5)),
    ("PReLU", {"num_parameters": 3, "init": 0.1}, (3, 5, 5)),
    ("PReLU", {"num_parameters": 6}, (6,)),
]


def flops(torch: Any, module: Any, input_shape: tuple[int, ...]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, *input_shape))
    return int(counter.get_total_flops())


def test_every_new_activation_is_public_and_mirrors_torch():
    for name in NEW:
        cls = getattr(sc, name)
        assert issubclass(cls, sc.Layer) and cls.mirrors_torch
        assert name in sc.layers.elementwise.__all__


@pytest.mark.torch
@pytest.mark.parametrize(("name", "cfg", "shape"), CASES)
def test_a_bare_module_agrees_with_torch(torch, name, cfg, shape):
    module, out, torch_err = run_torch(torch, lambda: getattr(torch.nn, name)(**cfg), shape)
    net, sc_err = run_symcnn(lambda: [getattr(sc, name)(**cfg)], shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"{name}(**{cfg}) on {shape}")
    assert net.output_shape == tuple(out.shape[1:]) == shape
    assert net.params == n_params(module)
    assert net.products == 0 == flops(torch, module, shape) // 2
    assert net.elementwise == 0 and net.bias_adds == 0 and net.buffers == 0
    # the layer builds its torch twin back, field by field
    layer = net.layers[0].layer
    assert type(torch_layer(torch, layer)) is type(module)
    assert repr(layer).startswith(f"{name}(") and layer.describe() == f"nn.{layer!r}"


# -- Softmax and LogSoftmax: dim against the batched rank ------------------------------------
@pytest.mark.torch
@torch_settings
@given(
    kind=st.sampled_from(["Softmax", "LogSoftmax"]),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
    dim=st.one_of(st.none(), st.integers(-6, 5)),
)
def test_softmax_dims_agree_with_torch_except_the_batch_axis(torch, kind, shape, dim):
    rank = len(shape) + 1  # torch's batched rank
    module, out, torch_err = run_torch(torch, lambda: getattr(torch.nn, kind)(dim=dim), shape)
    net, sc_err = run_symcnn(lambda: [getattr(sc, kind)(dim=dim)], shape)
    if dim is None:  # torch's legacy choice, read off torch itself below
        resolved = 0 if rank in (0, 1, 3) else 1
    else:
        resolved = dim
    if out is None:  # out of range: torch refuses, and so does symcnn
        assert not -rank <= resolved < rank
        assert net is None and "must lie in" in str(sc_err)
    elif resolved % rank == 0:  # the batch axis: torch runs it, symcnn refuses it
        assert net is None
        assert f"{kind}(" in str(sc_err) and "batch axis" in str(sc_err)
    else:
        assert net is not None, sc_err
        assert net.output_shape == tuple(out.shape[1:]) == shape
        assert net.params == 0 == n_params(module) and net.products == 0
    if dim is None and out is not None:
        # the implicit dim is the one torch picks: compare with explicit dims
        x = torch.arange(2 * _numel(shape), dtype=torch.float64).reshape(2, *shape) % 7
        f = torch.nn.functional.softmax if kind == "Softmax" else torch.nn.functional.log_softmax
        implicit = module(x)
        picked = [d for d in range(rank) if torch.equal(implicit, f(x, dim=d))]
        assert resolved in picked


def _numel(shape: tuple[int, ...]) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


@pytest.mark.parametrize("kind", [sc.Softmax, sc.LogSoftmax])
@pytest.mark.parametrize("dim", [1.0, "1", True, (1,)])
def test_softmax_dim_must_be_an_int_or_none(kind, dim):
    with pytest.raises(sc.ShapeError, match=rf"^{kind.__name__}: dim must be an int or None"):
        kind(dim=dim)


def test_softmax_refuses_the_batch_axis_by_name():
    with pytest.raises(sc.ShapeError, match=r"Softmax\(dim=0\) at layer 0.*batch axis"):
        sc.Sequential(sc.Softmax(0), input_shape=(10,))
    with pytest.raises(sc.ShapeError, match=r"LogSoftmax\(\) at layer 0.*implicit.*batch axis"):
        sc.Sequential(sc.LogSoftmax(), input_shape=(3, 4))  # a 3-axis batch: torch picks 0
    with pytest.raises(sc.ShapeError, match=r"Softmax\(dim=-3\).*must lie in \[-2, 1\]"):
        sc.Sequential(sc.Softmax(-3), input_shape=(10,))
    assert sc.Sequential(sc.Softmax(), input_shape=(3, 4, 4)).output_shape == (3, 4, 4)


def test_softmax_over_space_ends_the_receptive_field():
    n = sc.symbols("n")
    head = (sc.Conv2d(1, 4, 3),)
    over_channels = sc.Sequential(*head, sc.Softmax(1), input_shape=(1, n, n))
    over_width = sc.Sequential(*head, sc.LogSoftmax(-1), input_shape=(1, n, n))
    assert over_channels.layers[-1].receptive_field == (3, 3)
    assert over_width.layers[-1].receptive_field is None


# -- PReLU: one slope, or one per channel ----------------------------------------------------
@pytest.mark.torch
@torch_settings
@given(
    channels=st.integers(1, 6),
    num_parameters=st.integers(-1, 7),
    spatial=st.lists(st.integers(1, 3), max_size=2),
)
def test_prelu_agrees_with_torch(torch, channels, num_parameters, spatial):
    shape = (channels, *spatial)
    module, out, torch_err = run_torch(torch, lambda: torch.nn.PReLU(num_parameters), shape)
    net, sc_err = run_symcnn(lambda: [sc.PReLU(num_parameters)], shape)
    assert_same_verdict(net, sc_err, out, torch_err, f"PReLU({num_parameters}) on {shape}")
    if net is None:
        assert "PReLU(" in str(sc_err) and "num_parameters" in str(sc_err)
        return
    assert num_parameters in (1, channels)
    assert net.output_shape == tuple(out.shape[1:])
    assert net.params == n_params(module) == num_parameters
    assert net.products == 0 == flops(torch, module, shape) // 2 and net.elementwise == 0


def test_prelu_states_the_channel_rule():
    assert sc.Sequential(sc.PReLU(8), input_shape=(8, 4, 4)).params == 8
    assert sc.Sequential(sc.PReLU(), input_shape=(8, 4, 4)).params == 1
    with pytest.raises(
        sc.ShapeError,
        match=r"^PReLU\(num_parameters=3\) at layer 0 \(prelu1\): num_parameters must be 1 or "
        r"the input's channel count .* \(got input channels = 8, num_parameters = 3\)$",
    ):
        sc.Sequential(sc.PReLU(3), input_shape=(8, 4, 4))
    with pytest.raises(sc.ShapeError, match="num_parameters must be positive"):
        sc.PReLU(0)
    with pytest.raises(sc.ShapeError, match=r"^PReLU: init must be a real number"):
        sc.PReLU(init="0.25")


def test_a_symbolic_prelu_is_one_slope_or_one_per_channel():
    c, k = sc.symbols("C k")
    net = sc.Sequential(sc.Conv2d(3, c, 3), sc.PReLU(k), input_shape=(3, 8, 8))
    assert net.params == 3 * 9 * c + c + k
    assert net.is_valid({c: 5, k: 5}) and net.is_valid({c: 5, k: 1})
    assert not net.is_valid({c: 5, k: 2})
    per_channel = sc.Sequential(sc.Conv2d(3, c, 3), sc.PReLU(c), input_shape=(3, 8, 8))
    assert not any("num_parameters" in cond.rule for cond in per_channel.conditions)


# -- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: sc.ELU(alpha="1"), r"^ELU: alpha must be a real number \(got '1'\)$"),
        (lambda: sc.Softplus(beta=None), r"^Softplus: beta must be a real number"),
        (lambda: sc.Softplus(threshold=True), r"^Softplus: threshold must be a real number"),
    ],
)
def test_real_arguments_are_checked(build, message):
    with pytest.raises(sc.ShapeError, match=message):
        build()


def test_activations_count_nothing_but_prelu_slopes():
    c = sc.symbols("C")
    layers = [sc.Hardsigmoid(), sc.Mish(), sc.ELU(), sc.Softplus(), sc.Softmax(1)]
    net = sc.Sequential(*layers, sc.LogSoftmax(1), sc.PReLU(c), input_shape=(c, 6, 6))
    assert net.params == c and net.products == 0 and net.elementwise == 0
    assert net.output_shape == (c, 6, 6)
