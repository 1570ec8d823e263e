"""Displays: tables by module depth, the notebook's HTML table, the layer card."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.export._table import restates, rows
from symcnn.export.card import card_html, card_lines, card_text
from symcnn.export.html import CSS, count_parts, digits, to_html
from symcnn.models import lenet, resnet50
from symcnn.symbolic.derivation import power, product, total

from conftest import require


@pytest.fixture
def net28():
    return lenet(28, 5)


@pytest.fixture
def seed_net():
    return lenet()


# -- the hierarchy and rows by depth ------------------------------------------------------
def tiny_resnet(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(c)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1)
            self.down = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c))

        def forward(self, x):
            out = self.conv2(self.relu(self.bn1(self.conv1(x))))
            out += self.down(x)
            return self.relu(out)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3)
            self.layer1 = nn.Sequential(Block(8), Block(8))
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            x = self.layer1(self.stem(x))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    return Model()


@pytest.fixture
def traced(torch):
    h = sc.symbols("H")
    return sc.from_torch(tiny_resnet(torch), (3, h, h)), h


def test_from_torch_records_the_modules_around_functions(traced):
    net, _ = traced
    h = net.hierarchy
    assert h.scope("add") == ("layer1", "layer1.0")  # torch.fx names it "add", not a path
    assert h.scope("add_1") == ("layer1", "layer1.1")
    assert h.scope("layer1.0.down.1") == ("layer1", "layer1.0", "layer1.0.down")
    assert h.scope("stem") == () and h.scope("flatten") == ()
    assert dict(h.kinds) == {
        "layer1": "Sequential",
        "layer1.0": "Block",
        "layer1.0.down": "Sequential",
        "layer1.1": "Block",
        "layer1.1.down": "Sequential",
    }


def test_the_hierarchy_survives_subs_and_networkx(traced):
    net, h = traced
    assert net.subs({h: 32}).hierarchy == net.hierarchy
    again = sc.Network(nx.MultiDiGraph(net.graph))
    assert again.hierarchy == net.hierarchy
    assert net.graph.graph["modules"]["layer1.0"] == "Block"


def test_rows_by_depth(traced):
    net, h = traced
    one = rows(net, 1)
    assert [(r.number, r.name, r.description) for r in one] == [
        ("0", "stem", "nn.Conv2d(3, 8, kernel_size=3)"),
        ("1–16", "layer1", "Sequential (16 layers)"),
        ("17", "adaptive_avg_pool2d", "nn.AdaptiveAvgPool2d(output_size=1)"),
        ("18", "flatten", "nn.Flatten()"),
        ("19", "fc", "nn.Linear(8, 10)"),
        ("", "total", "total"),
    ]
    layer1 = one[1]
    members = [r for r in net.layers if r.name.startswith("layer1") or r.name.startswith("add")]
    assert layer1.params.value == sum(r.params for r in members if not r.shared)
    assert layer1.products.value == sum(r.products for r in members)
    assert layer1.input_shapes == (sc.Shape((8, h - 2, h - 2)),)
    assert layer1.output_shapes == (sc.Shape((8, h - 2, h - 2)),)
    two = rows(net, 2)
    assert [r.name for r in two][1:3] == ["layer1.0", "layer1.1"]
    assert two[1].description == "Block (8 layers)" and two[1].group
    three = [r.name for r in rows(net, 3)]
    assert "layer1.0.down" in three and "add" in three and "layer1.0.conv1" in three
    for depth in (1, 2, 3, 9):
        table = rows(net, depth)
        assert sum(r.layers for r in table[:-1]) == len(net)
        assert sympy.expand(sum(r.products.value for r in table[:-1]) - net.products) == 0
        assert sum(r.params.value for r in table[:-1]) == net.params


def test_inputs_name_the_rows_that_feed_a_merge(traced):
    net, _ = traced
    table = {r.name: r.inputs for r in rows(net)}
    assert table["add"] == ("layer1.0.conv2", "layer1.0.down.1")
    assert table["layer1.0.down.0"] == ("stem",)  # a branch off an earlier row
    assert table["layer1.0.conv2"] == ()  # fed by the row above: nothing to say
    assert {r.name: r.inputs for r in rows(net, 1)}["layer1"] == ()
    by_block = {r.name: r.inputs for r in rows(net, 3)}
    assert by_block["layer1.0.down"] == ("stem",)
    assert by_block["add"] == ("layer1.0.conv2", "layer1.0.down")


@pytest.mark.parametrize("depth", [0, -1, True, 1.5, "1"])
def test_a_depth_is_a_whole_number(depth):
    with pytest.raises(ValueError, match="depth is a whole number of 1 or more"):
        rows(lenet(), depth)


def test_dotted_names_make_the_hierarchy_of_a_native_network():
    net = resnet50().subs({"H": 224, "W": 224})
    table = rows(net, 1)
    assert [r.name for r in table] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten", "fc", "total",
    ]  # fmt: skip
    assert [r.params.value for r in table[4:8]] == [215808, 1219584, 7098368, 14964736]
    assert [r.products.value for r in table[4:8]] == [
        667942912, 1027604480, 1464336384, 809238528,
    ]  # fmt: skip
    assert table[-1].params.value == 25557032 and table[-1].products.value == 4089184256


def test_the_native_resnet50_is_named_as_torchvisions(torch):
    zoo = require("torchzoo")
    h, w = sc.symbols("H W")
    traced = sc.from_torch(zoo.resnet50(), (3, h, w))
    ours = resnet50()
    strip = {"add": None}  # torch.fx names the residual additions add, add_1, ...
    theirs = [n for n in (r.name for r in traced.layers) if not n.startswith(tuple(strip))]
    assert [r.name for r in ours.layers if not r.name.endswith(".add")] == theirs
    for depth in (1, 2, 3):
        a, b = rows(ours, depth), rows(traced, depth)
        if depth < 3:  # at 3 the additions stand alone, named differently
            assert [r.name for r in a] == [r.name for r in b]
        assert [(r.params.value, sympy.expand(r.products.value)) for r in a] == [
            (r.params.value, sympy.expand(r.products.value)) for r in b
        ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["", "a", "a.b", "a.c", "d", "d.e.f", "total", "input.x"]),
             min_size=1, max_size=12)
)  # fmt: skip
def test_groups_partition_the_layers_and_keep_the_totals(paths):
    """Random dotted names: every depth's rows cover each layer once, the sums exact.

    Some layers sit at a module's own path (``a`` beside ``a.b``'s module ``a``), some
    are named as the table's own words (``total``, ``input``).
    """
    layers = {}
    for i, p in enumerate(paths):
        name = f"{p}.l{i}" if p and i % 3 else (p or "l")  # every third at a module's path
        while name in layers:
            name += f"_{i}"
        layers[name] = sc.Linear(3, 3)
    net = sc.Sequential(layers, input_shape=(3,))
    for depth in (1, 2, 3, 4):
        table = rows(net, depth)
        assert sum(r.layers for r in table[:-1]) == len(net)
        assert sum(r.params.value for r in table[:-1]) == net.params == 12 * len(paths)
        assert table[-1].params.value == net.params
        for r in table[:-1]:  # a layer row is one node; a group's layers all sit inside it
            if not r.group:
                assert r.layers == 1 and net[r.name].index == r.index
            else:
                inside = [x for x in net.layers[r.index : r.index + r.layers]]
                assert all(net.hierarchy.group(x.name, depth) == r.name for x in inside)


def test_shared_layers_count_once_in_a_group():
    fc = sc.Linear(4, 4)
    net = sc.Sequential({"block.a": fc, "block.b": fc, "head": sc.Linear(4, 1)}, input_shape=(4,))
    block = rows(net, 1)[0]
    assert block.params.value == 20 == net.params - 5
    assert block.products.value == 32


# -- the restated working is left out ------------------------------------------------------
def test_restates():
    n, k = sc.symbols("n k")
    assert restates(product(32, power(n - k + 1, 2), power(k, 2)))
    assert restates(product(2, power(n - 2, 2), power(3, 2)))  # 2·(n - 2)²·3² = 18·(n - 2)²
    assert not restates(product(32, total(power(k, 2), 1)))
    assert not restates(product(32, power(24, 2), power(5, 2)))
    assert restates(total(n, 1))  # n+1 = n + 1: nothing to show


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.integers(0, 3), st.integers(1, 3))
def test_restating_is_judged_by_value(constants, power_n, power_k):
    """Whatever the order of the factors, a restating working has the value's factors."""
    n, k = sc.symbols("n k")
    d = product(*constants, power(n + 1, power_n) if power_n else 1, power(k, power_k))
    assert sympy.expand(d.value - sympy.Mul(*constants) * (n + 1) ** power_n * k**power_k) == 0
    assert d.is_leaf or restates(d)  # a leaf has no working to show anyway
    # a constant above 1 times a sum: sympy distributes it, the working then shows more
    spread = product(*constants, 2, total(power(k, power_k), n))
    assert not restates(spread) and spread.value.is_Add


