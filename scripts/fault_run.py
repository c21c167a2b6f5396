"""Fault run: orders posted with retries while the web process, PostgreSQL and the Celery worker are killed.

    uv run python scripts/fault_run.py              # the full run (2,000 orders, faults every few seconds)
    uv run python scripts/fault_run.py --short      # CI's short form (150 orders)

Everything runs against a PostgreSQL cluster this script creates itself (``initdb`` in a temporary directory,
its own port, as the ``postgres`` system user when run as root) — never a shared one — with a Celery worker
on Redis (its own queue) and a webhook receiver of its own. Clients post orders to ``POST /api/v1/orders``,
each with its own Idempotency-Key, and retry the same key (same body) on a refused connection, a 5xx or
``idempotency_key_in_use`` until they get an answer. Meanwhile, in turn and repeatedly:

(a) the web process is killed with SIGKILL and started again;
(b) PostgreSQL is stopped in ``immediate`` mode (a crash: no checkpoint, recovery on start) and started;
(c) the Celery worker (with beat: the fulfilment pipeline and the outbox relay) is killed with SIGKILL in
    the middle of its work and started again.

Afterwards, with every process up again, the checks: every acknowledged order exists exactly once (by its
platform order id), every key answers again with the same order, no order exists that no key received
(nothing half-written), ``oms stock verify`` finds no drift, ``oms audit verify`` finds the chain intact,
and every outbox message is delivered — each one's event id reached the receiver. Figures are printed;
the exit status is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - starts the processes under test
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    """The server's binaries (Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if not found:
        raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found")
    return Path(found).parent


