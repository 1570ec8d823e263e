"""Slice and Roll against torch: strided slicing ``x[..., a:b:s]`` and ``torch.roll``.

Each layer runs beside its torch call on zeros of a drawn shape with a batch of 2: where
symcnn accepts, torch accepts and gives the same per-sample shape; where torch refuses,
symcnn refuses too, naming the layer. symcnn refuses beyond torch only the batch axis and
an empty slice (symcnn sizes are positive). Symbolic sizes give the formulas pinned here,
and at each drawn size where their conditions hold, torch's length.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")

H, W = sc.symbols("H W")

shapes = st.lists(st.integers(1, 9), min_size=1, max_size=3).map(tuple)
bounds = st.none() | st.integers(-12, 12)


def torch_shape(fn: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The per-sample output shape of ``fn`` on a batch of 2, None if torch refuses it."""
    try:
        out = fn(torch.zeros(2, *shape))
    except (RuntimeError, IndexError, ValueError, TypeError):
        return None
    assert out.shape[0] == 2, "the tests only let symcnn move the batch"
    return tuple(out.shape[1:])


def check(make: Any, fn: Any, shape: tuple[int, ...], allowed: str) -> None:
    """symcnn agrees with torch, refusing beyond it only for a reason matching ``allowed``."""
    try:
        net = sc.Sequential(make(), input_shape=shape)
    except sc.ShapeError as err:
        message = str(err)
        assert re.search(r"\b(Slice|Roll)\b", message), message
        if "batch axis" in message:  # torch may slice or roll it; a per-sample shape cannot
            return
        expected = torch_shape(fn, shape)
        assert expected is None or re.search(allowed, message), (message, expected)
        assert expected is None or 0 in expected, (message, expected)
        return
    assert net.params == net.products == net.elementwise == net.bias_adds == 0
    expected = torch_shape(fn, shape)
    assert expected is not None, f"symcnn accepted {make()!r} on {shape}, torch refused"
    assert net.output_shape == expected


def index(dim: int, item: slice) -> tuple[Any, ...]:
    """The subscript slicing PyTorch dim ``dim`` (negative: counted from the end)."""
    if dim >= 0:
        return (*(slice(None),) * dim, item)
    return (Ellipsis, item, *(slice(None),) * (-dim - 1))


# -- Slice ----------------------------------------------------------------------------------
@given(
    shape=shapes,
    data=st.data(),
    start=bounds,
    stop=bounds,
    step=st.integers(1, 5) | st.sampled_from([None, 0, -1]),
)
@torch_settings
def test_slice_as_torch(
    shape: tuple[int, ...], data: Any, start: Any, stop: Any, step: Any
) -> None:
    rank = len(shape) + 1
    dim = data.draw(st.integers(-rank, rank - 1))
    item = slice(start, stop, step)

    def make() -> sc.Slice:
        return sc.Slice(dim, start, stop, 1 if step is None else step)

    check(make, lambda x: x[index(dim, item)], shape, r"must not be empty|batch axis")


@given(
    size=st.integers(1, 40),
    start=st.integers(-3, 3),
    stop=st.none() | st.integers(-3, 3),
    step=st.integers(1, 4),
)
@torch_settings
def test_symbolic_slice_is_torch_where_valid(size: int, start: int, stop: Any, step: int) -> None:
    """On a symbolic axis the formula, where the conditions hold, is torch's length."""
    stop = None if stop == 0 else stop
    expected = torch.zeros(2, size, 3)[:, start:stop:step].shape[1]
    try:
        net = sc.Sequential(sc.Slice(1, start, stop, step), input_shape=(H, 3))
    except sc.ShapeError as err:  # empty at every size: torch's slice is empty too
        assert "must not be empty" in str(err) and expected == 0
        return
    if net.is_valid({H: size}):
        assert net.output_shape[0].subs(H, size) == expected
    else:  # symcnn refuses only what would clip or be empty
        assert expected == 0 or start < -size or (stop is not None and stop > size)


