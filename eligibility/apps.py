from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = _("Eligibility")

    def ready(self) -> None:
        # The pool's per-category import handlers (pool.handlers): registry, rolls, ledger.
        from .services import payments, registry  # noqa: F401
