"""Every torchvision classification model's training step, checked against torch's.

Each of the 80 models of ``torchvision.models.list_models`` is converted once by
``from_torch`` with a symbolic ``(3, H, W)`` input (a fixed size for ViT, whose position
embedding fixes it), and its training pass ``net.training()`` substituted at two image
sizes, at batch sizes 1, 2 and 8 at the first and 1 and 8 at the second: the forward and
backward products and the bytes autograd keeps must equal what torch counts on the meta
device in training mode (``FlopCounterMode``, ``saved_tensors_hooks``; tests/torchtrain.py,
run here in two passes). Models are built on the meta device; RegNet's builder needs real
tensors and is moved there after. In training GoogLeNet and Inception v3 return their
auxiliary logits too: they are built without them. A batch of one is skipped where torch
itself refuses it (a batch norm over a single value per channel).

At a batch of one, Swin's and MaxViT's attention keeps views where larger batches keep
copies (:func:`views_at_batch_one` says how many bytes, layer by layer). Models whose
layers have no training rule yet are listed in :data:`REFUSED`, each with the layer class
the training pass must name when it refuses. torchvision's video classifiers follow (MViT
refused), and its window attention modules one by one under hypothesis.

torchvision does not import beside CI's torch 2.13.0: these run in the second venv
(pytest -m torchvision), in about 6 minutes on 2 cores.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tvmodels import CNNS, SWINS, VITS

import symcnn as sc

from conftest import require

torch = require("torch")
torchtrain = require("torchtrain")

H, W = sc.symbols("H W")

pytestmark = pytest.mark.torchvision

#: Models whose image size is fixed when they are built (a position embedding, a grid).
FIXED = {
    **{f"vit_{s}": ((224, 224),) for s in ("b_16", "b_32", "l_16", "l_32", "h_14")},
    "maxvit_t": ((224, 224), (221, 222)),
}
#: Models that take a larger image (Inception v3's stem needs 75 pixels, asks for 299).
SIZES = {"inception_v3": ((299, 299), (160, 192))}
DEFAULT_SIZES = ((224, 224), (160, 192))
BATCHES = (1, 2, 8)
#: At the second size: fewer torch passes, for CI's time (the file runs in about 6 minutes).
OTHER_BATCHES = (1, 8)

#: Models refused for a layer with no training rule yet, and the layer class named: Swin
#: V2 computes its relative position bias with an MLP once per batch (symcnn/layers/window.py).
REFUSED: dict[str, str] = {f"swin_v2_{s}": "ShiftedWindowAttention" for s in "tsb"}


#: torchvision's 80 classification models (``list_models``, checked below).
MODELS = [*CNNS, "maxvit_t", *SWINS, *VITS]


def build(name: str):
    models = require("torchvision.models")
    options: dict = {"weights": None}
    if name in ("googlenet", "inception_v3"):  # training returns the aux logits otherwise
        options.update(aux_logits=False, init_weights=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name.startswith("regnet"):  # its builder initialises real tensors
            return models.get_model(name, **options).to("meta")
        with torch.device("meta"):
            return models.get_model(name, **options)


def measure(model, shape: tuple[int, ...]):
    """``torchtrain.measure`` in two passes instead of three, for the time CI allows.

    The saved tensors are recorded during the forward pass that ``FlopCounterMode``
    counts. torchtrain runs them apart so that a tensor overwritten in place after being
    kept still fails torch's backward; torchvision's models train, so none is.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = model.to(device="meta", dtype=torch.float32).train()
    x = torch.empty(shape, device="meta")
    own = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}
    kept: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage._cdata not in own:
            kept[storage._cdata] = storage.nbytes()
        return t

    mapping = torchtrain.CORRECTED
    with (
        FlopCounterMode(display=False, custom_mapping=mapping) as forward,
        torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
    ):
        y = model(x)
    with FlopCounterMode(display=False, custom_mapping=mapping) as backward:
        y.sum().backward()
    return torchtrain.Step(
        forward.get_total_flops() // 2, backward.get_total_flops() // 2, sum(kept.values())
    )


def reference(model, shape: tuple[int, ...]):
    """torch's training step, or None where torch refuses a batch of one in training."""
    try:
        return measure(model, shape)
    except ValueError as err:
        if shape[0] == 1 and "more than 1 value per channel" in str(err):
            return None
        raise


def views_at_batch_one(net) -> int:
    """Bytes torch keeps beyond symcnn's count for one sample: views where copies were.

    torch's ``matmul`` and ``einsum`` fold a tensor's leading axes into one batch axis;
    heads sliced off a packed projection fold without a copy only when the batch and
    the windows (Swin) or groups (MaxViT) number one, so that k and v stay views of the
    packed projection (3 entries kept per entry of v instead of 2 copied). A count per
    sample, linear in the batch, cannot say this: symcnn counts copies, exact from a
    batch of 2 (symcnn/layers/window.py, symcnn/layers/matmul.py).
    """
    gap = 0
    for record in net.layers:
        layer = record.layer
        if isinstance(layer, sc.ShiftedWindowAttention) and layer.num_heads != 1:
            count, tokens = layer.windows(record.input_shapes[0])
            gap += tokens * layer.dim if count == 1 else 0
        if isinstance(layer, sc.Einsum) and layer.equation.endswith("J D -> B G H I D"):
            v = record.input_shapes[1]
            gap += v.numel if v[0] == 1 else 0  # one group: v and q fold as views
    return 4 * gap


