from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HappinessListConfig(AppConfig):
    name = "happiness_list"
    verbose_name = _("Happiness list")

    def ready(self) -> None:
        # The application's admin page links to the household's flags and card (issue 12).
        from assist_center import hooks

        from .services.flags import application_staff_links

        hooks.register("application_staff_links", application_staff_links)
