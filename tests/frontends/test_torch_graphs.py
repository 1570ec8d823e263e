"""Branching networks built twice, in symcnn and in plain torch, compared node by node."""

from __future__ import annotations

import warnings

import pytest

import symcnn as sc

pytestmark = pytest.mark.torch

H, W = sc.symbols("H W")
SIZES = [(32, 32), (33, 40), (57, 48)]
# user-given node names that are plain words (auto names are a kind and a counter)
NAMED = {
    "expand",
    "dw",
    "pool",
    "fc1",
    "fc2",
    "project",
    "squeeze",
    "e1",
    "e3",
    "a",
    "b",
    "c",
    "down",
}


def torch_record(torch, model, shape):
    """Output shape, each module's (last) output shape, and the products, per sample."""
    from hookcount import observe  # imports torch: only once the fixture has it

    out, calls, counts = observe(model, shape)
    shapes = {name: seen[-1][1:] for name, seen in calls.items() if name}
    return tuple(out.shape[1:]), shapes, counts.products


def compare(torch, model, net, channels):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    assert net.params == params
    assert net.buffers == buffers
    for h, w in SIZES:
        out, shapes, products = torch_record(torch, model, (channels, h, w))
        at = net.subs({H: h, W: w})
        assert at.output_shape == out
        matched = [r for r in at.layers if r.name in shapes]
        for record in matched:
            assert record.output_shape == shapes[record.name], record.name
        # every node named after a torch module was found and compared
        named = {r.name for r in at.layers if not r.name.rstrip("0123456789").isalpha()}
        named |= {r.name for r in at.layers if r.name in NAMED}
        assert named <= {r.name for r in matched}
        assert len(matched) >= 3
        assert at.products == products
    # validity: symcnn says valid exactly where a forward pass runs, and from where on
    first = next(s for s in range(1, 41) if runs(torch, model, (channels, s, 64)))
    assert net.min_input(H, {W: 64}) == first
    for size in range(1, 41):
        assert net.is_valid({H: size, W: size + 1}) == runs(
            torch, model, (channels, size, size + 1)
        )


def runs(torch, model, shape):
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            model.eval()(torch.zeros(1, *shape))
    except RuntimeError:
        return False
    return True


# -- the networks, each twice ------------------------------------------------------------------
def basic_block(torch, cin, cout, stride):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = (
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                if stride != 1 or cin != cout
                else None
            )

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    return Block()


def sc_basic_block(x, cin, cout, stride, prefix):
    y = sc.Conv2d(cin, cout, 3, stride, 1, bias=False)(x, name=f"{prefix}conv1")
    y = sc.ReLU()(sc.BatchNorm2d(cout)(y, name=f"{prefix}bn1"))
    y = sc.BatchNorm2d(cout)(
        sc.Conv2d(cout, cout, 3, 1, 1, bias=False)(y, name=f"{prefix}conv2"), name=f"{prefix}bn2"
    )
    if stride != 1 or cin != cout:
        x = sc.Conv2d(cin, cout, 1, stride, bias=False)(x, name=f"{prefix}down.0")
        x = sc.BatchNorm2d(cout)(x, name=f"{prefix}down.1")
    return sc.ReLU()(sc.Add()(y, x))


def test_resnet_basic_blocks(torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 16, 7, 2, 3, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
        basic_block(torch, 16, 16, 1),
        basic_block(torch, 16, 32, 2),
    )
    x = sc.Input((3, H, W))
    y = sc.Conv2d(3, 16, 7, 2, 3, bias=False)(x, name="0")
    y = sc.MaxPool2d(3, 2, 1)(sc.ReLU()(sc.BatchNorm2d(16)(y, name="1")), name="3")
    y = sc_basic_block(y, 16, 16, 1, "4.")
    y = sc_basic_block(y, 16, 32, 2, "5.")
    compare(torch, model, sc.Network(x, y), 3)


def test_bottleneck_block(torch):
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(64, 16, 1, bias=False)
            self.b = nn.Conv2d(16, 16, 3, 2, 1, bias=False)
            self.c = nn.Conv2d(16, 64 * 2, 1, bias=False)
            self.down = nn.Conv2d(64, 128, 1, 2, bias=False)

        def forward(self, x):
            return torch.relu(self.c(torch.relu(self.b(torch.relu(self.a(x))))) + self.down(x))

    x = sc.Input((64, H, W))
    y = sc.ReLU()(sc.Conv2d(64, 16, 1, bias=False)(x, name="a"))
    y = sc.ReLU()(sc.Conv2d(16, 16, 3, 2, 1, bias=False)(y, name="b"))
    y = sc.Conv2d(16, 128, 1, bias=False)(y, name="c")
    out = sc.ReLU()(sc.Add()(y, sc.Conv2d(64, 128, 1, 2, bias=False)(x, name="down")))
    compare(torch, Bottleneck(), sc.Network(x, out), 64)