# -- the HTML table -----------------------------------------------------------------------
def test_html_table_of_the_seed(net28):
    page = to_html(net28)
    assert page.startswith('<div class="symcnn-wrap">\n<style>\n') and CSS in page
    assert page.count('<table class="symcnn">') == 1
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    source, first = body.splitlines()[1:3]
    assert source.startswith(
        '<tr class="symcnn-input"><td></td><td>input</td><td>input</td><td>1×28×28</td>'
    )
    assert first == (
        '<tr><td class="num">0</td><td>conv1</td>'
        "<td><code>nn.Conv2d(1, 32, kernel_size=5)</code></td>"
        "<td>32×24×24</td>"
        '<td class="num deriv">32·(5²+1) =</td><td class="num value">832</td>'
        '<td class="num deriv">32·24²·5² =</td><td class="num value">460,800</td></tr>'
    )
    total_row = page[page.index("<tfoot>") : page.index("</tfoot>")]
    assert '<tr class="symcnn-total">' in total_row
    assert ">105,506<" in total_row and ">1,333,200<" in total_row


def test_the_notebook_shows_names_and_the_same_table_in_every_format(net28, seed_net):
    html = net28._repr_html_()
    assert "<th>name</th>" in html and "<td>conv1</td>" in html
    assert net28._repr_markdown_() == sc.to_markdown(net28, names=True)
    assert net28._repr_latex_() == sc.to_latex(net28, names=True)
    assert html == net28.table()._repr_html_() == sc.to_html(net28)
    assert str(net28) == sc.to_text(net28) == str(net28.table())
    assert "\\lfloor" in seed_net._repr_latex_()


