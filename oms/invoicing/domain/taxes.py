"""Tax rates, tax classification codes, and how an amount including tax divides into amount and tax.

The rule (one rounding, documented once): for an amount including tax ``A`` (fen) at rate ``r``,

    amount excluding tax  E = A / (1 + r)  rounded ROUND_HALF_UP to the fen (halves away from zero)
    tax                   T = A − E

so ``E + T == A`` holds exactly on every line, and totals are the plain sums of the lines. A 0% or exempt
(免税) line has ``E = A`` and ``T = 0``.

The tax authority's tolerance (增值税发票税额校验): on each line the stated tax may differ from amount × rate
by at most 0.06 yuan, and on one invoice the line differences together by at most 1.27 yuan. With the rule
above the difference on one line is ``|E·r − T| = |E·(1 + r) − A| = (1 + r)·|E − A/(1 + r)| ≤ (1 + r)/2`` fen,
at most 0.565 fen at 13 %: ten times inside the line tolerance. The invoice tolerance is kept by packing
(`oms.invoicing.domain.plan`): a document takes rows only while the sum of their differences stays within
1.27 yuan, which the plan checks with exact integers (differences are kept in 1/10,000 fen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oms.core.errors import ValidationFailed

BP = 10_000  # basis points in one (1300 bp = 13 %)

# The tolerances in units of 1/10,000 fen, so amount × rate (E × bp / 10,000) compares with integers.
LINE_TOLERANCE = 6 * BP  # 0.06 yuan
INVOICE_TOLERANCE = 127 * BP  # 1.27 yuan

RATE_CODES = ("13", "9", "6", "0", "exempt")
_RATE_BP = {"13": 1300, "9": 900, "6": 600, "0": 0, "exempt": 0}

TAX_CODE_RE = re.compile(r"^[0-9]{19}$")


@dataclass(frozen=True)
class TaxRate:
    """One of the VAT rates an invoice line may carry: 13 %, 9 %, 6 %, 0 % or exempt (免税, printed as 免税
    with no tax). ``code`` is how it is stored and sent ("13", "9", "6", "0", "exempt")."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in _RATE_BP:
            raise ValidationFailed(
                f"Tax rate {self.code!r} is not one of {', '.join(RATE_CODES)}.", code="bad_tax_rate"
            )

    @property
    def bp(self) -> int:
        return _RATE_BP[self.code]

    @property
    def exempt(self) -> bool:
        return self.code == "exempt"

    @classmethod
    def from_bp(cls, bp: int) -> TaxRate:
        """The rate whose basis points are ``bp`` (0 bp is 0 %, not exempt)."""
        for code in RATE_CODES:
            if _RATE_BP[code] == bp:
                return cls(code)
        raise ValidationFailed(f"{bp} bp is not an invoice tax rate (13 %, 9 %, 6 %, 0 %).", code="bad_tax_rate")

    def label(self) -> str:
        return "免税" if self.exempt else f"{self.code}%"


def tax_code_check(code: str, *, field: str = "tax_code") -> str:
    """A tax classification code (税收分类编码) is 19 digits; returns it, or refuses naming ``field``."""
    value = (code or "").strip()
    if not TAX_CODE_RE.match(value) or set(value) == {"0"}:
        raise ValidationFailed(
            f"{field}: a tax classification code is 19 digits (税收分类编码), got {value!r}.",
            code="bad_tax_code",
            extra={"field": field},
        )
    return value


def _round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero (denominator > 0)."""
    if numerator < 0:
        return -_round_half_up_div(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class TaxSplit:
    amount_minor: int  # including tax (价税合计)
    excl_minor: int  # excluding tax (金额)
    tax_minor: int  # tax (税额)


def tax_split(amount_minor: int, rate: TaxRate) -> TaxSplit:
    """Divide an amount including tax (fen, may be negative for a red line) by the one rule above."""
    if rate.bp == 0:
        return TaxSplit(amount_minor, amount_minor, 0)
    excl = _round_half_up_div(amount_minor * BP, BP + rate.bp)
    return TaxSplit(amount_minor, excl, amount_minor - excl)


def tax_difference(excl_minor: int, tax_minor: int, rate: TaxRate) -> int:
    """|amount × rate − tax| of one line in 1/10,000 fen: what the tax authority's tolerances bound."""
    return abs(excl_minor * rate.bp - tax_minor * BP)


def line_within_tolerance(excl_minor: int, tax_minor: int, rate: TaxRate) -> bool:
    return tax_difference(excl_minor, tax_minor, rate) <= LINE_TOLERANCE
