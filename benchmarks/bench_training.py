"""The largest batch of ResNet-50 at 224×224 that trains in 24 GiB with Adam, two ways.

Run from the repository root, in a venv with torch::

    python benchmarks/bench_training.py [--repeats 5] [--budget-gib 24]

symcnn: ``resnet50().training().largest_batch(budget, "adam", at={H: 224, W: 224})``,
timed as the closed form is asked (the step already derived) and cold (the derivation of
the step included). PyTorch: a bisection on the batch size, each probe a real training
step on the meta device (no memory spent) whose saved tensors are counted by
``saved_tensors_hooks``, plus parameters, buffers, gradients and Adam's two states: the
same quantity symcnn's ``memory("adam")`` is, so the two answers must agree. The model is
tests/torchzoo.py's ResNet-50, torchvision's architecture. Prints the medians of
``--repeats`` runs of each, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402


def torch_memory(model, batch: int) -> int:  # type: ignore[no-untyped-def]
    """Bytes of one Adam training step at ``batch``, as torch keeps them (meta device)."""
    import torch
    from torchtrain import saved_bytes

    kept = saved_bytes(model, torch.empty(batch, 3, 224, 224, device="meta"))
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return params + buffers + params + 2 * params + kept


def bisect(model, budget: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The largest batch within ``budget``, and how many training steps it took."""
    low, high, steps = 0, 1, 0
    while True:  # double until over the budget
        steps += 1
        if torch_memory(model, high) > budget:
            break
        low, high = high, 2 * high
    while high - low > 1:
        mid = (low + high) // 2
        steps += 1
        if torch_memory(model, mid) <= budget:
            low = mid
        else:
            high = mid
    return low, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget-gib", type=int, default=24)
    args = parser.parse_args()
    budget = args.budget_gib * 2**30

    import torchzoo

    import symcnn as sc
    from symcnn.models import resnet50

    at = {"H": 224, "W": 224}
    cold, warm, answers = [], [], set()
    for _ in range(args.repeats):
        start = time.perf_counter()
        step = resnet50().training()
        derived = time.perf_counter()
        answers.add(step.largest_batch(budget, "adam", at=at))
        done = time.perf_counter()
        cold.append(done - start)
        warm.append(done - derived)
    model = torchzoo.resnet50().to("meta").train()
    searches, torch_answers, probes = [], set(), 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        found, probes = bisect(model, budget)
        searches.append(time.perf_counter() - start)
        torch_answers.add(found)
    assert answers == torch_answers, (answers, torch_answers)
    (batch,) = answers
    print(f"machine: {cpu_model()}, symcnn {sc.__version__}")
    print(f"largest batch of ResNet-50 at 224×224 in {args.budget_gib} GiB with Adam: {batch}")
    print(f"symcnn largest_batch, step derived:   median {1e3 * statistics.median(warm):8.2f} ms")
    print(f"symcnn derivation + largest_batch:    median {1e3 * statistics.median(cold):8.2f} ms")
    print(
        f"torch bisection, {probes} meta training steps: median "
        f"{1e3 * statistics.median(searches):8.2f} ms"
    )
    print(
        f"ratio bisection / symcnn: {statistics.median(searches) / statistics.median(warm):.0f}× "
        f"(query), {statistics.median(searches) / statistics.median(cold):.1f}× (cold)"
    )


if __name__ == "__main__":
    main()
