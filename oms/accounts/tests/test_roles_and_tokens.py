from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.utils import timezone

from oms.accounts.models import ApiToken
from oms.accounts.roles import ADMINISTRATOR, ROLES, sync_roles
from oms.accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke
from oms.audit.models import OperationLog


def test_every_role_is_seeded_with_exactly_its_permissions(db: Any) -> None:
    for code, (_label, perms) in ROLES.items():
        group = Group.objects.get(name=code)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        if code == ADMINISTRATOR:
            assert len(have) > 40
        else:
            assert have == set(perms)


def test_sync_roles_refuses_unknown_permission(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ROLES, "finance", ("财务", ["orders.no_such_action"]))
    with pytest.raises(LookupError, match=r"orders\.no_such_action"):
        sync_roles()


def test_operator_without_role_is_denied_everything(make_operator: Any) -> None:
    op = make_operator()
    assert op.get_all_permissions() == set()


def test_role_grants_only_its_actions(make_operator: Any) -> None:
    op = make_operator("finance")
    assert op.has_perm("audit.view_operationlog")
    assert not op.has_perm("catalog.change_sku")


def _token(operator: Any) -> tuple[ApiToken, str]:
    with transaction.atomic():
        return api_token_create(operator=operator, name="wms")


def test_token_is_stored_hashed_and_authenticates_its_operator(make_operator: Any) -> None:
    op = make_operator("finance")
    token, plaintext = _token(op)
    assert plaintext.startswith(f"oms_{token.prefix}_")
    assert plaintext not in token.digest and len(token.digest) == 64
    secret = plaintext.removeprefix(f"oms_{token.prefix}_")  # may itself contain "_" (URL-safe base64)
    assert len(secret) >= 40 and not ApiToken.objects.filter(digest__contains=secret).exists()
    assert api_token_authenticate(plaintext) == op
    assert api_token_authenticate(plaintext + "x") is None
    assert api_token_authenticate("oms_nope_nope") is None
    assert OperationLog.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()


def test_token_whose_secret_contains_underscores_authenticates(make_operator: Any, monkeypatch: Any) -> None:
    op = make_operator("finance")
    monkeypatch.setattr("oms.accounts.tokens.secrets.token_urlsafe", lambda n: "a_b__c-" + "x" * 36)
    _tok, plaintext = _token(op)
    assert plaintext.endswith("_a_b__c-" + "x" * 36)
    assert api_token_authenticate(plaintext) == op
    assert api_token_authenticate(plaintext.replace("a_b__c", "a_b_c_")) is None


def test_revoked_expired_or_inactive_token_is_refused(make_operator: Any) -> None:
    op = make_operator("finance")
    token, plaintext = _token(op)
    with transaction.atomic():
        api_token_revoke(token=token, actor=op)
    assert api_token_authenticate(plaintext) is None

    token2, plaintext2 = _token(op)
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(plaintext2) is None

    _token3, plaintext3 = _token(op)
    op.is_active = False
    op.save()
    assert api_token_authenticate(plaintext3) is None


def test_cli_issues_and_revokes_tokens(make_operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    from oms.cli import resolve

    # The same argv the `oms` script hands to Django (run_from_argv would close the test's connection).
    op = make_operator("finance", username="wms-bot")
    call_command(*resolve(["token", "create", "wms-bot", "warehouse system"]))  # type: ignore[misc]
    plaintext = capsys.readouterr().out.strip()
    assert api_token_authenticate(plaintext) == op
    prefix = plaintext.split("_")[1]
    call_command(*resolve(["token", "revoke", prefix]))  # type: ignore[misc]
    assert api_token_authenticate(plaintext) is None


def test_login_is_locked_after_repeated_failures(make_operator: Any) -> None:
    make_operator("finance", username="clerk", password="right-password-1")
    client = Client()
    for _ in range(4):
        response = client.post("/login/", {"username": "clerk", "password": "wrong"})
        assert response.status_code == 200
    assert client.post("/login/", {"username": "clerk", "password": "wrong"}).status_code == 429
    response = client.post("/login/", {"username": "clerk", "password": "right-password-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked out by someone else's failures.
    make_operator("finance", username="other", password="right-password-2")
    response = client.post("/login/", {"username": "other", "password": "right-password-2"})
    assert response.status_code == 302


def test_successful_login_redirects_to_console(make_operator: Any) -> None:
    make_operator("finance", username="clerk", password="right-password-1")
    client = Client()
    response = client.post("/login/", {"username": "clerk", "password": "right-password-1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
