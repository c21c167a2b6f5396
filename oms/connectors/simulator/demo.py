"""The simulator with a demo Tmall shop whose orders keep coming and changing, for `make demo` and newcomers.

Every few seconds a new trade is placed (some unpaid), earlier unpaid ones get paid, and now and then a
buyer changes the address: what a connected shop sees on a quiet morning. The credentials are the demo's
own, printed by `oms connectors simulator --demo` and used by `oms connectors demo-connect`.
"""

from __future__ import annotations

import random
import threading
import zlib
from datetime import datetime
from typing import Any, Protocol

from oms.connectors.domain.mapped import CHINA_TZ
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.state import SimShop, SimulatorState
from oms.connectors.simulator.taobao import SimLine, SimReceiver, build_trade

DEMO_SHOP = {
    "platform": "taobao", "app_key": "demo-tmall", "app_secret": "demo-secret-0001", "access_token": "demo-tk"
}  # fmt: skip
_ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文三路 100 号"),
    ("上海市", "上海市", "黄浦区", "南京东路 300 号"),
    ("广东省", "深圳市", "南山区", "科技园南区 8 栋"),
    ("北京市", "北京市", "朝阳区", "建国路 88 号"),
]


class _Out(Protocol):
    def write(self, msg: str) -> object: ...


class DemoTraffic:
    """Places and changes trades in a simulator shop; `tick()` is one step, `run()` ticks until stopped."""

    def __init__(self, state: SimulatorState, shop: SimShop, sku_codes: list[str], seed: int = 2026) -> None:
        self.state, self.shop, self.codes = state, shop, sku_codes or ["TEA-001"]
        self.rng = random.Random(seed)
        self.placed: dict[str, dict[str, Any]] = {}
        self.n = 0

    def _trade(self, tid: str, status: str, created: datetime, now: datetime, spec: dict[str, Any]) -> dict[str, Any]:
        province, city, district, address = spec["address"]
        return build_trade(
            tid=tid, status=status, created=created, modified=now, lines=spec["lines"],
            post_fee_minor=spec["post"], order_discount_minor=spec["discount"], buyer=spec["buyer"],
            receiver=SimReceiver(name=spec["name"], state=province, city=city, district=district, address=address),
            pay_time=now if status != "WAIT_BUYER_PAY" else None,
        )  # fmt: skip

    def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(CHINA_TZ)
        self.n += 1
        tid = f"{int(now.timestamp())}{self.n:04d}"
        picks = self.rng.sample(self.codes, k=min(len(self.codes), self.rng.randint(1, 3)))
        lines = [
            SimLine(f"{tid}{i:02d}", f"48{zlib.crc32(code.encode())}", code, code,
                    self.rng.choice([1990, 5990, 8900]), self.rng.randint(1, 3))
            for i, code in enumerate(picks, start=1)
        ]  # fmt: skip
        spec = {"lines": lines, "post": self.rng.choice([0, 800]), "discount": self.rng.choice([0, 0, 500]),
                "buyer": f"tb{self.rng.randint(1000, 9999)}", "name": self.rng.choice(["王小明", "李华", "张伟"]),
                "address": self.rng.choice(_ADDRESSES), "created": now}  # fmt: skip
        status = "WAIT_BUYER_PAY" if self.rng.random() < 0.3 else "WAIT_SELLER_SEND_GOODS"
        self.state.order_put(self.shop, tid, now, self._trade(tid, status, now, now, spec))
        self.placed[tid] = {**spec, "status": status}
        self._change_one(now)

    def _change_one(self, now: datetime) -> None:
        unpaid = [t for t, s in self.placed.items() if s["status"] == "WAIT_BUYER_PAY"]
        if unpaid and self.rng.random() < 0.5:
            tid = self.rng.choice(unpaid)
            spec = self.placed[tid]
            spec["status"] = "WAIT_SELLER_SEND_GOODS"
        elif self.placed and self.rng.random() < 0.2:
            tid = self.rng.choice(list(self.placed))
            spec = self.placed[tid]
            spec["address"] = self.rng.choice(_ADDRESSES)
        else:
            return
        self.state.order_put(self.shop, tid, now, self._trade(tid, spec["status"], spec["created"], now, spec))

    def run(self, stop: threading.Event, every_s: float = 5.0) -> None:
        while not stop.wait(every_s):
            self.tick()


def serve_demo(*, port: int, with_demo: bool, out: _Out) -> None:
    server = SimulatorServer(port=port)
    if with_demo:
        from oms.catalog.models import Sku

        shop = server.state.shop_add(**DEMO_SHOP)
        codes = list(
            Sku.objects.filter(is_gift=False, is_bundle=False).order_by("code").values_list("code", flat=True)[:20]
        )
        traffic = DemoTraffic(server.state, shop, codes)
        for _ in range(5):
            traffic.tick()
        threading.Thread(target=traffic.run, args=(threading.Event(),), daemon=True).start()
        out.write(f"Demo Tmall shop: app key {DEMO_SHOP['app_key']} (connect it: oms connectors demo-connect)\n")
    out.write(f"Platform simulator on {server.base_url} (Ctrl+C to stop)\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.write("Simulator stopped.\n")
