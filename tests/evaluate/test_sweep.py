"""Network.evaluate and LayerRecord.evaluate: exact sweeps that refuse invalid sizes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcnn as sc
from symcnn import strategies as scst
from symcnn.evaluate import holds
from symcnn.evaluate.sweep import evaluate_checked

n, k = sc.symbols("n k")


def test_sweep_equals_substitution_at_every_size(design_net):
    sizes = np.arange(22, 200)
    for quantity in ("params", "products", "output_elements"):
        swept = design_net.evaluate(quantity, n=sizes, k=5)
        assert swept.dtype == np.int64
        expected = [int(getattr(design_net.subs({n: int(s), k: 5}), quantity)) for s in sizes]
        assert swept.tolist() == expected
    assert design_net.evaluate("products", n=28, k=5) == 1333200
    assert design_net.evaluate("params", n=28, k=5) == 105506


def test_records_sweep_too(design_net):
    assert design_net["conv2"].evaluate("products", n=[22, 28], k=5).tolist() == [204800, 819200]
    assert design_net["linear1"].evaluate("params", n=[22, 28], k=5).tolist() == [13000, 51400]
    # a record checks the layers it depends on, not the ones after it
    assert design_net["conv1"].evaluate("products", n=[5], k=5).tolist() == [800]
    with pytest.raises(sc.ShapeError, match=r"at layer 4 \(pool2\).*\(n=21, k=5\)"):
        design_net["linear1"].evaluate("params", n=[22, 21], k=5)


def test_invalid_points_raise_or_are_masked(design_net):
    with pytest.raises(sc.ShapeError) as info:
        design_net.evaluate("products", n=np.arange(19, 30), k=5)
    assert str(info.value) == (
        "MaxPool2d(kernel_size=2) at layer 4 (pool2): the kernel must fit in the padded input "
        "height (got padded height = 1, effective kernel size = 2) (n=19, k=5)"
    )
    with pytest.raises(
        sc.ShapeError,
        match=r"Conv2d\(1, 32, kernel_size=k\) at layer 0 "
        r"\(conv1\).*\(n=3, k=5\)",
    ):
        design_net.evaluate("products", n=[30, 3], k=5)
    masked = design_net.evaluate("products", n=np.arange(20, 24), k=5, on_invalid="mask")
    assert masked.mask.tolist() == [True, True, False, False]
    assert masked.compressed().tolist() == [478800, 508400]


def test_huge_sizes_stay_exact(design_net):
    big = design_net.evaluate("products", n=[10**10], k=5)
    assert big.dtype == object
    assert big[0] == int(design_net.subs({n: 10**10, k: 5}).products)


def test_bad_sweep_arguments(design_net):
    with pytest.raises(sc.ShapeError, match="no symbol named m here"):
        design_net.evaluate("products", m=3, k=5)
    with pytest.raises(sc.SymcnnError, match="unknown quantity 'flops'"):
        design_net.evaluate("flops", n=28, k=5)
    with pytest.raises(sc.ShapeError, match="on_invalid must be 'raise' or 'mask'"):
        design_net.evaluate("products", n=28, k=5, on_invalid="skip")
    with pytest.raises(sc.ShapeError, match="k"):
        design_net.evaluate("products", n=28)
    with pytest.raises(sc.ShapeError, match="n"):
        design_net.evaluate("products", n=[28.5], k=5)


# -- validity by construction: every layer's own condition decides, never the constraints ----


@pytest.mark.parametrize(
    "wrong",
    [(sympy.true,), (n >= 1,), (), (sympy.false,)],
    ids=["true", "too-weak", "empty", "too-strong"],
)
def test_wrong_constraints_cannot_let_an_invalid_point_through(design_net, wrong, monkeypatch):
    """The simplified ``constraints`` never decide: were the simplifier wrong, each layer's
    own condition still refuses the invalid sizes, and valid sizes are still evaluated."""
    monkeypatch.setattr(type(design_net), "constraints", property(lambda self: wrong))
    assert design_net.constraints == wrong
    with pytest.raises(sc.ShapeError) as info:
        design_net.evaluate("products", n=np.arange(19, 30), k=5)
    assert str(info.value) == (
        "MaxPool2d(kernel_size=2) at layer 4 (pool2): the kernel must fit in the padded input "
        "height (got padded height = 1, effective kernel size = 2) (n=19, k=5)"
    )
    with pytest.raises(sc.ShapeError, match=r"at layer 4 \(pool2\).*\(n=21, k=5\)"):
        design_net.evaluate("products", n=21, k=5)
    masked = design_net.evaluate("products", n=np.arange(20, 24), k=5, on_invalid="mask")
    assert masked.mask.tolist() == [True, True, False, False]
    assert masked.compressed().tolist() == [478800, 508400]
    assert design_net.evaluate("products", n=[28], k=5).tolist() == [1333200]
    args = (design_net.products, design_net.domain, {"n": 21, "k": 5})
    with pytest.raises(sc.ShapeError, match=r"at layer 4 \(pool2\)"):
        evaluate_checked(*args, symbols=design_net.free_symbols)


# -- the simplified constraints decide exactly as the domain --------------------------------


@given(case=scst.symbolic_networks(symbolic_kernels=True, max_layers=5), data=st.data())
def test_constraints_decide_exactly_as_the_domain(case, data):
    """``constraints`` simplify the per-layer domain, so the two must agree at every point:
    inside, and just outside. (``Network.evaluate`` decides by the domain itself.)"""
    net, point = case
    symbols = sorted(point, key=str)
    shifted = {s: max(1, v + data.draw(st.integers(-4, 4), label=str(s))) for s, v in point.items()}
    for at in (point, shifted):
        by_constraints = all(holds(rel, at) is True for rel in net.constraints)
        by_domain = all(holds(cond.relation, at) is True for _, cond in net.domain)
        assert by_constraints == by_domain, (net, at, net.constraints)
        assert by_domain == net.is_valid(at)
        if not by_domain:
            values = {str(s): at[s] for s in symbols}
            with pytest.raises(sc.ShapeError):
                net.evaluate("products", **values)
