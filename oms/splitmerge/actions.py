"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

ORDER_SPLIT: Final = "order.split"
ORDER_MERGE: Final = "order.merge"
ORDER_UNMERGE: Final = "order.unmerge"

# The action recorded on each new order, by the kind of operation that made it (a LineageKind value).
ORDER_REPLACED_BY_KIND: Final = {"split": ORDER_SPLIT, "merge": ORDER_MERGE, "unmerge": ORDER_UNMERGE}
