"""Real identifiers for the API fuzzer (scripts/api_fuzz.sh), and its figures.

    python -m scripts.api_fuzz_seed BASE_URL TOKEN CONFIG   # CONFIG: schemathesis.toml + [dictionaries]
    python -m scripts.api_fuzz_seed --figures REPORT_DIR SERVER_LOG

Schemathesis draws path values and a few body fields from these dictionaries (schemathesis.toml binds
them, with a probability, so made-up values are still tried): order numbers in every status, after-sales
cases, stock documents of each type and status, SKUs, channels, warehouses, couriers, customers, rules,
interceptions. Identifiers are read from the database (read only); the objects demo data lacks
(after-sales cases, open transfers and returns) are created through the API itself, as a client would.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the local server this run started."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        conn.request(
            method,
            "/api/v1" + path,
            body=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def _dictionary(name: str, values: list[Any]) -> str:
    """One TOML line; ids stay integers (schemathesis matches a binding's entries against the schema)."""
    seen = list(dict.fromkeys(v for v in values if v not in (None, "")))
    if not seen:
        seen = [0]  # schemathesis refuses an empty dictionary; 0 is never a real id or number
    print(f"  {name}: {len(seen)}")
    return f"{name} = {{ values = {json.dumps(seen, ensure_ascii=False)} }}"


def seed(base: str, token: str, config: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from oms.catalog.models import Sku
    from oms.channels.models import Channel
    from oms.fulfillment.models import Courier
    from oms.inventory.models import StockDocument, Warehouse
    from oms.orders.models import Customer, Order, Payment
    from oms.review.models import Interception, Rule

    warehouses = list(Warehouse.objects.order_by("id").values_list("code", flat=True))
    channels = list(Channel.objects.order_by("id").values_list("code", flat=True))
    skus = list(Sku.objects.filter(is_bundle=False).order_by("id").values_list("code", flat=True)[:12])

    # Open cases on delivered orders, through the API (as a client would).
    for order in Order.objects.filter(status__in=["signed", "closed", "shipped"]).order_by("id")[:6]:
        detail = _call(base, token, "GET", f"/orders/{order.number}")[1]
        lines = [ln for ln in detail.get("lines", []) if ln.get("quantity", 0) > 0]
        if lines:
            body = {"kind": "return_refund", "reason_code": "quality", "units": {str(lines[0]["line_no"]): 1}}
            _call(base, token, "POST", f"/orders/{order.number}/aftersales", body)
    # An open transfer and an open return (ship, receive and cancel need one in the right status).
    doc = {"source": warehouses[0], "destination": warehouses[1], "lines": [{"sku": skus[0], "quantity": 1}]}
    for _ in range(2):
        _call(base, token, "POST", "/stock/transfers", doc)
        _call(base, token, "POST", "/stock/returns", {**doc, "channel": channels[0]})

    from oms.aftersales.models import Case

    orders: list[str] = []
    for status in Order.objects.values_list("status", flat=True).distinct():
        orders += Order.objects.filter(status=status).order_by("-id").values_list("number", flat=True)[:3]
    documents = {
        kind: list(StockDocument.objects.filter(doc_type=kind).order_by("-id").values_list("id", flat=True)[:4])
        for kind in StockDocument.objects.values_list("doc_type", flat=True).distinct()
    }
    print(f"dictionaries in {config}:")
    tables = [
        _dictionary("orders", orders),
        _dictionary("cases", list(Case.objects.order_by("-id").values_list("number", flat=True)[:8])),
        _dictionary("documents", [i for ids in documents.values() for i in ids]),
        _dictionary("transfers", documents.get("transfer", [])),
        _dictionary("returns", documents.get("return", [])),
        _dictionary("skus", skus + list(Sku.objects.filter(is_hot=True).values_list("code", flat=True)[:3])),
        _dictionary("channels", channels),
        _dictionary("warehouses", warehouses),
        _dictionary("couriers", list(Courier.objects.order_by("id").values_list("code", flat=True))),
        _dictionary("customers", list(Customer.objects.order_by("-id").values_list("id", flat=True)[:6])),
        _dictionary("rules", list(Rule.objects.order_by("id").values_list("id", flat=True)[:6])),
        _dictionary("interceptions", list(Interception.objects.order_by("-id").values_list("id", flat=True)[:6])),
        _dictionary("transactions", list(Payment.objects.order_by("-id").values_list("transaction_id", flat=True)[:6])),
    ]
    committed = Path("schemathesis.toml").read_text(encoding="utf-8")
    config.parent.mkdir(parents=True, exist_ok=True)
    generated = "\n# Written by scripts/api_fuzz_seed.py from this run's database.\n[dictionaries]\n"
    config.write_text(committed + generated + "\n".join(tables) + "\n", encoding="utf-8")


def figures(report_dir: str, server_log: str) -> int:
    """Print what was fuzzed and found; 1 when the run did not complete or the server logged a traceback."""
    paths = sorted(glob.glob(os.path.join(report_dir, "*.json")))
    if not paths:
        print("api-fuzz: no schemathesis report")
        return 1
    report = json.loads(Path(paths[-1]).read_text(encoding="utf-8"))
    ops, cases = report["operations"], report["test_cases"]
    failures = sum(f.get("count", 0) for f in report.get("failures", []))
    errors = sum(e.get("count", 0) for e in report.get("errors", []))
    unhandled = Path(server_log).read_text(encoding="utf-8", errors="replace").count("Unhandled API error")
    phases = ", ".join(f"{k} {v['status']}" for k, v in report.get("phases", {}).items())
    print(
        f"api-fuzz figures: {ops['tested']}/{ops['total']} operations fuzzed, {cases['generated']} test cases, "
        f"{failures} failures, {errors} errors, {unhandled} server tracebacks, "
        f"{report['running_time']:.0f} s (schemathesis {report['schemathesis_version']}, seed {report['seed']}; "
        f"phases: {phases})"
    )
    for failure in report.get("failures", []):
        print(f"  {failure['code']} {failure['title']}: {', '.join(failure['operations'])}")
    return 1 if (not report.get("complete") or unhandled) else 0


if __name__ == "__main__":
    if sys.argv[1] == "--figures":
        sys.exit(figures(sys.argv[2], sys.argv[3]))
    seed(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