def test_every_classification_model_is_tested():
    models = require("torchvision.models")
    assert sorted(models.list_models(module=models)) == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(set(MODELS) - set(REFUSED)))
def test_training_step_is_torchs(name):
    model = build(name)
    sizes = FIXED.get(name) or SIZES.get(name, DEFAULT_SIZES)
    if name in FIXED and name.startswith("vit"):
        net = sc.from_torch(model, (3, *sizes[0]))
        points = [{}]
    else:
        net = sc.from_torch(model, (3, H, W))
        points = [{H: h, W: w} for h, w in sizes]
    step = net.training()
    checked = 0
    for first, (point, (h, w)) in enumerate(zip(points, sizes, strict=True)):
        sized = step.subs(point) if point else step
        views = views_at_batch_one(sized.network)
        for b in BATCHES if first == 0 else OTHER_BATCHES:
            ref = reference(model, (b, 3, h, w))
            if ref is None:
                continue
            at = sized.subs({"B": b})
            saved = int(at.saved_bytes) + (views if b == 1 else 0)
            got = torchtrain.Step(int(at.forward_products), int(at.backward_products), saved)
            assert got == ref, f"{name} at {b}×3×{h}×{w}: symcnn {got}, torch {ref}"
            checked += 1
    assert checked >= len(sizes) + 1


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_models_without_training_rules_are_refused_naming_the_layer(name):
    model = build(name)
    size = (FIXED.get(name) or SIZES.get(name, DEFAULT_SIZES))[0]
    net = sc.from_torch(model, (3, *size))
    with pytest.raises(sc.UnsupportedLayerError, match=rf"no training rule for {REFUSED[name]}"):
        net.training()


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["v1", "3d"]),
    heads=st.integers(1, 3),
    per_head=st.integers(1, 3),
    window=st.lists(st.integers(1, 4), min_size=3, max_size=3),
    sizes=st.lists(st.integers(1, 7), min_size=3, max_size=3),
    shift=st.booleans(),
    biases=st.tuples(st.booleans(), st.booleans()),
    batch=st.sampled_from([1, 2, 3]),
)
def test_window_attention_training_is_torchs(
    kind, heads, per_head, window, sizes, shift, biases, batch
):
    """torchvision's window attention modules, one training step each, against torch."""
    swin = require("torchvision.models.swin_transformer")
    video = require("torchvision.models.video.swin_transformer")
    nd = 3 if kind == "3d" else 2
    cls = swin.ShiftedWindowAttention if kind == "v1" else video.ShiftedWindowAttention3d
    window, sizes = window[:nd], sizes[:nd]
    shifts = [w // 2 if shift else 0 for w in window]
    dim = heads * per_head
    with torch.device("meta"):
        module = cls(dim, window, shifts, heads, qkv_bias=biases[0], proj_bias=biases[1])
    net = sc.from_torch(module, (*sizes, dim))
    windows, _ = net.layers[0].layer.windows(sc.Shape((*sizes, dim)))
    if batch == 1 and windows == 1:  # torch's k and v are views then: see window.py
        batch = 2
    at = net.training().subs({"B": batch})
    ref = torchtrain.measure(module, (batch, *sizes, dim))
    got = torchtrain.Step(int(at.forward_products), int(at.backward_products), int(at.saved_bytes))
    assert got == ref


#: torchvision's video classifiers, each at two (T, H, W) sizes; S3D pools a 2×7×7 map last.
VIDEO = {
    **{name: ((16, 112, 112), (8, 96, 128)) for name in ("r3d_18", "mc3_18", "r2plus1d_18")},
    **{f"swin3d_{s}": ((16, 112, 112), (8, 96, 128)) for s in "tsb"},
    "s3d": ((16, 224, 224), (24, 224, 256)),
}
#: Video models refused, and the layer class named: MViT's class token and position
#: encoding (symcnn/layers/multiscale.py) have no training rule yet.
VIDEO_REFUSED = {"mvit_v1_b": "ClassPositionalEncoding", "mvit_v2_s": "ClassPositionalEncoding"}


def build_video(name: str):
    video = require("torchvision.models.video")
    with torch.device("meta"):
        return getattr(video, name)(weights=None)


@pytest.mark.parametrize("name", sorted(VIDEO))
def test_video_training_step_is_torchs(name):
    t = sc.symbols("T")
    model = build_video(name)
    step = sc.from_torch(model, (3, t, H, W)).training()
    for first, size in enumerate(VIDEO[name]):
        sized = step.subs(dict(zip((t, H, W), size, strict=True)))
        views = views_at_batch_one(sized.network)
        for b in BATCHES if first == 0 else OTHER_BATCHES:
            ref = measure(model, (b, 3, *size))
            at = sized.subs({"B": b})
            saved = int(at.saved_bytes) + (views if b == 1 else 0)
            got = torchtrain.Step(int(at.forward_products), int(at.backward_products), saved)
            assert got == ref, f"{name} at {b}×3×{size}: symcnn {got}, torch {ref}"


@pytest.mark.parametrize("name", sorted(VIDEO_REFUSED))
def test_video_models_without_training_rules_are_refused(name):
    net = sc.from_torch(build_video(name), (3, 16, 224, 224))
    rule = VIDEO_REFUSED[name]
    with pytest.raises(sc.UnsupportedLayerError, match=rf"no training rule for {rule}"):
        net.training()
