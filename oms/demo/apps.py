from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`oms load_demo_data`): the top of the app graph, it may use every app and none uses it."""

    name = "oms.demo"
    label = "demo"
    verbose_name = "Demo data"
