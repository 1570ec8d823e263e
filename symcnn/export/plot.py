"""A total against the input size, plotted with matplotlib (the ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sympy

if TYPE_CHECKING:
    from ..graph.network import Network

__all__ = ["plot"]


def plot(
    net: Network,
    quantity: str,
    x: sympy.Symbol | str,
    *,
    start: int | None = None,
    stop: int = 256,
    fixed: Mapping[Any, Any] | None = None,
    ax: Any = None,
) -> Any:
    """Plot a total (``"products"``, ``"params"``, ...) against the size symbol ``x``.

    The values are exact integers from :meth:`Network.evaluate`, for every ``x`` from
    ``start`` (by default :meth:`Network.min_input`) to ``stop`` inclusive, with the
    other symbols ``fixed``; sizes outside the validity domain are left out of the line.

    Parameters
    ----------
    net : Network
        The network.
    quantity : str
        A total of the network: ``"params"``, ``"products"``, ``"output_elements"``, ...
    x : sympy.Symbol or str
        The size symbol on the horizontal axis, e.g. ``n``.
    start, stop : int
        The range of ``x``, both ends included.
    fixed : mapping, optional
        Values of the other symbols, e.g. ``{k: 5}``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure's axes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install "symcnn[plot]"``).
    ValueError
        When no size in the range is valid.
    """
    try:
        import matplotlib.pyplot as plt
        import numpy
    except ImportError as err:
        raise ImportError(
            'plotting needs matplotlib: pip install "symcnn[plot]" (or pip install matplotlib)'
        ) from err
    fixed = dict(fixed or {})
    name = str(x)
    first = net.min_input(x, fixed) if start is None else start
    sizes = list(range(first, stop + 1))
    values = net.evaluate(
        quantity, on_invalid="mask", **{name: sizes}, **{str(s): v for s, v in fixed.items()}
    )
    valid = ~numpy.ma.getmaskarray(values)
    points = [(s, int(v)) for s, v, ok in zip(sizes, values.data, valid, strict=True) if ok]
    if not points:
        raise ValueError(f"no {name} in {first}..{stop} is valid for this network")
    if ax is None:
        _, ax = plt.subplots()
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, marker=".", linestyle="-")
    ax.set_xlabel(name)
    ax.set_ylabel(quantity)
    where = ", ".join(f"{s}={v}" for s, v in fixed.items())
    ax.set_title(f"{quantity} against {name}" + (f" ({where})" if where else ""))
    return ax
