from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from oms.console.permissions import console_view


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {})
