"""The outbox in the console: messages by state and topic, the dead letters, and retrying one."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.selectors import outbox_message_list, outbox_state_counts
from oms.outbox.services import outbox_message_retry


@console_view("outbox.view_outboxmessage")
def outbox_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in MessageState.values:
        state = ""
    topic = request.GET.get("topic", "").strip()[:100]
    page = Paginator(outbox_message_list(state=state, topic=topic), 50).get_page(request.GET.get("page"))
    counts = outbox_state_counts()
    context = {
        "page": page,
        "state": state,
        "topic": topic,
        "states": [(s.value, s.label, counts[s.value]) for s in MessageState],
        "can_retry": request.user.has_perm("outbox.retry_outboxmessage"),
    }
    template = "console/outbox/_table.html" if request.htmx else "console/outbox/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@console_view("outbox.view_outboxmessage")
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(outbox_message_list(), pk=pk)
    return render(
        request,
        "console/outbox/detail.html",
        {"message": message, "can_retry": request.user.has_perm("outbox.retry_outboxmessage")},
    )


@console_view("outbox.retry_outboxmessage")
@require_POST
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        outbox_message_retry(message=message, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Message %(id)s will be delivered again.") % {"id": pk})
    return redirect("console:outbox_detail", pk=pk)
