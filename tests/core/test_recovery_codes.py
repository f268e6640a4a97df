"""Recovery codes: issued with the TOTP device, printed once, stored as digests, each usable once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from assist_center.admin.site import StaffOTPLoginForm
from assist_center.models import AuditEvent
from assist_center.two_factor import RECOVERY_CODE_COUNT, recovery_codes_issue

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def _codes_from(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ") and "-" in line]


def test_enrolment_prints_the_qr_code_and_ten_codes_once_and_stores_only_digests(personas: Any) -> None:
    out = io.StringIO()
    call_command("totp_enroll", personas.assistant_a.username, stdout=out)
    codes = _codes_from(out.getvalue())
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    assert TOTPDevice.objects.filter(user=personas.assistant_a, confirmed=True).count() == 1
    stored = set(
        StaticToken.objects.filter(device__user=personas.assistant_a).values_list("token", flat=True)
    )
    assert len(stored) == RECOVERY_CODE_COUNT
    assert not stored & {c for c in codes} and not stored & {c.replace("-", "") for c in codes}
    event = AuditEvent.objects.get(action="staff.recovery_codes_issued")
    assert event.subject_id == str(personas.assistant_a.pk)
    assert not any(c in str(event.new_values) for c in codes)


def _staff_form(user: Any, token: str) -> StaffOTPLoginForm:
    request = RequestFactory().post("/admin/login/")
    return StaffOTPLoginForm(
        request, data={"username": user.username, "password": PASSWORD, "otp_token": token}
    )


def test_a_recovery_code_passes_the_admin_login_once(personas: Any) -> None:
    user = personas.coordinator
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    codes = recovery_codes_issue(user=user)
    form = _staff_form(user, codes[0].upper().replace("-", " "))  # read off paper, typed loosely
    assert form.is_valid(), form.errors
    assert isinstance(form.get_user().otp_device, StaticDevice)
    assert StaticToken.objects.filter(device__user=user).count() == RECOVERY_CODE_COUNT - 1
    again = _staff_form(user, codes[0])
    assert not again.is_valid()
    assert StaticToken.objects.filter(device__user=user).count() == RECOVERY_CODE_COUNT - 1


def test_the_authenticator_code_still_works_and_a_wrong_code_does_not(personas: Any) -> None:
    user = personas.coordinator
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    recovery_codes_issue(user=user)
    good = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    form = _staff_form(user, f"{good:06d}")
    assert form.is_valid(), form.errors
    assert isinstance(form.get_user().otp_device, TOTPDevice)
    assert not _staff_form(personas.assistant_a, "abcde-fghjk").is_valid()  # no device at all
    assert not _staff_form(user, "zzzzz-zzzzz").is_valid()
    assert StaticToken.objects.filter(device__user=user).count() == RECOVERY_CODE_COUNT


def test_new_codes_replace_the_old_ones(personas: Any) -> None:
    user = personas.coordinator
    old = recovery_codes_issue(user=user)
    out = io.StringIO()
    call_command("recovery_codes", user.username, stdout=out)
    new = _codes_from(out.getvalue())
    assert len(new) == RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert _staff_form(user, new[1]).is_valid()
    assert not _staff_form(user, old[1]).is_valid()  # (a failure also throttles the next try)
    out = io.StringIO()
    call_command("recovery_codes", user.username, "--count", stdout=out)
    assert out.getvalue().strip() == str(RECOVERY_CODE_COUNT - 1)


def test_an_organisation_member_signs_in_to_the_portal_with_a_recovery_code(personas: Any) -> None:
    member = personas.org_member_1
    TOTPDevice.objects.create(user=member, name="default", confirmed=True)
    codes = recovery_codes_issue(user=member)
    # Resolve the URLconf first: importing it under the override would make the admin site the
    # two-factor one for the rest of this process (assist_center/urls.py decides at import).
    url = reverse("charity-login")
    data = {"username": member.username, "password": PASSWORD, "otp_token": codes[3]}
    with override_settings(STAFF_REQUIRE_2FA=True):
        client = Client()
        assert "恢复码" in client.get(url).content.decode()
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"] == "/charity/portal/"
        assert client.session.get("otp_device_id", "").startswith("otp_static")
        second = Client()
        assert second.post(url, data).status_code == 200
        assert "_auth_user_id" not in second.session


def test_recovery_code_devices_are_for_superusers_only_and_cannot_be_added(personas: Any) -> None:
    from tests import factories as f
    from tests.conftest import client_for

    recovery_codes_issue(user=personas.assistant_a)
    device = StaticDevice.objects.get(user=personas.assistant_a)
    changelist = reverse("admin:otp_static_staticdevice_changelist")
    change = reverse("admin:otp_static_staticdevice_change", args=[device.pk])
    for persona in ("coordinator", "assistant_a", "auditor"):
        client = client_for(getattr(personas, persona))
        assert client.get(changelist).status_code == 403, persona
        assert client.get(change).status_code in (403, 404), persona
    root = client_for(f.UserFactory(username="root", is_superuser=True))
    page = root.get(changelist)
    assert page.status_code == 200 and ">10<" in page.content.decode()  # codes left, never codes
    assert root.get(reverse("admin:otp_static_staticdevice_add")).status_code == 403