def test_html_formulas_in_a_symbolic_column_read_from_the_left(seed_net):
    page = to_html(seed_net)
    assert '<td class="value">32·k² + 32</td>' in page
    assert '<td class="num deriv">32·(k²+1) =</td>' in page
    # the working that only reorders the value's factors is left out
    assert "32·(n - k + 1)²·k²" not in page and "32·k²·(n - k + 1)²" in page


def test_html_beside_values_at_a_point(seed_net):
    n, k = sc.symbols("n k")
    page = seed_net.table(at={n: 28, k: 5})._repr_html_()
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert head.count("<tr>") == 2 and '<th colspan="3"># parameters</th>' in head
    assert head.count("at n=28, k=5") == 3
    assert '<td>32·k² + 32</td><td class="num deriv">32·(5²+1) =</td>' in page


def test_html_groups_and_merges(traced):
    net, h = traced
    page = net.table(depth=1, at={h: 32})._repr_html_()
    assert '<td class="num">1–16</td><td>layer1</td><td>Sequential (16 layers)</td>' in page
    flat = to_html(net)
    assert "<th>inputs</th>" in flat
    assert "<td>layer1.0.conv2, layer1.0.down.1</td>" in flat
    assert "<th>input size</th>" not in flat  # the rows above, or those 'inputs' names
    text = sc.to_text(net)
    assert "8×(H - 2)×(H - 2), 8×(H - 2)×(H - 2)" in text  # never "a / b": not a division


def test_html_escapes_hostile_names():
    evil = "<script>alert(1)</script>&"
    net = sc.Sequential({evil: sc.Linear(2, 2), "x.y": sc.ReLU()}, input_shape=(2,))
    page = to_html(net)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;" in page
    card = card_html(net[evil])
    assert "<script>" not in card and "&lt;script&gt;" in card


def test_digits_and_count_parts():
    assert digits(sympy.Integer(4089184256)) == "4,089,184,256"
    assert digits(7) == "7" and digits(-1234) == "-1,234"
    assert count_parts(product(10, total(200, 1))) == ("10·(200+1) =", "2,010")
    n = sc.symbols("n")
    assert count_parts(product(8, power(n, 2))) == ("", "8·n²")


