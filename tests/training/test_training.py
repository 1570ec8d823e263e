"""Training steps in closed form, without torch: formulas, memory, inverse questions, errors.

The numbers themselves are checked against PyTorch in test_training_torch.py; here the
API's promises: exact integers, the batch as a symbol or a size, memory as the sum of
its parts, the largest batch exact at its boundary, and refusals that name the layer.
"""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.strategies import branching_networks, symbolic_networks

B, N, K = sc.symbols("B n k")


def seed_net(n=N):
    return sc.Sequential(
        sc.Conv2d(1, 32, 5),
        sc.ReLU(),
        sc.MaxPool2d(2),
        sc.Flatten(),
        sc.LazyLinear(10),
        input_shape=(1, n, n),
    )


def test_seed_network_at_mnist_size():
    t = seed_net(28).training(batch=64)
    assert t.forward_products == 64 * (460800 + 46080)
    assert t.backward_products == 64 * (460800 + 2 * 46080)
    # image 28² float32, ReLU's 32·24² output, 32·12² int64 indices and 32·12² pooled output
    assert t.saved_bytes == 64 * (4 * 784 + 4 * 18432 + 8 * 4608 + 4 * 4608)
    params = 832 + 46090
    assert t.param_bytes == t.grad_bytes == 4 * params
    assert t.optimizer_bytes("adam") == 8 * params
    assert t.optimizer_bytes("sgd-momentum") == 4 * params
    assert t.optimizer_bytes("sgd") == 0
    assert t.memory("adam") == 16 * params + t.saved_bytes
    assert all(isinstance(v, sympy.Integer) for v in (t.memory(), t.saved_bytes))


def test_per_layer_rows_sum_to_the_totals():
    t = seed_net().training(batch=B)
    assert [r.name for r in t.layers] == ["conv1", "relu1", "pool1", "flatten1", "linear1"]
    assert [r.needs_grad for r in t.layers] == [True] * 5
    assert t.layers[0].input_grad_products == 0  # the image needs no gradient
    for quantity in ("forward_products", "backward_products", "saved_bytes"):
        rows = sympy.Add(*(getattr(r, quantity) for r in t.layers))
        assert sympy.expand(rows - getattr(t, quantity)) == 0, quantity
    assert t.layers[3].saved_bytes == 0  # Flatten: a view of what the pool keeps already


def test_layers_before_the_first_parameter_cost_nothing_backward():
    net = sc.Sequential(sc.ReLU(), sc.MaxPool2d(2), sc.Conv2d(3, 4, 3), input_shape=(3, N, N))
    t = net.training(batch=B)
    assert [r.needs_grad for r in t.layers] == [False, False, True]
    assert t.layers[0].saved_bytes == t.layers[1].saved_bytes == 0
    assert t.saved_bytes == B * 12 * (N // 2) ** 2  # the conv's input alone


def test_bfloat16_and_master_weights():
    t = seed_net(28).training(batch=1, dtype="bfloat16")
    params = 832 + 46090
    assert t.param_bytes == 2 * params
    assert t.optimizer_bytes("adam", master_weights=True) == (8 + 4) * params
    assert t.saved_bytes == 2 * 784 + 2 * 18432 + 8 * 4608 + 2 * 4608


def test_batchnorm_statistics_are_per_batch_and_its_counter_int64():
    net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.BatchNorm2d(8), input_shape=(3, N, N))
    t = net.training(batch=B)
    # the image (the conv's input), the conv's output (BatchNorm's), two float32 vectors
    assert sympy.expand(t.saved_bytes - (12 * B * N**2 + 32 * B * (N - 2) ** 2 + 4 * 2 * 8)) == 0
    assert t.buffer_bytes == 4 * 16 + 8  # running mean and var, num_batches_tracked int64


def test_subs_gives_numbers_and_checks_the_network_again():
    t = seed_net().training()
    at = t.subs({"B": 8, N: 28})
    assert at.batch == 8 and at.saved_bytes == seed_net(28).training(batch=8).saved_bytes
    with pytest.raises(sc.ShapeError, match="Conv2d"):
        t.subs({N: 3})
    with pytest.raises(sc.ShapeError, match="positive"):
        t.subs({B: 0})


def test_largest_batch_is_exact_at_its_boundary():
    t = seed_net().training()
    budget = 2**30
    best = t.largest_batch(budget, "adam", at={N: 224})
    assert t.subs({B: best, N: 224}).memory("adam") <= budget
    assert t.subs({B: best + 1, N: 224}).memory("adam") > budget
    with pytest.raises(sc.ShapeError, match="even a batch of 1"):
        t.largest_batch(1000, at={N: 224})
    with pytest.raises(sc.ShapeError, match="n missing"):
        t.largest_batch(budget)


@given(st.integers(8, 400), st.integers(10**5, 10**12))
def test_largest_batch_matches_a_search(n, budget):
    t = seed_net().training()
    at = t.subs({N: n, B: 1})
    one = int(at.memory("sgd"))
    if one > budget:
        with pytest.raises(sc.ShapeError):
            t.largest_batch(budget, "sgd", at={N: n})
        return
    best = t.largest_batch(budget, "sgd", at={N: n})
    assert int(t.subs({N: n, B: best}).memory("sgd")) <= budget
    assert int(t.subs({N: n, B: best + 1}).memory("sgd")) > budget


