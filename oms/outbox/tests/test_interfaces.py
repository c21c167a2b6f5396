"""The outbox through the API, the console, the admin and the ``oms`` command."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import transaction
from django.test import Client

from oms.audit.models import OperationLog
from oms.outbox.models import MessageState, OutboxMessage, WebhookEndpoint
from oms.outbox.services import outbox_publish
from oms.testing.outbox import SECRET, Receiver


def _messages(make_endpoint: Any) -> tuple[OutboxMessage, OutboxMessage]:
    make_endpoint()
    with transaction.atomic():
        outbox_publish(topic="order.shipped", aggregate=("orders.order", 1), payload={"n": 1})
        outbox_publish(topic="stock.available_changed", aggregate=("channels.channelstock", 9), payload={})
    shipped = OutboxMessage.objects.get(topic="order.shipped")
    stock = OutboxMessage.objects.get(topic="stock.available_changed")
    OutboxMessage.objects.filter(pk=shipped.pk).update(state=MessageState.DEAD, attempts=10, last_error="HTTP 500")
    return shipped, stock


def test_api_lists_messages_filtered_by_state_and_topic(
    make_operator: Any, api_client: Any, make_endpoint: Any
) -> None:
    shipped, stock = _messages(make_endpoint)
    client = api_client(make_operator("warehouse_coordinator"))

    everything = client.get("/api/v1/outbox/messages").json()
    assert everything["count"] == 2
    dead = client.get("/api/v1/outbox/messages?state=dead").json()
    assert [m["id"] for m in dead["items"]] == [shipped.pk]
    assert dead["items"][0]["last_error"] == "HTTP 500"
    assert dead["items"][0]["endpoint"] == "wms-1"
    by_topic = client.get("/api/v1/outbox/messages?topic=stock.available_changed").json()
    assert [m["id"] for m in by_topic["items"]] == [stock.pk]
    assert client.get("/api/v1/outbox/messages?state=lost").status_code == 422
    assert client.get(f"/api/v1/outbox/messages/{stock.pk}").json()["topic"] == "stock.available_changed"
    assert client.get("/api/v1/outbox/messages/999999").json()["error"]["code"] == "not_found"


def test_api_retry_needs_the_permission_and_only_takes_dead_letters(
    make_operator: Any, api_client: Any, make_endpoint: Any, receiver: Receiver
) -> None:
    shipped, stock = _messages(make_endpoint)
    reader = api_client(make_operator("finance"))
    assert reader.get("/api/v1/outbox/messages").status_code == 403
    assert reader.post(f"/api/v1/outbox/messages/{shipped.pk}/retry", {}, "application/json").status_code == 403

    coordinator = api_client(make_operator("warehouse_coordinator"))
    conflict = coordinator.post(f"/api/v1/outbox/messages/{stock.pk}/retry", {}, "application/json")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "not_dead"

    retried = coordinator.post(f"/api/v1/outbox/messages/{shipped.pk}/retry", {"reason": "fixed"}, "application/json")
    assert retried.status_code == 200
    assert retried.json()["state"] == "pending"
    assert retried.json()["attempts"] == 0
    assert OperationLog.objects.filter(action="outboxmessage.retry", object_id=str(shipped.pk)).count() == 1


def test_console_shows_the_dead_letters_and_retries_one(make_operator: Any, make_endpoint: Any) -> None:
    shipped, _stock = _messages(make_endpoint)
    client = Client()
    client.force_login(make_operator("warehouse_coordinator"))

    home = client.get("/").content.decode()
    assert "/outbox/" in home
    assert "发件箱" in home  # Chinese by default
    page = client.get("/outbox/?state=dead").content.decode()
    assert "order.shipped" in page
    assert "stock.available_changed" not in page
    assert client.get("/outbox/?topic=stock.available_changed", HTTP_HX_REQUEST="true").status_code == 200
    detail = client.get(f"/outbox/{shipped.pk}/").content.decode()
    assert "HTTP 500" in detail
    assert f"/outbox/{shipped.pk}/retry/" in detail

    assert client.get(f"/outbox/{shipped.pk}/retry/").status_code == 405
    response = client.post(f"/outbox/{shipped.pk}/retry/", {"reason": "receiver back up"})
    assert response.status_code == 302
    shipped.refresh_from_db()
    assert shipped.state == MessageState.PENDING


def test_console_outbox_is_hidden_from_roles_without_the_permission(make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("customer_service"))
    assert "/outbox/" not in client.get("/").content.decode()
    assert client.get("/outbox/").status_code == 403
    assert client.post("/outbox/1/retry/").status_code == 403


def test_admin_never_shows_the_secret_and_logs_changes_without_it(admin_operator: Any) -> None:
    client = Client()
    client.force_login(admin_operator)
    response = client.post(
        "/admin/outbox/webhookendpoint/add/",
        {"name": "wms", "url": "https://wms.example.com/hooks", "secret": SECRET, "topics": "order.*, stock.*"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get(name="wms")
    assert endpoint.secret == SECRET
    assert endpoint.topics == ["order.*", "stock.*"]

    change_page = client.get(f"/admin/outbox/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert SECRET not in change_page
    assert SECRET not in client.get("/admin/outbox/webhookendpoint/").content.decode()

    # Saving without typing a secret keeps the old one.
    client.post(
        f"/admin/outbox/webhookendpoint/{endpoint.pk}/change/",
        {"name": "wms", "url": "https://wms.example.com/v2", "secret": "", "topics": "*", "is_active": "on"},
    )
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.url, endpoint.topics) == (SECRET, "https://wms.example.com/v2", ["*"])
    logs = OperationLog.objects.filter(object_type="outbox.webhookendpoint")
    assert logs.count() == 2
    assert all(SECRET not in str(log.before) + str(log.after) for log in logs)


def test_relay_command_delivers_due_messages(make_endpoint: Any, receiver: Receiver, capsys: Any) -> None:
    make_endpoint()
    with transaction.atomic():
        event_id = outbox_publish(topic="order.shipped", aggregate=("orders.order", 1), payload={})
    call_command("outbox_relay")
    assert "delivered 1" in capsys.readouterr().out
    assert list(receiver.processed) == [event_id]


def test_oms_cli_names_the_worker_and_relay_commands() -> None:
    from oms.cli import resolve

    assert resolve(["worker", "--beat"]) == ["oms_worker", "--beat"]
    assert resolve(["outbox", "relay", "--loop"]) == ["outbox_relay", "--loop"]


def test_selectors_and_the_list_endpoint_use_a_fixed_number_of_queries(
    make_operator: Any, api_client: Any, make_endpoint: Any, django_assert_num_queries: Any
) -> None:
    from oms.outbox.selectors import outbox_message_list, outbox_state_counts

    _messages(make_endpoint)
    make_endpoint(["order.*"], name="second")
    with transaction.atomic():
        for n in range(5):
            outbox_publish(topic="order.signed", aggregate=("orders.order", n), payload={})
    client = api_client(make_operator("warehouse_coordinator"))

    with django_assert_num_queries(1):
        assert len([m.endpoint.name for m in outbox_message_list()]) == 12
    with django_assert_num_queries(1):
        assert sum(outbox_state_counts().values()) == 12
    # Auth, then count + page: the same for 2 or 200 rows (the endpoint is joined, not fetched per row).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/api/v1/outbox/messages?limit=1")  # the token's first use is stamped once
    with CaptureQueriesContext(connection) as first:
        client.get("/api/v1/outbox/messages?limit=2")
    with CaptureQueriesContext(connection) as second:
        client.get("/api/v1/outbox/messages?limit=200")
    assert len(first) == len(second)


def test_admin_refuses_bad_endpoints(admin_operator: Any) -> None:
    client = Client()
    client.force_login(admin_operator)
    good = {"name": "wms", "url": "https://wms.example.com/hooks", "secret": SECRET, "topics": "*"}
    for bad in ({"url": "ftp://wms.example.com/hooks"}, {"secret": "short"}, {"topics": " , "}, {"secret": ""}):
        response = client.post("/admin/outbox/webhookendpoint/add/", {**good, **bad})
        assert response.status_code == 200, bad  # the form again, with the error
        assert "errorlist" in response.content.decode(), bad
    assert not WebhookEndpoint.objects.exists()
    assert not OperationLog.objects.filter(object_type="outbox.webhookendpoint").exists()
