"""`manage.py pool_push_key issue DEPARTMENT [CATEGORY ...]`, `rotate PREFIX`, `revoke PREFIX`, `list`.

The key is printed once, when it is issued or rotated; only its digest is stored. Give it to the
department's system administrator over a channel meant for secrets, never by SMS or e-mail.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assist_center.errors import ApplicationError
from eligibility.models import PushKey
from eligibility.services.push import IssuedKey, push_key_issue, push_key_revoke, push_key_rotate

ACTOR = "manage.py pool_push_key"


class Command(BaseCommand):
    help = "Issue, rotate, revoke or list the API keys departments' systems push pool records with."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="a new key for a department (default: all its categories)")
        issue.add_argument("department", help="department code, e.g. traffic_police")
        issue.add_argument("categories", nargs="*", help="record categories (default: the department's)")
        sub.add_parser("rotate", help="a new key replacing PREFIX, which stops working").add_argument(
            "prefix"
        )
        sub.add_parser("revoke", help="stop the key PREFIX").add_argument("prefix")
        sub.add_parser("list", help="every key, without secrets")

    def _show(self, issued: IssuedKey) -> None:
        key = issued.key
        self.stdout.write(f"{key.department.code} {key.prefix} {','.join(key.categories)}")
        self.stdout.write(f"Key (shown once, store it in the department system's secrets): {issued.plain}")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "issue":
                self._show(
                    push_key_issue(
                        actor=ACTOR, department_code=options["department"], categories=options["categories"]
                    )
                )
            elif options["action"] == "rotate":
                self._show(push_key_rotate(actor=ACTOR, prefix=options["prefix"]))
            elif options["action"] == "revoke":
                push_key_revoke(actor=ACTOR, prefix=options["prefix"])
                self.stdout.write(f"Revoked {options['prefix']}")
            else:
                for key in PushKey.objects.select_related("department"):
                    state = "revoked" if key.revoked_at else "active"
                    used = key.last_used_at.isoformat() if key.last_used_at else "never"
                    cats = ",".join(key.categories)
                    self.stdout.write(f"{key.department.code} {key.prefix} {state} last used {used} {cats}")
        except ApplicationError as exc:
            raise CommandError(str(exc.message) + (f" ({exc.extra})" if exc.extra else "")) from exc
