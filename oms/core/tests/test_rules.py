from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.core.rules import Fact, FactType, RuleParseError, compile_condition, condition_matches

FACTS = [
    Fact("paid_amount", FactType.NUMBER, "amount paid, yuan"),
    Fact("province", FactType.STRING, "receiver province"),
    Fact("skus", FactType.STRINGS, "SKU codes"),
    Fact("cod", FactType.BOOLEAN, "cash on delivery"),
    Fact("paid_at", FactType.DATETIME, "payment time"),
]
ORDER = {
    "paid_amount": 6000,
    "province": "新疆维吾尔自治区",
    "skus": ["A-1", "B-2"],
    "cod": False,
    "paid_at": dt.datetime(2026, 11, 11, 23, 30, tzinfo=dt.UTC),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid_amount > 5000", True),
        ("paid_amount > 5000 and cod", False),
        ('province =~ "^新疆"', True),
        ('"B-2" in skus', True),
        ('"C-3" in skus or paid_amount < 10', False),
        ("paid_at.hour >= 22", True),
    ],
)
def test_conditions_evaluate_over_order_facts(text: str, expected: bool) -> None:
    assert condition_matches(compile_condition(text, FACTS), ORDER) is expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("paid_amount > > 3", 14, "Syntax error at character 15"),
        ("paid_amount = 3", 12, "illegal character"),
        ("paid_amont > 3", 0, "Unknown fact 'paid_amont'"),
        ('paid_amount + "x"', None, "not valid"),
        ("paid_amount >", 13, "Syntax error"),
    ],
)
def test_bad_conditions_are_refused_with_position(text: str, position: int | None, fragment: str) -> None:
    with pytest.raises(RuleParseError) as err:
        compile_condition(text, FACTS)
    assert err.value.position == position
    assert fragment in err.value.message
    assert err.value.details[0].field == "condition"


def test_empty_condition_is_refused() -> None:
    with pytest.raises(RuleParseError):
        compile_condition("  ", FACTS)


def test_python_is_not_evaluated() -> None:
    for text in ('__import__("os").system("true")', "open('/etc/passwd')"):
        with pytest.raises(RuleParseError):
            compile_condition(text, FACTS)


@given(amount=st.integers(min_value=0, max_value=10**9), threshold=st.integers(min_value=0, max_value=10**9))
def test_numeric_comparison_agrees_with_python(amount: int, threshold: int) -> None:
    rule = compile_condition(f"paid_amount >= {threshold}", FACTS)
    assert condition_matches(rule, {**ORDER, "paid_amount": amount}) is (amount >= threshold)
