"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

from oms.aftersales.domain import states

CASE_CREATE: Final = "aftersales.create"
# One name per step of the case's state machine (approve, refuse, receive, inspect, refund, close, settle).
CASE_STEP: Final[dict[str, str]] = {action: f"aftersales.{action}" for action in (*states.ACTIONS, states.SETTLE)}
# A refund settled part of a case (it stays refunding until the rest is settled).
CASE_REFUND_PART: Final = "aftersales.refund_part"
