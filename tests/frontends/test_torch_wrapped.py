"""Functions hidden from torch.fx with ``torch.fx.wrap``, and tensors fx keeps as constants.

A library wraps a function whose Python branches on sizes (Swin3D's
``_compute_pad_size_3d``); symcnn traces into it, unless a rule maps it, and leaves
torch.fx's table of wrapped functions as it found it. A tensor the forward computes from a
buffer while tracing (MaxViT's ``relative_position_index.view(-1)``) becomes an fx constant
of the root module: read as a buffer, and removed from the user's module afterwards.
"""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc

from conftest import require

pytestmark = pytest.mark.torch
torch = require("torch")
nn, F = torch.nn, torch.nn.functional

H, W = sc.symbols("H W")


def pad_to_windows(x, window: int):
    """Pad the last two axes up to multiples of ``window``: Python on sizes."""
    h, w = x.shape[-2:]
    pad_h = (window - h % window) % window
    pad_w = (window - w % window) % window
    if pad_h > 0 or pad_w > 0:  # Python on sizes: why libraries wrap such functions
        x = F.pad(x, (0, pad_w, 0, pad_h))
    return x


torch.fx.wrap("pad_to_windows")


class Windows(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return pad_to_windows(self.conv(x), 7)


def wrapped_names() -> set[str]:
    table = torch.fx._symbolic_trace._wrapped_fns_to_patch
    return {name for _, name in table}


def test_a_wrapped_function_is_traced_into_and_the_table_restored():
    assert "pad_to_windows" in wrapped_names()
    net = sc.from_torch(Windows(), (3, H, W), at={"H": 20, "W": 21})
    assert net.output_shape == (4, 7 * sympy.ceiling(H / 7), 7 * sympy.ceiling(W / 7))
    assert "pad_to_windows" in wrapped_names()
    for h, w in [(20, 21), (15, 30)]:
        out = Windows()(torch.zeros(1, 3, h, w))
        assert tuple(net.output_shape.subs({H: h, W: w})) == tuple(out.shape[1:])
    assert "the forward was traced where" in str(net.guards)


def test_a_user_rule_keeps_a_wrapped_function_one_call():
    rules = {pad_to_windows: lambda x, window: sc.Identity()}
    net = sc.from_torch(Windows(), (3, H, W), rules=rules)
    assert net.output_shape == (4, H, W) and net.guards == ()
    assert [r.layer for r in net.layers][-1] == sc.Identity()


class Indexed(nn.Module):
    """A table indexed by a buffer's view, as MaxViT reads its relative position bias."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.zeros(9, 2))
        self.register_buffer("index", torch.zeros(4, 4, dtype=torch.long))

    def forward(self, x):
        bias = self.table[self.index.view(-1)].view(4, 4, 2).sum(-1)
        return x + bias


def test_an_fx_constant_counts_as_a_buffer_and_leaves_the_module():
    module = Indexed()
    before = set(vars(module))
    net = sc.from_torch(module, (3, 4, 4))
    assert set(vars(module)) == before  # fx's _tensor_constant0 removed again
    assert net.params == 18 and net.buffers == 16
    assert net.output_shape == (3, 4, 4)
