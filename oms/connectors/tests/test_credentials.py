"""Shop credentials: sealed at rest with a key from the environment, never shown back, never logged."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from oms.audit.models import OperationLog
from oms.channels.models import Channel
from oms.connectors.crypto import CredentialsUnreadable, secret_open, secret_reseal, secret_seal
from oms.connectors.models import Shop
from oms.connectors.services.shops import shop_connect, shop_connection, shop_credentials_present


@pytest.fixture
def channel(db: Any) -> Channel:
    return Channel.objects.create(code="TMC", name="天猫", platform="tmall")


def test_credentials_are_stored_sealed_and_the_log_names_only_which_changed(channel: Channel) -> None:
    credentials = {"app_key": "12345678", "app_secret": "very-secret-value", "access_token": "tok-abc"}
    shop = shop_connect(
        channel=channel, platform="taobao", base_url="http://127.0.0.1:8116", actor="test", credentials=credentials
    )
    row = Shop.objects.filter(pk=shop.pk).values().get()
    for plain in ("12345678", "very-secret-value", "tok-abc"):
        assert all(plain not in str(value) for value in row.values())
        assert not OperationLog.objects.filter(after__icontains=plain).exists()
    log = OperationLog.objects.get(action="connectors.shop_connect")
    assert log.after["credentials_changed"] == ["app_key", "app_secret", "access_token"]
    assert shop_connection(shop).app_secret == "very-secret-value"
    assert shop_credentials_present(shop) == {"app_key": True, "app_secret": True, "access_token": True}


def test_credentials_not_given_stay_as_they_were(channel: Channel) -> None:
    shop_connect(channel=channel, platform="taobao", base_url="http://127.0.0.1:8116", actor="test",
                 credentials={"app_key": "k1", "app_secret": "s1", "access_token": "t1"})  # fmt: skip
    shop = shop_connect(channel=channel, platform="taobao", base_url="http://127.0.0.1:8117", actor="test",
                        credentials={"access_token": "t2"})  # fmt: skip
    conn = shop_connection(shop)
    assert (conn.app_key, conn.app_secret, conn.access_token, conn.base_url) == (
        "k1",
        "s1",
        "t2",
        "http://127.0.0.1:8117",
    )


def test_keys_come_from_the_environment_and_rotate() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(OMS_CONNECTORS_KEYS=old):
        sealed = secret_seal("app-secret")
    with override_settings(OMS_CONNECTORS_KEYS=f"{new},{old}"):
        assert secret_open(sealed) == "app-secret"
        resealed = secret_reseal(sealed)
    with override_settings(OMS_CONNECTORS_KEYS=new):
        assert secret_open(resealed) == "app-secret"
        with pytest.raises(CredentialsUnreadable):
            secret_open(sealed)


def test_a_bad_address_or_platform_is_refused(channel: Channel) -> None:
    from oms.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        shop_connect(channel=channel, platform="taobao", base_url="file:///etc/passwd", actor="test")
    with pytest.raises(ValidationFailed):
        shop_connect(channel=channel, platform="ebay", base_url="http://127.0.0.1:8116", actor="test")
    assert not Shop.objects.exists()
