"""Replace the recovery codes of a staff or organisation account and print the new ones once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assist_center.management.commands.totp_enroll import write_recovery_codes
from assist_center.two_factor import recovery_codes_issue, recovery_codes_left


class Command(BaseCommand):
    help = (
        "Issue new recovery codes for an account (the old ones stop working) and print them once. "
        "With --count, only say how many unused codes the account has left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--count", action="store_true", help="Print the number of unused codes only.")

    def handle(self, *args: Any, username: str, count: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active account named {username!r}.")
        if count:
            self.stdout.write(str(recovery_codes_left(user)))
            return
        write_recovery_codes(self.stdout, recovery_codes_issue(user=user))
