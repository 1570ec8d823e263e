"""Token operations of vision transformers: a class token joined, a token picked by index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

torch = require("torch")
nn = torch.nn

L, H, W = sc.symbols("L H W")


class ClassToken(nn.Module):
    """torchvision's ViT: patches by a strided conv, the class token first, a position
    embedding added, the class token's output read back with ``x[:, 0]``."""

    def __init__(self, dim: int = 16, patch: int = 4, tokens: int = 17):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, dim, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, tokens, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x).flatten(2).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = x + self.pos_embedding
        return self.head(x[:, 0])


def products(module, *shape):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module(torch.zeros(1, *shape))
    return tuple(out.shape[1:]), counter.get_total_flops() // 2


def test_the_class_token_is_a_parameter_joined_once_per_sample():
    model = ClassToken()
    net = sc.from_torch(model, (3, H, W))
    cat = net["cat"]
    assert cat.layer == sc.ParamConcat(1, [(1, 16), None])
    assert cat.params == 16 and cat.layer.describe() == "torch.cat([tensor 1×16, x], dim=1)"
    assert str(cat.output_shape) == "(⌊H/4⌋·⌊W/4⌋ + 1)×16"
    assert net.params == sum(p.numel() for p in model.parameters())
    # the position embedding fixes the token count: 16 patches and the class token
    assert net.is_valid({H: 16, W: 16}) and not net.is_valid({H: 20, W: 16})
    assert (net.subs({H: 16, W: 19}).output_shape, net.products.subs({H: 16, W: 19})) == (
        products(model, 3, 16, 19)
    )


def test_a_class_token_read_twice_is_counted_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Parameter(torch.zeros(1, 2, 8))

        def forward(self, x):
            t = self.token.expand(x.size(0), -1, -1)
            return torch.cat([t, x, t], dim=1)

    model = Twice()
    net = sc.from_torch(model, (L, 8))
    assert str(net.output_shape) == "(L + 4)×8"
    assert net.params == 16


@pytest.mark.parametrize(
    ("expand", "message"),
    [
        (lambda t, x: t.expand(4, -1, -1), r"computed at node 'expand' from the parameter"),
        (lambda t, x: t.expand(x.size(0), 2, -1), r"symcnn maps w\.expand\(x\.size\(0\), -1,"),
        (lambda t, x: t.repeat(x.size(0), 1, 1), r"x\.repeat at node 'repeat' of the parameter"),
    ],
)
def test_other_expansions_of_a_parameter_are_refused(expand, message):
    class Expand(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Parameter(torch.zeros(1, 1, 8))

        def forward(self, x):
            return torch.cat([expand(self.token, x), x], dim=1)

    with pytest.raises(sc.UnsupportedLayerError, match=message):
        sc.from_torch(Expand(), (L, 8))


def test_param_concat_checks_its_arguments():
    with pytest.raises(sc.ShapeError, match=r"parts must hold an input \(None\) and a tensor"):
        sc.ParamConcat(1, [None])
    with pytest.raises(sc.ShapeError, match="dim must be a nonzero int"):
        sc.ParamConcat(0, [(1, 8), None])
    with pytest.raises(sc.ShapeError, match="must agree on every axis but 0"):
        sc.Sequential(sc.ParamConcat(1, [(1, 7), None]), input_shape=(4, 8))
    buffers = sc.Sequential(sc.ParamConcat(-2, [None, (3, 8)], False), input_shape=(L, 8))
    assert (buffers.params, buffers.buffers, str(buffers.output_shape)) == (0, 24, "(L + 3)×8")


@st.composite
def indexings(draw):
    """A (C, A, B) input and an index of integers and slices, as x[...] takes it."""
    shape = tuple(draw(st.integers(1, 5)) for _ in range(3))
    items = [slice(None)]
    for size in shape[: draw(st.integers(1, 3))]:
        if draw(st.booleans()):
            items.append(draw(st.integers(-size, size - 1)))
        else:
            a = draw(st.integers(-size, size))
            items.append(slice(a, draw(st.integers(-size, size + 1))))
    return shape, tuple(items)


@given(indexings())
@torch_settings
def test_indexing_with_integers_and_slices_is_torchs(case):
    shape, index = case

    class Index(nn.Module):
        def forward(self, x):
            return x[index]

    out = Index()(torch.zeros(2, *shape))
    if out.numel() == 0:  # an empty slice: symcnn refuses it
        with pytest.raises(sc.ShapeError, match="is empty"):
            sc.from_torch(Index(), shape)
        return
    net = sc.from_torch(Index(), shape)
    assert tuple(net.output_shape) == tuple(out.shape[1:])
    symbolic = sc.from_torch(Index(), tuple(sc.symbols("C A B")))
    point = dict(zip(sc.symbols("C A B"), shape, strict=True))
    if symbolic.is_valid(point):  # a symbolic slice keeps inside the axis instead of clipping
        assert tuple(symbolic.subs(point).output_shape) == tuple(out.shape[1:])
