"""A layer's card: everything derived for one node, readable in one glance.

``net["conv2"]`` in a notebook or a terminal shows the node's name and layer, its input
and output shapes, its counts as ``working = value``, its receptive field and jump, and
the conditions it still needs, instead of the dataclass's nested ``Derivation(...)``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..symbolic.shape import Shape
from ._table import shapes_text
from .html import count_parts, wrap

if TYPE_CHECKING:
    from ..graph.record import LayerRecord

__all__ = ["card_html", "card_lines", "card_text"]

#: The counts a card shows, by record attribute; the last three only when not zero.
_COUNTS = (
    ("parameters", "params_derivation"),
    ("products", "products_derivation"),
    ("buffers", "buffers_derivation"),
    ("bias adds", "bias_adds_derivation"),
    ("elementwise", "elementwise_derivation"),
)


def card_lines(record: LayerRecord) -> list[tuple[str, str, str]]:
    """The card's lines: a label, the working (may be empty), and the value.

    Examples
    --------
    >>> from symcnn.models import lenet
    >>> for line in card_lines(lenet(28, 5)["conv2"]):
    ...     print(line)
    ('input', '', '32×8×8')
    ('output', '', '64×4×4')
    ('parameters', '64·(32·5²+1) =', '51,264')
    ('products', '64·32·4²·5² =', '819,200')
    ('bias adds', '64·4² =', '1,024')
    ('receptive field', '', '19×19')
    ('jump', '', '3×3')
    ('conditions', '', 'none left: every rule holds')
    """
    lines = [("input", "", shapes_text(record.input_shapes))]
    lines.append(("output", "", str(record.output_shape)))
    for i, (label, attribute) in enumerate(_COUNTS):
        d = getattr(record, attribute)
        if i >= 2 and d.value == 0:
            continue
        working, value = count_parts(d)
        if i == 0 and record.shared and d.value != 0:
            working, value = "shared, counted at its first node:", f"({value})"
        lines.append((label, working, value))
    for label, field in (("receptive field", record.receptive_field), ("jump", record.jump)):
        shown = "positions mixed" if field is None else str(Shape(field))
        lines.append((label, "", shown))
    conditions = [(str(c), c.rule) for c in record.conditions]
    if not conditions:
        lines.append(("conditions", "", "none left: every rule holds"))
    for i, (relation, rule) in enumerate(conditions):
        lines.append(("conditions" if i == 0 else "", relation, rule))
    return lines


def _is_condition(label: str, working: str) -> bool:
    return label in ("conditions", "") and bool(working)


def _title(record: LayerRecord) -> str:
    return f"{record.name} (layer {record.index}): {record.description}"


def card_text(record: LayerRecord) -> str:
    """The card as plain text, for ``print`` and a terminal's ``repr``.

    Examples
    --------
    >>> from symcnn.models import lenet
    >>> print(card_text(lenet()["pool1"]))  # doctest: +NORMALIZE_WHITESPACE
    pool1 (layer 1): nn.MaxPool2d(kernel_size=3)
      input            32×(n - k + 1)×(n - k + 1)
      output           32×⌊(n - k + 1)/3⌋×⌊(n - k + 1)/3⌋
      parameters       0
      products         0
      receptive field  (k + 2)×(k + 2)
      jump             3×3
      conditions       n - k + 1 ≥ 3   the kernel must fit in the padded input height
    """
    lines = card_lines(record)
    width = max(len(label) for label, _, _ in lines)
    out = [_title(record)]
    for label, working, value in lines:
        if _is_condition(label, working):  # the relation, then its rule
            out.append(f"  {label.ljust(width)}  {working}   {value}".rstrip())
        else:
            out.append(f"  {label.ljust(width)}  {' '.join(filter(None, (working, value)))}")
    return "\n".join(out)


def card_html(record: LayerRecord) -> str:
    """The card as a ``<table class="symcnn symcnn-card">``, styled as the tables are."""
    rows = []
    for label, working, value in card_lines(record):
        head = f"<th>{html.escape(label)}</th>"
        if _is_condition(label, working):
            cells = (
                f'<td colspan="2">{html.escape(working)} <span class="rule">'
                f"{html.escape(value)}</span></td>"
            )
        else:
            number = value.replace(",", "").isdigit()
            css = ' class="num value"' if number else ""
            cells = f'<td class="num deriv">{html.escape(working)}</td>'
            cells += f"<td{css}>{html.escape(value)}</td>"
        rows.append(f"<tr>{head}{cells}</tr>")
    title = html.escape(f"{record.name} (layer {record.index})")
    layer = html.escape(record.description)
    return wrap(
        "\n".join(
            [
                '<table class="symcnn symcnn-card">',
                f'<thead><tr><th colspan="3">{title}: <code>{layer}</code></th></tr></thead>',
                "<tbody>",
                *rows,
                "</tbody>",
                "</table>",
            ]
        )
    )

