"""`oms connectors …`: pull a shop now or back-fill a date range, list shops, retry failed items, run the
platform simulator."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from oms.connectors.models import PullKind, Shop
from oms.connectors.services.items import pull_items_retry
from oms.connectors.services.pull import shop_pull
from oms.core.errors import ApplicationError


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date or time such as 2026-11-30 or 2026-11-30T08:00") from exc
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = "Platform connectors: pull, back-fill, list shops, retry failed items, run the simulator."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        pull = sub.add_parser("pull", help="Pull a shop now (by channel code), or back-fill --from/--to.")
        pull.add_argument("channel", help="The channel code of the connected shop, or 'all'.")
        pull.add_argument("--from", dest="start", help="Back-fill from this date/time (ISO 8601).")
        pull.add_argument("--to", dest="end", help="Back-fill up to this date/time (default: now).")
        sub.add_parser("shops", help="List connected shops with their status.")
        retry = sub.add_parser("retry", help="Retry a shop's failed pull items.")
        retry.add_argument("channel")
        demo = sub.add_parser("demo-connect", help="Connect the demo TMALL channel to the simulator's demo shop.")
        demo.add_argument("--url", default="http://127.0.0.1:8116")
        sub.add_parser("rotate-keys", help="Re-encrypt every shop's credentials under the newest key.")
        sim = sub.add_parser("simulator", help="Serve the platform simulator on 127.0.0.1 (default port 8116).")
        sim.add_argument("--port", type=int, default=8116)
        sim.add_argument("--demo", action="store_true", help="Add the demo shops and orders that change over time.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "simulator":
            from oms.connectors.simulator.demo import serve_demo

            serve_demo(port=options["port"], with_demo=options["demo"], out=self.stdout)
            return
        if action == "demo-connect":
            self._demo_connect(options["url"])
            return
        if action == "rotate-keys":
            from oms.connectors.services.shops import shops_credentials_reseal

            count = shops_credentials_reseal(actor="cli:connectors rotate-keys")
            self.stdout.write(f"Credentials of {count} shop(s) re-encrypted under the newest key.")
            return
        if action == "shops":
            for shop in Shop.objects.select_related("channel"):
                self.stdout.write(
                    f"{shop.channel.code:<16} {shop.platform:<10} {shop.status:<12} "
                    f"last pull {shop.last_pull_at or '-'}  cursor {shop.cursor_at or '-'}  {shop.last_error_code}"
                )
            return
        shops = self._shops(options["channel"])
        if action == "retry":
            for shop in shops:
                tally = pull_items_retry(shop=shop)
                self.stdout.write(f"{shop.channel.code}: {tally.created} taken in, {tally.failed} still failing")
            return
        start = _when(options["start"]) if options.get("start") else None
        end = _when(options["end"]) if options.get("end") else None
        for shop in shops:
            try:
                run = shop_pull(shop=shop, kind=PullKind.BACKFILL if start else PullKind.NOW, start=start, end=end)
            except ApplicationError as exc:
                raise CommandError(f"{shop.channel.code}: {exc}") from exc
            self.stdout.write(
                f"{shop.channel.code}: fetched {run.fetched}, new {run.created}, updated {run.updated}, "
                f"unchanged {run.unchanged}, failed {run.failed}, calls {run.calls}, retries {run.retries}"
                + (f", error {run.error_code}" if run.error_code else "")
            )

    def _shops(self, code: str) -> list[Shop]:
        shops = Shop.objects.select_related("channel")
        found = list(shops if code == "all" else shops.filter(channel__code=code))
        if not found:
            raise CommandError(f"No connected shop for channel {code!r}.")
        return found

    def _demo_connect(self, url: str) -> None:
        from datetime import timedelta

        from oms.channels.models import Channel
        from oms.connectors.services.shops import shop_connect
        from oms.connectors.simulator.demo import DEMO_SHOP

        channel = Channel.objects.filter(code="TMALL").first()
        if channel is None:
            raise CommandError("No TMALL channel: load the demo data first (oms demo-data).")
        credentials = {k: DEMO_SHOP[k] for k in ("app_key", "app_secret", "access_token")}
        since = timezone.now() - timedelta(hours=1)
        shop_connect(channel=channel, platform="taobao", base_url=url, actor="cli:connectors demo-connect",
                     credentials=credentials, pull_interval_s=30, pull_from=since)  # fmt: skip
        self.stdout.write(f"TMALL is connected to the simulator at {url}; `oms serve` pulls it every 30 s.")
