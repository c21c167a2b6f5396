"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

EXPORT_REQUESTED: Final = "export.requested"
EXPORT_RETRIED: Final = "export.retried"
