"""The reference's one known defect, on a minimal case: a grouped convolution's backward.

``torch.utils.flop_counter`` counts the weight gradient of a convolution with ``groups``
as if the convolution were dense. A depthwise 3×3 on 32×56×56 (batch 1, the image
needing a gradient, as inside a network) then shows a backward of 33 times its forward,
where the input's gradient and the weights' each cost one forward: 2 times. The training
tests compare with that term divided by ``groups`` (tests/torchtrain.py).
"""

from __future__ import annotations

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
torchtrain = require("torchtrain")


def test_depthwise_backward_is_dense_in_the_reference_and_corrected_here():
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        x = torch.empty(1, 32, 56, 56, requires_grad=True)
    with FlopCounterMode(display=False) as forward:
        y = conv(x)
    with FlopCounterMode(display=False) as raw:
        y.sum().backward()
    forward_products = forward.get_total_flops() // 2
    assert forward_products == 32 * 56 * 56 * 9 == 903168
    assert raw.get_total_flops() // 2 == 33 * forward_products  # 1 (input) + 32 (weights)

    with FlopCounterMode(display=False, custom_mapping=torchtrain.CORRECTED) as fixed:
        conv(x).sum().backward()
    assert fixed.get_total_flops() // 2 == 3 * forward_products  # forward + 2 backward

    # symcnn: the input's gradient (needed after a parameter) and the weights', one each
    net = sc.Sequential(
        sc.Conv2d(32, 32, 1, bias=False),
        sc.Conv2d(32, 32, 3, padding=1, groups=32, bias=False),
        input_shape=(32, 56, 56),
    )
    depthwise = net.training(batch=1).layers[1]
    assert depthwise.forward_products == forward_products
    assert depthwise.backward_products == 2 * forward_products


def test_batchnorm_with_one_value_per_channel_is_refused_by_both():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.BatchNorm2d(4)
    )
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torchtrain.measure(model, (1, 3, 8, 8))
    step = sc.from_torch(model, (3, 8, 8)).training()
    ((where, condition),) = step.conditions
    assert where == "BatchNorm2d(4) at layer 2 (2)" and str(condition.relation) == "B >= 2"
    with pytest.raises(sc.ShapeError, match="more than one value per channel"):
        step.subs({"B": 1})
    assert step.subs({"B": 2}).saved_bytes == torchtrain.measure(model, (2, 3, 8, 8)).saved
