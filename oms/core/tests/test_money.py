from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oms.core.domain.money import Money, MoneyError, apportion, format_minor, parse_minor

TOTALS = st.integers(min_value=-(10**12), max_value=10**12)
WEIGHTS = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=500)


@given(total=TOTALS, weights=WEIGHTS)
@example(total=1, weights=[1, 1, 1])
@example(total=100, weights=[0, 0, 0])
@example(total=-100, weights=[1, 2])
def test_apportion_sum_is_exact_and_each_share_within_one_unit(total: int, weights: list[int]) -> None:
    shares = apportion(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == total
    effective = weights if sum(weights) else [1] * len(weights)
    weight_sum = sum(effective)
    for share, w in zip(shares, effective, strict=True):
        exact = Fraction(total * w, weight_sum)
        assert abs(share - exact) < 1


@given(total=TOTALS, weights=WEIGHTS)
def test_apportion_is_deterministic(total: int, weights: list[int]) -> None:
    assert apportion(total, weights) == apportion(total, list(weights))


@given(total=st.integers(min_value=0, max_value=10**12), weights=WEIGHTS)
def test_negative_total_mirrors_positive(total: int, weights: list[int]) -> None:
    assert apportion(-total, weights) == [-s for s in apportion(total, weights)]


@given(total=st.integers(min_value=0, max_value=10**12), weights=WEIGHTS)
def test_zero_weight_gets_nothing_when_others_have_weight(total: int, weights: list[int]) -> None:
    shares = apportion(total, weights)
    if sum(weights):
        assert all(s == 0 for s, w in zip(shares, weights, strict=True) if w == 0)
    assert all(s >= 0 for s in shares)


@given(total=st.integers(min_value=0, max_value=10**12), weights=WEIGHTS)
def test_share_never_exceeds_weight_when_total_fits(total: int, weights: list[int]) -> None:
    # The property discount apportionment relies on: a line never gets more discount than its amount.
    if sum(weights) == 0 or total > sum(weights):
        return
    for share, w in zip(apportion(total, weights), weights, strict=True):
        assert share <= w


def test_residue_goes_to_largest_remainder_then_earliest_line() -> None:
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(10, [3, 3, 4]) == [3, 3, 4]
    assert apportion(1, [1, 2]) == [0, 1]
    assert apportion(0, [5, 7]) == [0, 0]
    assert apportion(7, [0, 0]) == [4, 3]
    assert apportion(-100, [1, 1, 1]) == [-34, -33, -33]


def test_apportion_rejects_bad_weights() -> None:
    with pytest.raises(MoneyError):
        apportion(10, [1, -1])
    with pytest.raises(MoneyError):
        apportion(10, [])
    with pytest.raises(MoneyError):
        apportion(10, [1.5])  # type: ignore[list-item]
    assert apportion(0, []) == []


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "CNY", 1234),
        ("12", "CNY", 1200),
        ("0.5", "CNY", 50),
        ("0", "CNY", 0),
        ("1500", "JPY", 1500),
        (7, "CNY", 700),
    ],
)
def test_parse_minor_accepts_decimal_text(text: object, currency: str, minor: int) -> None:
    assert parse_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (12.34, "float_amount"),
        ("12.345", "too_many_decimals"),
        ("-1.00", "negative_amount"),
        ("abc", "bad_amount"),
        ("1e3", "bad_amount"),
        ("", "bad_amount"),
        (True, "float_amount"),
        (None, "bad_amount"),
    ],
)
def test_parse_minor_refuses_with_clear_code(value: object, code: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_minor(value, "CNY", field="lines[0].price")
    assert err.value.code == code
    assert "lines[0].price" in err.value.message


def test_negative_allowed_when_asked_and_unknown_currency_refused() -> None:
    assert parse_minor("-1.05", "CNY", allow_negative=True) == -105
    with pytest.raises(MoneyError) as err:
        parse_minor("1", "XXX")
    assert err.value.code == "unsupported_currency"
    with pytest.raises(MoneyError):
        parse_minor("1.5", "JPY")


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(["CNY", "JPY", "USD"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_minor(format_minor(minor, currency), currency, allow_negative=True) == minor


def test_money_arithmetic_keeps_currency_and_refuses_mixing() -> None:
    a = Money.parse("10.00")
    b = Money.parse("0.01")
    assert (a + b).amount == "10.01"
    assert (a - b).minor == 999
    assert (b * 3).minor == 3
    assert [m.minor for m in Money.parse("1.00").apportion([1, 1, 1])] == [34, 33, 33]
    with pytest.raises(MoneyError):
        a + Money(1, "USD")
    with pytest.raises(MoneyError):
        a * 1.5  # type: ignore[operator]
    with pytest.raises(MoneyError):
        Money(1.5)  # type: ignore[arg-type]
    assert str(Money.parse("-3.10", allow_negative=True)) == "-3.10 CNY"


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50),
    caps=st.lists(st.integers(min_value=0, max_value=10**9), min_size=50, max_size=50),
)
def test_capped_apportion_fits_under_caps_whenever_possible(total: int, weights: list[int], caps: list[int]) -> None:
    caps = caps[: len(weights)]
    if total > sum(caps):
        with pytest.raises(MoneyError):
            apportion(total, weights, caps=caps)
        return
    shares = apportion(total, weights, caps=caps)
    assert sum(shares) == total
    assert all(0 <= s <= c for s, c in zip(shares, caps, strict=True))
    plain = apportion(total, weights)
    if all(p <= c for p, c in zip(plain, caps, strict=True)):
        assert shares == plain


def test_capped_apportion_moves_residue_away_from_a_full_share() -> None:
    assert apportion(2, [1, 1, 1]) == [1, 1, 0]
    assert apportion(2, [1, 1, 1], caps=[0, 1, 1]) == [0, 1, 1]
    assert apportion(9, [1, 1, 1], caps=[0, 9, 1]) == [0, 8, 1]
    with pytest.raises(MoneyError):
        apportion(2, [1, 1, 1], caps=[0, 0, 1])
