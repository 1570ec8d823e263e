"""The acceptance case: the seed lecture's LeNet table, row by row (lenet-table.md)."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc

from conftest import seed_layers

# (description, input, output, params text, products text) as on the slide, with the
# slide's erratum corrected: the second convolution's kernel is 5², not 4².
SEED_ROWS = [
    (
        "nn.Conv2d(1, 32, kernel_size=5)",
        (1, 28, 28),
        (32, 24, 24),
        "32·(5²+1) = 832",
        "32·24²·5² = 460800",
    ),
    ("nn.MaxPool2d(kernel_size=3)", (32, 24, 24), (32, 8, 8), "0", "0"),
    ("nn.ReLU()", (32, 8, 8), (32, 8, 8), "0", "0"),
    (
        "nn.Conv2d(32, 64, kernel_size=5)",
        (32, 8, 8),
        (64, 4, 4),
        "64·(32·5²+1) = 51264",
        "64·32·4²·5² = 819200",
    ),
    ("nn.MaxPool2d(kernel_size=2)", (64, 4, 4), (64, 2, 2), "0", "0"),
    ("nn.ReLU()", (64, 2, 2), (64, 2, 2), "0", "0"),
    ("x.view(-1, 256)", (64, 2, 2), (256,), "0", "0"),
    ("nn.Linear(256, 200)", (256,), (200,), "200·(256+1) = 51400", "200·256 = 51200"),
    ("nn.ReLU()", (200,), (200,), "0", "0"),
    ("nn.Linear(200, 10)", (200,), (10,), "10·(200+1) = 2010", "10·200 = 2000"),
]
SEED_PARAMS = [832, 0, 0, 51264, 0, 0, 0, 51400, 0, 2010]
SEED_PRODUCTS = [460800, 0, 0, 819200, 0, 0, 0, 51200, 0, 2000]
NAMES = [
    "conv1",
    "pool1",
    "relu1",
    "conv2",
    "pool2",
    "relu2",
    "view1",
    "linear1",
    "relu3",
    "linear2",
]


@pytest.fixture(params=["numeric", "substituted"])
def net28(request, seed_net, nk):
    """The seed net built with numbers, and built with n, k then substituted."""
    if request.param == "numeric":
        return sc.Sequential(*seed_layers(5), input_shape=(1, 28, 28))
    n, k = nk
    return seed_net.subs({n: 28, k: 5})


def test_seed_table_row_by_row(net28):
    assert len(net28.layers) == 10
    for record, (desc, shape_in, shape_out, params, products) in zip(
        net28.layers, SEED_ROWS, strict=True
    ):
        assert record.description == desc
        assert record.input_shape == shape_in
        assert record.output_shape == shape_out
        assert record.params_text == params
        assert record.products_text == products
    assert [r.params for r in net28.layers] == SEED_PARAMS
    assert [r.products for r in net28.layers] == SEED_PRODUCTS
    assert [r.name for r in net28.layers] == NAMES


def test_seed_totals_are_exact_integers(net28):
    assert net28.params == 105506
    assert net28.products == 1333200
    assert isinstance(net28.params, sympy.Integer)
    assert isinstance(net28.products, sympy.Integer)
    assert net28.output_shape == (10,)
    assert net28.constraints == ()
    # rows sum to the totals
    assert sum(r.params for r in net28.layers) == net28.params
    assert sum(r.products for r in net28.layers) == net28.products


def test_seed_output_elements(net28):
    expected = [32 * 24 * 24, 32 * 8 * 8, 32 * 8 * 8, 64 * 16, 64 * 4, 64 * 4, 256, 200, 200, 10]
    assert [r.output_elements for r in net28.layers] == expected
    assert net28.output_elements == sum(expected)


def test_second_convolution_shows_the_kernel_not_the_output_size(net28):
    # The slide writes 64·(32·4²+1); the kernel is 5×5, 4 is the output size.
    conv2 = net28["conv2"]
    assert conv2.params_text == "64·(32·5²+1) = 51264"
    assert "4²+1" not in conv2.params_text


def test_seed_symbolic_formulas(seed_net, nk):
    n, k = nk
    conv1, pool1, _, conv2, *_ = seed_net.layers
    assert conv1.output_shape == (32, n - k + 1, n - k + 1)
    assert conv1.params == 32 * k**2 + 32
    assert conv1.params_derivation.text() == "32·(k²+1)"
    assert conv1.products == 32 * k**2 * (n - k + 1) ** 2
    width1 = sympy.floor((n - k + 1) / 3)
    assert pool1.output_shape == (32, width1, width1)
    assert conv2.params == 64 * (32 * k**2 + 1)
    assert conv2.output_shape == (64, width1 - k + 1, width1 - k + 1)
    # The hard-coded view(-1, 256) keeps both linear layers' counts free of n.
    assert seed_net.params == 2080 * k**2 + 53506
    assert seed_net.params.free_symbols == {k}


def test_seed_constraints_decide_under_substitution(seed_net, nk):
    n, k = nk
    # Symbolic: the view's element count is undecided, so it is a constraint.
    width2 = sympy.floor((n - 4 * k + 4) / 6)
    view_rule = sympy.Eq(64 * width2**2, 256)
    # Simplified: every non-empty-output rule is implied by n >= 4k + 2.
    assert seed_net.constraints == (sympy.Ge(n, 4 * k + 2), view_rule)
    assert len(seed_net.conditions) == 5  # as the layers state them, with explanations
    # Deciding it at 28x28 leaves none; at 40x40 PyTorch would re-batch, symcnn refuses.
    assert seed_net.subs({n: 28, k: 5}).constraints == ()
    with pytest.raises(sc.ShapeError, match=r"View\(-1, 256\) at layer 6 \(view1\).*re-batches"):
        seed_net.subs({n: 40, k: 5})


def test_seed_too_small_input_names_the_layer(seed_net, nk):
    n, k = nk
    # n = 21, k = 5: the second pooling gets a 1×1 map and a 2×2 kernel.
    with pytest.raises(sc.ShapeError) as info:
        seed_net.subs({n: 21, k: 5})
    message = str(info.value)
    assert message.startswith("MaxPool2d(kernel_size=2) at layer 4 (pool2)")
    assert "padded height = 1, effective kernel size = 2" in message
    assert message.endswith("(n=21, k=5)")


def test_lazy_linear_seed_variant(nk):
    n, k = nk
    net = sc.Sequential(
        *seed_layers(k)[:6],
        sc.Flatten(),
        sc.LazyLinear(200),
        sc.ReLU(),
        sc.Linear(200, 10),
        input_shape=(1, n, n),
    )
    width2 = sympy.floor((n - 4 * k + 4) / 6)
    assert net["pool2"].output_shape == (64, width2, width2)
    assert net["flatten1"].output_shape == (64 * width2**2,)
    assert net["linear1"].params == 200 * (64 * width2**2 + 1)
    # the closed form of lenet-table.md, structurally
    assert net.params == 2080 * k**2 + 12800 * width2**2 + 2306
    assert sc.format_formula(net.params) == "2080·k² + 12800·⌊(n - 4·k + 4)/6⌋² + 2306"
    at28 = net.subs({"n": 28, "k": 5})
    assert at28.params == 105506
    assert at28.products == 1333200
    assert at28["linear1"].params_text == "200·(256+1) = 51400"
