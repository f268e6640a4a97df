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


@pytest.fixture
def poor_report(county_map: Any) -> Any:
    from eligibility.models import VerificationReport as Report
    from eligibility.services.verification import application_verify_run
    from tests.eligibility.db import in_pool, poor_family, publish_demo_standards

    publish_demo_standards(county_map.county)
    app = f.ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), needs=["dibao"], authorised=True
    )
    return application_verify_run(application_id=app.pk, trigger=Report.Trigger.AUTHORISED)


def test_the_report_offers_buttons_only_for_the_items_to_decide_and_names_what_is_open(
    poor_report: Any, personas: Any, login: Any
) -> None:
    from eligibility.services.decisions import items_to_decide

    application = poor_report.application
    to_decide = items_to_decide(application, poor_report)
    assert "dibao" in to_decide and len(to_decide) < 13
    client = login(personas.assistant_a)
    url = f"/admin/eligibility/verificationreport/{poor_report.pk}/change/"
    html = client.get(url).content.decode()
    # One decision form per item to decide, none for the others (shown folded, without buttons).
    assert html.count('name="decision" value="approve"') == len(to_decide)
    others = html.split('id="other-items"', 1)[1]
    assert 'name="decision"' not in others
    summary = html.split('id="decide-summary"', 1)[1].split("</div>", 1)[0]
    assert f"尚待您认定的项目（{len(to_decide)} 项）" in summary and "最低生活保障" in summary
    assert "认定符合，转办部门" in html and "不予认定（须填写理由）" in html
    assert ">同意<" not in html
    # Region names, not codes, in the standards; parameters with labels, not dicts.
    assert "（331" not in html and "{'" not in html and "低保标准（每人每月） 1150.00 元" in html
    assert 'type="submit" class="default" value="完成审核" disabled' in html

    # A home visit leaves the item open and says so.
    client.post(
        f"/admin/eligibility/verificationreport/{poor_report.pk}/decide/",
        {"item": "dibao", "decision": "home_visit"},
    )
    html = client.get(url).content.decode()
    summary = html.split('id="decide-summary"', 1)[1].split("</div>", 1)[0]
    assert "最低生活保障</a>（已安排入户核查，入户后再认定）" in summary


def test_finishing_with_open_items_names_them_in_chinese(poor_report: Any, personas: Any, login: Any) -> None:
    from eligibility.services.decisions import item_decide, items_to_decide

    application = poor_report.application
    to_decide = items_to_decide(application, poor_report)
    item_decide(actor=personas.assistant_a, application_id=application.pk, item="dibao", decision="approve")
    client = login(personas.assistant_a)
    response = client.post(f"/admin/eligibility/verificationreport/{poor_report.pk}/complete/", follow=True)
    html = response.content.decode()
    from eligibility.rules import ITEM_LABELS

    assert len(to_decide) > 1  # the poor family is found eligible for more than it asked for
    message = html.split('class="messagelist"', 1)[1].split("</ul>", 1)[0]
    for code in to_decide:
        if code != "dibao":
            assert ITEM_LABELS[code] in message
            assert code not in message
