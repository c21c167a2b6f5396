"""The taxpayer id on an invoice request (纳税人识别号): the unified social credit code (统一社会信用代码,
GB 32100-2015), 18 characters from ``0-9`` and ``A-Z`` without I, O, Z, S and V, whose last character is a
check character over the first 17:

    c18 = (31 − Σ value(c_i) × 3^(i−1) mod 31) mod 31        (i = 1 … 17; weights 1, 3, 9, 27, 19, 26, …)

Pure; the order's invoice request and invoicing both check with it.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def taxpayer_check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be from the alphabet)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def taxpayer_id_problem(value: str) -> str | None:
    """None when ``value`` is a unified social credit code, else why not (in English; the code says it)."""
    if len(value) != 18:
        return f"A taxpayer id (统一社会信用代码) is 18 characters, not {len(value)}."
    bad = sorted({c for c in value if c not in ALPHABET})
    if bad:
        return f"A taxpayer id uses 0-9 and A-Z without I, O, Z, S, V; {''.join(bad)!r} is not allowed."
    if taxpayer_check_character(value[:17]) != value[17]:
        return "The taxpayer id's check character (the 18th) does not match: a character is mistyped."
    return None
