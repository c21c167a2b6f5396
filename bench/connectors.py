"""Connectors benchmark: orders pulled from the platform simulator and taken in per second, against plain
intake of the same orders (already in our JSON, in the same batches as the pages). Goal: ratio ≥ 0.8.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_conn uv run oms bench connectors [--orders 5000]

Rounds alternate which side goes first; the median of each side is reported. The adapter's pacing to the
platform's call limit is lifted for the run (the simulator has none): this measures our side of a pull —
HTTP, mapping, the version check, intake and the pull record — not the platform's quota.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

PAGE = 100
SIM_PORT = 8119


def _natives(tag: str, n: int, codes: list[str], at: Any) -> list[tuple[str, dict[str, Any]]]:
    from oms.connectors.simulator.taobao import SimLine, build_trade

    out = []
    for i in range(n):
        tid = f"{tag}{i:06d}"
        lines = [SimLine(f"{tid}{k}", f"48{k}{i % 7}", codes[(i + k) % len(codes)], "bench", 1990 + k * 100, 1 + k % 2)
                 for k in range(1 + i % 3)]  # fmt: skip
        out.append((tid, build_trade(tid=tid, status="WAIT_SELLER_SEND_GOODS", created=at, modified=at, lines=lines,
                                     post_fee_minor=800 if i % 2 else 0, order_discount_minor=300 if i % 4 == 0 else 0,
                                     pay_time=at, buyer=f"b{i % 500}")))  # fmt: skip
    return out


def _raw(natives: list[tuple[str, dict[str, Any]]], channel_code: str) -> float:
    from oms.connectors.domain.taobao import map_trade
    from oms.core.actors import SystemActor
    from oms.orders.services.intake import order_intake_bulk

    payloads = [{**map_trade(n).payload, "channel": channel_code} for _tid, n in natives]
    start = time.perf_counter()
    for i in range(0, len(payloads), PAGE):
        outcomes = order_intake_bulk(payloads=payloads[i : i + PAGE], actor=SystemActor("bench"))
        if not all(o.created for o in outcomes):
            raise RuntimeError(f"intake refused: {[o.error for o in outcomes if o.error][:3]}")
    return time.perf_counter() - start


def _control(base_url: str, path: str, body: dict[str, Any]) -> None:
    from oms.connectors.adapters.http import call_json

    call_json(f"{base_url}{path}", body=body, timeout_s=30)


def _pulled(natives: list[tuple[str, dict[str, Any]]], channel: Any, base_url: str, at: Any) -> float:
    from oms.connectors.services.pull import shop_pull
    from oms.connectors.services.shops import shop_connect

    key = f"bench-{channel.code}"
    _control(base_url, "/_sim/shops", {"platform": "taobao", "app_key": key, "app_secret": "bench-secret",
                                       "access_token": "bench-token"})  # fmt: skip
    for i in range(0, len(natives), 500):
        chunk = [{"id": tid, "modified": at.isoformat(), "native": n} for tid, n in natives[i : i + 500]]
        _control(base_url, "/_sim/orders", {"platform": "taobao", "app_key": key, "orders": chunk})
    shop = shop_connect(channel=channel, platform="taobao", base_url=base_url, actor="bench",
                        credentials={"app_key": f"bench-{channel.code}", "app_secret": "bench-secret",
                                     "access_token": "bench-token"}, pull_from=at - timedelta(minutes=1))  # fmt: skip
    start = time.perf_counter()
    run = shop_pull(shop=shop, now=at + timedelta(minutes=1))
    elapsed = time.perf_counter() - start
    if run.created != len(natives) or run.failed:
        raise RuntimeError(f"pull took {run.created} of {len(natives)}, {run.failed} failed, {run.error_code}")
    return elapsed


def run(*, orders: int, rounds: int) -> dict[str, Any]:
    from django.utils import timezone

    from oms.catalog.models import Sku
    from oms.channels.models import Channel
    from oms.connectors.adapters import ADAPTERS

    codes = [
        Sku.objects.get_or_create(code=f"BENCH-C{k:03d}", defaults={"name": f"bench {k}"})[0].code for k in range(50)
    ]
    adapter = ADAPTERS["taobao"]
    paced, adapter.calls_per_second = adapter.calls_per_second, 1e6
    # The simulator runs in its own process, as a platform is elsewhere: it does not share our interpreter.
    serve = (
        f"from oms.connectors.simulator.server import SimulatorServer; SimulatorServer(port={SIM_PORT}).serve_forever()"
    )
    sim = subprocess.Popen([sys.executable, "-c", serve])
    base_url = f"http://127.0.0.1:{SIM_PORT}"
    time.sleep(1.5)
    raw_s, pull_s = [], []
    try:
        for r in range(rounds):
            at = timezone.now() - timedelta(hours=1)
            tag = f"{int(time.time()) % 100000}{r}"
            raw_channel = Channel.objects.create(code=f"BR{tag}", name="bench raw", platform="tmall")
            pull_channel = Channel.objects.create(code=f"BP{tag}", name="bench pull", platform="tmall")
            raw_natives, pull_natives = _natives(f"9{tag}", orders, codes, at), _natives(f"8{tag}", orders, codes, at)
            if r % 2 == 0:
                raw_s.append(_raw(raw_natives, raw_channel.code))
                pull_s.append(_pulled(pull_natives, pull_channel, base_url, at))
            else:
                pull_s.append(_pulled(pull_natives, pull_channel, base_url, at))
                raw_s.append(_raw(raw_natives, raw_channel.code))
    finally:
        adapter.calls_per_second = paced
        sim.terminate()
        sim.wait(timeout=10)
    raw_rate, pull_rate = orders / statistics.median(raw_s), orders / statistics.median(pull_s)
    return {"orders": orders, "rounds": rounds, "raw_s": raw_s, "pull_s": pull_s, "intake_per_s": raw_rate,
            "pulled_per_s": pull_rate, "ratio": pull_rate / raw_rate}  # fmt: skip


def table(result: dict[str, Any]) -> str:
    return (
        f"orders per round: {result['orders']}, rounds: {result['rounds']} (median)\n"
        f"plain intake:            {result['intake_per_s']:,.1f} orders/s  {[round(s, 2) for s in result['raw_s']]}\n"
        f"pulled from simulator:   {result['pulled_per_s']:,.1f} orders/s  {[round(s, 2) for s in result['pull_s']]}\n"
        f"ratio pulled/intake:     {result['ratio']:.2f} (goal ≥ 0.80)"
    )
