"""benchmarks/bench_peers.py's agreement logic on small networks, so the harness cannot rot.

Nothing here is timed: the benchmark's own functions derive a network, evaluate it, count
a hooked forward pass and compare, on LeNet and a narrow ResNet-18 at small sizes. The peer
tools (torchinfo, fvcore, thop, ptflops) are optional and skipped when absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require

pytestmark = pytest.mark.slow
torch = require("torch")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_peers as bp  # noqa: E402 - needs torch, imported through require() above
import torchzoo as zoo  # noqa: E402
from hookcount import count_forward  # noqa: E402

LENET = bp.ModelSpec("LeNet (seed)", zoo.SeedLeNet, 1, 28, (28, 33))
RESNET = bp.ModelSpec("ResNet-18 small", lambda: zoo.resnet18(width=0.25), 3, 64, (64, 128))


@pytest.fixture(scope="module")
def derived():
    """Each small network built once in torch and derived once with symbolic H and W."""
    torch.manual_seed(0)
    out = {}
    for spec in (LENET, RESNET):
        model = spec.build().eval()
        out[spec.name] = (spec, model, bp.derive_network(spec, model))
    return out


@pytest.mark.torch
@pytest.mark.parametrize("name", [LENET.name, RESNET.name])
def test_totals_equal_hook_counts(derived, name):
    spec, model, net = derived[name]
    params, products = (int(v) for v in bp.symcnn_totals(net, spec.size, "raise"))
    hooks = count_forward(model, (spec.channels, spec.size, spec.size))
    assert bp.hook_agreement(params, products, hooks)
    assert params == sum(p.numel() for p in model.parameters())
    conventions = bp.conventions_at(net, spec.size)
    assert conventions["products"] == hooks.products
    assert conventions["mult-adds"] == hooks.products + hooks.bias_adds
    assert bp.classify(hooks.products, conventions) == "= products"


@pytest.mark.torch
def test_sweep_sizes_and_sample(derived):
    _, _, lenet = derived[LENET.name]
    # x.view(-1, 256) fits only where the last map is 2×2.
    assert bp.sweep_sizes(lenet).tolist() == list(range(28, 34))
    spec, model, net = derived[RESNET.name]
    sizes = bp.sweep_sizes(net, max_size=40)
    assert sizes.tolist() == list(range(1, 41))
    sample = bp.spread_sample(sizes, 4)
    assert sample[0] == 1 and sample[-1] == 40 and len(sample) == 4
    params, products = bp.symcnn_totals(net, sizes)
    for size in sample:
        hooks = count_forward(model, (spec.channels, size, size))
        assert bp.hook_agreement(int(params[size - 1]), int(products[size - 1]), hooks), size


def test_extrapolate_is_exact_for_linear_cost_in_pixels():
    sizes = np.arange(1, 101)
    sample = [1, 50, 100]
    times = [0.5 + 2e-3 * s * s for s in sample]
    assert bp.extrapolate(sizes, sample, times) == pytest.approx(
        sum(0.5 + 2e-3 * s * s for s in range(1, 101))
    )


def test_explain_finds_one_rule_over_points():
    quantities = [
        {"bias adds": 10, "BN outputs": 100, "ReLU outputs": 7},
        {"bias adds": 20, "BN outputs": 300, "ReLU outputs": 9},
        {"bias adds": 0, "BN outputs": 0, "ReLU outputs": 0},
    ]
    points = [
        bp.Point(f"net{i}", 1, 2 * q["BN outputs"] + q["bias adds"], q)
        for i, q in enumerate(quantities)
    ]
    rule = bp.explain(points)
    assert rule is not None
    assert rule.formula() == "products + bias adds + 2·BN outputs"
    assert rule.exact == ("net0", "net1", "net2") and not rule.residuals
    # A difference at one point only is no rule.
    assert bp.explain(points[:1] + [bp.Point("x", 1, 0, quantities[2])]) is None


def test_interleaved_gives_every_run_its_repeats():
    calls = {"a": 0, "b": 0}

    def run(name):
        def go():
            calls[name] += 1
            return calls[name]

        return go

    timed = bp.interleaved({"a": run("a"), "b": run("b")}, {"a": 3, "b": 1})
    assert calls == {"a": 3, "b": 1}
    assert timed["a"][1] == 3 and timed["a"][0] >= 0


PEERS = ["torchinfo", "fvcore", "thop", "ptflops"]


@pytest.mark.torch
@pytest.mark.parametrize("peer", PEERS)
def test_peer_counts_are_classified(derived, peer):
    pytest.importorskip("fvcore.nn" if peer == "fvcore" else peer)
    points = []
    for name in (LENET.name, RESNET.name):
        spec, model, net = derived[name]
        shape = (spec.channels, spec.size, spec.size)
        result = bp.PEER_RUNNERS[peer](model, shape)
        conventions = bp.conventions_at(net, spec.size)
        params = int(net.params.subs({bp.H: spec.size, bp.W: spec.size}))
        assert result.params in (None, params)
        verdict = bp.classify(result.count, conventions)
        assert verdict.startswith(("= ", "products "))
        hooks = count_forward(model, shape)
        points.append(
            bp.Point(name, spec.size, result.count - conventions["products"], hooks.explainers())
        )
    if peer == "torchinfo":
        # Measured: torchinfo's Mult-Adds add BatchNorm's weight and bias once each.
        rule = bp.explain(points)
        assert rule is not None and rule.exact == (LENET.name, RESNET.name)
        assert rule.formula() == "products + bias adds + BN affine params"
