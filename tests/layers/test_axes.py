"""The axis layers against torch: Permute, Transpose, Narrow, Unsqueeze, Squeeze, View.

Each layer runs beside its torch call on zeros of a drawn shape with a batch of 2, so that
moving the batch axis would show: where symcnn accepts, torch accepts and gives the same
per-sample shape; where torch refuses, symcnn refuses too; symcnn refuses beyond torch
only the batch axis (which a per-sample shape does not have) and what its rules make a
condition (a squeezed size other than 1, an empty narrow), with the layer named. The
pieces of ``chunk`` and ``split`` are checked against torch's own, sizes and count.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn.layers.axes import chunk_bounds, split_bounds

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")

H, W, C = sc.symbols("H W C")

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


def dims_for(shape: tuple[int, ...]) -> st.SearchStrategy[int]:
    rank = len(shape) + 1
    return st.integers(-rank - 1, rank)


def torch_shape(fn: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The per-sample output shape of ``fn`` on a batch of 2, None if torch refuses it."""
    try:
        out = fn(torch.zeros(2, *shape))
    except (RuntimeError, IndexError, ValueError, TypeError):
        return None
    assert out.shape[0] == 2 or out.dim() == 0, "the tests only let symcnn move the batch"
    return tuple(out.shape[1:])


def symcnn_shape(make: Any, shape: tuple[int, ...]) -> tuple[Any, str]:
    """(network, "") or (None, the ShapeError's message)."""
    try:
        net = sc.Sequential(make(), input_shape=shape)
    except sc.ShapeError as err:
        return None, str(err)
    assert net.params == net.products == net.elementwise == 0
    return net, ""


def check(make: Any, fn: Any, shape: tuple[int, ...], name: str, allowed: str) -> None:
    """symcnn agrees with torch, refusing beyond it only for a reason matching ``allowed``."""
    net, message = symcnn_shape(make, shape)
    try:
        expected = torch_shape(fn, shape)
    except AssertionError:  # torch moved the batch axis: symcnn must have refused
        assert net is None and name in message and re.search(allowed, message), message
        return
    if net is not None:
        assert expected is not None, f"symcnn accepted {make()!r} on {shape}, torch refused"
        assert net.output_shape == expected
    else:
        assert name in message, message
        assert expected is None or re.search(allowed, message), (message, expected)


@given(shape=shapes, data=st.data())
@torch_settings
def test_transpose_as_torch(shape: tuple[int, ...], data: Any) -> None:
    a, b = data.draw(dims_for(shape)), data.draw(dims_for(shape))
    check(
        lambda: sc.Transpose(a, b),
        lambda x: torch.transpose(x, a, b),
        shape,
        "Transpose",
        "batch axis",
    )


@given(shape=shapes, data=st.data())
@torch_settings
def test_permute_as_torch(shape: tuple[int, ...], data: Any) -> None:
    rank = len(shape) + 1
    dims = data.draw(st.permutations(range(rank)))
    dims = [d - rank if data.draw(st.booleans()) else d for d in dims]
    if data.draw(st.integers(0, 4)) == 0:  # sometimes a wrong count or a repeat
        dims = data.draw(st.lists(st.integers(-rank, rank), min_size=1, max_size=rank + 1))
    check(
        lambda: sc.Permute(*dims),
        lambda x: x.permute(*dims),
        shape,
        "Permute",
        "batch axis|dims\\[0\\]|start with 0",
    )


@given(shape=shapes, data=st.data())
@torch_settings
def test_narrow_as_torch(shape: tuple[int, ...], data: Any) -> None:
    dim = data.draw(dims_for(shape))
    start, length = data.draw(st.integers(-2, 5)), data.draw(st.integers(0, 5))
    check(
        lambda: sc.Narrow(dim, start, length),
        lambda x: x.narrow(dim, start, length),
        shape,
        "Narrow",
        "batch axis|start must be nonnegative|length must be positive",
    )


@given(shape=shapes, data=st.data())
@torch_settings
def test_unsqueeze_as_torch(shape: tuple[int, ...], data: Any) -> None:
    dim = data.draw(st.integers(-len(shape) - 3, len(shape) + 2))
    check(
        lambda: sc.Unsqueeze(dim),
        lambda x: x.unsqueeze(dim),
        shape,
        "Unsqueeze",
        "batch axis",
    )


@given(shape=shapes.map(lambda s: tuple(1 if v > 2 else v for v in s)), data=st.data())
@torch_settings
def test_squeeze_as_torch(shape: tuple[int, ...], data: Any) -> None:
    dim = data.draw(dims_for(shape))
    check(
        lambda: sc.Squeeze(dim),
        lambda x: x.squeeze(dim),
        shape,
        "Squeeze",
        "batch axis|only where its size is 1",
    )


@given(size=st.integers(1, 40), chunks=st.integers(1, 12))
def test_chunk_bounds_as_torch(size: int, chunks: int) -> None:
    pieces = torch.arange(size).chunk(chunks)
    bounds = chunk_bounds(size, chunks)
    assert [(int(p[0]), len(p)) for p in pieces] == [(int(a), int(n)) for a, n in bounds]


@given(size=st.integers(1, 40), step=st.integers(1, 12))
def test_split_bounds_as_torch(size: int, step: int) -> None:
    pieces = torch.arange(size).split(step)
    bounds = split_bounds(size, step)
    assert [(int(p[0]), len(p)) for p in pieces] == [(int(a), int(n)) for a, n in bounds]


