"""Deliver due outbox messages now, or keep doing so (the relay loop for a setup without a broker)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from oms.core.context import request_context
from oms.outbox.relay import outbox_relay_until_idle


class Command(BaseCommand):
    help = "Deliver due outbox messages (webhooks). With --loop, keep running every few seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep relaying until interrupted.")
        parser.add_argument(
            "--interval",
            type=float,
            default=float(settings.OMS_OUTBOX["RELAY_INTERVAL_S"]),
            help="Seconds between runs with --loop.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            with request_context(channel="cli"):
                result = outbox_relay_until_idle()
            if result.claimed or result.dead or not options["loop"]:
                self.stdout.write(
                    f"claimed {result.claimed}, delivered {len(result.delivered)}, "
                    f"retrying {len(result.retrying)}, dead {len(result.dead)}"
                )
            if not options["loop"]:
                return
            time.sleep(options["interval"])
