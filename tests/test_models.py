"""symcnn.models: networks written with symcnn's layers alone, in closed form."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc
from symcnn.models import resnet50, swin, vit

from conftest import require

H, W = sc.symbols("H W")


def test_vit_shows_attention_quadratic_in_the_token_count():
    net = vit()
    tokens = sympy.floor(H / 16) * sympy.floor(W / 16) + 1
    assert net.products == 18432 * tokens**2 + 85524480 * (tokens - 1) + 85702656
    assert sc.format_formula(net.products) == (
        "18432·(⌊H/16⌋·⌊W/16⌋ + 1)² + 85524480·⌊H/16⌋·⌊W/16⌋ + 85702656"
    )
    assert net.leading_term("products", H) == sympy.Rational(9, 32) * H**2 * W**2
    # the position embedding has one row per token: its parameters follow the image
    assert net.params == 768 * (tokens - 1) + 86417128
    assert net.constraints == (H >= 16, W >= 16)
    assert net.subs({H: 230, W: 224}).output_shape == (1000,)


def test_a_smaller_vit_counts_each_block():
    net = vit(32, 48, patch=8, dim=16, depth=2, heads=4, mlp=32, classes=10)
    tokens = 4 * 6 + 1
    attention = 2 * (4 * tokens * 16 * 16 + 2 * tokens * tokens * 16)  # per block, 2 blocks
    mlp = 2 * 2 * tokens * 16 * 32
    patches = 4 * 6 * 16 * 3 * 8 * 8  # 24 positions, 16 outputs, a 3×8×8 kernel each
    assert net.products == patches + attention + mlp + 16 * 10 == 216288
    assert net.output_shape == (10,)


def test_swin_t_attends_in_windows_linear_in_the_image():
    net = swin()
    assert net.params == 28288354  # torchvision's swin_t, any image size
    assert net.subs({H: 224, W: 224}).products == 4490566656  # its 4.49 GFLOPS
    # stage s attends in windows of 7×7 tokens of a ⌊H/4⌋/2^s map: ⌈⌊H/4⌋/(7·2^s)⌉ a side
    assert sc.format_formula(net.products) == (
        "238586880·⌈⌊H/4⌋/56⌉·⌈⌊W/4⌋/56⌉ + 184472064·⌈⌊H/4⌋/28⌉·⌈⌊W/4⌋/28⌉ "
        "+ 16294656·⌈⌊H/4⌋/14⌉·⌈⌊W/4⌋/14⌉ + 10616832·⌈⌊H/4⌋/8⌉·⌈⌊W/4⌋/8⌉ "
        "+ 4534656·⌈⌊H/4⌋/7⌉·⌈⌊W/4⌋/7⌉ + 7372800·⌈⌊H/4⌋/4⌉·⌈⌊W/4⌋/4⌉ "
        "+ 663552·⌈⌊H/4⌋/2⌉·⌈⌊W/4⌋/2⌉ + 152064·⌊H/4⌋·⌊W/4⌋ + 768000"
    )
    assert net.leading_term("products", H) == 89481 * H * W  # ViT's grows as H²·W²
    # every size from 4 up: windows pad the maps, patch merging pads them to even sizes
    assert net.constraints == (H >= 4, W >= 4)
    assert net.subs({H: 5, W: 97}).output_shape == (1000,)


def test_a_smaller_swin_counts_each_stage():
    net = swin(64, 48, dim=8, depths=(1, 1), heads=(2, 4), window=4, classes=10)
    patches = 16 * 12 * 8 * 3 * 4 * 4  # a 16×12 map of 8 channels from 3×4×4 patches
    # 4×3 windows of 16 tokens, then 2×2 on the merged 8×6 map: N·T·C·(4C + 2T) each
    attention = 12 * 16 * 8 * (4 * 8 + 2 * 16) + 4 * 16 * 16 * (4 * 16 + 2 * 16)
    mlp = 16 * 12 * 2 * 8 * 32 + 8 * 6 * 2 * 16 * 64
    merging = 8 * 6 * 32 * 16
    assert net.products == patches + attention + mlp + merging + 16 * 10 == 491680


def test_resnet50_domain_and_leading_terms():
    net = resnet50()
    assert net.min_input("H", {"W": 224}) == 1  # ⌈H/32⌉ windows: every size runs
    t = net.training()
    h, w = sc.symbols("H W")
    assert net.leading_term("products", "H") == 81456 * h * w + 1066032 * h
    assert t.largest_batch(24 * 2**30, "adam", at={"H": 224, "W": 224}) == 295


@pytest.mark.torch
def test_resnet50_equals_torchvisions_forward_and_training_step():
    require("torch")
    zoo = require("torchzoo")
    torchtrain = require("torchtrain")
    model = zoo.resnet50()
    t = resnet50().training()
    for h, w, b in [(224, 224, 2), (97, 130, 3), (33, 40, 2)]:
        at = t.subs({"B": b, "H": h, "W": w})
        assert at.network.params == sum(p.numel() for p in model.parameters())
        ref = torchtrain.measure(model, (b, 3, h, w))
        got = (int(at.forward_products), int(at.backward_products), int(at.saved_bytes))
        assert got == (ref.forward, ref.backward, ref.saved), (h, w, b)
