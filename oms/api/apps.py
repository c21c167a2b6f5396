from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "oms.api"
    label = "api"
    verbose_name = "API"
