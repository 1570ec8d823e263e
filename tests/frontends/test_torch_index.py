"""from_torch on strided slices and ``torch.roll``: Swin's patch merging and shifted windows.

``x[..., 0::2, 1::2, :]`` maps to :class:`~symcnn.Slice` nodes (a step of 1 stays a
Narrow), ``torch.roll(x, shifts, dims)`` and ``x.roll(...)`` to :class:`~symcnn.Roll`.
Modules are traced with symbolic sizes and compared at concrete ones with torch's forward
pass; drawn slices and rolls are traced at concrete sizes and compared the same way.
"""

from __future__ import annotations

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
nn = torch.nn
F = torch.nn.functional

H, W = sc.symbols("H W")


class Lambda(nn.Module):
    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Any) -> Any:
        return self.fn(x)


class PatchMerging(nn.Module):
    """torchvision's ``_patch_merging_pad`` then timm's reduction, channels last."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Any) -> Any:
        h, w, _ = x.shape[-3:]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x0 = x[..., 0::2, 0::2, :]
        x1 = x[..., 1::2, 0::2, :]
        x2 = x[..., 0::2, 1::2, :]
        x3 = x[..., 1::2, 1::2, :]
        x = torch.cat([x0, x1, x2, x3], -1)
        return self.reduction(self.norm(x))


class Merge(nn.Module):
    """The brief's pin: pad, the even and odd halves, concatenated (no weights)."""

    def forward(self, x: Any) -> Any:
        H, W = x.shape[1], x.shape[2]  # noqa: N806
        x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
        return torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 1::2, :]] * 2, -1)


def torch_out(model: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(model.eval()(torch.zeros(2, *shape)).shape[1:])


@pytest.mark.parametrize("size", [(1, 1), (4, 4), (5, 7), (7, 2), (56, 56), (57, 9)])
def test_merge_halves_are_ceilings(size: tuple[int, int]) -> None:
    net = sc.from_torch(Merge(), (H, W, 8))
    assert str(net.output_shape) == "⌈H/2⌉×⌈W/2⌉×32"
    assert net.constraints == ()
    slices = [r.layer for r in net.layers if isinstance(r.layer, sc.Slice)]
    assert slices == [
        sc.Slice(1, 0, None, 2),
        sc.Slice(2, 0, None, 2),
        sc.Slice(1, 1, None, 2),
        sc.Slice(2, 1, None, 2),
    ]
    point = {H: size[0], W: size[1]}
    assert net.subs(point).output_shape == torch_out(Merge(), (*size, 8))
    assert sc.from_torch(Merge(), (*size, 8)).output_shape == torch_out(Merge(), (*size, 8))


def test_swin_patch_merging_counts() -> None:
    model = PatchMerging(8)
    net = sc.from_torch(model, (H, W, 8))
    assert str(net.output_shape) == "⌈H/2⌉×⌈W/2⌉×16"
    # the reduction, 32 → 16 per merged position
    assert net.products == 512 * sympy.ceiling(H / 2) * sympy.ceiling(W / 2)
    for h, w in [(7, 7), (8, 5)]:
        at = net.subs({H: h, W: w})
        assert at.output_shape == torch_out(model, (h, w, 8))
        assert at.params == sum(p.numel() for p in model.parameters())


def test_shifted_windows_roll_back_and_forth() -> None:
    def shifted(x: Any) -> Any:
        x = torch.roll(x, shifts=(-3, -3), dims=(1, 2))
        return x.roll((3, 3), (1, 2)) + x.roll(shifts=1, dims=-1)

    net = sc.from_torch(Lambda(shifted), (H, W, 96))
    rolls = [r.layer for r in net.layers if isinstance(r.layer, sc.Roll)]
    assert rolls == [sc.Roll((-3, -3), (1, 2)), sc.Roll((3, 3), (1, 2)), sc.Roll(1, -1)]
    assert net.output_shape == (H, W, 96)
    assert net.params == net.products == 0
    assert net.subs({H: 7, W: 5}).output_shape == torch_out(Lambda(shifted), (7, 5, 96))


@pytest.mark.parametrize(
    ("fn", "layers", "text"),
    [
        (lambda x: x[:, :, ::2], [sc.Slice(2, 0, None, 2)], "4×⌈H/2⌉×W"),
        (lambda x: x[..., 1::3], [sc.Slice(3, 1, None, 3)], "4×H×⌊(W + 1)/3⌋"),
        (lambda x: x[:, 1:3, ::2], [sc.Narrow(1, 1, 2), sc.Slice(2, 0, None, 2)], "2×⌈H/2⌉×W"),
        (lambda x: x[:, ::2, 1:-1:2], [sc.Slice(1, 0, None, 2), sc.Slice(2, 1, -1, 2)], None),
        (lambda x: x[:, :, :, ::1], [], "4×H×W"),  # a step of 1 is the whole axis
        (lambda x: x[:, 0, ::2], [sc.Narrow(1, 0, 1), sc.Slice(2, 0, None, 2)], None),
    ],
)
def test_subscripts_map_to_slices(fn: Any, layers: list[Any], text: str | None) -> None:
    net = sc.from_torch(Lambda(fn), (4, H, W))
    found = [r.layer for r in net.layers if isinstance(r.layer, (sc.Slice, sc.Narrow))]
    assert found == layers
    if text is not None:
        assert str(net.output_shape) == text
    for h, w in [(5, 7), (8, 3)]:
        assert net.subs({H: h, W: w}).output_shape == torch_out(Lambda(fn), (4, h, w))


def test_symbolic_bounds_from_sizes() -> None:
    fn = Lambda(lambda x: x[:, :, 1 : x.size(2) - 1 : 2])
    net = sc.from_torch(fn, (4, H, W))
    assert str(net.output_shape) == "4×⌊(H - 1)/2⌋×W"  # ⌈(H − 2)/2⌉ from 1, by 2
    assert str(net.constraints) == "(H >= 3,)"
    for h in (3, 4, 9):
        assert net.subs({H: h, W: 2}).output_shape == torch_out(fn, (4, h, 2))


# -- drawn slices and rolls against torch ---------------------------------------------------
shapes = st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple)


