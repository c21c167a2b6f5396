"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

CHANNELS_ALLOCATION_RULE_DELETE: Final = "channels.allocation_rule.delete"
CHANNELS_ALLOCATION_RULE_SAVE: Final = "channels.allocation_rule.save"
CHANNELS_STOCK_PUSH: Final = "channels.stock_push"
