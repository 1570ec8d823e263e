"""Checking and converting the values a formula is evaluated at.

A value is a Python or numpy integer, a numpy array of an integer dtype (or of Python
ints), a ``range``, or a nested list or tuple of ints. Each becomes a Python int or an
array (int64 when every value fits, else an object array of Python ints) with its largest
magnitude, which :mod:`symcnn.evaluate.bounds` needs to decide whether int64 is safe.
sympy's ``lambdify`` takes whatever it is given; these checks are what it lacks: a bool, a
float or an oversized input is refused here, naming the symbol, before anything runs.

numpy is imported only when an array is given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sympy

from ..errors import ShapeError

if TYPE_CHECKING:
    import numpy

__all__ = [
    "MAX_POINTS",
    "Coerced",
    "broadcast_shape",
    "check_keys",
    "coerce_values",
    "numpy_module",
]

_numpy_module: ModuleType | None = None


def numpy_module() -> ModuleType:
    """numpy, imported on first use, with the extra to install when it is missing."""
    global _numpy_module
    if _numpy_module is None:
        try:
            import numpy
        except ImportError as error:
            raise ImportError(
                'symcnn.evaluate needs numpy for arrays: pip install "symcnn[numpy]"'
            ) from error
        _numpy_module = numpy
    return _numpy_module


#: The most points one evaluation takes: the size of each array value (a ``range`` counts
#: its length, an array view its full shape) and of the shape all values broadcast to.
#: Bigger inputs raise :class:`~symcnn.errors.ShapeError` before anything is allocated.
#: Why this many: an int64 array of 2·10**8 points is 1.6 GB, and an evaluation holds a
#: few arrays of the result's shape at once (temporaries, the domain's boolean verdicts,
#: the result), so a sweep this large needs several GB, about what a workstation has;
#: exact object arrays take about five times as much per point. Refusing beyond that
#: turns a mistaken ``range(3, 10**12)``, or a grid of two long vectors, into an error
#: with the count at once instead of a bare MemoryError (or swapping) part-way through.
#: Sweep more points in chunks.
MAX_POINTS = 2 * 10**8

# Values an int64 array holds exactly.
_INT64_MIN, _INT64_END = -(2**63), 2**63

# Scalar kinds that are never a size, though some of them (bool) are ints to Python.
_NOT_VALUES = (bool, float, complex, str, bytes, bytearray, memoryview, sympy.Basic)


def _coerce(symbol: sympy.Symbol, value: Any) -> tuple[Any, int]:
    """A value as a Python int or an int64/object integer array, and its max magnitude.

    Parameters
    ----------
    symbol : sympy.Symbol
        The symbol the value is for, named in every error.
    value : object
        A Python or numpy integer; a numpy array (or anything with ``__array__``) of an
        integer dtype or of Python ints; a ``range``; or a (nested) list or tuple of ints.

    Returns
    -------
    tuple
        A Python int, or an int64 array when every value fits in int64, else an object
        array of Python ints; and the largest magnitude among the values (0 if none).

    Raises
    ------
    ShapeError
        If the value, or any element of it, is a bool, a float or anything else but an
        integer (naming the value, and its index in a list); if a symbol declared positive
        or nonnegative gets a value below that; if the value is not rectangular; or if it
        has more than :data:`MAX_POINTS` points, before allocating them.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        v = int(value)
        _check_sign(symbol, v, None)
        return v, abs(v)
    if isinstance(value, _NOT_VALUES) or value is None:
        raise _bad_value(symbol, value)
    if isinstance(value, range):
        return _from_range(symbol, value)
    if isinstance(value, Sequence):
        return _from_sequence(symbol, value)
    if not hasattr(value, "__array__"):
        raise _bad_value(symbol, value)
    array = _as_array(symbol, value)
    if array.ndim == 0:
        return _coerce(symbol, array.item())  # a numpy scalar, np.bool_ among them
    return _from_array(symbol, array)


