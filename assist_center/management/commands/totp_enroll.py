"""Give a staff account a TOTP device and print its provisioning QR code in the terminal."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from assist_center.audit import audit_record
from assist_center.two_factor import recovery_codes_issue


class Command(BaseCommand):
    help = (
        "Create (or replace with --reset) the TOTP device of a staff account and print the QR code "
        "to scan with an authenticator app. Production requires TOTP for every staff login "
        "(STAFF_REQUIRE_2FA)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the account's existing devices first."
        )

    def handle(self, *args: Any, username: str, reset: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active account named {username!r}.")
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user)
            if existing.exists() and not reset:
                raise CommandError("The account already has a TOTP device; use --reset to replace it.")
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
            audit_record(actor=None, action="staff.totp_enrolled", subject=user, new={"device": device.pk})
            codes = recovery_codes_issue(user=user)
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        out = io.StringIO()
        qr.print_ascii(out=out, invert=True)
        self.stdout.write(out.getvalue())
        self.stdout.write(
            "Scan this code with the authenticator app on the user's phone; show it to nobody else."
        )
        write_recovery_codes(self.stdout, codes)


def write_recovery_codes(out: Any, codes: list[str]) -> None:
    """Print the codes with what the user must know: they are shown this once."""
    out.write("\nRecovery codes (each works once, in place of the authenticator's code):")
    for code in codes:
        out.write(f"  {code}")
    out.write(
        "Print them or write them down for the user now: they are not stored in readable form and "
        "cannot be shown again. `manage.py recovery_codes USERNAME` replaces them all."
    )
