"""The bad-input catalogue (README "Errors"): each bad input, its exception and its message.

Every entry pins the exception type and the parts of the message a user needs: the layer
(index, node name, description), the rule, and the values. None of them may give a number
instead, or an exception that is not symcnn's.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import sympy

import symcnn as sc
from symcnn.frontends.spec import parse_assignments, parse_spec
from symcnn.symbolic.canonical import canonical

n, k = sc.symbols("n k")
x_in = sc.Input((3, 8, 8))


def network_of(*layers, shape=(1, 8, 8)):
    return sc.Sequential(*layers, input_shape=shape)


# -- sizes and hyperparameters ---------------------------------------------------------------
SHAPE_ERRORS = [
    (
        "zero input size",
        lambda: network_of(sc.ReLU(), shape=(1, 0, 5)),
        r"^Input\(\(1, 0, 5\)\): input size must be positive \(got input size = 0\)$",
    ),
    (
        "negative input size",
        lambda: network_of(sc.ReLU(), shape=(1, -4, 5)),
        r"^Input\(\(1, -4, 5\)\): input size must be positive \(got input size = -4\)$",
    ),
    (
        "float input size",
        lambda: network_of(sc.ReLU(), shape=(1, 28.0, 28)),
        r"^'shape entry' must be an integer or an integer sympy expression \(got 28\.0\)$",
    ),
    (
        "non-integer expression",
        lambda: network_of(sc.ReLU(), shape=(1, n / 2, n)),
        r"^'shape entry' = n/2 is not known to be an integer \(divide with floor or ceiling",
    ),
    (
        "bool kernel",
        lambda: sc.Conv2d(1, 2, True),
        r"^'kernel_size' must be an integer or an integer sympy expression \(got True\)$",
    ),
    (
        "string kernel",
        lambda: sc.Conv2d(1, 2, "3"),
        r"^'kernel_size' must be an integer or an integer sympy expression \(got '3'\)$",
    ),
    (
        "rational kernel",
        lambda: sc.Conv2d(1, 2, sympy.Rational(5, 2)),
        r"^'kernel_size' must be an integer \(got 5/2\)$",
    ),
    (
        "sympy float kernel",
        lambda: sc.Conv2d(1, 2, sympy.Float(3.0)),
        r"^'kernel_size' must be an integer, not a float \(got 3\.0+\)$",
    ),
    (
        "numpy float kernel",
        lambda: sc.Conv2d(1, 2, np.float64(3)),
        r"^'kernel_size' must be an integer or an integer sympy expression "
        r"\(got np\.float64\(3\.0\)\)$",
    ),
    (
        "zero kernel",
        lambda: sc.Conv2d(1, 2, 0),
        r"^Conv2d\(1, 2, kernel_size=0\): kernel_size must be positive "
        r"\(got kernel_size = 0\)$",
    ),
    (
        "negative pooling kernel",
        lambda: sc.MaxPool2d(-2),
        r"^MaxPool2d\(kernel_size=-2\): kernel_size must be positive \(got kernel_size = -2\)$",
    ),
    (
        "zero channels",
        lambda: sc.Conv2d(0, 2, 3),
        r"^Conv2d\(0, 2, kernel_size=3\): in_channels must be positive "
        r"\(got in_channels = 0\)$",
    ),
    (
        "stride 0",
        lambda: sc.Conv2d(1, 2, 3, stride=0),
        r"^Conv2d\(1, 2, kernel_size=3, stride=0\): stride must be positive "
        r"\(got stride = 0\)$",
    ),
    (
        "stride 0 on one axis",
        lambda: sc.MaxPool2d(2, stride=(1, 0)),
        r"^MaxPool2d\(kernel_size=2, stride=\(1, 0\)\): stride must be positive "
        r"\(got stride = 0\)$",
    ),
    (
        "symbolic stride substituted by 0",
        lambda: network_of(sc.Conv2d(1, 2, 3, stride=k), shape=(1, n, n)).subs({k: 0}),
        r"^k is a positive integer and cannot be 0$",
    ),
    (
        "groups not dividing out_channels",
        lambda: sc.Conv2d(4, 6, 3, groups=4),
        r"^Conv2d\(4, 6, kernel_size=3, groups=4\): groups must divide out_channels "
        r"\(got out_channels = 6, groups = 4\)$",
    ),
    (
        "groups not dividing in_channels",
        lambda: sc.Conv2d(3, 6, 3, groups=2),
        r"^Conv2d\(3, 6, kernel_size=3, groups=2\): groups must divide in_channels "
        r"\(got in_channels = 3, groups = 2\)$",
    ),
    (
        "pooling padding over half the kernel",
        lambda: sc.MaxPool2d(2, padding=2),
        r"^MaxPool2d\(kernel_size=2, padding=2\): padding must be at most half the kernel "
        r"size \(got kernel_size = 2, 2·padding = 4\)$",
    ),
    (
        "padding='same' with a stride",
        lambda: sc.Conv2d(1, 1, 3, padding="same", stride=2),
        r"^Conv2d\(1, 1, kernel_size=3, stride=2, padding='same'\): padding='same' needs "
        r"stride 1 \(as in PyTorch\)",
    ),
    (
        "kernel larger than the padded input",
        lambda: network_of(sc.Conv2d(1, 2, 7, padding=1), shape=(1, 4, 4)),
        r"^Conv2d\(1, 2, kernel_size=7, padding=1\) at layer 0 \(conv1\): the kernel must "
        r"fit in the padded input height \(got padded height = 6, effective kernel size = 7\)$",
    ),
    (
        "dilated kernel larger than the input",
        lambda: network_of(sc.Conv2d(1, 2, 3, dilation=3), shape=(1, 6, 6)),
        r"^Conv2d\(1, 2, kernel_size=3, dilation=3\) at layer 0 \(conv1\): the kernel must "
        r"fit in the padded input height \(got padded height = 6, effective kernel size = 7\)$",
    ),
    (
        "kernel larger, found by subs",
        lambda: network_of(sc.Conv2d(1, 8, k), sc.MaxPool2d(2), shape=(1, n, n)).subs({n: 5, k: 5}),
        r"^MaxPool2d\(kernel_size=2\) at layer 1 \(pool1\): the kernel must fit in the padded "
        r"input height \(got padded height = 1, effective kernel size = 2\) \(n=5, k=5\)$",
    ),
    (
        "transposed convolution output below 1",
        lambda: network_of(sc.ConvTranspose2d(1, 1, 1, padding=1), shape=(1, 1, 1)),
        r"^ConvTranspose2d\(1, 1, kernel_size=1, padding=1\) at layer 0 \(convt1\): the "
        r"output height must be at least 1 \(got output height = -1\)$",
    ),
    (
        "cropping more than the map",
        lambda: network_of(sc.ZeroPad2d(-3), shape=(1, 5, 5)),
        r"^ZeroPad2d\(-3\) at layer 0 \(pad1\): the padded height must be at least 1 "
        r"\(got padded height = -1\)$",
    ),
    (
        "wrong rank",
        lambda: network_of(sc.Conv2d(1, 1, 3), shape=(1, 8)),
        r"^Conv2d\(1, 1, kernel_size=3\) at layer 0 \(conv1\) needs a per-sample input of 3 "
        r"axes \(C, H, W\), got 1×8$",
    ),
    (
        "channel mismatch",
        lambda: network_of(sc.Conv2d(3, 8, 3), shape=(1, 28, 28)),
        r"^Conv2d\(3, 8, kernel_size=3\) at layer 0 \(conv1\): the input must have "
        r"in_channels = 3 channels \(got input channels = 1, in_channels = 3\)$",
    ),
    (
        "BatchNorm channel mismatch",
        lambda: network_of(sc.BatchNorm2d(4), shape=(3, 8, 8)),
        r"^BatchNorm2d\(4\) at layer 0 \(bn1\): the input must have num_features = 4 "
        r"channels \(got input channels = 3, num_features = 4\)$",
    ),
    (
        "Linear in_features mismatch",
        lambda: network_of(sc.Flatten(), sc.Linear(256, 200), shape=(10, 5, 5)),
        r"^Linear\(256, 200\) at layer 1 \(linear1\): the input's last axis must have "
        r"in_features = 256 entries \(got input features = 250, in_features = 256\)$",
    ),
    (
        "Linear in_features mismatch, found by subs",
        lambda: network_of(sc.Flatten(), sc.Linear(256, 200), shape=(1, n, n)).subs({n: 15}),
        r"^Linear\(256, 200\) at layer 1 \(linear1\): the input's last axis must have "
        r"in_features = 256 entries \(got input features = 225, in_features = 256\) \(n=15\)$",
    ),
    (
        "View that would re-batch",
        lambda: network_of(sc.View(-1, 250), shape=(64, 2, 2)),
        r"^View\(-1, 250\) at layer 0 \(view1\): x\.view\(-1, 250\) needs 250 elements per "
        r"sample; .*\(got elements per sample = 256, target elements = 250",
    ),
    (
        "Add shape mismatch",
        lambda: sc.Network(x_in, sc.Add()(x_in, sc.Conv2d(3, 3, 3)(x_in))),
        r"^Add\(\) at layer 1 \(add1\): the inputs of Add must agree on axis 1 "
        r"\(got input 1 size = 6, input 0 size = 8\)$",
    ),
    (
        "Add channel mismatch",
        lambda: sc.Network(x_in, sc.Add()(x_in, sc.Conv2d(3, 4, 3, padding=1)(x_in))),
        r"^Add\(\) at layer 1 \(add1\): the inputs of Add must agree on axis 0 "
        r"\(got input 1 size = 4, input 0 size = 3\)$",
    ),
    (
        "Concat shape mismatch",
        lambda: sc.Network(x_in, sc.Concat()(x_in, sc.MaxPool2d(2)(x_in))),
        r"^Concat\(\) at layer 1 \(cat1\): the inputs of Concat must agree on every axis but "
        r"0, here 1 \(got input 1 size = 4, input 0 size = 8\)$",
    ),
    (
        "Concat rank mismatch",
        lambda: sc.Network(x_in, sc.Concat()(x_in, sc.Flatten()(x_in))),
        r"^Concat\(\) at layer 1 \(cat1\): the inputs must have one rank, got 3×8×8, 192$",
    ),
    (
        "Mul broadcast mismatch",
        lambda: sc.Network(x_in, sc.Mul()(x_in, sc.MaxPool2d(2)(x_in))),
        r"^Mul\(\) at layer 1 \(mul1\): the inputs of Mul must agree on axis 1 or be 1 there "
        r"\(got size 1 = 4, size 0 = 8\)$",
    ),
    (
        "Dropout probability",
        lambda: sc.Dropout(2),
        r"^Dropout\(p=2\): the probability p must lie in \[0, 1\]$",
    ),
    (
        "zero divisor_override",
        lambda: sc.AvgPool2d(2, divisor_override=0),
        r"^AvgPool2d\(kernel_size=2, divisor_override=0\): divisor_override must be a nonzero "
        r"integer, as in PyTorch \(got 0\)$",
    ),
    (
        "float divisor_override",
        lambda: sc.AvgPool3d(2, divisor_override=1.5),
        r"^AvgPool3d\(kernel_size=2, divisor_override=1\.5\): divisor_override must be a "
        r"nonzero integer",
    ),
    (
        "input shape that is not a sequence",
        lambda: network_of(sc.ReLU(), shape=5),
        r"^a shape is a sequence of sizes, such as \(1, n, n\) \(got 5\)$",
    ),
    (
        "input shape as text",
        lambda: network_of(sc.ReLU(), shape="1,28,28"),
        r"^a shape is a sequence of sizes, such as \(1, n, n\) \(got '1,28,28'\)$",
    ),
    (
        "Flatten of the batch axis",
        lambda: sc.Flatten(0),
        r"^Flatten\(start_dim=0\): start_dim=0 would merge the batch axis",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"), [c[1:] for c in SHAPE_ERRORS], ids=[c[0] for c in SHAPE_ERRORS]
)
def test_bad_sizes_and_layers_raise_shape_error(make, message):
    with pytest.raises(sc.ShapeError, match=message) as info:
        make()
    assert isinstance(info.value, ValueError)


# -- symbols that are not (positive) integers ------------------------------------------------
SYMBOL_ERRORS = [
    (
        "symbol without integer assumption",
        lambda: network_of(sc.ReLU(), shape=(1, sympy.Symbol("x"), 8)),
        r"^'shape entry' = x is not known to be an integer: symbol\(s\) x must be declared "
        r"integer \(create them with symcnn\.symbols\)$",
    ),
    (
        "real symbol as a kernel",
        lambda: sc.Conv2d(1, 2, sympy.Symbol("r", real=True)),
        r"^'kernel_size' = r is not known to be an integer: symbol\(s\) r must be declared",
    ),
    (
        "float substituted",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs({n: 28.5}),
        r"^'n' must be an integer or an integer sympy expression \(got 28\.5\)$",
    ),
    (
        "sympy float substituted",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs({n: sympy.Float(5)}),
        r"^'n' must be an integer, not a float \(got 5\.0+\)$",
    ),
    (
        "non-integer symbol substituted",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs({n: sympy.Symbol("x")}),
        r"^'n' = x is not known to be an integer: symbol\(s\) x must be declared integer",
    ),
    (
        "negative value for a positive symbol",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs({n: -3}),
        r"^n is a positive integer and cannot be -3$",
    ),
    (
        "same name, other assumptions",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs(
            {sympy.Symbol("n", integer=True): 5}
        ),
        r"^cannot substitute n: this network's n is another symbol \(its assumptions "
        r"differ\); create every symbol with symcnn\.symbols$",
    ),
    (
        "unknown name",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).subs({"q": 5}),
        r"^cannot substitute 'q': not a symbol of this network \(its symbols: n\)$",
    ),
    (
        "is_valid at a float",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).is_valid({n: 2.5}),
        r"^'n' must be an integer or an integer sympy expression \(got 2\.5\)$",
    ),
    (
        "is_valid at zero",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).is_valid({n: 0}),
        r"^n is a positive integer and cannot be 0$",
    ),
    (
        "is_valid with a symbol missing",
        lambda: network_of(sc.Conv2d(1, 2, k), shape=(1, n, n)).is_valid({n: 5}),
        r"^give a value to every symbol of the network: k missing$",
    ),
    (
        "evaluate at a float",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).evaluate("products", n=2.5),
        r"^the value of n must be an integer or an array of integers \(got 2\.5\)$",
    ),
    (
        "evaluate over a float array",
        lambda: network_of(sc.Conv2d(1, 2, 3), shape=(1, n, n)).evaluate(
            "products", n=np.array([3.0])
        ),
        r"^the value of n must be an integer array \(got 3\.0 in a float64 array\)$",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"), [c[1:] for c in SYMBOL_ERRORS], ids=[c[0] for c in SYMBOL_ERRORS]
)
def test_symbols_that_are_not_positive_integers_are_refused(make, message):
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_an_integer_symbol_that_may_be_negative_keeps_its_sign_as_a_constraint():
    m = sympy.Symbol("m", integer=True)
    net = network_of(sc.Conv2d(1, 2, 3), shape=(1, m, 5))
    assert net.output_shape == (2, m - 2, 3)
    assert net.constraints == (m >= 3,)
    assert not net.is_valid({m: 2})


# -- hand-built graphs -----------------------------------------------------------------------
def graph(*edges, **layers):
    g = nx.DiGraph()
    for name, layer in layers.items():
        g.add_node(name, layer=layer)
    for edge in edges:
        g.add_edge(edge[0], edge[1], **({"port": edge[2]} if len(edge) > 2 else {}))
    return g


GRAPH_ERRORS = [
    (
        "cycle",
        lambda: graph(
            ("x", "a"), ("a", "b"), ("b", "a"), x=sc.Input((1, 8, 8)), a=sc.ReLU(), b=sc.ReLU()
        ),
        r"^the graph has a cycle: a → b → a$",
    ),
    (
        "self loop",
        lambda: graph(("x", "a"), ("a", "a"), x=sc.Input((1, 8, 8)), a=sc.ReLU()),
        r"^the graph has a cycle: a → a$",
    ),
    (
        "disconnected layer",
        lambda: graph(("x", "c"), x=sc.Input((1, 8, 8)), c=sc.Conv2d(1, 2, 3), lonely=sc.ReLU()),
        r"^ReLU\(\) at node 'lonely' takes 1 input\(s\), but 0 edge\(s\) lead to it$",
    ),
    (
        "disconnected input",
        lambda: graph(("x", "a"), x=sc.Input((1, 8, 8)), a=sc.ReLU(), extra=sc.Input((1, 4, 4))),
        r"^input node 'extra' is disconnected: no layer reads it$",
    ),
    (
        "node without a layer",
        lambda: graph(("x", "a"), x=sc.Input((1, 8, 8)), a="relu"),
        r"^node 'a' carries no symcnn layer under 'layer'$",
    ),
    (
        "merge with one input",
        lambda: graph(("x", "m"), x=sc.Input((1, 8, 8)), m=sc.Add()),
        r"^Add\(\) at node 'm' merges two or more inputs, but 1 edge\(s\) lead to it$",
    ),
    (
        "layer with two inputs",
        lambda: graph(
            ("x", "a", 0),
            ("y", "a", 1),
            x=sc.Input((1, 8, 8)),
            y=sc.Input((1, 8, 8)),
            a=sc.ReLU(),
        ),
        r"^ReLU\(\) at node 'a' takes 1 input\(s\), but 2 edge\(s\) lead to it$",
    ),
    (
        "merge inputs on one port",
        lambda: graph(
            ("x", "b"),
            ("x", "c"),
            ("b", "m"),
            ("c", "m"),
            x=sc.Input((1, 8, 8)),
            b=sc.ReLU(),
            c=sc.Tanh(),
            m=sc.Concat(),
        ),
        r"^Concat\(\) at node 'm': the edges from 'b' and 'c' both feed port 0; give each "
        r"input edge its own 'port' \(0, 1, \.\.\.\)$",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"), [c[1:] for c in GRAPH_ERRORS], ids=[c[0] for c in GRAPH_ERRORS]
)
def test_malformed_graphs_raise_graph_error(make, message):
    with pytest.raises(sc.GraphError, match=message):
        sc.Network(make())


def test_a_lone_input_is_a_network_of_no_layers():
    net = sc.Network(graph(x=sc.Input((1, 8, 8))))
    assert len(net) == 0 and net.inputs == (sc.Input((1, 8, 8)),)


def test_merge_ports_order_the_inputs():
    g = graph(
        ("x", "b"),
        ("x", "c"),
        ("b", "m", 1),
        ("c", "m", 0),
        x=sc.Input((1, 8, 8)),
        b=sc.Conv2d(1, 2, 1),
        c=sc.Conv2d(1, 3, 1),
        m=sc.Concat(),
    )
    net = sc.Network(g)
    assert net["m"].input_shapes == ((3, 8, 8), (2, 8, 8))


def test_functional_api_mistakes_raise_graph_error():
    x = sc.Input((1, 8, 8))
    with pytest.raises(sc.GraphError, match=r"^Add\(\) merges two or more tensors, got 1$"):
        sc.Add()(x)
    with pytest.raises(sc.GraphError, match=r"^ReLU\(\) was called on 3: call layers on"):
        sc.ReLU()(3)
    # a tensor read twice is no mistake: each port is its own edge
    assert sc.Network(x, sc.Concat()(x, x)).output_shape == (2, 8, 8)


# -- unsupported options ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: sc.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
            r"^padding_mode='reflect': ConvTranspose2d supports only 'zeros' \(as in PyTorch\)$",
        ),
        (
            lambda: sc.Conv2d(1, 1, 3, padding="full"),
            r"^padding='full' is not a padding PyTorch knows \(an int, a tuple, 'valid' or "
            r"'same'\)$",
        ),
        (
            lambda: sc.ConvTranspose2d(1, 1, 3, padding="same"),
            r"^padding='same' is not a padding ConvTranspose2d knows",
        ),
        (
            lambda: sc.Upsample(scale_factor=0.7),
            r"^Upsample: scale_factor=0\.7 has no exact formula: PyTorch floors the double "
            r"product H·s, .* at H = 90, ⌊H·s⌋ is 62 in PyTorch but ⌊H·7/10⌋ = 63; use a scale",
        ),
    ],
)
def test_unsupported_options_raise_unsupported_layer_error(make, message):
    with pytest.raises(sc.UnsupportedLayerError, match=message) as info:
        make()
    assert isinstance(info.value, TypeError)


# -- torch modules and calls symcnn has no rule for ------------------------------------------
@pytest.mark.torch
def test_unsupported_torch_module_and_call_are_named(torch):
    nn = torch.nn
    h, w = sc.symbols("H W")

    class Sort(nn.Module):
        def forward(self, x):
            return torch.sort(x, dim=1).values

    class Cumsum(nn.Module):
        def forward(self, x):
            return x.cumsum(2)

    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum((1, 2, 3)) > 0 else -x

    cases = [
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softmax2d()),
            r"^module '1' \(torch\.nn\.modules\.activation\.Softmax2d\) at node '_1' has no "
            r"symcnn rule$",
        ),
        (Sort(), r"^torch\.sort at node 'sort' has no symcnn rule; its input is 3×H×W"),
        (Cumsum(), r"^Tensor\.cumsum at node 'cumsum' has no symcnn rule"),
        (Branchy(), r"^the traced forward branches on a tensor's values at test_errors\.py:"),
    ]
    for module, message in cases:
        with pytest.raises(sc.UnsupportedLayerError, match=message):
            sc.from_torch(module, input_shape=(3, h, w))
    with pytest.raises(
        sc.ShapeError,
        match=r"^Conv2d\(3, 3, kernel_size=3\) at layer 0 \(0\): the input must have "
        r"in_channels = 3 channels \(got input channels = 4, in_channels = 3\)$",
    ):
        sc.from_torch(nn.Sequential(nn.Conv2d(3, 3, 3)), input_shape=(4, h, w))


# -- spec text -------------------------------------------------------------------------------
SPEC_ERRORS = [
    (
        "code",
        "__import__('os').system('echo hi')",
        r"^attribute access is not allowed in a spec: \"__import__\('os'\)\.system\" at column 1$",
    ),
    ("unclosed call", "Conv2d(1,32,", r"^cannot parse the spec: '\(' was never closed at column 7"),
    ("unknown layer", "Conv9d(1,32,3)", r"^unknown layer Conv9d \(did you mean Conv3d\?\)"),
    (
        "dunder attribute",
        "Conv2d(1,2,3).__class__",
        r"^attribute access is not allowed in a spec: 'Conv2d\(1,2,3\)\.__class__' at column 1$",
    ),
    (
        "huge power",
        "Conv2d(1,2,9**9**9)",
        r"^the exponent must be a whole number from 0 to 64 \(got 387420489\): '9\*\*9' at "
        r"column 15$",
    ),
    ("too long", "ReLU | " * 1000 + "ReLU", r"^the spec is too long \(7004 characters; at most"),
    ("lambda", "(lambda: 1)()", r"^a lambda is not allowed in a spec: 'lambda: 1' at column 2$"),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in SPEC_ERRORS], ids=[c[0] for c in SPEC_ERRORS]
)
def test_malformed_or_hostile_specs_raise_spec_error(text, message):
    with pytest.raises(sc.SpecError, match=message) as info:
        parse_spec(text, input_shape="1,n,n")
    assert isinstance(info.value, ValueError)


def test_hostile_assignment_raises_spec_error():
    with pytest.raises(
        sc.SpecError, match=r"^a call is not allowed in a value of k: '__import__' at column 8$"
    ):
        parse_assignments("n=28,k=__import__('os')")


# -- sizes past int64: exact, never wrapped --------------------------------------------------
def test_huge_sizes_stay_exact():
    net = network_of(sc.Conv2d(3, 64, 3), shape=(3, n, n))
    big = 10**12
    exact = 64 * (big - 2) ** 2 * 3 * 9
    assert net.subs({n: big}).products == exact
    assert net.products.subs(n, big) == exact
    assert net.evaluate("products", n=big) == exact
    swept = net.evaluate("products", n=[10**9, big])
    assert swept.dtype == object
    assert swept.tolist() == [64 * (10**9 - 2) ** 2 * 27, exact]
    assert net.subs({n: 2**70}).products == 64 * (2**70 - 2) ** 2 * 27
    assert net.is_valid({n: 10**30})


def test_int64_inputs_whose_products_overflow_int64_stay_exact():
    net = network_of(sc.Conv2d(1, 1, 1, bias=False), shape=(1, n, n))
    sizes = np.array([2**31, 2**31 + 1, 3037000500], dtype=np.int64)
    out = net.evaluate("products", n=sizes)
    # 3037000500² just passes 2**63: int64 arithmetic would wrap to a negative number
    assert out.tolist() == [2**62, (2**31 + 1) ** 2, 3037000500**2]
    assert 3037000500**2 > 2**63
    big = net.evaluate("products", n=np.array([2**63 + 5], dtype=np.uint64))
    assert big.tolist() == [(2**63 + 5) ** 2]


def test_huge_kernel_min_input_is_exact():
    assert network_of(sc.Conv2d(1, 1, 10**20), shape=(1, n, n)).min_input(n) == 10**20


# -- formulas sympy would get wrong ----------------------------------------------------------
def test_collapsed_floor_keeps_its_floor_under_substitution():
    # sympy 1.14 calls n·(2n + 2)/6 an integer; canonical() keeps numerators expanded
    expr = canonical(sympy.floor(sympy.floor((k * n + 2 * n**2) / k) / 3))
    assert expr.subs({n: 1, k: 2}) == 0
    assert [expr.subs({n: v, k: 2}) for v in range(1, 6)] == [0, 2, 4, 6, 10]


def test_collapse_that_sympy_evaluates_away_is_a_number():
    assert canonical(sympy.floor(sympy.floor(1 / k) / 2)) == 0
