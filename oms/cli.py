"""The ``oms`` command: operational commands for merchants and operators.

Each command is a Django management command; this entry point gives them short, grouped names
and one help page. ``oms manage ...`` reaches any other management command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# (words typed after "oms") -> (management command, one-line help, extra leading args for the command)
COMMANDS: dict[tuple[str, ...], tuple[str, str, tuple[str, ...]]] = {
    ("setup",): ("oms_setup", "Create or upgrade the database schema and the seeded roles (safe to re-run).", ()),
    ("demo-data",): ("load_demo_data", "Load realistic demo data once: channels, warehouses, SKUs, couriers.", ()),
    ("create-admin",): ("oms_create_admin", "Create (or reset) an administrator and print the login.", ()),
    ("serve",): ("oms_serve", "Serve the console and API for development (default 127.0.0.1:8000).", ()),
    ("token", "create"): ("api_token", "Issue an API token: oms token create OPERATOR NAME.", ("create",)),
    ("token", "revoke"): ("api_token", "Revoke an API token by its prefix: oms token revoke PREFIX.", ("revoke",)),
    ("audit", "verify"): (
        "audit_verify",
        "Verify the operation log's hash chain (changed, removed, inserted, back-dated rows); exit 1 if broken.",
        (),
    ),
    ("stock", "verify"): ("stock_verify", "Re-derive every stock counter from the ledgers; exit 1 on any drift.", ()),
    ("stock", "reallocate"): ("stock_reallocate", "Recompute every channel's quota from the allocation rules.", ()),
    ("stock", "push"): ("stock_push", "Push changed available-to-sell figures to the platforms (via the outbox).", ()),
    ("bench", "stock"): ("bench_stock", "Stock benchmarks B2 (hot SKU) and B4 (quota recompute) on PostgreSQL.", ()),
    ("import", "orders"): ("import_orders", "Import orders from a CSV/XLSX file: oms import orders FILE.", ()),
    ("orders", "cancel-unpaid"): ("cancel_unpaid_orders", "Cancel orders unpaid past the timeout (schedulable).", ()),
    ("bench", "fulfilment"): (
        "bench_fulfilment",
        "B3: review + allocation + courier for 20,000 paid orders on PostgreSQL, with pgbench.",
        (),
    ),
    ("bench", "intake"): ("bench_intake", "B1: bulk intake of 20,000 orders on PostgreSQL vs raw psycopg.", ()),
    ("connectors",): (
        "connectors",
        "Platform shops: pull CHANNEL [--from --to], shops, retry CHANNEL, rotate-keys, simulator [--demo].",
        (),
    ),
    ("reports", "refresh"): (
        "reports_refresh",
        "Bring the daily report figures up to date (changed days only); --rebuild recomputes every day.",
        (),
    ),
    ("bench", "reports"): (
        "bench_reports",
        "Reports at 1,000,000 orders on PostgreSQL: 90-day sales report, order detail, exports (--export csv).",
        (),
    ),
    ("assets",): ("oms_assets", "Install the pinned browser libraries (ECharts) the console serves itself.", ()),
    ("bench", "connectors"): (
        "bench_connectors",
        "Orders pulled from the platform simulator and taken in per second vs plain intake (goal ≥ 0.8).",
        (),
    ),
    ("bench", "single"): (
        "bench_single",
        "Single-order intake: 1 and 2 processes, HTTP with 2 servers, raw psycopg; statements, round trips.",
        (),
    ),
    ("bench", "lists"): (
        "bench_lists",
        "Order list filters, search kinds, deep page and detail at 1,000,000 orders vs raw SQL (PostgreSQL).",
        (),
    ),
    ("worker",): ("oms_worker", "Run a Celery worker for background work (needs CELERY_BROKER_URL).", ()),
    ("fulfilment", "run"): (
        "fulfilment_run",
        "Run the fulfilment pipeline once: stockouts, review, allocation, courier, dispatch.",
        (),
    ),
    ("outbox", "relay"): ("outbox_relay", "Deliver due webhooks now; --loop keeps relaying (no broker needed).", ()),
    ("orders", "auto-merge"): ("auto_merge", "Merge every group of mergeable orders not yet reviewed.", ()),
    ("bench", "split-merge"): (
        "bench_splitmerge",
        "Split/merge: statements and ops/s per split (10-50 lines) and 10-order merge; grouping of 100k orders.",
        (),
    ),
}


def _usage() -> str:
    width = max(len(" ".join(words)) for words in COMMANDS)
    lines = [
        "usage: oms COMMAND [ARGS...]",
        "",
        "Order management system: operational commands.",
        "",
        "commands:",
    ]
    for words, (_cmd, help_text, _lead) in sorted(COMMANDS.items()):
        lines.append(f"  {' '.join(words).ljust(width)}  {help_text}")
    lines += [
        f"  {'manage'.ljust(width)}  Run any Django management command: oms manage COMMAND ...",
        "",
        "Run 'oms COMMAND --help' for a command's options.",
        "Configuration comes from the environment: DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS, CELERY_BROKER_URL,",
        "DJANGO_SETTINGS_MODULE (config.settings.dev by default, config.settings.prod in production).",
    ]
    return "\n".join(lines)


def resolve(argv: Sequence[str]) -> list[str] | None:
    """The management-command argv for ``oms`` argv, or None when it names no command."""
    if argv and argv[0] == "manage":
        return list(argv[1:])
    for size in (2, 1):
        words = tuple(argv[:size])
        if words in COMMANDS:
            command, _help, lead = COMMANDS[words]
            return [command, *lead, *argv[size:]]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    target = resolve(args)
    if target is None:
        print(f"oms: unknown command {' '.join(args[:2])!r}\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["oms", *target])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
