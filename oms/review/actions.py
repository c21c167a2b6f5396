"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

BLACKLIST_ADD: Final = "blacklist.add"
BLACKLIST_REMOVE: Final = "blacklist.remove"
INTERCEPTION_RELEASE: Final = "interception.release"
ORDER_FORCE_REVIEW: Final = "order.force_review"
ORDER_INTERCEPT: Final = "order.intercept"
ORDER_REVIEW: Final = "order.review"
REFUND_REQUEST_CLOSE: Final = "refund_request.close"
REFUND_REQUEST_RECEIVE: Final = "refund_request.receive"
RULE_SAVE: Final = "rule.save"
