"""Staff pages a new assistant, department or coordinator stumbles over (issue 16), through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from eligibility.models import VerificationReport
from referrals.models import Case
from tests import factories as f

pytestmark = pytest.mark.django_db


def _named(user: Any, name: str) -> Any:
    user.first_name = name
    user.save(update_fields=["first_name"])
    return user


def test_the_application_page_links_its_report_case_and_referrals(
    personas: Any, county_map: Any, login: Any
) -> None:
    case = f.CaseFactory(village=county_map.village_a1, items=["dibao"], assistant=personas.assistant_a)
    application = case.application
    referral = case.referrals.get()
    page = login(personas.assistant_a).get(f"/admin/applications/application/{application.pk}/change/")
    html = page.content.decode()
    report = VerificationReport.objects.filter(application=application).order_by("-pk").first()
    assert report is not None
    assert f'href="/admin/eligibility/verificationreport/{report.pk}/change/"' in html
    assert f'href="/admin/referrals/case/{case.pk}/change/"' in html
    assert f'href="/staff/referrals/{referral.pk}/"' in html
    assert f"转办至{referral.department.name}（" in html
    # A village cadre reads the application but opens neither the case nor the workbench.
    cadre = login(personas.cadre_a1).get(f"/admin/applications/application/{application.pk}/change/")
    assert f"/admin/referrals/case/{case.pk}/" not in cadre.content.decode()


def test_the_history_names_people_and_roles_not_usernames(personas: Any, county_map: Any, login: Any) -> None:
    assistant = _named(personas.assistant_a, "朱俊")
    application = f.ApplicationFactory(verified=True, village=county_map.village_a1, assistant=assistant)
    html = login(personas.coordinator).get(f"/admin/applications/application/{application.pk}/history/")
    page = html.content.decode()
    audit = page.split('id="audit-history"', 1)[1].split('id="version-history"', 1)[0]
    assert "朱俊（乡镇民政助理员 · 海游街道）" in audit
    assert "<td>assistant_a</td>" not in audit
    assert "提交申请" in audit and "状态变更" in audit and "系统" in audit
    assert "application.submitted" not in audit and ">system<" not in audit
    assert "状态：已提交 → 待家庭授权" in audit
    change = login(personas.coordinator).get(f"/admin/applications/application/{application.pk}/change/")
    assert "朱俊（乡镇民政助理员 · 海游街道）" in change.content.decode()
    assert Case.objects.count() == 0


def test_the_department_sees_the_townships_decision_and_its_reason(
    personas: Any, county_map: Any, login: Any
) -> None:
    from eligibility.services.decisions import application_decide_complete, item_decide

    assistant = _named(personas.assistant_a, "朱俊")
    application = f.ApplicationFactory(verified=True, village=county_map.village_a1, assistant=assistant)
    item_decide(
        actor=assistant,
        application_id=application.pk,
        item="dibao",
        decision="approve",
        reason="入户核实：家中无劳动力，收入低于标准",
    )
    application_decide_complete(actor=assistant, application_id=application.pk)
    referral = Case.objects.get(application=application).referrals.get()
    assert referral.department_id == county_map.dept_civil.pk
    page = login(personas.dept_civil).get(f"/staff/referrals/{referral.pk}/").content.decode()
    decision = page.split('id="rw-decision-dibao"', 1)[1].split("</p>", 1)[0]
    assert "乡镇认定意见：同意" in decision
    assert "入户核实：家中无劳动力，收入低于标准" in decision
    assert "朱俊（乡镇民政助理员 · 海游街道）" in decision