def test_largest_and_smallest_input_with_training_requirements():
    t = seed_net().training()
    biggest = t.largest(N, {B: 32}, require=[t.memory("adam") <= 2**30])
    assert t.subs({B: 32, N: biggest}).memory("adam") <= 2**30
    assert t.subs({B: 32, N: biggest + 1}).memory("adam") > 2**30
    # as text, parsed without running it; the batch's symbol is known there
    assert t.largest(N, {"B": 32}, require=["B*n <= 6400"]) == 200
    with pytest.raises(sc.ShapeError, match="batch size B a value"):
        t.largest(N, require=[t.memory() <= 2**30])


def test_backward_against_forward_ratio_question():
    t = seed_net().training()
    # backward exceeds 1.1× forward once the linear layer's share is large enough: never
    # here, the convolution dominates; the exact solver says from which n it holds
    n = t.smallest(N, {B: 1}, require=[t.backward_products * 100 > 105 * t.forward_products])
    assert n == seed_net().min_input(N)
    ratio = t.subs({B: 1, N: n})
    assert ratio.backward_products * 100 > 105 * ratio.forward_products


def test_refusals_name_the_layer_and_the_rule():
    x = sc.Input((4, 8))
    y = sc.Einsum("bij,bij->bij")(sc.Linear(8, 8)(x), x)
    with pytest.raises(sc.UnsupportedLayerError, match=r"Einsum.*no training rule"):
        sc.Network(x, y).training()
    with pytest.raises(sc.ShapeError, match="dtype must be one of"):
        seed_net().training(dtype="float8")
    with pytest.raises(sc.ShapeError, match="optimizer must be one of"):
        seed_net().training().memory("lion")
    with pytest.raises(sc.ShapeError, match="positive integer"):
        seed_net().training(batch=0)


def test_a_network_symbol_named_b_needs_another_batch_symbol():
    b = sc.symbols("B")
    net = sc.Sequential(sc.Conv2d(b, 4, 1), input_shape=(b, N, N))
    with pytest.raises(sc.ShapeError, match="symbol B of its own"):
        net.training()
    batch = sc.symbols("batch")
    t = net.training(batch=batch)
    assert t.saved_bytes == 4 * batch * b * N**2


def test_hostile_symbol_names_substitute_exactly():
    names = sc.symbols("x y _d0 Dummy floor storage kept per_sample")
    net = sc.Sequential(sc.Conv2d(1, 2, 1), sc.ReLU(), input_shape=(1, names[0], names[1]))
    t = net.training(batch=names[3])
    at = t.subs({names[0]: 5, names[1]: 7, names[3]: 3})
    assert at.saved_bytes == 3 * (4 * 35 + 4 * 70)


def test_huge_sizes_stay_exact_integers():
    t = seed_net(10**9).training(batch=10**6)
    side = (10**9 - 4) // 2
    assert t.forward_products == 10**6 * (800 * (10**9 - 4) ** 2 + 320 * side**2)


def test_a_deep_chain_derives():
    layers = [sc.Conv2d(2, 2, 1), sc.ReLU()] * 500
    t = sc.Sequential(*layers, input_shape=(2, N, N)).training(batch=B)
    # the first convolution computes its weights' gradient only, the 499 others both
    assert sympy.expand(t.backward_products - B * (4 + 8 * 499) * N**2) == 0
    # the image and each ReLU's output, which the next convolution keeps as its input
    assert t.subs({B: 2, N: 3}).saved_bytes == 2 * 4 * (2 * 9) * 501


# -- fuzzing: drawn networks, symbolic and branching -----------------------------------------
@given(symbolic_networks(symbolic_kernels=True, max_layers=6), st.integers(1, 10**4))
def test_symbolic_step_substitutes_to_the_concrete_step(drawn, batch):
    """The formulas at a point equal the step derived for the network at that point."""
    net, point = drawn
    t = net.training(batch=B)
    at = t.subs({**point, B: batch})
    concrete = net.subs(point).training(batch=batch)
    for quantity in ("forward_products", "backward_products", "saved_bytes"):
        value = getattr(at, quantity)
        assert isinstance(value, sympy.Integer) and value >= 0, quantity
        assert value == getattr(concrete, quantity), quantity
    assert at.memory("adamw") == concrete.memory("adamw")
    rows = sympy.Add(*(r.saved_bytes for r in t.layers))
    assert sympy.expand(rows - t.saved_bytes) == 0


@given(branching_networks())
def test_branching_steps_count_each_kept_tensor_once(net):
    t = net.training(batch=3)
    kept = sympy.Add(*(r.saved_bytes for r in t.layers))
    assert kept == t.saved_bytes
    # each storage is counted once: the image, each output (4 bytes an element), and what a
    # layer makes of its own (int64 indices, statistics) at most 12 bytes an output element
    outputs = sympy.Add(*(r.output_elements for r in net.layers))
    assert t.saved_bytes <= 3 * (4 * net.input_shape.numel + 16 * outputs) + 8 * outputs


def test_cross_attention_is_refused_not_counted_as_self_attention():
    x, y = sc.Input((5, 8)), sc.Input((5, 8))
    q, k = sc.Linear(8, 8)(x), sc.Linear(8, 8)(y)
    cross = sc.Network([x, y], sc.MultiheadAttention(8, 2, batch_first=True)(q, k, k))
    with pytest.raises(sc.UnsupportedLayerError, match="MultiheadAttention"):
        cross.training()
    own = sc.Network(x, sc.MultiheadAttention(8, 2, batch_first=True)(q, q, q))
    assert own.training(batch=2).saved_bytes == 2640
