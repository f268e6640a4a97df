"""seed_demo's monitoring stage: warnings and leads through the real import, monitoring and discovery."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from eligibility.models import DiscoveryLead, MonitoringWarning


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command(
            "seed_demo", stage=["county", "pool", "rolls"], households=300, seed=7, stdout=io.StringIO()
        )
        yield


def test_the_demo_has_warnings_and_leads_for_the_first_assistant_and_a_rerun_adds_none(
    demo_county: Any,
) -> None:
    out = io.StringIO()
    call_command("seed_demo", stage=["monitoring"], stdout=out)
    assert "演示监测预警已生成" in out.getvalue()
    warnings = MonitoringWarning.objects.filter(township__name="海游街道")
    leads = DiscoveryLead.objects.filter(township__name="海游街道")
    assert warnings.count() >= 3 and leads.count() >= 3
    assert {"vehicle_registered", "pension_started"} <= set(warnings.values_list("change", flat=True))
    assert {"new_disability", "unemployment_registered"} <= set(leads.values_list("reason", flat=True))
    counts = (MonitoringWarning.objects.count(), DiscoveryLead.objects.count())
    call_command("seed_demo", stage=["monitoring"], stdout=io.StringIO())
    assert (MonitoringWarning.objects.count(), DiscoveryLead.objects.count()) == counts
    again = io.StringIO()
    call_command("seed_demo", "--if-empty", stage=["monitoring"], stdout=again)
    assert "未生成" in again.getvalue()
