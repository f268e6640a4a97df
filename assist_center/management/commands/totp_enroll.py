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
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        out = io.StringIO()
        qr.print_ascii(out=out, invert=True)
        self.stdout.write(out.getvalue())
        self.stdout.write(
            "Scan this code with the authenticator app on the user's phone; show it to nobody else."
        )
