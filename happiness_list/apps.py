from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HappinessListConfig(AppConfig):
    name = "happiness_list"
    verbose_name = _("Happiness list")
