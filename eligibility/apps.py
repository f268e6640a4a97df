from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = _("Eligibility")

    def ready(self) -> None:
        # Issue 16: the application's admin page links its verification report.
        from assist_center import hooks

        from .selectors import application_staff_links

        hooks.register("application_staff_links", application_staff_links)