def verdicts(fn: Any, shape: tuple[int, ...]) -> tuple[Any, Any, str]:
    """(symcnn's output shape or None, torch's or None, symcnn's message)."""
    try:
        ours: Any = sc.from_torch(Lambda(fn), shape).output_shape
        message = ""
    except (sc.ShapeError, sc.UnsupportedLayerError) as err:
        ours, message = None, str(err)
    try:
        theirs: Any = torch_out(Lambda(fn), shape)
    except (RuntimeError, IndexError, ValueError):
        theirs = None
    return ours, theirs, message


@given(
    shape=shapes,
    data=st.data(),
    start=st.none() | st.integers(-9, 9),
    stop=st.none() | st.integers(-9, 9),
    step=st.integers(2, 4) | st.sampled_from([0, -1]),
)
@torch_settings
def test_drawn_slices_as_torch(
    shape: tuple[int, ...], data: Any, start: Any, stop: Any, step: int
) -> None:
    dim = data.draw(st.integers(1, len(shape)))
    item = slice(start, stop, step)
    index = (*(slice(None),) * dim, item)
    ours, theirs, message = verdicts(lambda x: x[index], shape)
    if ours is not None:
        assert ours == theirs
    else:
        assert "Slice" in message, message
        assert theirs is None or 0 in theirs, (message, theirs)


@given(shape=shapes, data=st.data())
@torch_settings
def test_drawn_rolls_as_torch(shape: tuple[int, ...], data: Any) -> None:
    rank = len(shape) + 1
    count = data.draw(st.integers(1, 2))
    dims = tuple(data.draw(st.lists(st.integers(1, rank - 1), min_size=count, max_size=count)))
    shifts = tuple(data.draw(st.lists(st.integers(-15, 15), min_size=count, max_size=count)))
    negative = data.draw(st.booleans())
    dims = tuple(d - rank for d in dims) if negative else dims
    ours, theirs, message = verdicts(lambda x: torch.roll(x, shifts, dims), shape)
    assert ours == theirs == shape, message
    ours, _, message = verdicts(lambda x: x.roll(shifts[0], dims[0]), shape)
    assert ours == shape, message


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda x: x[:, ::0], sc.ShapeError, r"Slice: step must be greater than zero.*got 0"),
        (lambda x: x[..., ::-1], sc.ShapeError, r"Slice: step must be greater than zero"),
        (lambda x: x[::2], sc.ShapeError, r"slicing the batch axis"),
        (lambda x: x[:, 9::2], sc.ShapeError, r"Slice\(1, 9, None, 2\).*must not be empty"),
        (lambda x: torch.roll(x, 1), sc.ShapeError, r"torch.roll at node 'roll': Roll: dims "),
        (lambda x: x.roll(1), sc.ShapeError, r"Tensor.roll at node 'roll': Roll: dims must"),
        (lambda x: x.roll(1, 0), sc.ShapeError, r"Roll: dims is the batch axis"),
        (lambda x: x.roll(1, -4), sc.ShapeError, r"Roll\(1, -4\).*batch axis"),
        (lambda x: x.roll((1, 2), 1), sc.ShapeError, r"Roll: shifts must pair with dims"),
        (lambda x: x.roll(1, 1, 2), sc.UnsupportedLayerError, r"too many arguments"),
    ],
)
def test_refusals_name_the_layer(fn: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        sc.from_torch(Lambda(fn), (4, H, W))
