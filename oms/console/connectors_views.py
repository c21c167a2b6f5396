"""Connected shops in the console: list, shop page (status, token expiry, pulls, failed items), connect a
shop, pull now, back-fill a date range, retry failed items. Credentials are write-only here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from oms.channels.models import Channel
from oms.connectors.models import ConnectorPlatform, PullKind, Shop
from oms.connectors.reasons import reason_text
from oms.connectors.selectors import (
    shop_failed_items,
    shop_get,
    shop_list,
    shop_pulled_orders,
    shop_runs,
    shop_token_expiring,
    shop_write_backs,
)
from oms.connectors.services.items import pull_items_retry
from oms.connectors.services.pull import shop_pull
from oms.connectors.services.shops import shop_connect, shop_credentials_present
from oms.console.permissions import console_view
from oms.core.errors import ApplicationError


class ShopForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.order_by("code"), label=gettext_lazy("Channel"))
    platform = forms.ChoiceField(choices=ConnectorPlatform.choices, label=gettext_lazy("Platform"))
    base_url = forms.URLField(label=gettext_lazy("API address"), max_length=200, assume_scheme="https")
    shop_ref = forms.CharField(label=gettext_lazy("Shop id on the platform"), required=False, max_length=128)
    # Write-only: rendered empty every time (never shown back); left empty, the stored value stays.
    app_key = forms.CharField(label=gettext_lazy("App key"), required=False, widget=forms.PasswordInput, max_length=200)
    app_secret = forms.CharField(
        label=gettext_lazy("App secret"), required=False, widget=forms.PasswordInput, max_length=500
    )
    access_token = forms.CharField(
        label=gettext_lazy("Access token"), required=False, widget=forms.PasswordInput, max_length=2000
    )
    token_expires_at = forms.DateTimeField(label=gettext_lazy("Token expires at"), required=False)
    pull_interval_s = forms.IntegerField(label=gettext_lazy("Pull every (seconds)"), min_value=30, initial=300)
    enabled = forms.BooleanField(label=gettext_lazy("Pull on schedule"), required=False, initial=True)


class BackfillForm(forms.Form):
    start = forms.DateTimeField(label=gettext_lazy("From"))
    end = forms.DateTimeField(label=gettext_lazy("To"), required=False)


@console_view("connectors.view_shop")
def shops_index(request: HttpRequest) -> HttpResponse:
    shops = list(shop_list())
    for shop in shops:
        shop.error_text = reason_text(shop.last_error_code, shop.last_error_params) if shop.last_error_code else ""  # type: ignore[attr-defined]
        shop.token_expiring = shop_token_expiring(shop)  # type: ignore[attr-defined]
    context = {"shops": shops, "can_connect": request.user.has_perm("connectors.manage_credentials")}
    return render(request, "console/connectors/shops.html", context)


def _shop_or_404(pk: int) -> Shop:
    try:
        return shop_get(pk=pk)
    except Shop.DoesNotExist:
        raise Http404 from None


@console_view("connectors.view_shop")
def shop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop_or_404(pk)
    items = shop_failed_items(shop=shop)
    context: dict[str, Any] = {
        "shop": shop,
        "error_text": reason_text(shop.last_error_code, shop.last_error_params) if shop.last_error_code else "",
        "token_expiring": shop_token_expiring(shop),
        "credentials": shop_credentials_present(shop),
        "runs": shop_runs(shop=shop),
        "items": [(i, reason_text(i.reason_code, i.reason_params)) for i in items],
        "pulled": shop_pulled_orders(shop=shop),
        "write_backs": [
            (w, reason_text(w.error_code, w.error_params) if w.error_code else "") for w in shop_write_backs(shop=shop)
        ],
        "backfill_form": BackfillForm(),
        "can_pull": request.user.has_perm("connectors.pull_shop"),
        "can_retry": request.user.has_perm("connectors.retry_pullitem"),
        "can_connect": request.user.has_perm("connectors.manage_credentials"),
    }
    return render(request, "console/connectors/shop.html", context)


@console_view("connectors.manage_credentials")
def shop_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    shop = _shop_or_404(pk) if pk is not None else None
    initial = {}
    if shop is not None:
        initial = {"channel": shop.channel, "platform": shop.platform, "base_url": shop.base_url,
                   "shop_ref": shop.shop_ref, "token_expires_at": shop.token_expires_at,
                   "pull_interval_s": shop.pull_interval_s, "enabled": shop.enabled}  # fmt: skip
    form = ShopForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = shop_connect(
                channel=data["channel"], platform=data["platform"], base_url=data["base_url"], actor=request.user,
                credentials={k: data[k] for k in ("app_key", "app_secret", "access_token")},
                shop_ref=data["shop_ref"], token_expires_at=data["token_expires_at"],
                pull_interval_s=data["pull_interval_s"], enabled=data["enabled"],
            )  # fmt: skip
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Shop connected: %(channel)s.") % {"channel": saved.channel.code})
            return redirect("console:shop", pk=saved.pk)
    return render(request, "console/connectors/shop_form.html", {"form": form, "shop": shop})


@console_view("connectors.pull_shop")
@require_POST
def shop_pull_action(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop_or_404(pk)
    kind, start, end = PullKind.NOW, None, None
    if request.POST.get("start"):
        form = BackfillForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a valid date range to back-fill."))
            return redirect("console:shop", pk=pk)
        kind, start, end = PullKind.BACKFILL, form.cleaned_data["start"], form.cleaned_data["end"]
    try:
        run = shop_pull(shop=shop, kind=kind, start=start, end=end)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        _pull_message(request, run)
    return redirect("console:shop", pk=pk)


def _pull_message(request: HttpRequest, run: Any) -> None:
    if run.error_code:
        reason = reason_text(run.error_code, run.error_params)
        messages.error(request, _("The pull stopped: %(reason)s") % {"reason": reason})
        return
    counts = {"fetched": run.fetched, "created": run.created, "updated": run.updated, "failed": run.failed}
    text = _("Pulled %(fetched)s orders: %(created)s new, %(updated)s updated, %(failed)s failed.")
    messages.success(request, text % counts)


@console_view("connectors.retry_pullitem")
@require_POST
def shop_retry_action(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop_or_404(pk)
    ids = [int(i) for i in request.POST.getlist("item") if i.isdigit()] or None
    tally = pull_items_retry(shop=shop, item_ids=ids)
    messages.success(request, _("Retried: %(created)s taken in, %(failed)s still failing.")
                     % {"created": tally.created + tally.updated, "failed": tally.failed})  # fmt: skip
    return redirect("console:shop", pk=pk)
