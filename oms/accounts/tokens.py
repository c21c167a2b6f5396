"""API token issue, check and revoke. Tokens look like ``oms_<prefix>_<secret>``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from oms.accounts import actions
from oms.accounts.models import ApiToken, Operator
from oms.audit.services import audit_record

TOKEN_PREFIX = "oms"  # noqa: S105 - a public marker, not a secret
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, operator: Operator, name: str, actor: Operator | None = None) -> tuple[ApiToken, str]:
    """Issue a token and return it with its plaintext, which is never stored and cannot be shown again."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    token = ApiToken.objects.create(operator=operator, name=name, prefix=prefix, digest=_digest(plaintext))
    audit_record(
        actor=actor or operator,
        action=actions.API_TOKEN_CREATE,
        obj=token,
        after={"name": name, "operator": operator.pk},
    )
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Operator) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action=actions.API_TOKEN_REVOKE, obj=token, after={"revoked_at": str(token.revoked_at)}
        )
    return token


def api_token_authenticate(plaintext: str) -> Operator | None:
    """The operator a presented token belongs to, or None (unknown, revoked, expired, inactive)."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("operator").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(plaintext)):
        return None
    if not token.is_active or not token.operator.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.operator
