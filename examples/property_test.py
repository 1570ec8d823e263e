"""A user's property test of a custom shape rule, with symcnn.strategies.

The rule under test is one a user might write by hand for a paper or a config checker:
"after a stack of stride-2 convolutions with kernel 3 and padding 1, the width is
⌈n / 2^depth⌉". symcnn derives the same size symbolically; hypothesis draws networks and
input sizes, and the property says the hand-written rule and symcnn agree everywhere both
apply. A second property checks a budget rule ("products at most 10^6"): the sizes within budget
are exactly those up to ``net.largest(n, require=[net.products <= 10**6])``. A third
draws sizes just outside a network's domain and checks that symcnn names the layer.

Run it directly (``python examples/property_test.py``) or with pytest
(``pytest examples/property_test.py``). Needs ``pip install "symcnn[strategies]"``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
import symcnn.strategies as scst

n = sc.symbols("n")


def width_after_downsampling(size: int, depth: int) -> int:
    """The hand-written rule: each stride-2, kernel-3, padding-1 convolution halves, rounding up."""
    for _ in range(depth):
        size = -(-size // 2)
    return size


def downsampling_stack(depth: int, channels: int) -> sc.Sequential:
    layers = [sc.Conv2d(channels, channels, 3, stride=2, padding=1) for _ in range(depth)]
    return sc.Sequential(*layers, input_shape=(channels, n, n))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.data())
def test_hand_written_width_rule_matches_symcnn(depth, channels, data):
    net = downsampling_stack(depth, channels)
    point = data.draw(scst.inputs_in_domain(net, max_size=500), label="point")
    size = point[n]
    assert net.output_shape[-1].subs(n, size) == width_after_downsampling(size, depth)
    assert net.subs(point).output_shape == (channels, *[width_after_downsampling(size, depth)] * 2)


@settings(max_examples=30, deadline=None)
@given(
    scst.symbolic_networks(kinds=["conv", "pool", "activation"], max_layers=4, square=True),
    st.data(),
)
def test_budget_rule_flags_exactly_the_expensive_sizes(case, data):
    # products never decrease as n grows, so the sizes within budget are the valid sizes up
    # to the largest that fits: one exact solve answers for all of them
    net, _ = case
    point = data.draw(scst.inputs_in_domain(net, max_size=64), label="point")
    products = net.subs(point).products
    assert products == int(net.evaluate("products", **{str(s): v for s, v in point.items()}))
    try:
        limit = net.largest(n, require=[net.products <= 10**6])
    except sc.ShapeError:  # no valid size fits the budget
        limit = 0
    assert (products <= 10**6) == bool(point[n] <= limit)


@settings(max_examples=100, deadline=None)
@given(scst.sequential_networks(kinds=["conv", "pool"], min_layers=1, max_layers=3), st.data())
def test_just_outside_the_domain_the_violation_names_a_layer(net, data):
    c, height, width = net.input_shape
    symbolic = sc.Sequential(*(r.layer for r in net.layers), input_shape=(c, n, n))
    if not symbolic.constraints:
        return  # every size works: nothing is just outside
    point = data.draw(scst.inputs_outside_domain(symbolic, max_size=32), label="point")
    message = symbolic.violation(point)
    assert message is not None and " at layer " in message


if __name__ == "__main__":
    test_hand_written_width_rule_matches_symcnn()
    test_budget_rule_flags_exactly_the_expensive_sizes()
    test_just_outside_the_domain_the_violation_names_a_layer()
    print("3 properties held (200 + 30 + 100 examples)")
