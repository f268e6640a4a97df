from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistCenterConfig(AppConfig):
    name = "assist_center"
    verbose_name = _("Assistance centre")

    def ready(self) -> None:
        from . import logs, sessions

        logs.configure_structlog()
        sessions.connect()
