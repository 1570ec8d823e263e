"""A small zoo of networks, ready to analyse: the seed lecture's LeNet first.

Each function returns a :class:`~symcnn.graph.network.Network` whose sizes default to symbols,
so the same call gives the closed forms or, with numbers, the seed's table. A model is
also a command-line MODEL: ``symcnn table symcnn.models:lenet``.
"""

from __future__ import annotations

from typing import Any

import sympy

from .graph.network import Network, Sequential
from .layers import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Concat,
    Conv2d,
    Flatten,
    Input,
    LayerNorm,
    LazyLinear,
    Linear,
    MaxPool2d,
    MultiheadAttention,
    Narrow,
    ParamConcat,
    ParamOp,
    Permute,
    ReLU,
    ShiftedWindowAttention,
    Slice,
    Squeeze,
    Transpose,
    View,
    ZeroPad3d,
)
from .symbolic.canonical import canonical, floor_div
from .symbolic.symbols import symbols

__all__ = ["lenet", "resnet50", "swin", "vit"]


def lenet(n: Any = None, k: Any = None, *, lazy: bool = False) -> Network:
    """The seed lecture's CNN for MNIST, on 1×n×n inputs with k×k kernels.

    Layer for layer the network of the slide: ``Conv2d(1, 32, k)``, ``max_pool2d(3)``,
    ``relu``, ``Conv2d(32, 64, k)``, ``max_pool2d(2)``, ``relu``, ``x.view(-1, 256)``,
    ``Linear(256, 200)``, ``relu``, ``Linear(200, 10)``.

    Parameters
    ----------
    n, k : int or sympy.Expr, optional
        Input size and kernel size; the positive-integer symbols ``n`` and ``k`` when
        omitted. The seed's table is ``lenet(28, 5)``.
    lazy : bool
        Replace ``x.view(-1, 256)`` and ``Linear(256, 200)`` by ``Flatten()`` and
        ``LazyLinear(200)``, as the design sketch writes the network: the features then follow the
        input size instead of pinning it (``view`` needs exactly 256).

    Returns
    -------
    Network
        A :class:`~symcnn.graph.network.Sequential` of ten layers.

    Examples
    --------
    >>> net = lenet(28, 5)
    >>> net.params, net.products
    (105506, 1333200)
    >>> lenet(lazy=True).constraints
    (n >= 4*k + 2,)
    """
    n = symbols("n") if n is None else n
    k = symbols("k") if k is None else k
    head = (Flatten(), LazyLinear(200)) if lazy else (View(-1, 256), Linear(256, 200))
    return Sequential(
        Conv2d(1, 32, kernel_size=k),
        MaxPool2d(kernel_size=3),
        ReLU(),
        Conv2d(32, 64, kernel_size=k),
        MaxPool2d(kernel_size=2),
        ReLU(),
        *head,
        ReLU(),
        Linear(200, 10),
        input_shape=(1, n, n),
    )


def vit(
    H: Any = None,  # noqa: N803 - the image height, as the formulas write it
    W: Any = None,  # noqa: N803
    *,
    patch: int = 16,
    dim: int = 768,
    depth: int = 12,
    heads: int = 12,
    mlp: int = 3072,
    classes: int = 1000,
) -> Network:
    """A vision transformer on 3×H×W images, ViT-B/16 by default, as torchvision builds it.

    Patches by a strided convolution, a class token, a position embedding with one row
    per token, ``depth`` pre-norm encoder blocks (attention, then an MLP, each with a
    residual), and the class token's output to a linear head. Unlike torchvision's, whose
    embedding fixes the image size, the token count N = ⌊H/patch⌋·⌊W/patch⌋ + 1 is free:
    the products show attention's N² term, and the position embedding's parameters
    follow N. At 224×224 it is torchvision's ``vit_b_16`` layer for layer (dropout aside).

    Examples
    --------
    >>> net = vit()
    >>> at_224 = net.subs({"H": 224, "W": 224})
    >>> at_224.params, at_224.products
    (86567656, 17563828224)
    >>> net.leading_term("products", "H")  # attention's N², N ≈ H·W/256
    9*H**2*W**2/32
    """
    height = symbols("H") if H is None else H
    width = symbols("W") if W is None else W
    image = Input((3, height, width))
    x = Conv2d(3, dim, patch, stride=patch)(image)
    x = Transpose(1, 2)(Flatten(start_dim=2)(x))  # (tokens, dim): one row per patch
    tokens = floor_div(height, patch) * floor_div(width, patch) + 1  # patches, class token
    x = ParamConcat(1, [(1, dim), None])(x)  # the class token first
    x = ParamOp("add", (1, tokens, dim))(x)  # the position embedding
    for _ in range(depth):
        y = LayerNorm(dim, eps=1e-6)(x)
        x = Add()(x, MultiheadAttention(dim, heads, batch_first=True)(y, y, y))
        y = Linear(mlp, dim)(GELU()(Linear(dim, mlp)(LayerNorm(dim, eps=1e-6)(x))))
        x = Add()(x, y)
    x = Squeeze(1)(Narrow(1, 0, 1)(LayerNorm(dim, eps=1e-6)(x)))  # the class token's row
    return Network(image, Linear(dim, classes)(x))


