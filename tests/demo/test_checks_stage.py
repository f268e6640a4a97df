"""seed_demo's checks stage: the township worklist has omissions and duplicates to find (issue 12)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from happiness_list.models import FlagCheckRun, ListFlag


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command(
            "seed_demo",
            stage=["county", "pool", "cases", "rolls", "charity"],
            households=500,
            seed=7,
            count=8,
            stdout=io.StringIO(),
        )
        yield


def test_the_checks_stage_leaves_omissions_and_duplicates_on_the_first_townships_worklist(
    demo_county: Any,
) -> None:
    out = io.StringIO()
    call_command("seed_demo", stage=["checks"], stdout=out)
    assert "演示遗漏与重复已生成" in out.getvalue()
    assert FlagCheckRun.objects.count() == 1
    reasons = set(ListFlag.objects.filter(status="open").values_list("reason", flat=True))
    assert {"enrolled_not_paid", "two_providers", "event_twice", "charity_duplicates_paid"} <= reasons
    count = ListFlag.objects.count()

    # A rerun (the same day: the night's run exists) plants and raises nothing new.
    call_command("seed_demo", stage=["checks"], stdout=io.StringIO())
    assert ListFlag.objects.count() == count

    # The first township's assistant finds them on the worklist.
    from django.contrib.auth import get_user_model

    assistant = get_user_model()._default_manager.get(username="assistant_1")
    client = Client()
    client.force_login(assistant)
    page = client.get(reverse("happiness-flags"))
    assert page.status_code == 200
    mine = ListFlag.objects.filter(township_id=assistant.profile.region_id, status="open")
    assert mine.filter(kind="omission").exists() and mine.filter(kind="duplicate").exists()
    html = page.content.decode()
    assert all(
        f'data-flag="{pk}"' in html
        for pk in mine.order_by("-period", "kind", "id").values_list("pk", flat=True)[:20]
    )
