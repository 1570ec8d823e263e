"""torchvision's classification models by family, the names ``get_model`` takes.

Static lists, so that tests collect without torchvision (it imports only in CI's second
venv); tests/frontends/test_torchvision_zoo.py and test_torchvision_training.py check
them against ``torchvision.models.list_models``.
"""

from __future__ import annotations

__all__ = ["CNNS", "SWINS", "VITS"]

#: The 68 CNNs.
CNNS = [
    "alexnet",
    *(f"convnext_{s}" for s in ("tiny", "small", "base", "large")),
    *(f"densenet{d}" for d in (121, 161, 169, 201)),
    *(f"efficientnet_b{i}" for i in range(8)),
    *(f"efficientnet_v2_{s}" for s in ("s", "m", "l")),
    "googlenet",
    "inception_v3",
    *(f"mnasnet{s}" for s in ("0_5", "0_75", "1_0", "1_3")),
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    *(f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    "regnet_y_128gf",
    *(f"resnet{d}" for d in (18, 34, 50, 101, 152)),
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    *(f"shufflenet_v2_x{s}" for s in ("0_5", "1_0", "1_5", "2_0")),
    "squeezenet1_0",
    "squeezenet1_1",
    *(f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")),
    "wide_resnet50_2",
    "wide_resnet101_2",
]

#: The five ViTs, whose image size is fixed when built.
VITS = ["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"]
#: Swin and Swin V2, T, S and B.
SWINS = [f"swin_{s}" for s in "tsb"] + [f"swin_v2_{s}" for s in "tsb"]
