from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # design.md, "Layering": eligibility cannot import referrals, so the decision service calls
        # the "application_decided" hook and referrals registers what it does here.
        from assist_center import hooks

        from .services.cases import on_application_decided

        hooks.register("application_decided", on_application_decided)
        # Issue 16: the residents' status and family pages show the case's real state.
        from .services.progress import application_case_state

        hooks.register("application_case_state", application_case_state)
        # Issue 16: the application's admin page links its case and its referrals.
        from .selectors import application_staff_links

        hooks.register("application_staff_links", application_staff_links)
        # Issue 13: notices lower layers raise for a township go to its 浙政钉 / DingTalk channels.
        from .services.work_notices import township_notice

        hooks.register("township_notice", township_notice)
        # The scopes of the referrals models (assist_center.scopes registry).
        from . import selectors  # noqa: F401
