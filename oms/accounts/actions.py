"""The operation-log action names this app records (`audit_record(action=...)`). The strings are
stored in the log: renaming one is a data migration, not a refactor."""

from __future__ import annotations

from typing import Final

API_TOKEN_CREATE: Final = "api_token.create"  # noqa: S105 (an action name, not a secret)
API_TOKEN_REVOKE: Final = "api_token.revoke"  # noqa: S105
OPERATOR_CREATE_ADMIN: Final = "operator.create_admin"
OPERATOR_RESET_ADMIN: Final = "operator.reset_admin"