def test_json_and_csv_keep_plain_integers_by_depth():
    net = resnet50().subs({"H": 224, "W": 224})
    data = json.loads(sc.to_json(net, depth=1))
    layer1 = data["layers"][4]
    assert layer1["name"] == "layer1" and layer1["layers"] == 32
    assert layer1["params_value"] == 215808 and layer1["products_value"] == 667942912
    assert data["totals"]["products_value"] == 4089184256
    csv_text = sc.to_csv(net, depth=1)
    assert csv_text.splitlines()[0].endswith(",layers")
    assert ",215808,667942912,32" in csv_text and "4,089" not in csv_text


def test_text_and_markdown_by_depth():
    net = resnet50().subs({"H": 224, "W": 224})
    text = sc.to_text(net, depth=1).splitlines()
    assert text[0].split() == [
        "#", "name", "layer", "input", "size", "output", "size", "#", "parameters", "#",
        "products",
    ]  # fmt: skip
    assert re.match(r"4–35 +layer1 +32 layers +64×56×56 +256×56×56 +215808 +667942912$", text[6])
    markdown = sc.to_markdown(net, depth=1)
    assert "| 4–35 " in markdown and "| layer1 " in markdown
    assert markdown.splitlines()[1].endswith("-:|")  # the counts right-aligned


# -- the layer card -----------------------------------------------------------------------
def test_card_of_the_seed_conv2():
    assert card_text(lenet()["conv2"]) == "\n".join(
        [
            "conv2 (layer 3): nn.Conv2d(32, 64, kernel_size=k)",
            "  input            32×⌊(n - k + 1)/3⌋×⌊(n - k + 1)/3⌋",
            "  output           64×(⌊(n - k + 1)/3⌋ - k + 1)×(⌊(n - k + 1)/3⌋ - k + 1)",
            "  parameters       64·(32·k²+1) = 2048·k² + 64",
            "  products         2048·k²·(⌊(n - k + 1)/3⌋ - k + 1)²",
            "  bias adds        64·(⌊(n - k + 1)/3⌋ - k + 1)²",
            "  receptive field  (4·k - 1)×(4·k - 1)",
            "  jump             3×3",
            "  conditions       ⌊(n - k + 1)/3⌋ ≥ k   the kernel must fit in the padded input "
            "height",
        ]
    )
    assert repr(lenet()["conv2"]) == str(lenet()["conv2"]) == card_text(lenet()["conv2"])


def test_card_at_the_seed_point_and_of_a_mixing_layer(net28):
    lines = card_lines(net28["linear1"])
    assert ("parameters", "200·(256+1) =", "51,400") in lines
    assert ("receptive field", "", "positions mixed") in lines
    assert ("conditions", "", "none left: every rule holds") in lines
    card = net28["conv1"]._repr_html_()
    assert '<table class="symcnn symcnn-card">' in card and CSS in card
    assert '<td class="num deriv">32·24²·5² =</td><td class="num value">460,800</td>' in card


def test_card_of_a_shared_layer():
    fc = sc.Linear(4, 4)
    net = sc.Sequential({"a": fc, "b": fc}, input_shape=(4,))
    assert ("parameters", "shared, counted at its first node:", "(20)") in card_lines(net["b"])


def test_the_notebook_latex_of_a_long_table_breaks_across_pages():
    """nbconvert's PDF keeps every row: past a page the notebook's LaTeX is a longtable."""
    net = resnet50()
    assert net._repr_latex_().startswith("\\begin{longtable}")
    assert net._repr_latex_().count("\\endhead") == 1
    assert net.table(depth=1)._repr_latex_().startswith("\\begin{tabular}")
    assert lenet()._repr_latex_().startswith("\\begin{tabular}")


def test_both_forms_of_torch_fx_module_stack(torch):
    """torch.fx writes ``path: (path, class)``; older releases wrote ``path: class``."""
    from types import SimpleNamespace

    from symcnn.frontends.torch.convert import Converter
    from symcnn.graph.derive import Builder

    class Block:
        pass

    for stack in (
        {"layer1": ("layer1", list), "layer1.0": ("layer1.0", Block)},
        {"layer1": list, "layer1.0": Block},
    ):
        me = SimpleNamespace(builder=Builder())
        add = SimpleNamespace(meta={"nn_module_stack": stack}, op="call_function", target=None)
        assert Converter._scope(me, add) == ("layer1", "layer1.0")
        assert me.builder.kinds == {"layer1": "list", "layer1.0": "Block"}
        conv = SimpleNamespace(meta={"nn_module_stack": stack}, op="call_module", target="layer1.0")
        assert Converter._scope(me, conv) == ("layer1",)  # a module is not inside itself