def _range_length(r: range) -> int:
    """``len(r)``, also past ``sys.maxsize`` where ``len`` raises OverflowError."""
    return max(0, -((r.start - r.stop) // r.step))


def _nested_size(value: Any) -> int | None:
    """How many points a nested list holds, read from the first element at each depth.

    Exact for a rectangular nesting (numpy refuses any other), and cheap: it lets a list
    of ranges or of array views be refused before numpy materialises it. None when the
    value has no length to read.
    """
    count = 1
    for _ in range(64):  # numpy's limit on dimensions
        if isinstance(value, range):
            length = _range_length(value)
        elif isinstance(value, Sequence) and not isinstance(value, _NOT_VALUES):
            length = len(value)
        else:
            shape = getattr(value, "shape", None)
            if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
                return count * math.prod(shape)
            return count
        count *= length
        if not length:
            return 0
        try:
            value = value[0]
        except (IndexError, KeyError, TypeError):  # a sequence numpy will refuse anyway
            return None
    return None


def _check_size(symbol: sympy.Symbol, points: int) -> None:
    if points > MAX_POINTS:
        raise ShapeError(
            f"the value of {symbol} has {points:,} points, more than the {MAX_POINTS:,} one "
            "evaluation takes (symcnn.evaluate.MAX_POINTS): evaluate it in chunks"
        )


def _from_range(symbol: sympy.Symbol, r: range) -> tuple[Any, int]:
    """A range as an array, built without a Python loop when its values fit in int64."""
    count = _range_length(r)
    _check_size(symbol, count)
    np = numpy_module()
    if not count:
        return np.empty(0, dtype=np.int64), 0
    first, last = r.start, r.start + (count - 1) * r.step
    lo, hi = min(first, last), max(first, last)
    if _INT64_MIN <= lo and hi < _INT64_END:
        # first + i·step in int64. Intermediate products may wrap around, but int64
        # arithmetic is exact modulo 2**64 and every final value fits, so each is exact;
        # the step is reduced modulo 2**64 for the same reason.
        array = np.arange(count, dtype=np.int64)
        array *= (r.step - _INT64_MIN) % 2**64 + _INT64_MIN
        array += first
    else:
        array = _object_array(list(r), (count,))
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _as_array(symbol: sympy.Symbol, value: Any) -> Any:
    """``numpy.asarray(value)``, its size checked first where it can be read without it."""
    size = _nested_size(value)
    if size is not None:
        _check_size(symbol, size)
    try:
        return numpy_module().asarray(value)
    except (ValueError, TypeError, OverflowError, MemoryError) as error:
        raise ShapeError(f"the value of {symbol} is not an array of integers ({error})") from None


def _from_sequence(symbol: sympy.Symbol, value: Sequence[Any]) -> tuple[Any, int]:
    """A (nested) list or tuple as an array, every element checked to be an integer."""
    np = numpy_module()
    array = _as_array(symbol, value)
    _check_size(symbol, array.size)
    if array.dtype.kind in "iu" and (not array.size or int(array.min()) > 1):
        return _from_array(symbol, array)  # numpy's fast conversion, and no bool can hide
    # numpy's conversion counts True as 1, makes 2**63 + 3 a float and 2.0 an integer
    # float: read the elements as given instead (only when a 0 or 1 or a non-int appears).
    return _from_objects(symbol, np.asarray(value, dtype=object))


def _from_array(symbol: sympy.Symbol, array: numpy.ndarray[Any, Any]) -> tuple[Any, int]:
    """A numpy array as an int64 array, or an object array when a value passes int64."""
    _check_size(symbol, array.size)
    np = numpy_module()
    kind = array.dtype.kind
    if kind == "O":
        return _from_objects(symbol, array)
    if kind == "u" and array.size and int(array.max()) >= _INT64_END:
        array = array.astype(object)
        lo = int(array.min())
        _check_sign(symbol, lo, array)
        return array, int(array.max())
    if kind not in "iu" and array.size:
        flat = array.ravel()
        if kind == "f":
            # Name a fractional (or non-finite) entry when there is one, else the first.
            fractional = ~np.isfinite(flat) | (flat != np.round(flat))
            flat = flat[fractional] if fractional.any() else flat
        first = flat[0].item()
        raise _bad_value(symbol, first, array=True, dtype=str(array.dtype))
    array = array.astype(np.int64, copy=False)
    if not array.size:
        return array, 0
    lo, hi = int(array.min()), int(array.max())
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _from_objects(symbol: sympy.Symbol, objects: numpy.ndarray[Any, Any]) -> tuple[Any, int]:
    """An object array of the caller's own elements, each checked to be a (non-bool) int."""
    np = numpy_module()
    items = objects.ravel().tolist()
    if set(map(type, items)) - {int}:  # numpy or sympy integers, or something refused
        for position, item in enumerate(items):
            if isinstance(item, np.ndarray) and item.ndim == 0:
                items[position] = item = item[()]  # a 0-d array in a list: its scalar
            if isinstance(item, bool) or not isinstance(item, numbers.Integral):
                index = np.unravel_index(position, objects.shape)
                raise _bad_item(symbol, item, tuple(int(i) for i in index))
        items = [int(item) for item in items]
    if not items:
        return np.empty(objects.shape, dtype=np.int64), 0
    lo, hi = min(items), max(items)
    if _INT64_MIN <= lo and hi < _INT64_END:
        array = np.array(items, dtype=np.int64).reshape(objects.shape)
    else:
        array = _object_array(items, objects.shape)
    _check_sign(symbol, lo, array)
    return array, max(abs(lo), abs(hi))


def _object_array(items: list[int], shape: tuple[int, ...]) -> numpy.ndarray[Any, Any]:
    array = numpy_module().empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def _bad_value(
    symbol: sympy.Symbol, value: Any, array: bool = False, dtype: str | None = None
) -> ShapeError:
    got = f"{_shown(value)} in a {dtype} array" if dtype else _shown(value)
    what = "an integer array" if array else "an integer or an array of integers"
    return ShapeError(f"the value of {symbol} must be {what} (got {got})")


def _bad_item(symbol: sympy.Symbol, item: Any, index: tuple[int, ...]) -> ShapeError:
    at = index[0] if len(index) == 1 else index
    return ShapeError(
        f"the value of {symbol} must be an integer array (got {_shown(item)} at index {at})"
    )


def _shown(value: Any) -> str:
    """``repr`` of a refused value, a numpy scalar shown as the Python value it holds."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        value = value.item()
    return repr(value)


def _check_sign(symbol: sympy.Symbol, lowest: int, array: Any) -> None:
    least = 1 if symbol.is_positive else 0 if symbol.is_nonnegative else None
    if least is None or lowest >= least:
        return
    kind = "positive" if least else "nonnegative"
    if array is None:
        raise ShapeError(f"{symbol} is declared {kind} but its value is {lowest}")
    np = numpy_module()
    index = tuple(int(i) for i in np.argwhere(array < least)[0])
    at = index[0] if len(index) == 1 else index
    raise ShapeError(
        f"{symbol} is declared {kind} but its value at index {at} is {int(array[index])}"
    )


#: Values checked by :func:`coerce_values`: each symbol's int or array and max magnitude.
Coerced = Mapping[sympy.Symbol, tuple[Any, int]]


def check_keys(values: Mapping[Any, Any]) -> None:
    """Refuse anything but a mapping keyed by sympy Symbols."""
    if not isinstance(values, Mapping):
        raise ShapeError(f"values must be a mapping from symbols to values (got {values!r})")
    for key in values:
        if not isinstance(key, sympy.Symbol):
            raise ShapeError(f"values must be keyed by sympy Symbols (got key {key!r})")


def coerce_values(values: Mapping[Any, Any]) -> dict[sympy.Symbol, tuple[Any, int]]:
    """Every value checked and converted once (see :func:`_coerce`), keyed by its symbol."""
    check_keys(values)
    return {s: _coerce(s, v) for s, v in values.items()}


def broadcast_shape(arrays: Mapping[sympy.Symbol, Any]) -> tuple[int, ...]:
    """The shape the array values broadcast to, refused past :data:`MAX_POINTS` points."""
    np = numpy_module()
    try:
        shape: tuple[int, ...] = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{s} has shape {a.shape}" for s, a in arrays.items())
        raise ShapeError(f"the values do not broadcast together: {shapes}") from None
    points = math.prod(shape)
    if points > MAX_POINTS:
        shapes = ", ".join(f"{s} has shape {a.shape}" for s, a in arrays.items())
        raise ShapeError(
            f"the values broadcast to shape {shape}, {points:,} points, more than the "
            f"{MAX_POINTS:,} one evaluation takes (symcnn.evaluate.MAX_POINTS): {shapes}"
        )
    return shape
