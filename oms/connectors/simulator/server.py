"""The local platform simulator: an HTTP server on 127.0.0.1 speaking each platform's native wire format.

`oms connectors simulator` serves it on its own; tests start it in a thread (`SimulatorServer`). Besides the
platforms' own paths it has a small control API under /_sim/ (JSON) to add shops, switch faults on and read
the write-backs received. It listens on 127.0.0.1 only and holds nothing but made-up data.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.parse
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oms.connectors.simulator.platforms import Answer, answer_douyin, answer_jd, answer_pdd, answer_shopify
from oms.connectors.simulator.state import Faults, SimulatorState
from oms.connectors.simulator.taobao import answer_top

MAX_BODY = 1_000_000


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json;charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode())

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY)) if length else b""

    def _fault(self, fault: str) -> bool:
        if fault == "slow":
            time.sleep(self.server.slow_s())
            self._json(200, {"late": True})
            return True
        if fault == "error_page":
            self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            return True
        return False

    def _answer(self, answer: Answer) -> None:
        fault, status, body = answer
        if not self._fault(fault):
            self._json(status, body)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/admin/api/"):
            self._answer(answer_shopify(self.server.state, url.path, dict(self.headers.items()), query, {}))
            return
        if url.path == "/_sim/writebacks":
            shop = self.server.state.shop(query.get("platform", ""), query.get("app_key", ""))
            self._json(200, {"write_backs": shop.write_backs if shop else []})
            return
        self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        raw = self._body()
        if url.path == "/router/rest":
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            fault, body = answer_top(self.server.state, form)
            if not self._fault(fault):
                self._json(200, body)
            return
        if url.path in ("/routerjson", "/api/router"):
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            handler = answer_jd if url.path == "/routerjson" else answer_pdd
            self._answer(handler(self.server.state, form))
            return
        if url.path.startswith("/admin/api/"):
            self._answer(answer_shopify(self.server.state, url.path, dict(self.headers.items()), {}, _json_object(raw)))
            return
        if url.path.startswith(("/order/", "/sku/")):
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            self._answer(answer_douyin(self.server.state, query, _json_object(raw)))
            return
        if url.path.startswith("/_sim/"):
            self._control(url.path, raw)
            return
        self._json(404, {"error": "not found"})

    def _control(self, path: str, raw: bytes) -> None:
        try:
            data = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": "body is not JSON"})
            return
        state = self.server.state
        if path == "/_sim/shops":
            state.shop_add(data["platform"], data["app_key"], data["app_secret"], data["access_token"])
            self._json(201, {"ok": True})
        elif path == "/_sim/orders":
            shop = state.shop(data.get("platform", ""), data.get("app_key", ""))
            if shop is None:
                self._json(404, {"error": "no such shop"})
                return
            for item in data.get("orders") or []:
                state.order_put(shop, str(item["id"]), datetime.fromisoformat(item["modified"]), item["native"])
            self._json(201, {"ok": True})
        elif path == "/_sim/faults":
            shop = state.shop(data.get("platform", ""), data.get("app_key", ""))
            if shop is None:
                self._json(404, {"error": "no such shop"})
                return
            names = {f.name for f in dataclasses.fields(Faults)}
            state.mutate(lambda: setattr(shop, "faults", Faults(**{k: v for k, v in data.items() if k in names})))
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": "not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def slow_s(self) -> float:
        slowest = [s.faults.slow_s for s in self.state.shops.values()]
        return max(slowest, default=0.0)


class SimulatorServer:
    """The simulator in a background thread (tests, benchmarks, the demo)."""

    def __init__(self, state: SimulatorState | None = None, port: int = 0) -> None:
        self.state = state or SimulatorState()
        self._server = _Server(("127.0.0.1", port), self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="platform-simulator", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()
