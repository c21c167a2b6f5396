"""Designating hot SKUs (爆款): the service, the selector, the API, the console and the admin, each with the
permission `catalog.designate_hot_sku` and an operation-log row per change."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import OperationalError, connection, transaction
from django.test import Client

from oms.audit.models import OperationLog
from oms.catalog.models import Sku
from oms.catalog.selectors import sku_hot_list
from oms.catalog.services import sku_hot_set
from oms.channels.models import ChannelStock
from oms.core.errors import NotFound
from oms.inventory.tests.factories import make_channel, make_sku

PERM = "catalog.designate_hot_sku"


def _log() -> list[tuple[str, Any, Any, str, str]]:
    """The hot-flag rows of the operation log, oldest first: (object id, before, after, actor, reason)."""
    return [
        (r.object_id, r.before, r.after, r.actor_name, r.reason)
        for r in OperationLog.objects.filter(action="sku.set_hot").order_by("id")
    ]


def _is_hot(code: str) -> bool:
    return Sku.objects.get(code=code).is_hot


@pytest.fixture
def tea(db: Any) -> Sku:
    return make_sku("TEA-1")


# ------------------------------------------------------------------------------------------ service, selector


def test_set_and_clear_are_logged_with_before_and_after(tea: Sku, make_operator: Any) -> None:
    op = make_operator("warehouse_coordinator", username="wh")
    assert sku_hot_set(code="TEA-1", is_hot=True, actor=op, reason="双11").is_hot
    assert _is_hot("TEA-1")
    sku_hot_set(code="TEA-1", is_hot=False, actor=op)
    assert not _is_hot("TEA-1")
    assert _log() == [
        (str(tea.pk), {"is_hot": False}, {"is_hot": True}, "wh", "双11"),
        (str(tea.pk), {"is_hot": True}, {"is_hot": False}, "wh", ""),
    ]


def test_setting_the_flag_it_already_has_logs_nothing(tea: Sku) -> None:
    sku_hot_set(code="TEA-1", is_hot=False, actor="system")
    assert _log() == []


def test_unknown_sku_is_not_found(db: Any) -> None:
    with pytest.raises(NotFound, match="NOPE"):
        sku_hot_set(code="NOPE", is_hot=True, actor="system")
    assert _log() == []


def test_hot_list_is_the_hot_skus_by_code_in_one_query(db: Any, django_assert_num_queries: Any) -> None:
    for code in ("B-2", "A-1", "C-3"):
        make_sku(code)
    Sku.objects.filter(code__in=["B-2", "A-1"]).update(is_hot=True)
    with django_assert_num_queries(1):
        assert [s.code for s in sku_hot_list()] == ["A-1", "B-2"]


def test_only_coordinators_and_administrators_hold_the_permission(make_operator: Any) -> None:
    assert make_operator("warehouse_coordinator").has_perm(PERM)
    assert make_operator("administrator").has_perm(PERM)
    for role in ("customer_service", "order_reviewer", "finance"):
        assert not make_operator(role).has_perm(PERM)


# ------------------------------------------------------------------------------------------------------- API


def _put(client: Client, code: str, body: Any) -> Any:
    return client.put(f"/api/v1/skus/{code}/hot", body, content_type="application/json")


def test_api_sets_lists_and_clears(tea: Sku, make_operator: Any, api_client: Any) -> None:
    make_sku("CUP-1")
    client = api_client(make_operator("warehouse_coordinator", username="wh"))
    r = _put(client, "TEA-1", {"is_hot": True, "reason": "flash sale"})
    assert r.status_code == 200, r.content
    assert r.json() == {"sku": "TEA-1", "name": tea.name, "is_hot": True}
    assert _is_hot("TEA-1") and not _is_hot("CUP-1")
    assert [s["sku"] for s in client.get("/api/v1/skus/hot").json()] == ["TEA-1"]
    assert client.get("/api/v1/skus/TEA-1/stock").json()["is_hot"] is True

    r = _put(client, "TEA-1", {"is_hot": False})
    assert r.status_code == 200 and r.json()["is_hot"] is False
    assert not _is_hot("TEA-1")
    assert client.get("/api/v1/skus/hot").json() == []
    rows = OperationLog.objects.filter(action="sku.set_hot").order_by("id")
    assert [(r.before, r.after, r.via, r.reason) for r in rows] == [
        ({"is_hot": False}, {"is_hot": True}, "api", "flash sale"),
        ({"is_hot": True}, {"is_hot": False}, "api", ""),
    ]


def test_api_unknown_sku_is_404_in_the_common_shape(db: Any, make_operator: Any, api_client: Any) -> None:
    r = _put(api_client(make_operator("warehouse_coordinator")), "NOPE", {"is_hot": True})
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "No SKU NOPE.", "details": []}}
    assert _log() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "is_hot"), ({"is_hot": "maybe"}, "is_hot"), ({"is_hot": True, "reason": "x" * 501}, "reason")],
)
def test_api_bad_body_is_422_naming_the_field(
    tea: Sku, make_operator: Any, api_client: Any, body: dict[str, Any], field: str
) -> None:
    r = _put(api_client(make_operator("warehouse_coordinator")), "TEA-1", body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == [field]
    assert not _is_hot("TEA-1") and _log() == []


def test_api_without_the_permission_is_403_and_changes_nothing(tea: Sku, make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("customer_service"))
    r = _put(client, "TEA-1", {"is_hot": True})
    assert r.status_code == 403
    assert r.json()["error"]["missing_permissions"] == [PERM]
    assert not _is_hot("TEA-1") and _log() == []
    assert client.get("/api/v1/skus/hot").status_code == 200  # reading the list needs only catalog.view_sku
    assert api_client(make_operator()).get("/api/v1/skus/hot").status_code == 403


# --------------------------------------------------------------------------------------------------- console


@pytest.fixture
def coordinator(make_operator: Any) -> Client:
    client = Client()
    client.force_login(make_operator("warehouse_coordinator", username="wh"))
    return client


def test_console_marks_and_unmarks_with_a_message_and_a_badge(tea: Sku, coordinator: Client) -> None:
    make_sku("CUP-1")
    page = coordinator.get("/stock/sku/TEA-1/").content.decode()
    assert 'data-testid="hot-form"' in page and 'data-testid="hot-sku"' not in page

    r = coordinator.post("/stock/sku/TEA-1/hot/", {"is_hot": "1"})
    assert r.status_code == 302 and r["Location"] == "/stock/sku/TEA-1/"
    assert [str(m) for m in get_messages(r.wsgi_request)] == [
        "TEA-1 现为爆款，10 秒内生效。",
    ]
    assert _is_hot("TEA-1")
    page = coordinator.get("/stock/sku/TEA-1/").content.decode()
    assert 'data-testid="hot-sku"' in page and 'name="is_hot" value="0"' in page
    index = coordinator.get("/stock/").content.decode()
    assert index.count('data-testid="hot-sku"') == 1 and "CUP-1" in index

    # Submitting the same form again (a double click, a stale tab) does not flip the flag back.
    assert coordinator.post("/stock/sku/TEA-1/hot/", {"is_hot": "1"}, follow=True).status_code == 200
    assert _is_hot("TEA-1")

    r = coordinator.post("/stock/sku/TEA-1/hot/", {"is_hot": "0"})
    assert [str(m) for m in get_messages(r.wsgi_request)] == ["TEA-1 不再是爆款，10 秒内生效。"]
    assert not _is_hot("TEA-1")
    assert 'data-testid="hot-sku"' not in coordinator.get("/stock/").content.decode()
    rows = OperationLog.objects.filter(action="sku.set_hot").order_by("id")
    assert [(r.before, r.after, r.via, r.actor_name) for r in rows] == [
        ({"is_hot": False}, {"is_hot": True}, "web", "wh"),
        ({"is_hot": True}, {"is_hot": False}, "web", "wh"),
    ]


def test_console_without_the_permission_shows_the_badge_but_no_button(tea: Sku, make_operator: Any) -> None:
    Sku.objects.filter(pk=tea.pk).update(is_hot=True)
    client = Client()
    client.force_login(make_operator("customer_service"))
    page = client.get("/stock/sku/TEA-1/").content.decode()
    assert 'data-testid="hot-sku"' in page and 'data-testid="hot-form"' not in page
    assert client.post("/stock/sku/TEA-1/hot/", {"is_hot": "0"}).status_code == 403
    assert _is_hot("TEA-1") and _log() == []


def test_console_toggle_needs_post_and_a_csrf_token(tea: Sku, make_operator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_operator("warehouse_coordinator"))
    assert client.get("/stock/sku/TEA-1/hot/").status_code == 405
    assert client.post("/stock/sku/TEA-1/hot/", {"is_hot": "1"}).status_code == 403
    assert not _is_hot("TEA-1") and _log() == []


def test_console_unknown_sku_is_a_message(db: Any, coordinator: Client) -> None:
    r = coordinator.post("/stock/sku/NOPE/hot/", {"is_hot": "1"})
    assert r.status_code == 302 and r["Location"] == "/stock/"
    assert [str(m) for m in get_messages(r.wsgi_request)] == ["No SKU NOPE."]


# ----------------------------------------------------------------------------------------------------- admin


def test_admin_lists_and_filters_by_the_flag(tea: Sku, make_operator: Any) -> None:
    make_sku("CUP-1")
    Sku.objects.filter(pk=tea.pk).update(is_hot=True)
    client = Client()
    client.force_login(make_operator("administrator"))
    r = client.get("/admin/catalog/sku/", {"is_hot__exact": "1"})
    assert r.status_code == 200
    shown = [s.code for s in r.context["cl"].result_list]
    assert shown == ["TEA-1"]
    assert "is_hot" in r.context["cl"].list_display


def test_admin_form_leaves_the_flag_alone_without_the_permission(tea: Sku, make_operator: Any) -> None:
    from django.contrib.auth.models import Permission

    editor = make_operator()
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_sku", "change_sku"]))
    client = Client()
    client.force_login(editor)
    page = client.get(f"/admin/catalog/sku/{tea.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_hot"' not in page.content.decode()


# ------------------------------------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_designating_does_not_wait_for_checkouts_holding_the_sku(transactional_db: Any) -> None:
    """A row inserted with a foreign key to the SKU (a reservation, a ledger row, a channel-stock row) holds KEY
    SHARE on the SKU until its transaction ends; designating the SKU meanwhile must not queue behind it (FOR NO
    KEY UPDATE), or a flash sale's checkouts would stall the operator and the operator every checkout after."""
    sku = make_sku("HOT-1")
    channel = make_channel("TMALL")
    held, release = threading.Event(), threading.Event()

    def checkout() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the foreign keys now, not at COMMIT
                ChannelStock.objects.create(channel=channel, sku=sku)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=checkout)
    thread.start()
    try:
        assert held.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            # The control: a plain FOR UPDATE really would wait for the checkout.
            with pytest.raises(OperationalError), transaction.atomic():
                list(Sku.objects.select_for_update().filter(pk=sku.pk))
            assert sku_hot_set(code="HOT-1", is_hot=True, actor="system").is_hot
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        thread.join(30)
    assert _is_hot("HOT-1") and len(_log()) == 1
