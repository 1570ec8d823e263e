"""min_input and is_valid against PyTorch: torch runs exactly where symcnn says valid."""

from __future__ import annotations

import warnings

import pytest

import symcnn as sc

from conftest import seed_layers

pytestmark = pytest.mark.torch

n, k = sc.symbols("n k")


def torch_runs(torch, layers, shape):
    """Whether a forward pass on one sample succeeds and keeps one row per sample."""
    model = torch.nn.Sequential(*layers())
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            out = model(torch.zeros(1, *shape))
    except (RuntimeError, ValueError):
        return False
    return out.shape[0] == 1


def view(torch, m):
    """``x.view(-1, m)`` as a module, as the seed's forward writes it."""

    class View(torch.nn.Module):
        def forward(self, x):
            return x.view(-1, m)

    return View()


def networks(torch):
    nn = torch.nn
    return {
        "seed LeNet (view)": (
            lambda: [
                nn.Conv2d(1, 32, 5),
                nn.MaxPool2d(3),
                nn.ReLU(),
                nn.Conv2d(32, 64, 5),
                nn.MaxPool2d(2),
                nn.ReLU(),
                view(torch, 256),
                nn.Linear(256, 200),
                nn.ReLU(),
                nn.Linear(200, 10),
            ],
            sc.Sequential(*seed_layers(5), input_shape=(1, n, n)),
            1,
            28,
        ),
        "seed LeNet (lazy)": (
            lambda: [
                nn.Conv2d(1, 32, 5),
                nn.MaxPool2d(3),
                nn.ReLU(),
                nn.Conv2d(32, 64, 5),
                nn.MaxPool2d(2),
                nn.ReLU(),
                nn.Flatten(),
                nn.LazyLinear(200),
            ],
            sc.Sequential(
                *seed_layers(5)[:6], sc.Flatten(), sc.LazyLinear(200), input_shape=(1, n, n)
            ),
            1,
            22,
        ),
        "resnet stem and stages": (
            lambda: [
                nn.Conv2d(3, 8, 7, stride=2, padding=3),
                nn.MaxPool2d(3, stride=2, padding=1),
                nn.Conv2d(8, 8, 3, stride=2),
                nn.Conv2d(8, 8, 3, stride=2),
            ],
            sc.Sequential(
                sc.Conv2d(3, 8, 7, stride=2, padding=3),
                sc.MaxPool2d(3, stride=2, padding=1),
                sc.Conv2d(8, 8, 3, stride=2),
                sc.Conv2d(8, 8, 3, stride=2),
                input_shape=(3, n, n),
            ),
            3,
            25,
        ),
        "dilated, ceil mode": (
            lambda: [
                nn.Conv2d(2, 4, 3, dilation=3),
                nn.MaxPool2d(4, stride=3, ceil_mode=True),
                nn.Conv2d(4, 4, (3, 3), padding=1),
                nn.AvgPool2d(5, stride=2, padding=2),
            ],
            sc.Sequential(
                sc.Conv2d(2, 4, 3, dilation=3),
                sc.MaxPool2d(4, stride=3, ceil_mode=True),
                sc.Conv2d(4, 4, (3, 3), padding=1),
                sc.AvgPool2d(5, stride=2, padding=2),
                input_shape=(2, n, n),
            ),
            2,
            8,
        ),
        "exact linear": (
            lambda: [nn.Conv2d(1, 4, 3, stride=2), nn.Flatten(), nn.Linear(4 * 7 * 7, 3)],
            sc.Sequential(
                sc.Conv2d(1, 4, 3, stride=2),
                sc.Flatten(),
                sc.Linear(4 * 7 * 7, 3),
                input_shape=(1, n, n),
            ),
            1,
            15,
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "seed LeNet (view)",
        "seed LeNet (lazy)",
        "resnet stem and stages",
        "dilated, ceil mode",
        "exact linear",
    ],
)
def test_min_input_and_is_valid_agree_with_torch(torch, name):
    layers, net, channels, expected = networks(torch)[name]
    low = net.min_input(n)
    assert low == expected
    assert torch_runs(torch, layers, (channels, low, low))
    assert not torch_runs(torch, layers, (channels, low - 1, low - 1))
    for size in range(1, 64):
        assert net.is_valid({n: size}) == torch_runs(torch, layers, (channels, size, size)), size
