"""Which input sizes does a torch model accept, and what does 512×512 cost? No forward pass.

A small classifier in plain torch, as one would write it: stride-2 stages, a skip
connection, and a head that flattens a fixed 4×4 map. symcnn traces it once with
symbolic H and W, then answers for every size at once.

Run:  python examples/torch_domain.py      (needs torch: pip install "symcnn[torch]")
"""

import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 - PyTorch's own alias

import symcnn as sc


class SmallNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.down = nn.Conv2d(16, 32, 3, stride=2)
        self.head = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = x + self.block(x)
        x = F.max_pool2d(F.relu(self.down(x)), 2)
        return self.head(x.view(x.size(0), -1))


H, W = sc.symbols("H W")
net = sc.from_torch(SmallNet(), input_shape=(3, H, W))

print("products per sample:", sc.format_formula(net.products))
print("parameters:         ", sc.format_formula(net.params))
print("valid exactly where:", ", ".join(sc.format_formula(c) for c in net.constraints))
print("square sizes that work:", [n for n in range(1, 80) if net.is_valid({H: n, W: n})])
print(f"at 512×512: {net.violation({H: 512, W: 512})}")
print("products at 36×36 and 20×70:", net.evaluate("products", H=[36, 20], W=[36, 70]).tolist())
