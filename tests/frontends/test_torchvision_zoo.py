"""Every CNN of torchvision's classification zoo, checked against torch on the meta device.

68 models (the 80 of ``torchvision.models.list_models`` less ViT, Swin and MaxViT, which
are transformers): each derives through ``from_torch`` with a symbolic ``(3, H, W)``
input; its parameter total is ``sum(p.numel())``, and at a square and a non-square size
its output shape is torch's and its products are ``FlopCounterMode``'s flops / 2. The
smallest square input symcnn finds is the smallest torch accepts, and one pixel less is
refused by both, symcnn naming the layer. Models are built on the meta device (no
weights, no memory); RegNet's builder needs real tensors and is moved there after.

torchvision does not import beside CI's torch 2.13.0: .ci/run runs these in its second
venv (pytest -m torchvision); elsewhere they skip when torchvision is missing.
"""

from __future__ import annotations

import warnings

import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tvmodels import CNNS, SWINS, VITS

import symcnn as sc

from conftest import require

torch = require("torch")

H, W, n = sc.symbols("H W n")

pytestmark = pytest.mark.torchvision


#: Auxiliary heads that run only in training: their parameters are not counted.
AUX = {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}


def build(name: str):
    models = require("torchvision.models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet's init_weights notice
        if name.startswith("regnet"):  # its builder initialises real tensors
            return getattr(models, name)(weights=None).eval().to("meta")
        with torch.device("meta"):
            return getattr(models, name)(weights=None).eval()


def meta_forward(model, h: int, w: int) -> tuple[tuple[int, ...], int] | None:
    """(per-sample output shape, products) of a meta forward pass; None if torch refuses."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, 3, h, w, device="meta"))
    except (RuntimeError, ValueError, IndexError):
        return None
    if out.shape[0] != 1:  # a view that re-batches: wrong, not refused
        return None
    return tuple(out.shape[1:]), counter.get_total_flops() // 2


def test_the_zoo_is_every_cnn_torchvision_lists():
    models = require("torchvision.models")
    transformers = ("vit_", "swin_", "maxvit_")
    listed = [m for m in models.list_models(module=models) if not m.startswith(transformers)]
    assert sorted(CNNS) == sorted(listed)


@pytest.mark.parametrize("name", CNNS)
def test_every_cnn_derives_exactly(name):
    model = build(name)
    unused = sum(p.numel() for head in AUX.get(name, ()) for p in getattr(model, head).parameters())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = sc.from_torch(model, (3, H, W))
    if unused:
        assert f"{unused} parameters are not used" in str(caught[-1].message)
    assert net.params + unused == sum(p.numel() for p in model.parameters())
    big = 299 if name == "inception_v3" else 224
    for h, w in [(big, big), (big // 2 + 3, big * 3 // 5)]:
        shape, products = meta_forward(model, h, w)
        point = {H: h, W: w}
        assert tuple(net.output_shape.subs(point)) == shape
        assert net.products.subs(point) == products

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unused heads, asserted above
        square = sc.from_torch(model, (3, n, n))
    first = square.min_input(n)
    assert meta_forward(model, first, first) is not None
    if first > 1:
        assert meta_forward(model, first - 1, first - 1) is None
        assert not square.is_valid({n: first - 1})
        with pytest.raises(sc.ShapeError, match=r" at layer \d+ \(") as err:
            square.subs({n: first - 1})
        named = str(err.value).split(" at layer ")[1].split(")")[0]
        assert named.split(" (")[1].split(":")[0] in dict(model.named_modules())


#: torchvision's ViTs: their position embedding fixes the image size, which their forward
#: asserts; the assertion is the network's domain.


@pytest.mark.parametrize("name", VITS)
def test_vision_transformers_derive_with_their_image_size_as_domain(name):
    model = build(name)
    size = model.image_size
    net = sc.from_torch(model, (3, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    shape, products = meta_forward(model, size, size)
    point = {H: size, W: size}
    assert tuple(net.output_shape.subs(point)) == shape
    assert net.products.subs(point) == products
    assert net.is_valid(point)
    assert not net.is_valid({H: size + 1, W: size}) and not net.is_valid({H: size, W: size - 1})
    assert f"Wrong image height! Expected {size} but got H!" in str(net.guards)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("vit_b_16", {}),
        ("vit_b_32", {"patch": 32}),
        ("vit_l_16", {"dim": 1024, "depth": 24, "heads": 16, "mlp": 4096}),
    ],
)
def test_symcnns_own_vit_is_torchvisions_at_its_image_size(name, config):
    from symcnn.models import vit

    model = build(name)
    ours = vit(**config).subs({"H": 224, "W": 224})
    assert ours.params == sum(p.numel() for p in model.parameters())
    assert ours.products == meta_forward(model, 224, 224)[1]


#: Swin and Swin V2 (any image size: windows pad their maps) and MaxViT (a grid fixed
#: when the model is built): window attention, one ShiftedWindowAttention node per block.


def square_limit(model, net) -> None:
    """The smallest square symcnn accepts is torch's smallest; one pixel less is refused."""
    first = net.min_input(n)
    assert meta_forward(model, first, first) is not None
    assert meta_forward(model, first - 1, first - 1) is None
    with pytest.raises(sc.ShapeError, match=r" at layer \d+ \("):
        net.subs({n: first - 1})


@pytest.mark.parametrize("name", [*SWINS, "maxvit_t"])
def test_window_transformers_derive_exactly(name):
    model = build(name)
    net = sc.from_torch(model, (3, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    sizes = [(224, 224), (221, 222)] if name == "maxvit_t" else [(224, 224), (256, 192), (97, 130)]
    for h, w in sizes:
        shape, products = meta_forward(model, h, w)
        point = {H: h, W: w}
        assert net.is_valid(point)
        assert tuple(net.output_shape.subs(point)) == shape
        assert net.products.subs(point) == products
    if name == "maxvit_t":  # its grid is 7×7 windows of 28×28 maps: 225 makes a 29×29 map
        assert meta_forward(model, 225, 224) is None and not net.is_valid({H: 225, W: 224})
    else:  # windows make attention linear in the tokens: the products grow as H·W
        lead = net.leading_term("products", H)
        assert sympy.degree(lead, H) == 1 and sympy.degree(lead, W) == 1
    square_limit(model, sc.from_torch(model, (3, n, n)))


def test_swin_t_formula_and_published_gflops():
    net = sc.from_torch(build("swin_t"), (3, H, W))
    assert net.products.subs({H: 224, W: 224}) == 4490566656  # torchvision: 4.49 GFLOPS
    assert net.leading_term("products", H) == 89481 * H * W
    # 56×56 tokens of 96 channels in 7×7 windows: ⌈⌊H/4⌋/7⌉·⌈⌊W/4⌋/7⌉ windows
    windows = sympy.ceiling(sympy.floor(H / 4) / 7) * sympy.ceiling(sympy.floor(W / 4) / 7)
    attention = net["features.1.0.attn"]
    assert sympy.expand(attention.products - 49 * 96 * (4 * 96 + 2 * 49) * windows) == 0


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("swin_t", {}),
        ("swin_s", {"depths": (2, 2, 18, 2)}),
        ("swin_b", {"dim": 128, "depths": (2, 2, 18, 2), "heads": (4, 8, 16, 32)}),
    ],
)
def test_symcnns_own_swin_is_torchvisions_at_every_size(name, config):
    from symcnn.models import swin

    model = build(name)
    ours = swin(**config)
    assert ours.params == sum(p.numel() for p in model.parameters())
    for h, w in [(224, 224), (256, 192), (97, 130), (5, 9)]:
        shape, products = meta_forward(model, h, w)
        assert ours.subs({H: h, W: w}).products == products


#: Video Swin: windows of 8×7×7 that shrink to maps smaller than them.
SWIN3DS = ["swin3d_t", "swin3d_s", "swin3d_b"]


@pytest.mark.parametrize("name", SWIN3DS)
def test_video_swin_derives_exactly(name):
    from torch.utils.flop_counter import FlopCounterMode

    video = require("torchvision.models.video")
    with torch.device("meta"):
        model = getattr(video, name)(weights=None).eval()
    t = sc.symbols("T")
    net = sc.from_torch(model, (3, t, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    for size in [(16, 224, 224), (8, 160, 192), (3, 50, 37)]:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, 3, *size, device="meta"))
        point = dict(zip((t, H, W), size, strict=True))
        assert tuple(net.output_shape.subs(point)) == tuple(out.shape[1:])
        assert net.products.subs(point) == counter.get_total_flops() // 2


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["v1", "v2", "3d"]),
    heads=st.integers(1, 3),
    per_head=st.integers(1, 4),
    window=st.lists(st.integers(1, 4), min_size=3, max_size=3),
    sizes=st.lists(st.integers(1, 9), min_size=3, max_size=3),
    shift=st.booleans(),
    biases=st.tuples(st.booleans(), st.booleans()),
)
def test_torchvisions_window_attention_modules_agree(
    kind, heads, per_head, window, sizes, shift, biases
):
    from torch.utils.flop_counter import FlopCounterMode

    swin = require("torchvision.models.swin_transformer")
    video = require("torchvision.models.video.swin_transformer")
    nd = 3 if kind == "3d" else 2
    cls = {
        "v1": swin.ShiftedWindowAttention,
        "v2": swin.ShiftedWindowAttentionV2,
        "3d": video.ShiftedWindowAttention3d,
    }[kind]
    window, sizes = window[:nd], sizes[:nd]
    shifts = [w // 2 if shift else 0 for w in window]
    dim = heads * per_head
    module = cls(dim, window, shifts, heads, qkv_bias=biases[0], proj_bias=biases[1]).eval()
    symbols = sc.symbols("a b c")[:nd]
    net = sc.from_torch(module, (*symbols, dim))
    assert net.params == sum(p.numel() for p in module.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module(torch.randn(1, *sizes, dim))
    point = dict(zip(symbols, sizes, strict=True))
    assert tuple(net.output_shape.subs(point)) == tuple(out.shape[1:])
    assert net.products.subs(point) == counter.get_total_flops() // 2
    with pytest.raises(sc.ShapeError, match=r"ShiftedWindowAttention.*dim = "):
        sc.from_torch(module, (*sizes, dim + 1))


#: MViT (video): its position encoding and the grids its blocks are called with are fixed
#: when the model is built, so it runs where the patches number that grid, and only there.
MVITS = {"mvit_v1_b": 70599407808, "mvit_v2_s": 64223815872}  # torchvision: 70.599, 64.224


def mvit(name: str, size: tuple[int, int, int] | None = None):
    """torchvision's ``name`` on the meta device, built for ``size`` (T, H, W) if given.

    The builders fix (16, 224, 224); another size is built with the MViT class and the
    builder's own configuration, read off its call.
    """
    from unittest import mock

    video = require("torchvision.models.video")
    mvit_module = require("torchvision.models.video.mvit")
    if size is None:
        with torch.device("meta"):
            return getattr(video, name)(weights=None).eval()
    with mock.patch.object(mvit_module, "MViT") as made:
        getattr(video, name)(weights=None)
    config = {**made.call_args.kwargs, "temporal_size": size[0], "spatial_size": size[1:]}
    with torch.device("meta"):
        return mvit_module.MViT(**config).eval()


def video_forward(model, size: tuple[int, int, int]) -> tuple[tuple[int, ...], int] | None:
    """(per-sample output shape, products) of a meta forward pass; None if torch refuses."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model(torch.zeros(1, 3, *size, device="meta"))
    except (RuntimeError, ValueError, IndexError):
        return None
    return tuple(out.shape[1:]), counter.get_total_flops() // 2


@pytest.mark.parametrize("name", list(MVITS))
@pytest.mark.parametrize("size", [None, (8, 160, 160), (10, 100, 132)])
def test_mvit_derives_exactly_at_the_size_it_is_built_for(name, size):
    t = sc.symbols("T")
    model = mvit(name, size)
    built = size or (16, 224, 224)
    net = sc.from_torch(model, (3, t, H, W))
    assert net.params == sum(p.numel() for p in model.parameters())
    point = dict(zip((t, H, W), built, strict=True))
    shape, products = video_forward(model, built)
    assert net.is_valid(point)
    assert tuple(net.output_shape.subs(point)) == shape == (400,)
    assert net.subs(point).products == products
    if size is None:
        assert products == MVITS[name]
    # 3 pixels less make as many patches (⌊(W - 1)/4⌋ + 1): torch runs, symcnn agrees
    near = (*built[:2], built[2] - 3)
    assert (
        net.subs(dict(zip((t, H, W), near, strict=True))).products == video_forward(model, near)[1]
    )
    for other in [
        (built[0] + 2, *built[1:]),
        (built[0], built[1] + 4, built[2]),
        (*built[:2], built[2] + 1),
    ]:
        assert video_forward(model, other) is None
        at = dict(zip((t, H, W), other, strict=True))
        assert not net.is_valid(at)
        with pytest.raises(
            sc.ShapeError,
            match=r" at layer \d+ \((pos_encoding|blocks\.0\.attn)\).*the tokens must be",
        ):
            net.subs(at)


def test_mvit_refuses_other_sizes_naming_the_grid():
    net = sc.from_torch(mvit("mvit_v1_b"), (3, 16, 224, 224))
    assert net["blocks.1.attn"].output_shape == sc.Shape((1 + 8 * 28 * 28, 192))
    with pytest.raises(sc.ShapeError, match=r"pos_encoding.*8 × 56 × 56 grid.*tokens = 25984"):
        sc.from_torch(mvit("mvit_v1_b"), (3, 16, 232, 224))
    with pytest.raises(sc.ShapeError, match=r"blocks\.0\.attn.*1 \+ 8 × 56 × 56.*tokens = 25985"):
        sc.from_torch(mvit("mvit_v2_s"), (3, 16, 232, 224))


@settings(max_examples=40, deadline=None)
@given(
    heads=st.integers(1, 3),
    per_head=st.integers(1, 3),
    embed=st.integers(1, 5),
    thw=st.tuples(*(st.integers(1, 5),) * 3),
    kernels=st.tuples(*(st.integers(1, 3),) * 3),
    strides=st.tuples(*(st.integers(1, 3),) * 3),
    pooled=st.tuples(st.booleans(), st.booleans()),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_torchvisions_multiscale_modules_agree(
    heads, per_head, embed, thw, kernels, strides, pooled, flags
):
    from torch.utils.flop_counter import FlopCounterMode

    make = require("torchvision.models.video.mvit").MultiscaleAttention
    q = (list(kernels), list(strides)) if pooled[0] else ([], [])
    kv = (list(kernels), [s + 1 for s in strides]) if pooled[1] else ([], [])
    try:  # its relative tables have 2·⌊size/stride⌋ - 1 rows: none below the stride
        attention = make(
            list(thw),
            embed,
            heads * per_head,
            heads,
            *(q[0], kv[0], q[1], kv[1]),
            residual_pool=flags[0],
            residual_with_cls_embed=flags[1],
            rel_pos_embed=flags[2],
        )
    except RuntimeError:
        assume(False)

    class Called(torch.nn.Module):  # the attention called with its grid, as a block calls it
        def __init__(self) -> None:
            super().__init__()
            self.attn = attention

        def forward(self, x):
            return self.attn(x, thw)[0]

    module = Called().eval()
    tokens = 1 + thw[0] * thw[1] * thw[2]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out, grid = attention(torch.randn(1, tokens, embed), thw)
    net = sc.from_torch(module, (tokens, embed))
    assert net.params == sum(p.numel() for p in module.parameters())
    assert tuple(net.output_shape) == tuple(out.shape[1:])
    assert net.products == counter.get_total_flops() // 2
    assert net["attn"].layer.grid_q() == tuple(grid)


def test_mvit_modules_called_otherwise_are_refused_naming_the_module():
    mvit_module = require("torchvision.models.video.mvit")
    nn = torch.nn

    class Called(nn.Module):
        def __init__(self, grid) -> None:
            super().__init__()
            self.pool, self.grid = mvit_module.Pool(nn.MaxPool3d(1), None), grid

        def forward(self, x):
            return self.pool(x, self.grid)[0]

    class Twice(nn.Module):
        def __init__(self, pool) -> None:
            super().__init__()
            self.pool = mvit_module.Pool(pool, None)

        def forward(self, x):
            y, grid = self.pool(x, (2, 4, 4))
            return self.pool(y, grid)[0]

    net = sc.from_torch(Twice(nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))).eval(), (33, 8))
    assert net["pool"].output_shape == sc.Shape((9, 8))  # the 2×4×4 grid pooled to 2×2×2
    assert net["pool:2"].output_shape == sc.Shape((3, 8))  # then to 2×1×1
    with pytest.raises(sc.UnsupportedLayerError, match=r"module 'pool'.*\(x, thw\), thw the 3"):
        sc.from_torch(Called((2, 4)).eval(), (9, 8))

    class Attention(nn.Module):  # one attention, its parameters, called on two grids
        def __init__(self) -> None:
            super().__init__()
            self.attn = mvit_module.MultiscaleAttention(
                [2, 4, 4], 8, 8, 2, [], [], [], [], *[False] * 3
            )

        def forward(self, x):
            return self.attn(self.attn(x, (2, 4, 4))[0][:, :9], (1, 2, 4))[0]

    with pytest.raises(sc.UnsupportedLayerError, match=r"'attn'.*called again with other sizes"):
        sc.from_torch(Attention().eval(), (33, 8))
    with pytest.raises(sc.UnsupportedLayerError, match=r"module 'pool'.*its pool is AvgPool3d"):
        sc.from_torch(Twice(nn.AvgPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))).eval(), (33, 8))
