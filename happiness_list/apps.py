from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HappinessListConfig(AppConfig):
    name = "happiness_list"
    verbose_name = _("Happiness list")

    def ready(self) -> None:
        # The public OTP endpoint (applications) sends the `happiness` codes through this app, and
        # referrals' closure SMS links to the household's list (assist_center.hooks).
        from assist_center import hooks

        from .services.list_access import household_list_url, otp_token_purpose_send

        hooks.register("otp_token_purpose_send", otp_token_purpose_send)
        hooks.register("household_list_url", household_list_url)
        # The application's admin page links to the household's flags and card (issue 12).
        from .services.flags import application_staff_links

        hooks.register("application_staff_links", application_staff_links)
