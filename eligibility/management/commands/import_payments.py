"""`manage.py import_payments CATEGORY FILE`: a department's payment file into the benefits ledger."""

from __future__ import annotations

from django.core.management.base import CommandParser

from eligibility.pool.categories import PAYMENT_DEFAULT_ITEMS

from .import_pool import Command as ImportPoolCommand


class Command(ImportPoolCommand):
    help = (
        "Import a department's payment file (CSV in UTF-8 or GB18030, or XLSX) into the benefits ledger: "
        "streaming, idempotent on the department's payment id, errors reported by line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        # The same pipeline as import_pool, limited to the payment categories.
        for action in parser._actions:
            if action.dest == "category":
                action.choices = sorted(PAYMENT_DEFAULT_ITEMS)