@given(sections=st.lists(st.integers(1, 6), min_size=1, max_size=5), extra=st.integers(-1, 1))
def test_split_sections_as_torch(sections: list[int], extra: int) -> None:
    size = sum(sections) + extra
    try:
        pieces = torch.arange(max(size, 0)).split(sections)
    except RuntimeError:
        with pytest.raises(sc.ShapeError, match="must add up to the size"):
            split_bounds(size, sections)
        return
    assert [(int(p[0]), len(p)) for p in pieces] == [
        (int(a), int(n)) for a, n in split_bounds(size, sections)
    ]


def test_symbolic_chunk_keeps_the_count_as_a_condition() -> None:
    (_, m), (b, n) = chunk_bounds(C, 2)
    assert m + n == C
    last = sc.Sequential(sc.Narrow(1, b, n), input_shape=(C, H, W))
    assert last.output_shape == (n, H, W)
    assert last.subs({C: 7, H: 2, W: 2}).output_shape == (3, 2, 2)
    with pytest.raises(sc.ShapeError, match="Narrow"):
        last.subs({C: 1, H: 2, W: 2})
    with pytest.raises(sc.ShapeError, match="a count symcnn needs to know"):
        split_bounds(C, 2)


def test_symbolic_sizes_give_conditions() -> None:
    narrow = sc.Sequential(sc.Narrow(2, 1, 4), input_shape=(3, H, W))
    assert narrow.output_shape == (3, 4, W)
    assert narrow.is_valid({H: 5, W: 1}) and not narrow.is_valid({H: 4, W: 1})
    squeeze = sc.Sequential(sc.Squeeze(-1), input_shape=(3, H, W))
    assert squeeze.output_shape == (3, H)
    assert squeeze.is_valid({H: 5, W: 1}) and not squeeze.is_valid({H: 5, W: 2})


def test_channel_shuffle_by_hand() -> None:
    """ShuffleNet's shuffle: view to groups, swap, view back; sizes stay symbolic."""
    x = sc.Input((C, H, W))
    y = sc.View(-1, 2, C, H, W)(sc.Conv2d(C, 2 * C, 1, bias=False)(x))
    z = sc.View(-1, 2 * C, H, W)(sc.Transpose(1, 2)(y))
    a, b = sc.Narrow(1, 0, C)(z), sc.Narrow(1, C, C)(z)
    net = sc.Network(x, sc.Concat()(b, a))
    assert net.output_shape == (2 * C, H, W)
    assert net.products == 2 * C**2 * H * W


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sc.Transpose(0, 1), r"Transpose: dim0 is the batch axis"),
        (lambda: sc.Permute(1, 0, 2), r"Permute: dims must start with 0"),
        (lambda: sc.Permute(0, 1, 1), r"Permute: dims names an axis twice"),
        (lambda: sc.Narrow(0, 0, 1), r"Narrow: dim is the batch axis"),
        (lambda: sc.Narrow(1, -1, 1), r"Narrow start must be nonnegative"),
        (lambda: sc.Narrow(1, 0, 0), r"Narrow length must be positive"),
        (lambda: sc.Unsqueeze(0), r"Unsqueeze: dim would put the new axis before the batch"),
        (lambda: sc.Squeeze((1, 0)), r"Squeeze: dim is the batch axis"),
        (lambda: sc.Transpose(1.0, 2), r"Transpose: dim0 must be an int"),
        (lambda: chunk_bounds(4, 0), r"chunks must be a positive int"),
    ],
)
def test_refusals_name_the_layer_and_rule(make: Any, message: str) -> None:
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_refusals_at_the_input_name_the_values() -> None:
    with pytest.raises(sc.ShapeError, match=r"Transpose\(1, -4\) at .*: dim1=-4 is the batch axis"):
        sc.Sequential(sc.Transpose(1, -4), input_shape=(3, 4, 4))
    with pytest.raises(sc.ShapeError, match=r"dim1=4 is out of range for inputs of 3 axes"):
        sc.Sequential(sc.Transpose(1, 4), input_shape=(3, 4, 4))
    with pytest.raises(sc.ShapeError, match=r"start \+ length ≤ size.*size = 4"):
        sc.Sequential(sc.Narrow(2, 2, 3), input_shape=(3, 4, 4))
    with pytest.raises(
        sc.ShapeError, match=r"Permute\(0, -4, 1, 2\) at .*dims=-4 is the batch axis"
    ):
        sc.Sequential(sc.Permute(0, -4, 1, 2), input_shape=(3, 4, 4))


def test_reprs_and_descriptions() -> None:
    assert repr(sc.Permute(0, 2, 1)) == "Permute(0, 2, 1)" == repr(sc.Permute((0, 2, 1)))
    assert repr(sc.Transpose(1, 2)) == "Transpose(1, 2)"
    assert repr(sc.Narrow(1, 0, C)) == "Narrow(1, 0, C)"
    assert repr(sc.Unsqueeze(-1)) == "Unsqueeze(-1)"
    assert repr(sc.Squeeze((2, 3))) == "Squeeze((2, 3))"
    assert sc.Transpose(1, 2).describe() == "torch.transpose(x, 1, 2)"
    assert sc.Narrow(1, 0, C).subs({C: 4}) == sc.Narrow(1, 0, 4)
