"""Cold derivation time of every torchvision model that ``from_torch`` reaches, one by one.

Run with the interpreter of a venv where torchvision imports::

    /path/to/tv-venv/bin/python benchmarks/bench_zoo.py [--repeats 3] [--only resnet50,...]

Each model is derived in a fresh process pinned to one core ("cold": the first
``from_torch`` after ``import symcnn``, sympy's cache empty), built beforehand on the meta
device where its builder allows it (building is not timed). Timed: ``sc.from_torch(model,
shape)`` and its formulas (products, params, constraints). The models: torchvision's 80
classification models (68 CNNs and 12 transformers: ViT, Swin, Swin V2, MaxViT), the 7
video models on ``(3, T, H, W)`` (4 CNNs and the 3 Swin3D; MViT does not derive yet and
is left out), the 6 segmentation models and the 12 detection backbones with FPN: 105.
Targets: for the 90 CNNs (issue 14) median at most 0.1 s, no model over 0.5 s; for the
15 transformers (issue 15) each at most 0.5 s. Prints one row per model (median of
``--repeats`` processes), then for the CNNs, the transformers and all models the median,
the slowest and the count over 0.5 s; ``--json`` writes the rows to a file. ``--primed``
derives a one-layer module first in each process, to separate the model's own time from
what every process pays once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

# Name prefixes of the transformers (issue 15), reported apart from the CNNs (issue 14).
TRANSFORMERS = ("vit_", "swin_", "swin3d_", "maxvit_")
# torchvision's video models less MViT (mvit_v1_b, mvit_v2_s): from_torch does not derive
# it yet.
VIDEO = ("r3d_18", "mc3_18", "r2plus1d_18", "s3d", "swin3d_t", "swin3d_s", "swin3d_b")
SEGMENTATION = (
    "fcn_resnet50",
    "fcn_resnet101",
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large",
    "lraspp_mobilenet_v3_large",
)
DETECTION = (
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2",
    "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "fcos_resnet50_fpn",
    "keypointrcnn_resnet50_fpn",
    "maskrcnn_resnet50_fpn",
    "maskrcnn_resnet50_fpn_v2",
    "retinanet_resnet50_fpn",
    "retinanet_resnet50_fpn_v2",
    "ssdlite320_mobilenet_v3_large",
    "ssd300_vgg16",
)

_ONE = """
import os, json, time, warnings
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
import torch, torchvision.models as tvm
import torchvision.models.video, torchvision.models.segmentation, torchvision.models.detection
import symcnn as sc
kind, name = {kind!r}, {name!r}
owner = {{"classification": tvm, "video": tvm.video, "segmentation": tvm.segmentation,
          "detection": tvm.detection}}[kind]
extra = {{}} if kind in ("classification", "video") else {{"weights_backbone": None}}
if kind == "segmentation":
    extra["aux_loss"] = name.startswith("fcn")
def build():
    model = getattr(owner, name)(weights=None, **extra).eval()
    return model.backbone if kind == "detection" else model
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        with torch.device("meta"):
            model = build()
    except Exception:  # RegNet's builder initialises real tensors
        model = build()
shape = (3, *sc.symbols("T H W")) if kind == "video" else (3, *sc.symbols("H W"))
if {primed!r}:  # pay the first call's one-time costs on a one-layer module first
    sc.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1)), (1, *sc.symbols("a b")))
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    net = sc.from_torch(model, shape)
    net.products, net.params, net.constraints
print(json.dumps([time.perf_counter() - start, len(net)]))
"""


def models() -> list[tuple[str, str]]:
    """(kind, name) of every model the benchmark derives."""
    import torchvision.models as tvm

    listed = tvm.list_models(module=tvm)
    return [
        *(("classification", m) for m in listed),
        *(("video", m) for m in VIDEO),
        *(("segmentation", m) for m in SEGMENTATION),
        *(("detection", m) for m in DETECTION),
    ]


def cold(kind: str, name: str, primed: bool = False) -> tuple[float, int]:
    """Seconds and node count of one cold derivation, in a fresh process.

    ``primed``: after deriving a one-layer module first, which pays the costs every
    process pays once (importing the torch front-end, sympy's lazy imports on its first
    sum), so that what remains is the model's own.
    """
    code = _ONE.format(kind=kind, name=name, primed=primed)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, nodes = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, nodes


def summary(label: str, rows: list[dict]) -> str:
    """One line: how many rows, their median, the slowest and the count over 0.5 s."""
    times = [r["seconds"] for r in rows]
    slowest = max(rows, key=lambda r: r["seconds"])
    return (
        f"{len(rows)} {label}: median {statistics.median(times):.3f} s, slowest "
        f"{slowest['name']} {slowest['seconds']:.3f} s, over 0.5 s: "
        f"{sum(t > 0.5 for t in times)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument("--json", default="", help="write the rows to this file")
    parser.add_argument(
        "--primed", action="store_true", help="derive a one-layer module first in each process"
    )
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    rows = []
    primed = ", primed by a one-layer module" if args.primed else ""
    print(f"machine: {cpu_model()}; {args.repeats} cold process(es) per model{primed}")
    for kind, name in models():
        if wanted and name not in wanted:
            continue
        runs = [cold(kind, name, args.primed) for _ in range(args.repeats)]
        seconds = statistics.median(s for s, _ in runs)
        rows.append({"kind": kind, "name": name, "nodes": runs[0][1], "seconds": seconds})
        print(f"{kind:<14} {name:<40} {runs[0][1]:>5} nodes  {seconds:7.3f} s", flush=True)
    cnns = [r for r in rows if not r["name"].startswith(TRANSFORMERS)]
    transformers = [r for r in rows if r["name"].startswith(TRANSFORMERS)]
    for label, group in (("CNNs", cnns), ("transformers", transformers), ("models", rows)):
        if group:
            print(summary(label, group))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
