"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

OUTBOXMESSAGE_RETRY: Final = "outboxmessage.retry"
WEBHOOK_ENDPOINT_ENSURE: Final = "webhook_endpoint.ensure"
