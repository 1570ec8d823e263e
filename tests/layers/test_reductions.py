"""The reductions against torch: Mean, Sum, Amax, Amin, Max, Min, Var, Std, LogSumExp and
VectorNorm, one family.

Drawn dims (ints or tuples, negative, out of range, repeated) and keepdim run beside
torch's call on a batch of 2: where symcnn accepts, torch gives the same per-sample shape;
where torch refuses, symcnn refuses; symcnn refuses beyond torch only the batch axis. A
reduction counts nothing: no parameters, products or elementwise multiplications (as
Mean always has).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc

from conftest import require
from torchcheck import torch_settings

pytestmark = pytest.mark.torch
torch = require("torch")

H, W, C = sc.symbols("H W C")

REDUCTIONS: dict[str, tuple[Any, Any]] = {
    "Mean": (sc.Mean, lambda x, d, k: x.mean(d, keepdim=k)),
    "Sum": (sc.Sum, lambda x, d, k: x.sum(d, keepdim=k)),
    "Amax": (sc.Amax, lambda x, d, k: torch.amax(x, d, keepdim=k)),
    "Amin": (sc.Amin, lambda x, d, k: torch.amin(x, d, keepdim=k)),
    "Var": (sc.Var, lambda x, d, k: x.var(d, keepdim=k)),
    "Std": (sc.Std, lambda x, d, k: x.std(d, correction=0, keepdim=k)),
    "LogSumExp": (sc.LogSumExp, lambda x, d, k: torch.logsumexp(x, d, keepdim=k)),
    "VectorNorm": (sc.VectorNorm, lambda x, d, k: torch.linalg.vector_norm(x, dim=d, keepdim=k)),
    "Max": (sc.Max, lambda x, d, k: x.max(d, keepdim=k).values),
    "Min": (sc.Min, lambda x, d, k: x.min(d, keepdim=k)[0]),
}


def test_pinned_shapes_and_descriptions():
    x = sc.Shape((C, H, W))
    assert sc.Sum((2, 3), keepdim=True).output_shape(x) == (C, 1, 1)
    assert sc.Amax(-1).output_shape(x) == (C, H)
    assert sc.Max(1, keepdim=True).output_shape(x) == (1, H, W)
    assert sc.VectorNorm(1, keepdim=True).output_shape(x) == (1, H, W)
    assert sc.Var([-2, -1]).output_shape(x) == (C,)
    assert [
        sc.Sum(1).describe(),
        sc.Amin((2, 3), keepdim=True).describe(),
        sc.Min(-1).describe(),
        sc.Std(1, correction=0).describe(),
        sc.LogSumExp(1).describe(),
        sc.VectorNorm(1, ord=1).describe(),
    ] == [
        "x.sum(dim=1)",
        "torch.amin(x, dim=(2, 3), keepdim=True)",
        "x.min(dim=-1).values",
        "x.std(dim=1, correction=0)",
        "torch.logsumexp(x, dim=1)",
        "torch.linalg.vector_norm(x, dim=1, ord=1)",
    ]
    assert repr(sc.Sum((2, 3), keepdim=True)) == "Sum((2, 3), keepdim=True)"


def test_reductions_count_nothing():
    for name, (kind, _) in REDUCTIONS.items():
        net = sc.Sequential(kind(1), input_shape=(C, H, W))
        assert net.output_shape == (H, W), name
        assert net.params == net.products == net.elementwise == net.buffers == 0, name


def test_bad_arguments_are_refused_naming_the_layer():
    with pytest.raises(sc.ShapeError, match=r"^Max: dim must be an int \(got \(1, 2\)\)"):
        sc.Max((1, 2))
    with pytest.raises(sc.ShapeError, match=r"^Sum: dim names an axis twice"):
        sc.Sum((2, 2))
    with pytest.raises(sc.ShapeError, match=r"^Amax: keepdim must be True or False"):
        sc.Amax(1, keepdim=1)
    with pytest.raises(sc.ShapeError, match=r"^VectorNorm: ord must be a real number"):
        sc.VectorNorm(1, ord="fro")
    with pytest.raises(sc.ShapeError, match=r"^Var: correction must be a real number"):
        sc.Var(1, correction=None)
    with pytest.raises(sc.ShapeError, match=r"^Sum\(-3\) at layer 0 \(sum1\): dim=-3 is the batch"):
        sc.Sequential(sc.Sum(-3), input_shape=(4, 5))
    with pytest.raises(sc.ShapeError, match="is the batch axis"):
        sc.Sequential(sc.Mean(0), input_shape=(4, 5))


@given(data=st.data())
@torch_settings
def test_reductions_as_torch(data):
    name = data.draw(st.sampled_from(sorted(REDUCTIONS)))
    kind, fn = REDUCTIONS[name]
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rank = len(shape) + 1
    one = st.integers(-rank - 1, rank)
    single = name in ("Max", "Min")
    dim = data.draw(one if single else st.one_of(one, st.lists(one, min_size=1, max_size=3)))
    if isinstance(dim, list) and data.draw(st.booleans()):
        dim = tuple(dim)
    keepdim = data.draw(st.booleans())
    try:
        with warnings.catch_warnings():  # a variance over one element warns
            warnings.simplefilter("ignore")
            out = fn(torch.ones(2, *shape), dim, keepdim)
        expected = tuple(out.shape[1:]) if out.dim() and out.shape[0] == 2 else "batch"
    except (RuntimeError, IndexError, ValueError, TypeError):
        expected = None
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    reaches_batch = any(-rank <= d < rank and d % rank == 0 for d in dims)
    try:
        net = sc.Sequential(kind(dim, keepdim=keepdim), input_shape=shape)
    except sc.ShapeError as err:
        assert expected is None or reaches_batch, f"{name}({dim}): torch {expected}, {err}"
        return
    assert not reaches_batch
    assert net.output_shape == expected
