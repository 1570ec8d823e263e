"""Every one-tensor call torch offers maps to a rule or is refused by name, never guessed.

For each function of ``torch.nn.functional`` and ``torch``, and each method of
``torch.Tensor``, that runs on one ``(1, 3, 8, 9)`` tensor with no other argument and keeps
one row per sample, ``from_torch`` on a module making that call must either give torch's
output shape and ``FlopCounterMode``'s products at 8×9, or raise
``UnsupportedLayerError`` naming the call torch.fx records (``F.logsigmoid`` records
``torch.log_sigmoid``) and its node: no other exception, no silent identity.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import symcnn as sc

from conftest import require

torch = require("torch")
nn = torch.nn

H, W = sc.symbols("H W")

#: Calls that change global state or need a device, not a tensor's shape.
_NOT_CALLS = {
    "backward",
    "compile",
    "cond",
    "cpu",
    "cuda",
    "export",
    "load",
    "manual_seed",
    "pin_memory",
    "record_stream",
    "register_hook",
    "retain_grad",
    "save",
    "seed",
    "share_memory_",
    "vmap",
}


def _callables(owner: Any, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for name in sorted(dir(owner)):
        if name.startswith("_") or name.startswith("set_") or name in _NOT_CALLS:
            continue
        value = getattr(owner, name)
        if callable(value) and not isinstance(value, type):
            found.append((f"{prefix}{name}", value))
    return found


def _one_tensor_calls() -> list[tuple[str, Any]]:
    methods = _callables(torch.Tensor, "x.")
    calls = [
        *_callables(torch.nn.functional, "F."),
        *_callables(torch, "torch."),
        *((name, lambda x, m=name[2:]: getattr(x, m)()) for name, _ in methods),
    ]
    kept = []
    for name, fn in calls:
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                out = fn(torch.rand(1, 3, 8, 9))
        except Exception:  # needs more arguments, or another kind of input
            continue
        if isinstance(out, torch.Tensor) and out.dim() > 1 and out.shape[0] == 1:
            kept.append((name, fn))
    return kept


CALLS = _one_tensor_calls()


def test_the_sweep_reaches_hundreds_of_calls():
    assert len(CALLS) > 300
    assert {"F.relu", "torch.exp", "x.sigmoid", "F.hardtanh"} <= {name for name, _ in CALLS}


@pytest.mark.parametrize(("name", "fn"), CALLS, ids=[name for name, _ in CALLS])
def test_a_call_is_mapped_exactly_or_refused_by_name(name, fn):
    from torch.utils.flop_counter import FlopCounterMode

    class Call(nn.Module):
        def forward(self, x):
            return fn(x)

    with warnings.catch_warnings(), torch.no_grad(), FlopCounterMode(display=False) as flops:
        warnings.simplefilter("ignore")
        out = Call()(torch.rand(1, 3, 8, 9))
    try:
        net = sc.from_torch(Call(), (3, H, W))
    except sc.UnsupportedLayerError as err:  # the call it records, by node; or fx refuses
        message = str(err)
        assert " at node '" in message or message.startswith("torch.fx cannot trace Call")
        return
    at = net.subs({H: 8, W: 9})
    assert tuple(at.output_shape) == tuple(out.shape[1:])
    assert at.products == flops.get_total_flops() // 2
