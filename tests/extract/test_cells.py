import pytest

from extract.cells import clean_text, is_number, join_cell_lines, number_or_none, parse_number, parse_percent


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,614.00", 1614.0),
        ("1,190.40", 1190.4),
        ("5231", 5231.0),
        ("0.00", 0.0),
        ("10", 10.0),
        (" 85.93 ", 85.93),
        ("１２．５", 12.5),
        ("-", None),
        ("", None),
        (None, None),
        ("—", None),
        ("-3.5", -3.5),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["1,61,4.00", "12.3.4", "abc", "10分", "1 0.0x"])
def test_parse_number_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("40.87%", 40.87), ("85.93", 85.93), ("100.00％", 100.0), ("-", None), ("0%", 0.0)],
)
def test_parse_percent(text, value):
    assert parse_percent(text) == value


def test_is_number():
    assert is_number("40.87%") and is_number("1,614.00")
    assert not is_number("达成指标") and not is_number("-")


def test_number_or_none_reads_amounts_and_refuses_quietly():
    assert number_or_none("1,614.00") == 1614.0 and number_or_none("８５．９３") == 85.93
    assert (
        number_or_none("达成指标") is None and number_or_none("-") is None and number_or_none("40%") is None
    )


def test_cell_lines_join_without_separator():
    assert join_cell_lines(["经济成本指", "标"]) == "经济成本指标"
    assert join_cell_lines(["=100.00(百分", "比)"]) == "=100.00(百分比)"
    assert (
        join_cell_lines(["上海市嘉定区人力资源和社会保障局 ", "（汇总）"])
        == "上海市嘉定区人力资源和社会保障局（汇总）"
    )
    assert join_cell_lines(["", "  "]) is None
    assert clean_text("Mini-MBA 创新") == "Mini-MBA创新"
