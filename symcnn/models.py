"""A small zoo of networks, ready to analyse: the seed lecture's LeNet first.

Each function returns a :class:`~symcnn.graph.network.Network` whose sizes default to symbols,
so the same call gives the closed forms or, with numbers, the seed's table. A model is
also a command-line MODEL: ``symcnn table symcnn.models:lenet``.
"""

from __future__ import annotations

from typing import Any

from .graph.network import Network, Sequential
from .layers import Conv2d, Flatten, LazyLinear, Linear, MaxPool2d, ReLU, View
from .symbolic.symbols import symbols

__all__ = ["lenet"]


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
