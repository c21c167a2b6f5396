from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from oms.api.v1 import api
from oms.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("oms.console.urls")),
]
