"""Names in typed text: sympy's reserved names are refused, Unicode is folded one way."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc
from symcnn.errors import SpecError
from symcnn.frontends.spec import parse_assignments, parse_expression, parse_sizes, parse_spec

RESERVED = ["oo", "I", "E", "pi", "zoo", "nan", "S", "N", "O", "Q", "sin", "gamma", "ZZ", "E1"]


@pytest.mark.parametrize("name", RESERVED)
def test_sympy_names_are_refused_in_an_expression(name):
    message = (
        rf"^the name {name} is reserved by sympy \(a symbol so named reads as sympy's {name}\); "
        rf"call the size {name}_ instead: '{name}' at column 5$"
    )
    with pytest.raises(SpecError, match=message):
        parse_expression(f"2 + {name}")


@pytest.mark.parametrize("name", RESERVED)
def test_sympy_names_are_refused_in_assignments(name):
    message = (
        rf"^the name {name} is reserved by sympy \(a symbol so named reads as sympy's {name}\); "
        rf"call the size {name}_ instead: '{name}=3' at column 7$"
    )
    with pytest.raises(SpecError, match=message):
        parse_assignments(f"n=28, {name}=3")


def test_sympy_names_are_refused_in_specs_and_sizes():
    with pytest.raises(SpecError, match=r"^the name oo is reserved by sympy .* at column 15$"):
        parse_spec("Conv2d(1, 32, oo)", input_shape="1,n,n")
    with pytest.raises(SpecError, match=r"^the name N is reserved by sympy .*: 'N' at column 3$"):
        parse_sizes("1,N,N")


def test_the_suggested_name_is_free_and_works():
    (size,) = parse_sizes("oo_")
    assert size == sc.symbols("oo_")
    assert str(size + 1) == "oo_ + 1"
    assert parse_assignments("pi_=3") == {sc.symbols("pi_"): 3}


def test_names_sympy_does_not_reserve_stay_symbols():
    n, k, c, h, w = sc.symbols("n k C H W")
    assert parse_sizes("C,H,W") == (c, h, w)
    assert parse_expression("n - k + 1") == n - k + 1


FULL_WIDTH_N = "\uff4e"  # ｎ, which NFKC folds to n


def test_one_name_folds_to_one_symbol_in_every_parser():
    n = sc.symbols("n")
    text = FULL_WIDTH_N
    (from_sizes,) = parse_sizes(f"{text}")
    from_expression = parse_expression(f"{text} + 0")
    (from_assignment,) = parse_assignments(f"{text}=28")
    net = parse_spec(f"Conv2d(1, 2, {text})", input_shape=f"1,{text},{text}")
    (kernel,) = set(net.layers[0].layer.kernel_size)
    assert from_sizes == from_expression == from_assignment == kernel == n
    assert net.subs(parse_assignments(f"{text}=28")).output_shape == (2, 1, 1)


def test_folded_names_meet_the_same_rules():
    # ｏｏ folds to oo, reserved everywhere; n² is no identifier anywhere (NFKC would read n2).
    with pytest.raises(SpecError, match=r"^the name oo is reserved by sympy"):
        parse_expression("\uff4f\uff4f")
    with pytest.raises(SpecError, match=r"^the name oo is reserved by sympy"):
        parse_assignments("\uff4f\uff4f=1")
    with pytest.raises(SpecError, match=r"^cannot parse the expression: invalid character"):
        parse_expression("n\u00b2")
    with pytest.raises(
        SpecError, match=r"^'n\u00b2' is not a symbol name: 'n\u00b2=4' at column 1$"
    ):
        parse_assignments("n\u00b2=4")
    with pytest.raises(SpecError, match=r"^'if' is not a symbol name: 'if=4' at column 1$"):
        parse_assignments("if=4")


def test_a_folded_name_that_is_not_ascii_is_refused_alike():
    message = r"a symbol name is a letter then letters, digits or _"
    with pytest.raises(SpecError, match=message):
        parse_expression("\u00e9")
    with pytest.raises(SpecError, match=r"^'\u00e9' is not a symbol name"):
        parse_assignments("\u00e9=1")


def test_reserved_names_never_become_sympy_constants():
    for name in RESERVED:
        with pytest.raises(SpecError):
            parse_expression(name)
    assert not parse_expression("n + 1").has(sympy.oo, sympy.I, sympy.E, sympy.pi)
