"""The report names each record's department as its Department row does, not as the demo data did."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from assist_center.models import Department
from eligibility.models import VerificationReport
from eligibility.services.verification import application_verify_run

from ..factories import ApplicationFactory
from .db import in_pool, poor_family, publish_demo_standards


@pytest.mark.django_db
def test_a_renamed_department_shows_its_new_short_name_on_the_report_page(
    county_map: Any, personas: Any, login: Any
) -> None:
    publish_demo_standards(county_map.county)
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), needs=["dibao"], authorised=True
    )
    report = application_verify_run(application_id=app.pk, trigger=VerificationReport.Trigger.AUTHORISED)
    change = reverse("admin:eligibility_verificationreport_change", args=[report.pk])
    client = login(personas.assistant_a)
    assert "公安 户籍登记" in client.get(change).content.decode()

    Department.objects.filter(code="public_security").update(short_name="县公安局")
    html = client.get(change).content.decode()
    assert "县公安局 户籍登记" in html
    assert "公安 户籍登记" not in html