def swin(
    H: Any = None,  # noqa: N803 - the image height, as the formulas write it
    W: Any = None,  # noqa: N803
    *,
    patch: int = 4,
    dim: int = 96,
    depths: tuple[int, ...] = (2, 2, 6, 2),
    heads: tuple[int, ...] = (3, 6, 12, 24),
    window: int = 7,
    mlp_ratio: int = 4,
    classes: int = 1000,
) -> Network:
    """A Swin Transformer on 3×H×W images, Swin-T by default, as torchvision builds it.

    Patches by a strided convolution into a channels-last map of ⌊H/4⌋×⌊W/4⌋ tokens; each
    stage's blocks attend within windows of ``window``×``window`` tokens
    (:class:`~symcnn.layers.ShiftedWindowAttention`, every second block shifted by half a
    window), then an MLP, each with a residual; between stages a patch merging pads the
    map to even sizes, stacks each 2×2 neighbourhood into the channels (four strided
    slices) and halves them with a linear layer. A window's attention costs the same
    wherever it is, so the products grow with the number of windows, linearly in H·W,
    where a ViT's attention grows with the square of its token count. Any image size is
    valid; at 224×224 it is torchvision's ``swin_t`` layer for layer (dropout aside).

    Examples
    --------
    >>> net = swin()
    >>> at_224 = net.subs({"H": 224, "W": 224})
    >>> at_224.params, at_224.products
    (28288354, 4490566656)
    >>> net.leading_term("products", "H")  # windows, not tokens squared: linear in H·W
    89481*H*W
    """
    height = symbols("H") if H is None else H
    width = symbols("W") if W is None else W
    image = Input((3, height, width))
    x = Conv2d(3, dim, patch, stride=patch)(image)
    x = LayerNorm(dim)(Permute(0, 2, 3, 1)(x))  # channels last: (h, w, dim)
    h, w = floor_div(height, patch), floor_div(width, patch)
    for stage, (depth, n_heads) in enumerate(zip(depths, heads, strict=True)):
        for block in range(depth):
            shift = (window // 2,) * 2 if block % 2 else (0, 0)
            attention = ShiftedWindowAttention(dim, (window, window), shift, n_heads)
            x = Add()(x, attention(LayerNorm(dim)(x)))
            y = LayerNorm(dim)(x)
            x = Add()(x, Linear(mlp_ratio * dim, dim)(GELU()(Linear(dim, mlp_ratio * dim)(y))))
        if stage < len(depths) - 1:  # patch merging: 2×2 neighbours into the channels
            x = ZeroPad3d((0, 0, 0, sympy.Mod(w, 2), 0, sympy.Mod(h, 2)))(x)
            corners = [(0, 0), (1, 0), (0, 1), (1, 1)]
            parts = [Slice(2, c, None, 2)(Slice(1, r, None, 2)(x)) for r, c in corners]
            x = Concat(-1)(*parts)
            x = Linear(4 * dim, 2 * dim, bias=False)(LayerNorm(4 * dim)(x))
            dim, h, w = 2 * dim, canonical(sympy.ceiling(h / 2)), canonical(sympy.ceiling(w / 2))
    x = Permute(0, 3, 1, 2)(LayerNorm(dim)(x))  # channels first for the pooling
    x = Flatten()(AdaptiveAvgPool2d(1)(x))
    return Network(image, Linear(dim, classes)(x))


def resnet50(
    H: Any = None,  # noqa: N803 - the image height, as the formulas write it
    W: Any = None,  # noqa: N803
    *,
    layers: tuple[int, ...] = (3, 4, 6, 3),
    classes: int = 1000,
) -> Network:
    """ResNet-50 on 3×H×W images, as torchvision builds it (bottlenecks, stride on the 3×3).

    A 7×7 stride-2 stem and a 3×3 stride-2 max pooling, four stages of bottleneck blocks
    (1×1, 3×3, 1×1 convolutions, each with BatchNorm, ReLU in place, and a residual; the
    first block of a stage projects the residual by a strided 1×1 convolution), global
    average pooling and the classifier. ``layers`` gives the blocks per stage: (3, 4, 23, 3)
    is ResNet-101. Its training step in closed form is :meth:`Network.training`.

    Examples
    --------
    >>> net = resnet50()
    >>> at_224 = net.subs({"H": 224, "W": 224})
    >>> at_224.params, at_224.products
    (25557032, 4089184256)
    """
    height = symbols("H") if H is None else H
    width = symbols("W") if W is None else W
    image = Input((3, height, width))

    def unit(x: Any, at: str, i: str, c_in: int, c_out: int, kernel: int, stride: int = 1) -> Any:
        conv = Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        bn = BatchNorm2d(c_out)
        return bn(conv(x, name=f"{at}conv{i}"), name=f"{at}bn{i}")

    # torchvision's module names, so that a table by depth groups as its model's does
    x = ReLU(inplace=True)(unit(image, "", "1", 3, 64, 7, 2), name="relu")
    x = MaxPool2d(3, stride=2, padding=1)(x, name="maxpool")
    c_in = 64
    for stage, blocks in enumerate(layers):
        planes = 64 * 2**stage
        for block in range(blocks):
            at = f"layer{stage + 1}.{block}."
            stride = 2 if stage > 0 and block == 0 else 1
            y = ReLU(inplace=True)(unit(x, at, "1", c_in, planes, 1), name=f"{at}relu")
            y = unit(y, at, "2", planes, planes, 3, stride)
            y = ReLU(inplace=True)(y, name=f"{at}relu:2")
            y = unit(y, at, "3", planes, 4 * planes, 1)
            if block == 0:
                conv = Conv2d(c_in, 4 * planes, 1, stride=stride, bias=False)
                skip = conv(x, name=f"{at}downsample.0")
                x = BatchNorm2d(4 * planes)(skip, name=f"{at}downsample.1")
            x = ReLU(inplace=True)(Add()(y, x, name=f"{at}add"), name=f"{at}relu:3")
            c_in = 4 * planes
    x = Flatten()(AdaptiveAvgPool2d(1)(x, name="avgpool"), name="flatten")
    return Network(image, Linear(c_in, classes)(x, name="fc"))
