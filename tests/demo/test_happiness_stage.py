"""seed_demo's happiness stage: cards for the households with a year, the banner's link opens one."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from assist_center.models import SmsMessage
from assist_center.sms import backends
from assist_center.sms.services import sms_deliver
from demo.happiness import showcase
from demo.management.commands.demo_banner import banner_lines
from happiness_list.models import HappinessCard


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command(
            "seed_demo",
            stage=["county", "pool", "cases", "rolls"],
            households=300,
            seed=7,
            count=8,
            stdout=io.StringIO(),
        )
        yield


def test_the_happiness_stage_issues_cards_and_the_banners_link_opens_a_full_year(demo_county: Any) -> None:
    out = io.StringIO()
    call_command("seed_demo", stage=["happiness"], stdout=out)
    assert "演示幸福清单已生成" in out.getvalue()
    cards = HappinessCard.objects.count()
    assert cards > 0
    call_command("seed_demo", stage=["happiness"], stdout=io.StringIO())
    assert HappinessCard.objects.count() == cards  # a rerun keeps every token

    shown = showcase()
    assert shown is not None and shown.entries >= 6
    banner = "\n".join(banner_lines())
    assert shown.url in banner and shown.phone in banner

    # The link and the phone open the household's list.
    path = shown.url[shown.url.index("/happiness/") :]
    client = Client()
    assert client.post(path, {"action": "send", "phone": shown.phone}).status_code == 200
    for sms_id in SmsMessage.objects.filter(status="pending").values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)
    code = [m.params["code"] for m in backends.outbox if m.template == "otp"][-1]
    assert client.post(path, {"action": "verify", "otp": code}).status_code == 302
    body = client.get(path).content.decode()
    assert "data-total" in body and body.count('class="hl-entry"') >= 6
