"""Benchmark: the speed targets of the one-pass derivation, each in fresh processes.

Run with ``python benchmarks/bench_architecture.py`` (torch for part 2; part 4 runs where
torchvision imports, e.g. ``/path/to/tv-venv/bin/python benchmarks/bench_architecture.py
--torchvision``). Every figure is a median over fresh processes ("cold": the first call
after ``import symcnn``, nothing memoized, sympy's cache empty), interleaved so that load
from other processes hits all cases alike; each process pins itself to one core.

1. A chain of ``Conv2d(8, 8, 3)`` + ``ReLU`` on an ``8×n×n`` input at 201, 401, 801 and
   1601 nodes: seconds from the layer list to ``net.constraints``, and milliseconds per
   node. Targets: time per node flat within 1.5×; 1601 nodes in at most 1 s.
2. ResNet-50 (``tests/torchzoo.py``, the same layout as torchvision's) through
   ``sc.from_torch(model, (3, n, n))`` and its formulas (products, params, constraints),
   cold. Target: at most 0.1 s.
3. ``python -c "import symcnn"`` against ``python -c "import sympy"``. Target: at most
   1.2 times sympy's.
4. (``--torchvision``) every torchvision classification model that ``from_torch`` derives,
   one after another in a fresh process, built on the meta device where the builder
   allows it (model building is not timed): the sum of the ``from_torch`` + formulas
   times, and torch.fx's own share of it; median of three processes. Target: at most 5 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NODES = (201, 401, 801, 1601)
REPEATS = 5

_PIN = "import os; os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})\n"
# SYMCNN_BENCH_SOURCE=/path/to/an/old/checkout times that symcnn instead of the installed
# one (an editable install's finder would otherwise win over sys.path), for before/after.
if os.environ.get("SYMCNN_BENCH_SOURCE"):
    _PIN += (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if 'editable' not in type(f).__module__]; "
        f"sys.path.insert(0, {os.environ['SYMCNN_BENCH_SOURCE']!r})\n"
    )

_CHAIN = (
    _PIN
    + """
import time
import symcnn as sc
n = sc.symbols("n")
layers = []
for _ in range(({nodes} - 1) // 2):
    layers += [sc.Conv2d(8, 8, 3), sc.ReLU()]
start = time.perf_counter()
net = sc.Sequential(*layers, input_shape=(8, n, n))
net.constraints
print(time.perf_counter() - start)
"""
)

_RESNET = (
    _PIN
    + """
import sys, time
sys.path.insert(0, {tests!r})
import torch
from torchzoo import resnet50
import symcnn as sc
model = resnet50().eval()
n = sc.symbols("n")
start = time.perf_counter()
net = sc.from_torch(model, (3, n, n))
net.products, net.params, net.constraints
print(time.perf_counter() - start)
"""
)

_IMPORT = _PIN + "import {module}"

_TORCHVISION = (
    _PIN
    + """
import json, time, warnings
import torch, torch.fx, torchvision.models as tvm
import symcnn as sc
H, W = sc.symbols("H W")
out = {{}}
traced = [0.0]
_trace = torch.fx.Tracer.trace
def trace(self, *args, **kwargs):  # torch.fx's own share, timed apart
    start = time.perf_counter()
    try:
        return _trace(self, *args, **kwargs)
    finally:
        traced[0] += time.perf_counter() - start
torch.fx.Tracer.trace = trace
for name in tvm.list_models(module=tvm):
    traced[0] = 0.0
    try:
        with torch.device("meta"):
            model = tvm.get_model(name, weights=None).eval()
    except Exception:
        model = tvm.get_model(name, weights=None).eval()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = sc.from_torch(model, (3, H, W))
            net.products, net.params, net.constraints
    except sc.SymcnnError as err:
        out[name] = [None, type(err).__name__ + ": " + str(err)[:80], traced[0]]
    else:
        out[name] = [time.perf_counter() - start, len(net), traced[0]]
print(json.dumps(out))
"""
)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout.strip().splitlines()[-1]


def _seconds(code: str) -> float:
    return float(_run(code))


def _wall(code: str) -> float:
    """Wall seconds of a whole ``python -c code`` process (interpreter start included)."""
    import time

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - start


def chain() -> None:
    runs: dict[int, list[float]] = {n: [] for n in NODES}
    for _ in range(3):
        for nodes in NODES:
            runs[nodes].append(_seconds(_CHAIN.format(nodes=nodes)))
    print("| nodes | seconds to constraints (median of 3) | ms per node |")
    print("|---|---|---|")
    per_node = []
    for nodes in NODES:
        seconds = statistics.median(runs[nodes])
        per_node.append(1000 * seconds / nodes)
        print(f"| {nodes} | {seconds:.3f} | {per_node[-1]:.3f} |")
    print(f"time per node, largest / smallest: {max(per_node) / min(per_node):.2f}")


def resnet() -> None:
    times = [_seconds(_RESNET.format(tests=str(ROOT / "tests"))) for _ in range(REPEATS)]
    shown = ", ".join(f"{t * 1000:.0f}" for t in sorted(times))
    print(f"ResNet-50 from_torch + formulas, cold: median {statistics.median(times) * 1000:.0f} ms")
    print(f"  (runs, ms: {shown})")


def imports() -> None:
    sympy_, symcnn_ = [], []
    for _ in range(9):
        sympy_.append(_wall(_IMPORT.format(module="sympy")))
        symcnn_.append(_wall(_IMPORT.format(module="symcnn")))
    a, b = statistics.median(sympy_), statistics.median(symcnn_)
    print(f"python -c 'import sympy':  median {a * 1000:.0f} ms (9 processes)")
    print(f"python -c 'import symcnn': median {b * 1000:.0f} ms (9 processes)")
    print(f"ratio symcnn / sympy: {b / a:.2f}")


def torchvision() -> None:
    runs = [json.loads(_run(_TORCHVISION.format())) for _ in range(3)]
    results = runs[0]
    derived = [k for k, v in results.items() if v[0] is not None]
    totals = sorted(sum(run[k][0] for k in derived) for run in runs)
    traces = sorted(sum(run[k][2] for k in derived) for run in runs)
    print(f"{len(derived)} of {len(results)} torchvision models derive; all of them, one after")
    print("another in a fresh process (3 processes; median, and the range):")
    print(
        f"  {statistics.median(totals):.2f} s ({totals[0]:.2f}-{totals[-1]:.2f}), of which "
        f"torch.fx's trace {statistics.median(traces):.2f} s"
    )
    for name, (seconds, info, _) in sorted(results.items()):
        if seconds is None:
            print(f"  {name:28} {info}")
            continue
        median = statistics.median(run[name][0] for run in runs)
        print(f"  {name:28} {median * 1000:7.0f} ms  {info} nodes")


def main() -> None:
    import platform

    print(
        f"machine: {platform.machine()} cpus={len(__import__('os').sched_getaffinity(0))} "
        f"model={cpu_model()!r}; python {platform.python_version()}"
    )
    if "--torchvision" in sys.argv:
        torchvision()
        return
    chain()
    resnet()
    imports()


if __name__ == "__main__":
    main()
