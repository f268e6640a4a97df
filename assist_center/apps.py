from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistCenterConfig(AppConfig):
    name = "assist_center"
    verbose_name = _("Assistance centre")

    def ready(self) -> None:
        from . import logs, sessions

        logs.configure_structlog()
        sessions.connect()
        # django-axes calls itself "Axes" in the admin's sidebar: a code to a coordinator (issue 16).
        from django.apps import apps

        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("Login security")
