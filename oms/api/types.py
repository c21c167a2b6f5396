"""Bounded field types of the API contract: what a schema declares is what it accepts.

Integers are JSON integers within 64 bits (or a narrower business range), never strings; times carry a
real-world UTC offset and a storable year. A value outside is a 422 naming the field, and the OpenAPI
document states the bounds, so a client (or the fuzzer) can know them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from oms.core.domain.limits import MAX_DOCUMENT_LINE_QUANTITY, MAX_ORDER_LINE_QUANTITY

INT64_MAX = 2**63 - 1


def _json_number(value: object) -> object:
    if isinstance(value, (str, bool)):
        raise ValueError("Send a JSON integer, not a string or a boolean")
    return value


# A JSON integer as JSON Schema means it: 3 or 3.0 (a number without a fraction), never "3" or true.
JsonInt = Annotated[int, BeforeValidator(_json_number)]

# A database id in a path or body.
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
# Units of stock on a document line: a JSON integer (never "3"), 0 … the per-line limit.
StockUnits = Annotated[JsonInt, Field(ge=0, le=MAX_DOCUMENT_LINE_QUANTITY)]
# Units on an order line.
OrderUnits = Annotated[JsonInt, Field(gt=0, le=MAX_ORDER_LINE_QUANTITY)]
# A JSON integer in a body, anywhere in 64 bits.
Int64 = Annotated[JsonInt, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]

# Maps keyed by line. JSON object keys are strings, so the document says which: ASCII digits, no sign, no
# leading zero, within 64 bits (a `propertyNames` pattern), and bounds the units.
LINE_KEY_PATTERN = "^[1-9][0-9]{0,17}$"


def _units_by_line(maximum: int) -> WithJsonSchema:
    units = {"type": "integer", "minimum": 0, "maximum": maximum}
    keys = {"pattern": LINE_KEY_PATTERN}
    return WithJsonSchema({"type": "object", "propertyNames": keys, "additionalProperties": units})


_LineKey = Annotated[int, Field(ge=1, le=INT64_MAX)]
# Order line no → units (after-sales).
OrderUnitsByLine = Annotated[
    dict[_LineKey, Annotated[JsonInt, Field(ge=0, le=MAX_ORDER_LINE_QUANTITY)]],
    _units_by_line(MAX_ORDER_LINE_QUANTITY),
]
# Stock document line id → units (receiving a transfer or return).
StockUnitsByLine = Annotated[
    dict[Annotated[str, StringConstraints(pattern=LINE_KEY_PATTERN)], StockUnits],
    _units_by_line(MAX_DOCUMENT_LINE_QUANTITY),
]

# A list's page size.
PageSize = Annotated[int, Field(ge=1, le=500)]
LongPageSize = Annotated[int, Field(ge=1, le=1000)]


_MAX_OFFSET = timedelta(hours=14)


def _storable(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > _MAX_OFFSET:
        raise ValueError("The UTC offset must lie between -14:00 and +14:00")
    if not 1970 <= value.year <= 9998:
        raise ValueError("The time must lie between 1970 and 9998")
    return value


# The years a stored time or day may have (1970 … 9998), and the UTC offsets of real places (±14:00), as
# patterns: the document says what the validators below take.
YEAR_PATTERN = "(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
OFFSET_PATTERN = "([zZ]|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
WHEN_SCHEMA = {"type": "string", "format": "date-time", "pattern": f"^{YEAR_PATTERN}-.*{OFFSET_PATTERN}$"}
DAY_SCHEMA = {"type": "string", "format": "date", "pattern": f"^{YEAR_PATTERN}-"}

# An ISO 8601 time the database can store.
When = Annotated[datetime, AfterValidator(_storable), WithJsonSchema(WHEN_SCHEMA)]


def _storable_day(value: date) -> date:
    if not 1970 <= value.year <= 9998:
        raise ValueError("The day must lie between 1970 and 9998")
    return value


# A calendar day the database can compare with stored times.
Day = Annotated[date, AfterValidator(_storable_day), WithJsonSchema(DAY_SCHEMA)]
