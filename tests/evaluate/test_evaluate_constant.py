"""Network.evaluate over a symbol the quantity does not depend on: values broadcast."""

from __future__ import annotations

import pytest

import symcnn as sc

n = sc.symbols("n")


def test_a_quantity_free_of_the_swept_size_broadcasts():
    # AdaptiveAvgPool2d(1) then a Linear: parameters and products are constant in n, and the
    # network has no constraint on n either; n is still the network's symbol.
    net = sc.Sequential(
        sc.AdaptiveAvgPool2d(1), sc.Flatten(), sc.Linear(3, 2), input_shape=(3, n, n)
    )
    assert net.constraints == ()
    assert net.evaluate("params", n=[3, 4, 5]).tolist() == [8, 8, 8]
    assert net.evaluate("products", n=7) == 6
    assert net["linear1"].evaluate("products") == 6


def test_a_name_the_network_does_not_have_is_still_refused():
    net = sc.Sequential(sc.AdaptiveAvgPool2d(1), input_shape=(3, n, n))
    with pytest.raises(sc.ShapeError, match=r"no symbol named m here \(symbols: n\)"):
        net.evaluate("params", m=[1, 2])
