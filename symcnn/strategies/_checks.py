"""Argument validation shared by the strategies.

Every strategy checks its arguments when it is called, not when it is first drawn from, so
a bad argument fails at the line that wrote it with
:class:`hypothesis.errors.InvalidArgument`, as hypothesis's own strategies do.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from hypothesis.errors import InvalidArgument

from ..graph.network import Network


def _check_int(name: str, value: Any, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an int (got {value!r})")
    if value < minimum:
        raise InvalidArgument(f"{name} must be at least {minimum} (got {value})")


def _check_range(lo_name: str, lo: int, hi_name: str, hi: int, minimum: int = 0) -> None:
    _check_int(lo_name, lo, minimum)
    _check_int(hi_name, hi, minimum)
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo} must not exceed {hi_name}={hi}")


def _check_optional_bool(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be None or a bool (got {value!r})")


def _check_ndim(ndim: Any) -> None:
    if isinstance(ndim, bool) or ndim not in (1, 2, 3):
        raise InvalidArgument(f"ndim must be 1, 2 or 3 (got {ndim!r})")


def _check_shape(input_shape: Any, ranks: Collection[int] = (2, 3, 4)) -> tuple[int, ...]:
    """``input_shape`` as a tuple of positive ints of one of the ``ranks`` (C counted)."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise InvalidArgument(
            f"input_shape must be a tuple of ints (got {input_shape!r})"
        ) from None
    if len(shape) not in ranks or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise InvalidArgument(
            f"input_shape must be {' or '.join(f'{r - 1}-D' for r in ranks if r > 1)} "
            f"(C, *spatial) of positive ints (got {input_shape!r})"
        )
    return shape


def _check_ndim_matches(ndim: int | None, shape: tuple[int, ...], input_shape: Any) -> None:
    if ndim is not None and ndim != len(shape) - 1:
        raise InvalidArgument(f"ndim={ndim} contradicts input_shape={input_shape!r}")


def _check_net(net: Any) -> None:
    if not isinstance(net, Network):
        raise InvalidArgument(f"net must be a symcnn Network (got {net!r})")