class Cluster:
    """A PostgreSQL cluster of this run's own: initdb, start, crash-stop, remove."""

    def __init__(self, base: Path) -> None:
        self.bin = _pg_bin()
        self.data = base / "pgdata"
        self.port = _free_port()
        self.log = base / "postgres.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(base, user="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603  # nosec B603

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def crash(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/oms"


class Receiver(ThreadingHTTPServer):
    """The webhook endpoint: records every event id delivered to it (deliveries are at least once)."""

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.events[self.headers.get("X-OMS-Event-Id", "")] += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Process:
    """A process of the application (web server or worker) that can be killed and started again."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603  # nosec B603 - our own interpreter and arguments
                self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the worker's pool children too
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _oms(env: dict[str, str], *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # nosec B603 - our own interpreter and arguments
        [PYTHON, "-m", "oms.cli", *args], env=env, cwd=ROOT, check=False, capture_output=capture, text=True
    )


SETUP_CODE = """
from django.contrib.auth.models import Group
from django.db import transaction
from oms.accounts.models import Operator
from oms.accounts.tokens import api_token_create
from oms.outbox.models import WebhookEndpoint
with transaction.atomic():
    op = Operator.objects.create_user(username="fault", password=None)
    op.groups.add(Group.objects.get(name="administrator"))
    WebhookEndpoint.objects.create(name="fault", url="{url}", secret="fault-run-secret-0123456789", topics=["*"])
    print(api_token_create(operator=op, name="fault")[1])
"""


def _django_setup(env: dict[str, str], code: str) -> str:
    """Run ``code`` in a Django shell against the run's database; its stdout."""
    done = _oms(env, "manage", "shell", "-c", code, capture=True)
    if done.returncode != 0:
        raise SystemExit(f"set-up failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


@dataclass
class Sent:
    key: str
    body: dict[str, Any]
    number: str = ""
    attempts: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _post(url: str, token: str, sent: Sent, timeout: float = 15) -> tuple[int, dict[str, Any] | None]:
    request = urllib.request.Request(  # noqa: S310 - a local URL this script built
        url,
        data=json.dumps(sent.body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": sent.key},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"null")
        except ValueError:
            return exc.code, None


def _wait_for(url: str, timeout_s: float = 120) -> None:
    """Until the web process answers (any HTTP status counts)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310  # nosec B310 - a local URL this script built
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} does not answer after {timeout_s:.0f} s")


def _deliver(url: str, token: str, sent: Sent, deadline: float) -> None:
    """Post until an answer names the order (201 or a replayed 200), retrying the same key."""
    while time.monotonic() < deadline:
        sent.attempts += 1
        try:
            status, body = _post(url, token, sent)
        except (OSError, urllib.error.URLError) as exc:  # refused, reset, timed out: the server is down
            sent.errors[type(exc).__name__] += 1
            time.sleep(0.3)
            continue
        if status in (200, 201) and body and body.get("number"):
            sent.number = body["number"]
            return
        code = ((body or {}).get("error") or {}).get("code", "")
        sent.errors[f"{status} {code}".strip()] += 1
        if status >= 500 or code == "idempotency_key_in_use" or status == 503:
            time.sleep(0.3)
            continue
        raise SystemExit(f"order {sent.body['platform_order_id']} refused for good: {status} {body}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="CI's short form: 150 orders, faults 2 s apart")
    parser.add_argument("--orders", type=int, default=0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory (logs) afterwards")
    args = parser.parse_args(argv)
    orders = args.orders or (150 if args.short else 2000)
    every_s = 2.0 if args.short else 5.0

    base = Path(tempfile.mkdtemp(prefix="oms-fault-"))
    cluster = Cluster(base)
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    web_port = _free_port()
    queue = f"oms-fault-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "CELERY_BROKER_URL": os.environ.get("FAULT_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "OMS_IDEMPOTENCY_LEASE_S": "5",  # a claim left by a killed process is taken over after 5 s
        "OMS_OUTBOX_LEASE_S": "5",
        "OMS_OUTBOX_RELAY_INTERVAL_S": "1",
        "OMS_OUTBOX_BACKOFF_BASE_S": "1",
        "OMS_OUTBOX_BACKOFF_CAP_S": "5",
        "OMS_OUTBOX_MAX_ATTEMPTS": "1000",
        "OMS_FULFILMENT_INTERVAL_S": "2",
        "OMS_REVIEW_BUFFER_MINUTES": "0",
        "OMS_AUTO_MERGE_INTERVAL_S": "3600",
        "OMS_VAR_DIR": str(base / "var"),
    }
    web = Process(
        "web", [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"], env, base / "web.log"
    )
    worker = Process(
        "worker", [PYTHON, "-m", "oms.cli", "worker", "--beat", "--concurrency", "2", "--loglevel", "WARNING"], env,
        base / "worker.log",
    )  # fmt: skip
    failures: list[str] = []
    try:
        cluster.start()
        subprocess.run(  # noqa: S603  # nosec B603
            [str(cluster.bin / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "oms"],
            check=True,
        )
        print(f"fault run: cluster {cluster.data} on port {cluster.port}, {orders} orders, {args.clients} clients")
        for step in (("setup",), ("demo-data",)):
            if _oms(env, *step, capture=True).returncode != 0:
                raise SystemExit(f"oms {step[0]} failed")
        token = _django_setup(env, SETUP_CODE.format(url=receiver.url)).splitlines()[-1]
        skus = json.loads(
            _django_setup(
                env,
                "import json; from oms.catalog.models import Sku;"
                "print(json.dumps(list(Sku.objects.filter(is_gift=False, is_bundle=False).order_by('code')"
                ".values_list('code', flat=True)[:40])))",
            ).splitlines()[-1]
        )
        web.start()
        worker.start()
        url = f"http://127.0.0.1:{web_port}/api/v1/orders"
        health = f"http://127.0.0.1:{web_port}/healthz"
        _wait_for(health)
        run = uuid.uuid4().hex[:8].upper()
        sent = [
            Sent(
                key=f"fault-{run}-{i}",
                body={
                    "channel": "TMALL",
                    "platform_order_id": f"F{run}{i:06d}",
                    "type": "sale",
                    "receiver": {
                        "name": "故障演练",
                        "phone": "13800138000",
                        "province": "浙江",
                        "city": "杭州市",
                        "district": "西湖区",
                        "address": f"文三路 {i} 号",
                    },
                    "payment": {"method": "alipay", "transaction_id": f"FAULT{run}{i:06d}"},
                    "lines": [
                        {"sku_code": skus[(i + k) % len(skus)], "quantity": 1 + (i + k) % 3, "unit_price": "19.90"}
                        for k in range(1 + i % 3)
                    ],
                },
            )
            for i in range(orders)
        ]
        deadline = time.monotonic() + max(300.0, orders * 0.5)
        started = time.monotonic()
        todo = list(reversed(sent))
        todo_lock = threading.Lock()

        def client() -> None:
            while True:
                with todo_lock:
                    if not todo:
                        return
                    one = todo.pop()
                _deliver(url, token, one, deadline)

        clients = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for t in clients:
            t.start()

        faults: Counter[str] = Counter()
        turn = 0
        while any(t.is_alive() for t in clients):
            time.sleep(every_s)
            if not any(t.is_alive() for t in clients):
                break
            kind = ("web", "postgres", "worker")[turn % 3]
            turn += 1
            if kind == "web":
                web.kill()
                time.sleep(0.5)
                web.start()
            elif kind == "postgres":
                cluster.crash()
                time.sleep(1.0)
                cluster.start()
            else:
                worker.kill()
                time.sleep(0.5)
                worker.start()
            faults[kind] += 1
            _wait_for(health)  # the next fault comes `every_s` after the web answers again
        for t in clients:
            t.join()
        posting_s = time.monotonic() - started

        # Every key answers again with its order (the replay path, after all the faults).
        replay_mismatch = 0
        for one in sent:
            status, body = _post(url, token, one)
            if status not in (200, 201) or not body or body.get("number") != one.number:
                replay_mismatch += 1

        # Let the pipeline and the relay finish: every outbox message delivered (or give up after a while).
        pending = -1
        for _ in range(90):
            pending = int(
                _django_setup(
                    env,
                    "from oms.outbox.models import OutboxMessage;"
                    "print(OutboxMessage.objects.exclude(state='delivered').count())",
                ).splitlines()[-1]
            )
            if pending == 0:
                break
            time.sleep(2)
        facts = json.loads(
            _django_setup(
                env,
                "import json; from django.db.models import Count; from oms.orders.models import Order;"
                "from oms.outbox.models import OutboxMessage;"
                f"rows = Order.objects.filter(platform_order_id__startswith='F{run}');"
                "dup = rows.values('platform_order_id').annotate(n=Count('id')).filter(n__gt=1).count();"
                "print(json.dumps({'orders': rows.count(), 'duplicated': dup,"
                " 'numbers': list(rows.values_list('number', flat=True)),"
                " 'shipped_or_dispatched': rows.exclude(status__in=['pending_review', 'new', 'paid']).count(),"
                " 'events': [str(e) for e in OutboxMessage.objects.values_list('event_id', flat=True)]}))",
            ).splitlines()[-1]
        )
        acked = {one.number for one in sent if one.number}
        stock = _oms(env, "stock", "verify", capture=True)
        audit = _oms(env, "audit", "verify", capture=True)
        not_received = [e for e in facts["events"] if e not in receiver.events]

        print()
        print("| figure | value |")
        print("| --- | --- |")
        print(f"| orders posted (each with its own Idempotency-Key) | {orders} |")
        print(f"| faults: web SIGKILL / PostgreSQL crash-restart / worker SIGKILL | "
              f"{faults['web']} / {faults['postgres']} / {faults['worker']} |")  # fmt: skip
        print(f"| posting time | {posting_s:.1f} s |")
        print(f"| attempts (retries included) | {sum(s.attempts for s in sent)} |")
        print(f"| retried answers | {dict(sum((s.errors for s in sent), Counter()))} |")
        print(f"| acknowledged | {len(acked)} |")
        print(f"| found in the database | {facts['orders']} |")
        print(f"| duplicated platform order ids | {facts['duplicated']} |")
        print(f"| keys answering again with another or no order | {replay_mismatch} |")
        print(
            f"| orders moved on by the pipeline (reviewed, allocated, dispatched) | {facts['shipped_or_dispatched']} |"
        )
        print(f"| outbox messages / undelivered / never reached the receiver | "
              f"{len(facts['events'])} / {pending} / {len(not_received)} |")  # fmt: skip
        print(f"| oms stock verify | {'ok' if stock.returncode == 0 else 'DRIFT'} |")
        print(f"| oms audit verify | {'ok' if audit.returncode == 0 else 'BROKEN'} |")

        if len(acked) != orders:
            failures.append(f"{orders - len(acked)} orders never acknowledged")
        if facts["orders"] != len(acked) or set(facts["numbers"]) != acked:
            failures.append(f"acknowledged {len(acked)} but found {facts['orders']} (or other numbers)")
        if facts["duplicated"]:
            failures.append(f"{facts['duplicated']} platform order ids taken in twice")
        if replay_mismatch:
            failures.append(f"{replay_mismatch} keys answer with another or no order")
        if pending or not_received:
            failures.append(f"outbox: {pending} undelivered, {len(not_received)} never received")
        if stock.returncode != 0:
            failures.append("stock verify: " + stock.stdout[-1500:])
        if audit.returncode != 0:
            failures.append("audit verify: " + audit.stdout[-1500:])
    finally:
        web.stop()
        worker.stop()
        receiver.shutdown()
        cluster.stop()
        if not args.keep and not failures and sys.exc_info()[0] is None:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"logs kept in {base}")
    for failure in failures:
        print("FAILED:", failure)
    print("fault run:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
