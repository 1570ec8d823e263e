"""symcnn.models: networks written with symcnn's layers alone, in closed form."""

from __future__ import annotations

import sympy

import symcnn as sc
from symcnn.models import vit

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
