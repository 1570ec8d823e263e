"""Pure output-size formulas of windowed layers, one spatial axis at a time.

These functions know nothing of layers or graphs; layers call them per axis.
"""

from __future__ import annotations

from typing import Any

import sympy

from .canonical import floor_div

__all__ = [
    "adaptive_windows",
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    "same_padding",
]


def conv_output_size(
    size: Any, kernel_size: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> sympy.Expr:
    r"""Output size of a convolution (or floor-mode pooling) along one axis.

    Notes
    -----
    PyTorch's documented rule, with ``padding`` the padding on *each* side,

    .. math:: \left\lfloor \frac{H + 2p - d(k - 1) - 1}{s} \right\rfloor + 1
              = \left\lfloor \frac{H + 2p - d(k - 1) - 1 + s}{s} \right\rfloor,

    returned in the second form: one floor, which nests cleanly in the next layer's.

    Examples
    --------
    >>> conv_output_size(28, 5)
    24
    >>> conv_output_size(224, 7, stride=2, padding=3)
    112
    """
    size, kernel_size, stride, padding, dilation = _expressions(
        "conv_output_size", size, kernel_size, stride, padding, dilation
    )
    return conv_output_size_padded(size, kernel_size, stride, 2 * padding, dilation)


def conv_output_size_padded(
    size: Any, kernel_size: Any, stride: Any, total_padding: Any, dilation: Any
) -> sympy.Expr:
    """:func:`conv_output_size` with the padding of both sides given as one total."""
    # floor(x/s) + 1 written as one floor, floor((x + s)/s): stacked layers then nest
    # floors directly, which the canonical form collapses (and a stride-1 layer needs none).
    reach = sympy.sympify(size, strict=True) + total_padding - dilation * (kernel_size - 1) - 1
    return floor_div(reach + stride, stride)


def pool_output_size(
    size: Any,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> sympy.Expr:
    r"""Output size of max or average pooling along one axis, PyTorch's rule.

    ``stride`` defaults to ``kernel_size``, as in ``torch.nn.MaxPool2d``.

    Notes
    -----
    Floor mode is :func:`conv_output_size`. Ceil mode rounds up, then drops a last window
    that would start in the right padding. Both steps together are one floor, with
    :math:`m = d(k - 1) - p` the reach of a window past the left padding:

    .. math:: \left\lfloor \frac{H + 2p - d(k-1) - 1 + \min(m, s - 1)}{s} \right\rfloor + 1

    (exact whenever :math:`p \le k/2`, which pooling requires). The minimum is resolved
    whenever sympy can compare its arguments, as for the default ``stride = kernel_size``.

    Examples
    --------
    >>> pool_output_size(24, 3)
    8
    >>> pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True)
    3
    """
    stride = kernel_size if stride is None else stride
    size, kernel_size, stride, padding, dilation = _expressions(
        "pool_output_size", size, kernel_size, stride, padding, dilation
    )
    if not ceil_mode:
        return conv_output_size(
            size, kernel_size, stride=stride, padding=padding, dilation=dilation
        )
    overhang = sympy.Min(dilation * (kernel_size - 1) - padding, stride - 1)
    return conv_output_size_padded(size + overhang, kernel_size, stride, 2 * padding, dilation)


def same_padding(kernel_size: Any, dilation: Any = 1) -> tuple[sympy.Expr, sympy.Expr]:
    """Left and right padding of ``padding='same'``: total d·(k − 1), the odd unit on the right.

    Examples
    --------
    >>> same_padding(4)
    (1, 2)
    """
    kernel_size, dilation = _expressions("same_padding", kernel_size, dilation)
    total = dilation * (kernel_size - 1)
    left = sympy.floor(total / 2)
    return left, total - left


def adaptive_windows(size: int, output_size: int) -> list[tuple[int, int]]:
    r"""The input span [start, end) of each output of adaptive pooling along one axis.

    Window ``i`` starts at :math:`\lfloor i \cdot In / Out \rfloor` and ends at
    :math:`\lceil (i + 1) \cdot In / Out \rceil`, PyTorch's rule: windows may differ in
    size and overlap, and ``output_size > size`` repeats input elements.

    Examples
    --------
    >>> adaptive_windows(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    >>> adaptive_windows(2, 3)
    [(0, 1), (0, 2), (1, 2)]
    """
    return [
        ((i * size) // output_size, -((-(i + 1) * size) // output_size)) for i in range(output_size)
    ]


def conv_transpose_output_size(
    size: Any,
    kernel_size: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> sympy.Expr:
    r"""Output size of a transposed convolution along one axis, PyTorch's rule.

    Notes
    -----
    With ``padding`` cropped from each side and ``output_padding`` added on one side,

    .. math:: (H - 1)s - 2p + d(k - 1) + p_{out} + 1.

    No floor: every input position places one window, ``s`` apart.

    Examples
    --------
    >>> conv_transpose_output_size(16, 2, stride=2)
    32
    >>> conv_transpose_output_size(7, 3, stride=2, padding=1, output_padding=1)
    14
    """
    size, kernel_size, stride, padding, output_padding, dilation = _expressions(
        "conv_transpose_output_size", size, kernel_size, stride, padding, output_padding, dilation
    )
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def _expressions(caller: str, *values: Any) -> list[Any]:
    """Each value as a sympy object; text is refused, never parsed (it would run)."""
    from .printing import as_expression

    return [as_expression(v, caller) for v in values]