def test_dense_block(torch):
    nn = torch.nn

    class Dense(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(
                nn.Sequential(
                    nn.BatchNorm2d(8 + 4 * i),
                    nn.ReLU(),
                    nn.Conv2d(8 + 4 * i, 4, 3, padding=1, bias=False),
                )
                for i in range(3)
            )

        def forward(self, x):
            for layer in self.layers:
                x = torch.cat([x, layer(x)], 1)
            return x

    x = sc.Input((8, H, W))
    y = x
    for i in range(3):
        z = sc.BatchNorm2d(8 + 4 * i)(y, name=f"layers.{i}.0")
        z = sc.Conv2d(8 + 4 * i, 4, 3, padding=1, bias=False)(sc.ReLU()(z), name=f"layers.{i}.2")
        y = sc.Concat()(y, z)
    net = sc.Network(x, y)
    assert net.output_shape == (20, H, W)
    compare(torch, Dense(), net, 8)


def test_squeeze_excitation_and_inverted_residual(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.expand = nn.Conv2d(16, 64, 1, bias=False)
            self.dw = nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(64, 8, 1)
            self.fc2 = nn.Conv2d(8, 64, 1)
            self.project = nn.Conv2d(64, 16, 1, bias=False)

        def forward(self, x):
            y = nn.functional.relu6(self.dw(nn.functional.relu6(self.expand(x))))
            gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(self.pool(y)))))
            return x + self.project(y * gate)

    x = sc.Input((16, H, W))
    y = sc.ReLU6()(sc.Conv2d(16, 64, 1, bias=False)(x, name="expand"))
    y = sc.ReLU6()(sc.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)(y, name="dw"))
    gate = sc.AdaptiveAvgPool2d(1)(y, name="pool")
    gate = sc.Sigmoid()(
        sc.Conv2d(8, 64, 1)(sc.ReLU()(sc.Conv2d(64, 8, 1)(gate, name="fc1")), name="fc2")
    )
    out = sc.Add()(x, sc.Conv2d(64, 16, 1, bias=False)(sc.Mul()(y, gate), name="project"))
    net = sc.Network(x, out)
    assert net["pool"].output_shape == (64, 1, 1)
    compare(torch, Block(), net, 16)


def test_fire_module_after_ceil_mode_pool(torch):
    nn = torch.nn

    class Fire(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.squeeze = nn.Conv2d(32, 8, 1)
            self.e1 = nn.Conv2d(8, 16, 1)
            self.e3 = nn.Conv2d(8, 16, 3, padding=1)

        def forward(self, x):
            s = torch.relu(self.squeeze(self.pool(x)))
            return torch.cat([torch.relu(self.e1(s)), torch.relu(self.e3(s))], 1)

    x = sc.Input((32, H, W))
    s = sc.ReLU()(
        sc.Conv2d(32, 8, 1)(sc.MaxPool2d(3, 2, ceil_mode=True)(x, name="pool"), name="squeeze")
    )
    out = sc.Concat()(
        sc.ReLU()(sc.Conv2d(8, 16, 1)(s, name="e1")),
        sc.ReLU()(sc.Conv2d(8, 16, 3, padding=1)(s, name="e3")),
    )
    compare(torch, Fire(), sc.Network(x, out), 32)


def test_unet_skip_needs_even_sizes(torch):
    nn = torch.nn

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Conv2d(1, 8, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.mid = nn.Conv2d(8, 8, 3, padding=1)
            self.up = nn.Upsample(scale_factor=2)
            self.dec = nn.Conv2d(16, 4, 3, padding=1)

        def forward(self, x):
            skip = torch.relu(self.enc(x))
            y = self.up(torch.relu(self.mid(self.pool(skip))))
            return self.dec(torch.cat([y, skip], 1))

    n = sc.symbols("n")
    x = sc.Input((1, n, n))
    skip = sc.ReLU()(sc.Conv2d(1, 8, 3, padding=1)(x, name="enc"))
    y = sc.Conv2d(8, 8, 3, padding=1)(sc.MaxPool2d(2)(skip, name="pool"), name="mid")
    y = sc.Upsample(scale_factor=2)(sc.ReLU()(y), name="up")
    net = sc.Network(x, sc.Conv2d(16, 4, 3, padding=1)(sc.Concat()(y, skip), name="dec"))
    model = UNet()
    for size in range(2, 20):
        try:
            with torch.no_grad():
                model(torch.zeros(1, 1, size, size))
            torch_ok = True
        except RuntimeError:
            torch_ok = False
        assert net.is_valid({n: size}) == torch_ok == (size % 2 == 0), size
    assert net.min_input(n) == 2
    assert (
        net.subs({n: 16}).products
        == sum(c * 16 * 16 * k for c, k in [(8, 9), (4, 16 * 9)]) + 8 * 8 * 8 * 8 * 9
    )


@pytest.mark.parametrize(("size", "out"), [(5, 3), (2, 3), (7, 7), (10, 4), (1, 4), (13, 5)])
def test_adaptive_pooling_windows_match_torch(torch, size, out):
    from symcnn.symbolic.sizes import adaptive_windows

    windows = adaptive_windows(size, out)
    pool = torch.nn.AdaptiveMaxPool1d(out)
    for i in range(size):
        one_hot = torch.zeros(1, 1, size)
        one_hot[0, 0, i] = 1.0
        seen = [j for j, v in enumerate(pool(one_hot)[0, 0].tolist()) if v == 1.0]
        assert seen == [j for j, (start, end) in enumerate(windows) if start <= i < end]
