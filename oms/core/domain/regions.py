"""China's provincial-level divisions (GB/T 2260) for address checks and warehouse distances.

Buyers and platforms write a province in full ("浙江省"), short ("浙江") or with the suffix
dropped inconsistently; `province_lookup` accepts all of them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "data" / "cn_provinces.csv"


@dataclass(frozen=True)
class Province:
    adcode: str
    name: str
    short_name: str
    capital: str
    lat: float
    lon: float


@cache
def provinces() -> tuple[Province, ...]:
    with _DATA.open(encoding="utf-8") as fh:
        return tuple(
            Province(
                adcode=row["adcode"],
                name=row["name"],
                short_name=row["short_name"],
                capital=row["capital"],
                lat=float(row["capital_lat"]),
                lon=float(row["capital_lon"]),
            )
            for row in csv.DictReader(fh)
        )


@cache
def _index() -> dict[str, Province]:
    index: dict[str, Province] = {}
    for p in provinces():
        for key in (p.adcode, p.name, p.short_name):
            index[key] = p
    return index


def province_lookup(text: str) -> Province | None:
    """The province a buyer or platform meant, or None when it is not a province at all."""
    key = (text or "").strip()
    return _index().get(key)


def province_choices() -> list[tuple[str, str]]:
    return [(p.adcode, p.name) for p in provinces()]


def distance_km(a: Province, b: Province) -> float:
    """Great-circle distance between two provincial capitals: a good-enough proxy for shipping distance."""
    r = 6371.0
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
