"""Money as an integer count of minor units (分) with its currency, and the one apportion function.

Never a float: amounts enter as decimal strings (or ints of minor units) and leave the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from oms.core.errors import ValidationFailed

# ISO 4217 minor-unit exponents for the currencies merchants here settle in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "AUD": 2,
    "JPY": 0,
    "KRW": 0,
}

_DECIMAL_RE = re.compile(r"^(?P<sign>-)?(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")  # ASCII digits only


class MoneyError(ValidationFailed):
    pass


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(
            f"Unsupported currency {currency!r}; expected one of {', '.join(sorted(CURRENCY_EXPONENTS))}.",
            code="unsupported_currency",
        ) from None


def parse_minor(value: object, currency: str, *, allow_negative: bool = False, field: str = "amount") -> int:
    """Parse a decimal string such as "12.34" (or an int of major units) into minor units.

    Floats are refused: 0.1 + 0.2 is not money.
    """
    exponent = currency_exponent(currency)
    if isinstance(value, bool | float):
        raise MoneyError(
            f'{field}: amounts must be decimal strings such as "12.34", not {type(value).__name__}.',
            code="float_amount",
        )
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise MoneyError(f"{field}: expected a decimal string, got {type(value).__name__}.", code="bad_amount")
    match = _DECIMAL_RE.match(text) if len(text) <= 40 else None
    if not match:
        raise MoneyError(f'{field}: {text!r} is not a decimal amount such as "12.34".', code="bad_amount")
    frac = match["frac"] or ""
    if len(frac) > exponent:
        raise MoneyError(
            f"{field}: {text!r} has {len(frac)} decimal places; {currency} allows {exponent}.",
            code="too_many_decimals",
        )
    minor = int(match["int"]) * 10**exponent + (int(frac.ljust(exponent, "0")) if exponent else 0)
    if match["sign"]:
        minor = -minor
    if minor < 0 and not allow_negative:
        raise MoneyError(f"{field}: {text!r} must not be negative.", code="negative_amount")
    return minor


def format_minor(minor: int, currency: str) -> str:
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    units, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{units}.{frac:0{exponent}d}" if exponent else f"{sign}{units}"


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError("Money holds an integer count of minor units.", code="bad_amount")
        currency_exponent(self.currency)

    @classmethod
    def parse(cls, value: object, currency: str = "CNY", *, allow_negative: bool = False) -> Money:
        return cls(parse_minor(value, currency, allow_negative=allow_negative), currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"Cannot combine {self.currency} with {other.currency}.", code="currency_mismatch")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise MoneyError("Money multiplies by whole numbers only; use apportion() to divide.")
        return Money(self.minor * factor, self.currency)

    def apportion(self, weights: Sequence[int]) -> list[Money]:
        return [Money(share, self.currency) for share in apportion(self.minor, weights)]

    def __str__(self) -> str:
        return f"{format_minor(self.minor, self.currency)} {self.currency}"

    @property
    def amount(self) -> str:
        return format_minor(self.minor, self.currency)


def apportion(total: int, weights: Sequence[int], *, caps: Sequence[int] | None = None) -> list[int]:
    """Divide ``total`` minor units over ``weights`` so the shares add up exactly to ``total``.

    Largest remainder (Hamilton): every share starts at the floor of its exact proportional share
    ``total * w / sum(w)``; the units left over (尾差, the rounding residue) go one each to the
    shares with the largest fractional remainders, ties broken by position (earlier first). So the
    sum is exact, each share is within one minor unit of its exact share, and equal input always
    gives equal output.

    Defined edges: a zero total gives all zeros; all-zero weights share equally (as if every
    weight were 1); a negative total (a refund) is the mirror image of the positive one, so the
    residue lands on the same positions. Weights must be non-negative integers; an empty weight
    list can only carry a zero total.

    ``caps`` (for a non-negative total) bounds each share from above. A share its cap cuts below
    the proportional one gives the difference to the others, by the same largest-remainder order,
    never past their own caps; shares no cap touches stay within one unit of exact. Splitting one
    line's amounts so that no part pays less than nothing uses it. A total above the caps' sum is
    refused.
    """
    if any(isinstance(w, bool) or not isinstance(w, int) for w in weights):
        raise MoneyError("apportion weights must be integers.", code="bad_weights")
    if any(w < 0 for w in weights):
        raise MoneyError("apportion weights must not be negative.", code="bad_weights")
    if not weights:
        if total:
            raise MoneyError("Cannot apportion a non-zero amount over no lines.", code="bad_weights")
        return []
    if caps is not None and (len(caps) != len(weights) or total < 0):
        raise MoneyError("caps need one cap per weight and a non-negative total.", code="bad_weights")
    if total < 0:
        return [-share for share in apportion(-total, weights)]
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for w in weights:
        q, r = divmod(total * w, weight_sum)
        shares.append(q)
        remainders.append(r)
    residue = total - sum(shares)
    # Sort positions by remainder descending, position ascending: the deterministic tie-break.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    if caps is not None:
        return _fill_within_caps(shares, order, residue, caps)
    for index in order[:residue]:
        shares[index] += 1
    return shares


def _fill_within_caps(shares: list[int], order: list[int], residue: int, caps: Sequence[int]) -> list[int]:
    if any(c < 0 for c in caps) or sum(shares) + residue > sum(caps):
        raise MoneyError("The amount does not fit within the caps.", code="over_cap")
    for i, cap in enumerate(caps):
        if shares[i] > cap:
            residue += shares[i] - cap
            shares[i] = cap
    while residue > 0:
        open_positions = [i for i in order if shares[i] < caps[i]]
        if residue <= len(open_positions):
            for i in open_positions[:residue]:
                shares[i] += 1
            break
        portion = residue // len(open_positions)
        for i in open_positions:
            step = min(portion, caps[i] - shares[i])
            shares[i] += step
            residue -= step
    return shares
