"""Property tests (hypothesis) for extract.cells.parse_number / parse_percent / is_number.

Numbers are printed the way the forms print them — thousands separators or not, full-width digits,
a percent sign (ASCII or full-width), spread over wrapped lines — and must parse back to the value
printed. Any other text either parses or raises ValueError: never another exception, never a
silent None for something that is not a null token. (The target parser has its own property tests
in test_targets.py.)
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from extract.cells import is_number, parse_number, parse_percent

FULLWIDTH = str.maketrans("0123456789.,%-", "０１２３４５６７８９．，％－")
NULL_TOKENS = ["", "-", "—", "－", "/", "——", "--"]
MINUS_SIGNS = ["-", "−", "－"]  # ASCII hyphen-minus, U+2212 minus, full-width hyphen-minus
WHITESPACE = [" ", "\n", "\t", "\u3000"]  # \u3000: the ideographic space


@st.composite
def printed_numbers(draw, percent: bool = False) -> tuple[str, float]:
    """(cell text, value): a number with 0-4 decimals formatted as a form might print it."""
    decimals = draw(st.integers(min_value=0, max_value=4))
    units = draw(st.integers(min_value=0, max_value=10**13))
    plain = f"{units // 10**decimals:,}" if draw(st.booleans()) else f"{units // 10**decimals}"
    if decimals:
        plain += "." + f"{units % 10**decimals:0{decimals}d}"
    value = float(plain.replace(",", ""))
    text = plain
    if draw(st.booleans()):
        text = draw(st.sampled_from(MINUS_SIGNS)) + text
        value = -value
    if percent and draw(st.booleans()):
        text += draw(st.sampled_from(["%", "％"]))
    if draw(st.booleans()):  # full-width characters, all or some of them
        text = "".join(c.translate(FULLWIDTH) if draw(st.booleans()) else c for c in text)
    if draw(st.booleans()):  # wrapped or padded: whitespace anywhere
        cuts = draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=3))
        for cut in sorted(cuts, reverse=True):
            text = text[:cut] + draw(st.sampled_from(WHITESPACE)) + text[cut:]
    return text, value


@given(printed_numbers())
@example(("1,614.00", 1614.0))
@example(("－１２．５", -12.5))
@example(("１，２３４", 1234.0))
def test_printed_numbers_parse_back(case):
    text, value = case
    assert parse_number(text) == value, text
    assert parse_percent(text) == value, text  # a rate may be printed without its % sign
    assert is_number(text)


@given(printed_numbers(percent=True))
@example(("40.87%", 40.87))
@example(("100.00％", 100.0))
def test_printed_percentages_parse_back(case):
    text, value = case
    assert parse_percent(text) == value, text


@given(st.sampled_from(NULL_TOKENS), st.sampled_from(["", " ", "\n", "\u3000"]))
def test_null_tokens_are_none(token, padding):
    assert parse_number(padding + token + padding) is None
    assert parse_percent(token) is None
    assert not is_number(token)


def _parses_or_refuses(parse, text):
    try:
        value = parse(text)
    except ValueError:
        return
    assert value is None or isinstance(value, float)


@given(st.text(max_size=30))
@example("1e5")
@example("nan")
@example("inf")
@example("1_000")
@example("٣٫٥")  # Arabic-Indic digits and decimal separator
def test_any_text_parses_or_raises_value_error(text):
    _parses_or_refuses(parse_number, text)
    _parses_or_refuses(parse_percent, text)
    assert isinstance(is_number(text), bool)


@given(st.text(alphabet="0123456789０１２３４５６７８９.,，．%％-−－ \n", max_size=30))
def test_digit_soup_parses_or_raises_value_error(text):
    _parses_or_refuses(parse_number, text)
    _parses_or_refuses(parse_percent, text)


@given(st.text(alphabet="0123456789,.", min_size=1, max_size=25))
def test_a_number_that_parses_is_what_its_digits_say(text):
    """Whatever is accepted means the number its digits say (no separator silently dropped in
    the middle of a wrong grouping, no digits lost)."""
    try:
        value = parse_number(text)
    except ValueError:
        return
    digits = text.replace(",", "")
    assert value == float(digits)
    if "," in text:  # separators only in groups of three, before any decimal point
        integer = text.split(".")[0]
        assert all(len(group) == 3 for group in integer.split(",")[1:]), text


def test_a_number_too_large_for_a_float_is_refused():
    with pytest.raises(ValueError):
        parse_number("9" * 400)