@pytest.mark.parametrize(
    ("layer", "shape", "out"),
    [
        (sc.Slice(-1, 1, None, 2), (8, 7), (8, 3)),
        (sc.Slice(-1, 0, None, 2), (8, 7), (8, 4)),
        (sc.Slice(2, 0, -1, 3), (8, 7), (8, 2)),
        (sc.Slice(1, -5, None, 2), (8, 7), (3, 7)),
        (sc.Slice(1, -100, 100, 3), (8, 7), (3, 7)),  # numbers are clipped, as torch does
        (sc.Slice(1, 2, 3, 5), (8, 7), (1, 7)),
        (sc.Slice(1, 0, None, 1), (8, 7), (8, 7)),
    ],
)
def test_slice_examples(layer: sc.Slice, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
    assert sc.Sequential(layer, input_shape=shape).output_shape == out
    assert torch_shape(lambda x: x[index(layer.dim, _slice(layer))], shape) == out


def _slice(layer: sc.Slice) -> slice:
    stop = None if layer.stop is None else int(layer.stop)
    return slice(int(layer.start), stop, int(layer.step))


def test_patch_merging_halves_print_as_ceilings() -> None:
    """After an odd size's pad to 2·⌈H/2⌉, both 0::2 and 1::2 give ⌈H/2⌉, no condition."""
    padded = (2 * sympy.ceiling(H / 2), 2 * sympy.ceiling(W / 2), 8)
    for start in (0, 1):
        net = sc.Sequential(
            sc.Slice(-3, start, None, 2), sc.Slice(-2, start, None, 2), input_shape=padded
        )
        assert str(net.output_shape) == "⌈H/2⌉×⌈W/2⌉×8"
        assert net.constraints == ()


@pytest.mark.parametrize(
    ("layer", "text", "constraints"),
    [
        (sc.Slice(1, 0, None, 2), "⌈H/2⌉×W", "()"),
        (sc.Slice(1, 1, None, 2), "⌊H/2⌋×W", "(H >= 2,)"),
        (sc.Slice(1, 1, -1, 3), "⌊H/3⌋×W", "(H >= 3,)"),
        (sc.Slice(-1, -4, None, 2), "H×2", "(W >= 4,)"),
        (sc.Slice(2, 2, 10, 4), "H×2", "(W >= 10,)"),  # inside the axis, not clipped
    ],
)
def test_symbolic_formulas(layer: sc.Slice, text: str, constraints: str) -> None:
    net = sc.Sequential(layer, input_shape=(H, W))
    assert (str(net.output_shape), str(net.constraints)) == (text, constraints)


def test_slice_multiplies_the_jump_of_its_axis() -> None:
    net = sc.Sequential(
        sc.Conv2d(3, 3, 3), sc.Slice(3, 1, None, 2), sc.Slice(1, 0, 2, 1), input_shape=(3, H, W)
    )
    strided, channels = net.layers[1], net.layers[2]
    assert (strided.receptive_field, strided.jump) == ((3, 3), (1, 2))
    assert (channels.receptive_field, channels.jump) == ((3, 3), (1, 2))
    net = sc.Sequential(sc.Slice(-2, 0, None, 3), input_shape=(3, H, W))
    assert net.layers[0].jump == (3, 1)


def test_slice_values() -> None:
    layer = sc.Slice(-2, None, None, 2)
    assert layer == sc.Slice(-2, 0, None, 2)
    assert repr(layer) == "Slice(-2, 0, None, 2)"
    assert layer.describe() == "x[..., ::2, :]"
    assert sc.Slice(2, H - 1, None, 3).describe() == "x[:, :, H - 1::3]"
    k = sc.symbols("k")
    assert sc.Slice(1, k, None, 2).subs({k: 1}) == sc.Slice(1, 1, None, 2)
    assert eval(repr(sc.Slice(1, 1, -1, 3)), {"Slice": sc.Slice}) == sc.Slice(1, 1, -1, 3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sc.Slice(1, 0, None, 0), r"^Slice: step must be greater than zero .*got 0"),
        (lambda: sc.Slice(1, 0, None, -2), r"^Slice: step must be greater than zero .*got -2"),
        (lambda: sc.Slice(0, 0, None, 2), r"^Slice: dim is the batch axis"),
        (lambda: sc.Slice(1, 0, None, 1.5), r"^Slice: step must be an int"),
        (lambda: sc.Slice(1, 0, None, True), r"^Slice: step must be an int"),
        (lambda: sc.Slice(1, 0.5, None, 2), r"'Slice start' must be an integer"),
        (lambda: sc.Slice(1.0, 0, None, 2), r"^Slice: dim must be an int"),
    ],
)
def test_slice_refusals(make: Any, message: str) -> None:
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_torch_refuses_the_steps_symcnn_refuses() -> None:
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        torch.zeros(2, 4)[:, ::0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        torch.zeros(2, 4)[:, ::-1]


def test_empty_and_out_of_range_slices_name_the_layer() -> None:
    with pytest.raises(sc.ShapeError, match=r"Slice\(1, 5, None, 2\).*must not be empty"):
        sc.Sequential(sc.Slice(1, 5, None, 2), input_shape=(4,))
    with pytest.raises(sc.ShapeError, match=r"Slice\(3, 0, None, 2\).*dim=3 is out of range"):
        sc.Sequential(sc.Slice(3, 0, None, 2), input_shape=(4,))
    net = sc.Sequential(sc.Slice(1, 5, None, 2), input_shape=(H,))
    assert not net.is_valid({H: 5}) and net.is_valid({H: 6})


# -- Roll -----------------------------------------------------------------------------------
shifts = st.integers(-20, 20)


@given(shape=shapes, data=st.data())
@torch_settings
def test_roll_as_torch(shape: tuple[int, ...], data: Any) -> None:
    rank = len(shape) + 1
    count = data.draw(st.integers(1, 3))
    dims = tuple(data.draw(st.lists(st.integers(-rank - 1, rank), min_size=count, max_size=count)))
    moves = tuple(data.draw(st.lists(shifts, min_size=count, max_size=count)))
    if count == 1 and data.draw(st.booleans()):
        dims, moves = dims[0], moves[0]  # type: ignore[assignment]
    check(
        lambda: sc.Roll(moves, dims),
        lambda x: torch.roll(x, moves, dims),
        shape,
        r"batch axis",
    )


def test_roll_keeps_the_shape_and_counts_nothing() -> None:
    net = sc.Sequential(sc.Conv2d(3, 3, 3), sc.Roll((-3, -3), (2, 3)), input_shape=(3, H, W))
    assert net.output_shape == (3, H - 2, W - 2)
    roll = net.layers[1]
    assert roll.params == roll.products == roll.elementwise == 0
    assert (roll.receptive_field, roll.jump) == (None, None)
    assert sc.Roll(-(H - 1), -1).subs({H: 4}) == sc.Roll(-3, -1)


def test_roll_values() -> None:
    layer = sc.Roll([-3, -3], [1, 2])
    assert layer == sc.Roll((-3, -3), (1, 2))
    assert repr(layer) == "Roll((-3, -3), (1, 2))"
    assert repr(sc.Roll((1,), (2,))) == "Roll((1,), (2,))"
    assert eval(repr(layer), {"Roll": sc.Roll}) == layer
    assert layer.describe() == "torch.roll(x, shifts=(-3, -3), dims=(1, 2))"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sc.Roll(1), r"^Roll: dims must be given: without dims torch.roll rolls the"),
        (lambda: sc.Roll(1, 0), r"^Roll: dims is the batch axis"),
        (lambda: sc.Roll((1, 2), (1, 0)), r"^Roll: dims is the batch axis"),
        (lambda: sc.Roll((1, 2), 1), r"^Roll: shifts must pair with dims"),
        (lambda: sc.Roll(1, (1, 2)), r"^Roll: shifts must pair with dims"),
        (lambda: sc.Roll((), ()), r"^Roll: shifts must pair with dims"),
        (lambda: sc.Roll(1.5, 1), r"'Roll shift' must be an integer"),
    ],
)
def test_roll_refusals(make: Any, message: str) -> None:
    with pytest.raises(sc.ShapeError, match=message):
        make()


def test_torch_refuses_what_roll_refuses() -> None:
    x = torch.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        torch.roll(x, (1, 2), 1)
    assert torch.roll(x, 1).shape == x.shape  # flattened, batch included: symcnn refuses
    with pytest.raises(sc.ShapeError, match=r"Roll\(1, 4\).*dims=4 is out of range"):
        sc.Sequential(sc.Roll(1, 4), input_shape=(3, 4))
