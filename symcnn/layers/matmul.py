"""Products of two tensors: ``MatMul`` (``@``, ``torch.bmm``), ``Einsum``, attention.

Shapes are per sample: each operand's batch axis is left out. Both operands of a product
in a traced model carry the batch axis, so their per-sample ranks must be equal (as for
:mod:`.merge`'s broadcasting: torch would align the batch axis of one with a sample axis
of the other).

Counting: ``products`` is the multiplications of the matrix products, what
``torch.utils.flop_counter.FlopCounterMode`` reports halved: ``n·k·m`` for each matrix
product ``(n, k) @ (k, m)``. Nothing here has parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ShapeError, UnsupportedLayerError
from ..symbolic.derivation import Derivation, product, total
from ..symbolic.shape import Shape
from ..validity.condition import Condition, equal
from .autograd import Flow, Saved, keeps_inputs, new_tensor
from .base import ZERO, Field, Layer, refuse
from .merge import broadcast_sizes

__all__ = ["Einsum", "MatMul", "ScaledDotProductAttention"]


class _Product(Layer):
    """Two or more inputs of one rank; no parameters; positions mix (no receptive field)."""

    __slots__ = ()

    def receptive(self, field: Field, jump: Field) -> tuple[Field | None, Field | None]:
        return None, None

    def _ranks(self, inputs: tuple[Shape, ...], least: int) -> None:
        name = type(self).__name__
        ranks = {len(x) for x in inputs}
        shown = ", ".join(str(x) for x in inputs)
        if len(ranks) != 1:
            raise ShapeError(
                f"{name}: the inputs must have one rank per sample, got {shown}; with their "
                "batch axes, torch would line the batch axis of one up with a sample axis "
                "of the other"
            )
        if min(ranks) < least:
            raise ShapeError(
                f"{name}: each input needs at least {least} axes per sample, got {shown}"
            )


@dataclass(frozen=True, slots=True, repr=False)
class MatMul(_Product):
    """``a @ b``, ``torch.matmul``, ``torch.bmm``: per sample ``(..., n, k) @ (..., k, m)``.

    The leading axes broadcast as PyTorch's do (a size of 1 stretches). The inner sizes
    must be equal. Products: ``k`` per output element.

    Examples
    --------
    >>> MatMul().output_shape(Shape((4, 10, 8)), Shape((4, 8, 10)))
    Shape((4, 10, 10))
    >>> MatMul().products(Shape((4, 10, 8)), Shape((1, 8, 10))).value
    3200
    """

    kind = "matmul"
    arity = 2

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._ranks(inputs, 2)
        a, b = inputs
        conds = [
            equal(
                a[-1],
                b[-2],
                "the inner sizes of MatMul must be equal: a's last axis, b's next to last",
                "a's last size",
                "b's next-to-last size",
            )
        ]
        for axis, (s, t) in enumerate(zip(a[:-2], b[:-2], strict=True)):
            if s != 1 and t != 1:
                conds.append(
                    equal(
                        s,
                        t,
                        f"the inputs of MatMul must agree on axis {axis} or be 1 there",
                        "a's size",
                        "b's size",
                    )
                )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        self._ranks(inputs, 2)
        a, b = inputs
        lead = (broadcast_sizes((s, t)) for s, t in zip(a[:-2], b[:-2], strict=True))
        return Shape((*lead, a[-2], b[-1]))

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """Each operand, kept for the other's gradient, as the batched product reads it.

        PyTorch folds the leading axes into one for ``bmm``: an operand broadcast over
        them is expanded and copied, one laid out densely is viewed. One that is not dense
        (a transposed key) is viewed only when its leading axes merge, which symcnn does
        not follow yet beyond one leading axis: such a product is not derived.
        """
        out = self.output_shape(*inputs)
        lead = out[:-2]
        kept: list[Saved] = []
        for port, other in ((0, 1), (1, 0)):
            if not flow.needs[other]:
                continue
            x = inputs[port]
            if tuple(x[:-2]) != tuple(lead):
                kept.append(new_tensor(Shape((*lead, x[-2], x[-1])).numel))
            elif flow.contiguous[port] or len(x) <= 2:
                kept.extend(keeps_inputs(port))
            else:
                return None
        return tuple(kept)

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation]:
        # The gradient of each operand is a product as large as the forward one.
        forward = self.products(*inputs)
        return product(sum(flow.needs), forward.value), ZERO

    def products(self, *inputs: Shape) -> Derivation:
        return product(self.output_shape(*inputs).numel, inputs[0][-1])

    def describe(self) -> str:
        return "torch.matmul(...)"


# -- einsum ------------------------------------------------------------------------------
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MAX_EQUATION = 200
_DOTS = "."  # one letter standing for the ellipsis while parsing


def _subscripts(layer: str, term: str, where: str) -> str:
    """``'b...ij'`` → ``'b.ij'``: ASCII letters and at most one ``...``."""
    if term.count("...") > 1:
        raise ShapeError(f"{layer}: {where} {term!r} has more than one '...'")
    if term.replace("...", "").count("."):
        raise ShapeError(f"{layer}: {where} {term!r} has a '.' outside '...'")
    compact = term.replace("...", _DOTS)
    for ch in compact:
        if ch != _DOTS and ch not in _LETTERS:
            raise ShapeError(
                f"{layer}: {where} {term!r} has {ch!r}; subscripts are ASCII letters and one '...'"
            )
    return compact


def parse_einsum(equation: Any) -> tuple[tuple[str, ...], str]:
    """The operands' subscripts and the output's, ``'...'`` written ``'.'``.

    Parsed by hand: letters, ``,``, ``->`` and ``...`` only (spaces dropped). Without
    ``->`` the output is torch's: ``...`` then the letters seen once, sorted.

    >>> parse_einsum("bij,bjk->bik")
    (('bij', 'bjk'), 'bik')
    >>> parse_einsum("bij,bjk")
    (('bij', 'bjk'), 'ik')
    """
    name = "Einsum"
    if not isinstance(equation, str):
        raise ShapeError(f"{name}: equation must be a str (got {equation!r})")
    if len(equation) > _MAX_EQUATION:
        raise ShapeError(f"{name}: equation is {len(equation)} characters, over {_MAX_EQUATION}")
    text = equation.replace(" ", "")
    if text.count("->") > 1:
        raise ShapeError(f"{name}: equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = text.partition("->")
    if not lhs:
        raise ShapeError(f"{name}: equation {equation!r} names no operand")
    terms = tuple(
        _subscripts(name, t, f"operand {i}'s subscripts") for i, t in enumerate(lhs.split(","))
    )
    if not arrow:
        counts: dict[str, int] = {}
        for t in terms:
            for ch in t:
                counts[ch] = counts.get(ch, 0) + 1
        dots = _DOTS if _DOTS in counts else ""
        out = dots + "".join(sorted(ch for ch, c in counts.items() if c == 1 and ch != _DOTS))
        return terms, out
    out = _subscripts(name, rhs, "the output's subscripts")
    seen = set("".join(terms))
    for ch in out:
        if out.count(ch) > 1:
            raise ShapeError(f"{name}: equation {equation!r}: {ch!r} appears twice in the output")
        if ch not in seen:
            raise ShapeError(f"{name}: equation {equation!r}: output {ch!r} is in no operand")
    return terms, out


@dataclass(frozen=True, slots=True, repr=False)
class Einsum(_Product):
    """``torch.einsum(equation, a, b)`` on two operands, the equation as torch writes it.

    Every operand's first letter is the batch axis: one letter for all, first in the
    output too (a reduced or moved batch axis has no per-sample shape). Repeated letters
    must have equal sizes (``...`` axes too: symcnn does not broadcast them). Products are
    what torch's pairwise contraction multiplies: the sizes of the letters left once a
    letter of one operand only, absent from the output, is summed out; none when nothing
    is contracted, or only axes of size 1 (torch multiplies elementwise then, counted in
    ``elementwise``; a symbolic size is taken to be more than 1).

    Examples
    --------
    >>> e = Einsum("bhnd,bhmd->bhnm")
    >>> e.output_shape(Shape((8, 10, 64)), Shape((8, 12, 64)))
    Shape((8, 10, 12))
    >>> e.products(Shape((8, 10, 64)), Shape((8, 12, 64))).value
    61440
    """

    kind = "einsum"
    arity = 2
    repr_positional = 1

    equation: str

    def __post_init__(self) -> None:
        terms, out = parse_einsum(self.equation)
        if len(terms) != 2:
            raise UnsupportedLayerError(
                f"Einsum: {len(terms)} operands in {self.equation!r}; symcnn maps two (its "
                "count for more is not checked against torch's contraction order)"
            )
        batch = terms[0][:1]
        if batch in ("", _DOTS) or any(t[:1] != batch for t in terms):
            refuse(self, "equation", "must start every operand with one batch letter", terms)
        if out[:1] != batch or batch in out[1:] or any(batch in t[1:] for t in terms):
            refuse(
                self,
                "equation",
                f"must keep the batch letter {batch!r} first in the output, and only there "
                "(symcnn shapes are per sample)",
                self.equation,
            )

    def _parsed(self) -> tuple[tuple[str, ...], str]:
        terms, out = parse_einsum(self.equation)
        return tuple(t[1:] for t in terms), out[1:]

    def _sizes(self, inputs: tuple[Shape, ...]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """Per operand: each letter's size (``...`` axes as ``0``, ``1`` ... from the right)."""
        terms, _ = self._parsed()
        if len(inputs) != len(terms):
            raise ShapeError(f"Einsum: {len(terms)} operands in the equation, {len(inputs)} given")
        sizes: list[dict[str, Any]] = []
        expanded: list[str] = []
        for i, (t, x) in enumerate(zip(terms, inputs, strict=True)):
            letters = len(t) - (1 if _DOTS in t else 0)
            if len(x) < letters or _DOTS not in t and len(x) != letters:
                raise ShapeError(
                    f"Einsum: operand {i} has {len(x)} axes per sample, {x}; its subscripts "
                    f"{t!r} (batch letter left out) name {letters}"
                )
            dots = len(x) - letters
            full = t.replace(_DOTS, "".join(str(d) for d in range(dots - 1, -1, -1)))
            expanded.append(full)
            mine: dict[str, Any] = {}
            for ch, s in zip(full, x, strict=True):
                mine.setdefault(ch, []).append(s)
            sizes.append(mine)
        return sizes, tuple(expanded)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        sizes, _ = self._sizes(inputs)
        first: dict[str, tuple[int, Any]] = {}
        conds = []
        for i, mine in enumerate(sizes):
            for ch, ss in mine.items():
                for s in ss:
                    j, t = first.setdefault(ch, (i, s))
                    if (i, s) != (j, t):
                        conds.append(
                            equal(
                                s,
                                t,
                                f"Einsum {self.equation!r}: every axis of subscript "
                                f"{ch!r} must have one size",
                                f"operand {i}'s {ch!r}",
                                f"operand {j}'s {ch!r}",
                            )
                        )
        return tuple(conds)

    def _letters(self, inputs: tuple[Shape, ...]) -> tuple[dict[str, Any], tuple[str, ...], str]:
        sizes, expanded = self._sizes(inputs)
        size_of = {ch: ss[0] for mine in reversed(sizes) for ch, ss in mine.items()}
        _, out = self._parsed()
        dots = max((sum(ch.isdigit() for ch in t) for t in expanded), default=0)
        full_out = out.replace(_DOTS, "".join(str(d) for d in range(dots - 1, -1, -1)))
        return size_of, expanded, full_out

    def output_shape(self, *inputs: Shape) -> Shape:
        size_of, _, out = self._letters(inputs)
        return Shape(size_of[ch] for ch in out)

    def _kept(self, inputs: tuple[Shape, ...]) -> tuple[list[str], bool]:
        """The letters torch's pairwise product runs over; whether any is contracted."""
        size_of, expanded, out = self._letters(inputs)
        a, b = (set(t) for t in expanded)
        kept = sorted((a & b) | ((a | b) & set(out)))
        # torch squeezes a contracted axis of size 1: only larger ones make a matrix product.
        contracted = [ch for ch in (a & b) - set(out) if size_of[ch] != 1]
        return kept, bool(contracted)

    def products(self, *inputs: Shape) -> Derivation:
        size_of, _, _ = self._letters(inputs)
        kept, contracted = self._kept(inputs)
        return product(*(size_of[ch] for ch in kept)) if contracted else ZERO

    def elementwise(self, *inputs: Shape) -> Derivation:
        size_of, _, _ = self._letters(inputs)
        kept, contracted = self._kept(inputs)
        return ZERO if contracted else product(*(size_of[ch] for ch in kept))

    def _batched(self, inputs: tuple[Shape, ...]) -> bool:
        """Whether torch runs this product as one ``bmm`` on views of dense operands.

        torch's ``sumproduct_pair`` permutes each operand to (letters of both kept in the
        output, letters of its own, contracted letters) for the left one and (both,
        contracted, own) for the right one, and reshapes it to three axes: a view when the
        operand is dense and its letters already lie in runs in that order (the
        contracted run may come before or after its own: ``bmm`` takes either
        transposition), a copy otherwise. Derived here: those runs, no ``...``, no
        contracted letter of size 1 (torch squeezes it), none summed within one operand,
        something contracted.
        """
        size_of, expanded, out = self._letters(inputs)
        terms, _ = self._parsed()
        a, b = (set(t) for t in expanded)
        if any(_DOTS in t for t in terms) or any(size_of[ch] == 1 for ch in (a & b) - set(out)):
            return False
        if (a ^ b) - set(out) or not self._kept(inputs)[1]:
            return False
        order = {ch: i for i, ch in enumerate(out + "".join(sorted((a & b) - set(out))))}
        for term, other in ((expanded[0], b), (expanded[1], a)):
            both = sorted(set(term) & other & set(out), key=order.__getitem__)
            own = sorted(set(term) - other, key=order.__getitem__)
            summed = sorted((set(term) & other) - set(out), key=order.__getitem__)
            runs = ("".join(both + own + summed), "".join(both + summed + own))
            if term not in runs:
                return False
        return True

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """Each operand, kept for the other's gradient, as the ``bmm`` reads it.

        The operands of the product torch makes (:meth:`_batched`): the very input when it
        is dense, a copy of its entries otherwise (MaxViT's q, a permuted slice of the
        packed projection). The same on the meta device and the CPU. None for the other
        equations (a permutation, a sum within one operand, a broadcast), not derived.
        """
        if not self._batched(inputs):
            return None
        kept: list[Saved] = []
        for port, other in ((0, 1), (1, 0)):
            if not flow.needs[other]:
                continue
            if flow.contiguous[port]:
                kept.extend(keeps_inputs(port))
            else:
                kept.append(new_tensor(inputs[port].numel))
        return tuple(kept)

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation] | None:
        """One ``bmm`` as large as the forward's per operand that needs a gradient."""
        if not self._batched(inputs):
            return None
        return product(sum(flow.needs), self.products(*inputs).value), ZERO

    def describe(self) -> str:
        return f"torch.einsum({self.equation!r}, ...)"


