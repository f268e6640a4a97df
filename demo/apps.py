from django.apps import AppConfig


class DemoConfig(AppConfig):
    # No models: installed only so that Django finds the management commands.
    name = "demo"
