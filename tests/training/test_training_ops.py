"""Training rules of the layers a forward writes as arithmetic: one small module each.

Merges (``x * gate``, ``x / y``, ``torch.maximum``), numbers (``x ** 2``, ``2 ** x``,
``1 / x``), reductions, views and copies (``permute`` then ``reshape`` copies; ``flatten``
of a dense tensor does not), a module's own tensors (layer scale, ``F.normalize``) and
matrix products: symcnn's training step equals torch's (tests/torchtrain.py) at batch 2
and 3, with the image behind a convolution so that every branch needs a gradient.
"""

from __future__ import annotations

from typing import Any

import pytest

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
torchtrain = require("torchtrain")
nn = torch.nn
F = torch.nn.functional


class Op(nn.Module):
    """A 1×1 convolution (so gradients flow), then ``body(self, y)``."""

    def __init__(self, body: Any, channels: int = 4, **tensors: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 1)
        self.body = body
        for name, value in tensors.items():
            setattr(self, name, value)

    def forward(self, x):
        return self.body(self, self.conv(x))


BODIES = {
    "gate": lambda m, y: y * torch.sigmoid(y.mean((2, 3), keepdim=True)),
    "square": lambda m, y: y * y,
    "div": lambda m, y: y / (y * y + 1),
    "maximum": lambda m, y: torch.maximum(y, -y),
    "pow": lambda m, y: y**2,
    "rpow": lambda m, y: 2**y,
    "rdiv": lambda m, y: 1 / y,
    "scaled": lambda m, y: y * 0.5 + 3,
    "sum": lambda m, y: y.sum(1),
    "amax": lambda m, y: torch.amax(y, dim=(2, 3)),
    "max_dim": lambda m, y: y.max(dim=1).values,
    "var": lambda m, y: y.var(dim=1),
    "std": lambda m, y: y.std(dim=1),
    "logsumexp": lambda m, y: torch.logsumexp(y, dim=1),
    "norm": lambda m, y: torch.linalg.vector_norm(y, dim=1),
    "permute_reshape": lambda m, y: torch.relu(y.permute(0, 2, 3, 1).reshape(y.shape[0], -1)),
    "flatten_view": lambda m, y: torch.sigmoid(torch.sigmoid(y).flatten(1)),
    "transpose_matmul": lambda m, y: y.flatten(2) @ y.flatten(2).transpose(1, 2),
    "narrow_cat": lambda m, y: torch.cat([torch.relu(y[:, :2]), torch.tanh(y[:, 2:])], 1),
    "stack": lambda m, y: torch.stack([y, torch.sigmoid(y)], 1).sum(1),
    "expand_mul": lambda m, y: y * y.mean(1, keepdim=True).expand(-1, 4, -1, -1),
    "repeat": lambda m, y: torch.sigmoid(y.repeat(1, 2, 1, 1)),
    "layer_scale": lambda m, y: y * m.gamma,
    "param_div": lambda m, y: y / m.gamma,
    "param_add": lambda m, y: torch.sigmoid(y + m.gamma),
    "normalize": lambda m, y: F.normalize(y, dim=1),
    "softmax_matmul": lambda m, y: torch.softmax(y.flatten(2), -1) @ y.flatten(2).transpose(1, 2),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_operation_keeps_what_torch_keeps(name):
    model = Op(BODIES[name], gamma=nn.Parameter(torch.ones(4, 1, 1)))
    shape = (3, 5, 6)
    step = sc.from_torch(model, shape).training()
    for b in (2, 3):
        ref = torchtrain.measure(model, (b, *shape))
        at = step.subs({"B": b})
        got = (int(at.forward_products), int(at.backward_products), int(at.saved_bytes))
        assert got == (ref.forward, ref.backward, ref.saved), f"{name}, batch {b}"
