"""Every console page, rendered in Chinese over demo data (timelines, holds, allocations, splits, merges,
errors), shows no text the system wrote in English and no raw code where words belong (issue 15, item 1)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from oms.console.urls import urlpatterns
from oms.core.actors import SYSTEM
from oms.core.texts import known_codes, label, stored_text_render, text_definitions
from oms.demo.fulfillment import load_demo_fulfilment
from oms.demo.master_data import load_master_data
from oms.demo.orders import load_demo_orders
from oms.demo.stock import load_stock_demo
from oms.orders.models import Order, OrderEvent
from oms.review.models import Interception, InterceptionState
from oms.review.services import interceptions_release
from oms.splitmerge.models import OrderLineage
from oms.splitmerge.services.split import order_split

# Pages whose views take a key: the key of a row that shows the most.
# PDFs (pick lists, packing slips) are no pages: oms/fulfillment/tests/test_print.py reads them back in Chinese.
_SKIP = {"login", "logout", "export_download", "fulfillment-picklist", "fulfillment-packing-slip"}


def _visible_text(html: str) -> str:
    """What a reader sees: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html))


def _english_fragments() -> set[str]:
    """Literal runs of every system text's English template, long enough not to be a word Chinese pages use."""
    fragments: set[str] = set()
    for definition in text_definitions():
        for part in re.split(r"%\(\w+\)s", definition.stored or definition.msgid):
            part = part.strip(" .:;,()→")
            if len(part) >= 12 and re.search(r"[a-z]{4}", part):
                fragments.add(part)
    return fragments


@pytest.fixture
def demo(db: Any, admin_operator: Any) -> dict[str, Any]:
    load_master_data(seed=7)
    load_stock_demo(seed=7)
    load_demo_orders(count=80, seed=7)
    load_demo_fulfilment(seed=7)
    # A release, a split (a retired parent with its lineage) and a refused split (an error on screen).
    hold = Interception.objects.filter(state=InterceptionState.OPEN).order_by("pk").first()
    assert hold is not None
    interceptions_release(interception_ids=[hold.pk], actor=admin_operator, note="已核实备注")
    splittable = next(
        o
        for o in Order.objects.filter(status__in=["pending_review", "pending_dispatch"]).order_by("pk")
        if sum(ln.quantity for ln in o.lines.all()) >= 2 and not o.interceptions.filter(after_review=True).exists()
    )
    lines = list(splittable.lines.order_by("line_no"))
    first = {lines[0].line_no: 1}
    rest = {ln.line_no: ln.quantity for ln in lines}
    rest[lines[0].line_no] -= 1
    order_split(order=splittable, groups=[first, {k: v for k, v in rest.items() if v}], actor=SYSTEM, reason="")
    return {"split": splittable.number, "held": hold.order.number}


def _pages(demo: dict[str, Any]) -> list[str]:
    numbers = [
        demo["split"],
        demo["held"],
        OrderLineage.objects.filter(parent__number=demo["split"]).first().child.number,  # type: ignore[union-attr]
        OrderEvent.objects.filter(kind="warehouse_allocated").first().order.number,  # type: ignore[union-attr]
        OrderEvent.objects.filter(kind="parcel_signed").first().order.number,  # type: ignore[union-attr]
        Interception.objects.filter(state=InterceptionState.OPEN).first().order.number,  # type: ignore[union-attr]
    ]
    customer = Order.objects.exclude(customer=None).first().customer_id  # type: ignore[union-attr]
    urls: list[str] = []
    for pattern in urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = pattern.name or ""
        if name in _SKIP:
            continue
        keys = set(pattern.pattern.converters)
        if not keys:
            urls.append(reverse(f"console:{name}"))
        elif keys == {"number"} and str(pattern.pattern).startswith("orders/"):
            urls += [reverse(f"console:{name}", kwargs={"number": n}) for n in numbers]
        elif name == "customer_detail":
            urls.append(reverse(f"console:{name}", kwargs={"pk": customer}))
    return urls


def test_every_console_page_reads_chinese(demo: dict[str, Any], admin_operator: Any) -> None:
    client = Client()
    client.force_login(admin_operator)
    fragments = _english_fragments()
    raw_codes = {
        *(f"· {code}" for code in known_codes("order_event")),
        *(f" {code} " for code in known_codes("hold")),
        "carried",
    }
    checked = 0
    problems: list[str] = []
    for url in _pages(demo):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code in (302, 405):
            continue  # an action (POST only) or a redirect to where the order lives
        assert response.status_code == 200, url
        text = _visible_text(response.content.decode())
        checked += 1
        for fragment in fragments:
            if fragment in text:
                problems.append(f"{url}: English system text {fragment!r}")
        # Rule codes and facts are the rule language's own words; the operation log shows stored values.
        technical = url.startswith(("/rules/", "/operation-log/"))
        for code in raw_codes:
            if code in text and not technical:
                problems.append(f"{url}: raw code {code.strip()!r}")
    assert checked > 30
    assert not problems, "\n".join(sorted(set(problems)))


def test_stored_english_rows_render_in_chinese(db: Any) -> None:
    """Rows written before codes hold English; they render by the code their text parses to."""
    from django.utils import translation

    with translation.override("zh-hans"):
        assert stored_text_render("tie-break stock → packages → distance → cost: HZ01 (789 km away)") == (
            "按 库存 → 包裹数 → 距离 → 运费 择优：HZ01（距离 789 公里）"
        )
        assert stored_text_render("shipped by SF SF123") == "已由 SF 发出，运单号 SF123"
        assert stored_text_render("Split 拆单: → SO1, SO2. 仓库拆分") == "拆单：→ SO1, SO2。仓库拆分"
        assert stored_text_render("拆单: → SO1, SO2.") == "拆单：→ SO1, SO2。"
        assert stored_text_render("买家申请取消") == "买家申请取消"  # an operator's words stay as typed
        assert label("payment_method", "carried") == "由原订单结转"
    with translation.override("en"):
        assert stored_text_render("Split 拆单: → SO1, SO2.") == "Split: → SO1, SO2."
        assert stored_text_render("groups[1]") == "group 2"


def test_every_text_has_a_chinese_translation(db: Any) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        untranslated = [
            d.code
            for d in text_definitions()
            if translation.gettext(d.msgid) == d.msgid and re.search("[a-z]{3}", re.sub(r"%\(\w+\)s", "", d.msgid))
        ]
        untranslated += [
            f"{ns}.{code}"
            for ns in ("order_event", "hold", "payment_method", "split_strategy", "tie_break")
            for code in known_codes(ns)
            if re.fullmatch(r"[ -~]+", label(ns, code))
        ]
    assert not untranslated
