"""The tax rule on one line: excl + tax == amount, ROUND_HALF_UP, inside the authority's tolerance; codes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.core.errors import ValidationFailed
from oms.invoicing.domain.taxes import (
    LINE_TOLERANCE,
    RATE_CODES,
    TaxRate,
    line_within_tolerance,
    tax_code_check,
    tax_difference,
    tax_split,
)
from oms.orders.domain.taxpayer import ALPHABET, taxpayer_check_character, taxpayer_id_problem

rates = st.sampled_from(RATE_CODES).map(TaxRate)
amounts = st.integers(min_value=-(10**13), max_value=10**13)


@given(amount=amounts, rate=rates)
def test_split_adds_up_rounds_half_up_and_stays_inside_the_line_tolerance(amount: int, rate: TaxRate) -> None:
    split = tax_split(amount, rate)
    assert split.excl_minor + split.tax_minor == amount
    exact = Decimal(amount) / (Decimal(1) + Decimal(rate.bp) / 10_000)
    assert split.excl_minor == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # The proven bound: (1 + r)/2 fen, i.e. at most 0.565 fen at 13 %.
    assert tax_difference(split.excl_minor, split.tax_minor, rate) * 2 <= 10_000 + rate.bp
    assert line_within_tolerance(split.excl_minor, split.tax_minor, rate)


def test_worked_examples() -> None:
    assert tax_split(11300, TaxRate("13")) == tax_split(11300, TaxRate("13"))
    assert (tax_split(11300, TaxRate("13")).excl_minor, tax_split(11300, TaxRate("13")).tax_minor) == (10000, 1300)
    one_fen = tax_split(1, TaxRate("13"))  # 0.01 / 1.13 = 0.00885 → 0.01, tax 0
    assert (one_fen.excl_minor, one_fen.tax_minor) == (1, 0)
    assert tax_split(-11300, TaxRate("13")).tax_minor == -1300
    for code in ("0", "exempt"):
        assert tax_split(999, TaxRate(code)) == tax_split(999, TaxRate("0"))
        assert tax_split(999, TaxRate(code)).tax_minor == 0
    assert TaxRate("exempt").label() == "免税" and TaxRate("9").label() == "9%"
    assert tax_difference(100, 14, TaxRate("13")) == 1 * 10_000  # 13 vs 14 fen: 1 fen off
    assert LINE_TOLERANCE == 60_000


def test_bad_rates_and_codes_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        TaxRate("17")
    assert err.value.code == "bad_tax_rate"
    with pytest.raises(ValidationFailed):
        TaxRate.from_bp(1700)
    assert TaxRate.from_bp(900) == TaxRate("9")
    assert tax_code_check(" 1030201010000000000 ") == "1030201010000000000"
    for bad in ("103020101000000000", "10302010100000000001", "103020101000000000X", "0" * 19, ""):
        with pytest.raises(ValidationFailed) as err:
            tax_code_check(bad, field="skus[0].tax_code")
        assert err.value.extra == {"field": "skus[0].tax_code"} and err.value.code == "bad_tax_code"


codes17 = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@given(first=codes17, position=st.integers(min_value=0, max_value=17), other=st.sampled_from(ALPHABET))
def test_taxpayer_id_check_character_catches_every_single_mistyped_character(
    first: str, position: int, other: str
) -> None:
    good = first + taxpayer_check_character(first)
    assert taxpayer_id_problem(good) is None
    typo = good[:position] + other + good[position + 1 :]
    assert (taxpayer_id_problem(typo) is None) == (typo == good)


def test_real_taxpayer_ids_and_bad_shapes() -> None:
    assert taxpayer_id_problem("91330100799655058B") is None  # 阿里巴巴（中国）有限公司
    assert taxpayer_id_problem("9144030071526726XG") is None  # 深圳市腾讯计算机系统有限公司
    assert "check character" in (taxpayer_id_problem("91330100MA2B3C4D5E") or "")
    assert "18 characters" in (taxpayer_id_problem("913301007996550") or "")
    assert "not allowed" in (taxpayer_id_problem("91330100799655058I") or "")
