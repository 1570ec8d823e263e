"""torchvision's models by depth: the README's ResNet-50 table, and stages against torch.

The README shows ``symcnn table torchvision.models:resnet50 --input 3,H,W --depth 1 --at
H=224,W=224``; this runs the command and compares it with the README, line for line. Each
stage's parameters are also torch's own ``numel`` of that stage, and its products the
FlopCounterMode count of that stage's forward pass (flops / 2), on the meta device.

torchvision imports only in CI's second venv (.ci/run: pytest -m torchvision); elsewhere
these skip.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import symcnn as sc
from symcnn.cli import main
from symcnn.export._table import rows

from conftest import require

torch = require("torch")

pytestmark = [pytest.mark.torchvision, pytest.mark.slow]

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND = "symcnn table torchvision.models:resnet50 --input 3,H,W --depth 1 --at H=224,W=224"


def readme_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"\$ {re.escape(COMMAND)}\n(.*?)```", text, re.S)
    assert match, "the README shows the depth-1 ResNet-50 table"
    return match.group(1).rstrip("\n").splitlines()


def test_the_readme_depth_table_is_what_the_command_prints(capsys):
    require("torchvision")
    assert main(COMMAND.split()[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n").splitlines() == readme_block()


def test_each_stage_counts_as_torch_does():
    models = require("torchvision.models")
    from torch.utils.flop_counter import FlopCounterMode

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = models.resnet50().eval()
    h, w = sc.symbols("H W")
    net = sc.from_torch(model, (3, h, w)).subs({h: 224, w: 224})
    stages = {r.name: r for r in rows(net, 1) if r.group}
    assert list(stages) == ["layer1", "layer2", "layer3", "layer4"]
    x = torch.empty(1, 3, 224, 224, device="meta")
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    for name, row in stages.items():
        stage = getattr(model, name)
        assert row.params.value == sum(p.numel() for p in stage.parameters()), name
        counter = FlopCounterMode(display=False)
        with counter:
            x = stage(x)
        assert 2 * row.products.value == counter.get_total_flops(), name
        assert tuple(x.shape[1:]) == tuple(row.output_shapes[0]), name