# -- attention ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, repr=False)
class ScaledDotProductAttention(_Product):
    """``F.scaled_dot_product_attention(q, k, v)``, without a mask.

    Per sample q (..., L, E), k (..., S, E), v (..., S, Ev) → (..., L, Ev).

    No mask (``attn_mask`` is refused by the front-end), no grouped-query heads. The leading
    axes of q, k and v must be equal. Products ``L·S·E + L·S·Ev`` per leading index: the
    scores and their weighted sum, as FlopCounterMode counts them (the scaling and the
    softmax are not products).

    Examples
    --------
    >>> a = ScaledDotProductAttention()
    >>> q, kv = Shape((8, 10, 64)), Shape((8, 12, 64))
    >>> a.output_shape(q, kv, kv), a.products(q, kv, kv).value
    (Shape((8, 10, 64)), 122880)
    """

    kind = "sdpa"
    arity = 3

    dropout_p: float = 0.0
    is_causal: bool = False
    scale: float | None = None
    enable_gqa: bool = False

    def __post_init__(self) -> None:
        p = self.dropout_p
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            refuse(self, "dropout_p", "must be a number from 0 to 1", p)
        if not isinstance(self.is_causal, bool):
            refuse(self, "is_causal", "must be True or False", self.is_causal)
        s = self.scale
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float))):
            refuse(self, "scale", "must be None or a number", s)
        if self.enable_gqa is not False:
            refuse(self, "enable_gqa", "must be False (grouped-query heads have no rule)", s)

    def input_conditions(self, *inputs: Shape) -> tuple[Condition, ...]:
        self._ranks(inputs, 2)
        q, k, v = inputs
        rule = "ScaledDotProductAttention: {} must be equal"
        conds = [
            equal(k[-1], q[-1], rule.format("the last sizes of q and k"), "k's E", "q's E"),
            equal(v[-2], k[-2], rule.format("the lengths S of k and v"), "v's S", "k's S"),
        ]
        for axis, sizes in enumerate(zip(q[:-2], k[:-2], v[:-2], strict=True)):
            for name, s in zip(("k", "v"), sizes[1:], strict=True):
                conds.append(
                    equal(
                        s,
                        sizes[0],
                        rule.format(f"q's and {name}'s axis {axis}"),
                        f"{name}'s size",
                        "q's size",
                    )
                )
        return tuple(conds)

    def output_shape(self, *inputs: Shape) -> Shape:
        self._ranks(inputs, 2)
        q, _, v = inputs
        return Shape((*q[:-1], v[-1]))

    def products(self, *inputs: Shape) -> Derivation:
        q, k, v = inputs
        return product(*q[:-2], q[-2], k[-2], total(q[-1], v[-1]))

    def saved(self, flow: Flow, *inputs: Shape) -> tuple[Saved, ...] | None:
        """What PyTorch's math path keeps, the path it takes on the meta device.

        q and k scaled, each kept for the other's gradient; the softmax's result P; v for
        P's gradient. Fused CPU and CUDA kernels keep q, k, v, the output and the
        log-sum-exp instead. With ``dropout_p`` > 0 it keeps more, not derived.
        """
        if self.dropout_p:
            return None
        q, k, v = inputs
        lead = q[:-2]
        nq, nk, nv = flow.needs
        kept: list[Saved] = []
        if nk:
            kept.append(new_tensor(Shape((*lead, q[-2], q[-1])).numel))
        if nq:
            kept.append(new_tensor(Shape((*lead, k[-2], k[-1])).numel))
        kept.append(new_tensor(Shape((*lead, q[-2], k[-2])).numel))
        if nq or nk:
            kept.extend(keeps_inputs(2))
        return tuple(kept)

    def grad_products(self, flow: Flow, *inputs: Shape) -> tuple[Derivation, Derivation]:
        # Scores Q·Kᵀ: one product per gradient of q and of k; output P·V: one for P
        # (when q or k needs a gradient) and one for v.
        q, k, v = inputs
        nq, nk, nv = flow.needs
        scores = product(*q[:-2], q[-2], k[-2], q[-1]).value
        weighted = product(*q[:-2], q[-2], k[-2], v[-1]).value
        count = (int(nq) + int(nk)) * scores + (int(nq or nk) + int(nv)) * weighted
        return product(count), ZERO

    def describe(self) -> str:
        causal = ", is_causal=True" if self.is_causal else ""
        return f"F.scaled_dot_product_attention(...{causal})"
