"""Every read path of a household's personal data writes the household access log (issue 12).

Like tests/test_every_url_and_admin_is_scoped.py, this walks the URLconf and every ModelAdmin:
each URL name (a ModelAdmin by "admin:<app>.<Model>", covering its change page) is either in
READS, mapped to the purpose it logs and the test below that proves the row is written, or in
NOT_READS with the reason it shows no household's personal data. A new route in neither fails,
and says what to add. A ModelAdmin in READS must also derive from HouseholdAccessAdminMixin
(applications/admin/access.py) with the same purpose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from django.contrib import admin
from django.urls import get_resolver, reverse

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose, Application, ApplicationMember, Household, HouseholdAccess
from eligibility.models import DiscoveryLead, ItemDecision, MonitoringWarning, VerificationReport
from eligibility.rules import DEMO_PARAMS
from referrals.models import OutsidePolicyNeed, Referral
from tests import factories as f
from tests.eligibility.db import publish_demo_standards
from tests.eligibility.test_monitoring_admin import lead, warning  # noqa: F401  (fixtures)
from tests.referrals.builders import open_case
from tests.test_every_url_and_admin_is_scoped import (
    _test_exists,
    model_admin_key,
    standard_admin_url_names,
    walk,
)

THIS_FILE = "tests/happiness_list/test_access_routes.py"
P = AccessPurpose
_ADMIN = f"{THIS_FILE}::test_the_admin_change_pages_log_their_household"
_REVEAL = f"{THIS_FILE}::test_reveals_are_logged_with_their_reason"
_DOWNLOAD = f"{THIS_FILE}::test_downloads_are_logged"
_BRIEF = f"{THIS_FILE}::test_a_department_opening_a_referral_brief_is_logged"
_APPLICATION = f"{THIS_FILE}::test_the_application_detail_and_the_paper_page_are_logged"
_MONITORING = f"{THIS_FILE}::test_monitoring_warning_pages_are_logged"
_LEAD = f"{THIS_FILE}::test_outreach_lead_pages_are_logged"
_WHATIF = f"{THIS_FILE}::test_the_what_if_table_and_its_csv_log_every_household_in_them"
_HOUSEHOLD = f"{THIS_FILE}::test_the_household_page_is_logged"
_FLAGS = (
    "tests/happiness_list/test_flags.py::test_the_worklist_is_the_townships_another_townships_flag_is_404"
)
_CARDS = "tests/happiness_list/test_cards_receipts.py"
_BENEFITS = f"{THIS_FILE}::test_the_benefits_admin_logs_the_household_of_each_row_it_opens"
_CHARITY = f"{THIS_FILE}::test_the_centres_need_and_claim_pages_are_logged"
_RATING = f"{THIS_FILE}::test_the_low_rating_task_page_is_logged"

# URL name or "admin:<app>.<Model>" -> (the purpose logged, the test proving it).
READS: dict[str, tuple[AccessPurpose, str]] = {
    "admin:applications.Household": (P.ADMIN_RECORD, _ADMIN),
    "admin:applications.Person": (P.ADMIN_RECORD, _ADMIN),
    "admin:applications.Application": (P.APPLICATION, _ADMIN),
    "admin:applications_person_reveal": (P.REVEAL, _REVEAL),
    "admin:applications_application_member_reveal": (P.REVEAL, _REVEAL),
    "api-application-member-reveal": (P.REVEAL, _REVEAL),
    "admin:applications_application_form": (P.DOWNLOAD, _DOWNLOAD),
    "api-application-detail": (P.APPLICATION, _APPLICATION),
    "staff-paper-upload": (P.APPLICATION, _APPLICATION),
    "admin:eligibility.VerificationReport": (P.VERIFICATION, _ADMIN),
    "admin:eligibility_verificationreport_for_application": (P.VERIFICATION, _ADMIN),
    "admin:eligibility_verificationreport_pdf": (P.DOWNLOAD, _DOWNLOAD),
    "admin:eligibility.ItemDecision": (P.VERIFICATION, _ADMIN),
    "admin:eligibility.MonitoringWarning": (P.MONITORING, _MONITORING),
    "admin:eligibility_monitoringwarning_resolve": (P.MONITORING, _MONITORING),
    "admin:eligibility_monitoringwarning_whatif": (P.SIMULATION, _WHATIF),
    "admin:eligibility_monitoringwarning_whatif_csv": (P.EXPORT, _WHATIF),
    "admin:eligibility.DiscoveryLead": (P.DISCOVERY, _LEAD),
    "admin:eligibility_discoverylead_handle": (P.DISCOVERY, _LEAD),
    "admin:referrals.Case": (P.CASE, _ADMIN),
    "admin:referrals.Referral": (P.REFERRAL_BRIEF, _ADMIN),
    "admin:referrals.OutsidePolicyNeed": (P.CASE, _ADMIN),
    "workbench-referral": (P.REFERRAL_BRIEF, _BRIEF),
    "api-referral-detail": (P.REFERRAL_BRIEF, _BRIEF),
    "staff-household": (P.HOUSEHOLD_PAGE, _HOUSEHOLD),
    # The cadre's side of the happiness list (issue 12): a flag with its evidence, a household's flags,
    # a household's or a village's 幸福签 cards (the PDF names the masked head and the village).
    "happiness-flag": (P.FLAG_REVIEW, _FLAGS),
    "happiness-household-flags": (P.FLAG_REVIEW, _FLAGS),
    "happiness-card": (
        P.DOWNLOAD,
        f"{_CARDS}::test_printing_a_households_card_rotates_its_token_and_is_scoped",
    ),
    "happiness-village-cards": (
        P.DOWNLOAD,
        f"{_CARDS}::test_a_villages_batch_prints_every_household_and_another_village_is_404",
    ),
    # The rolls, their history, the ledger and the roll tasks (issue 14): a person's name, an amount.
    "admin:benefits.Enrolment": (P.ADMIN_RECORD, _BENEFITS),
    "admin:benefits.EnrolmentEvent": (P.ADMIN_RECORD, _BENEFITS),
    "admin:benefits.BenefitEntry": (P.ADMIN_RECORD, _BENEFITS),
    "admin:benefits.RollTask": (P.ADMIN_RECORD, _BENEFITS),
    "admin:benefits_enrolment_state": (P.ADMIN_RECORD, _BENEFITS),
    "admin:benefits_rolltask_resolve": (P.ADMIN_RECORD, _BENEFITS),
    # 公益谷 (issue 11): the organisation's delivery details, the centre's need and claim pages.
    "charity-portal-delivery": (
        P.CLAIM_DELIVERY,
        "tests/charity/test_scoping.py::test_delivery_details_show_only_with_sharing_consent_and_each_view_is_logged",
    ),
    "charity-staff-need": (P.CASE, _CHARITY),
    "charity-staff-claim": (P.CASE, _CHARITY),
    # A file of the centre's answer to a department (issue 16).
    "workbench-referral-attachment": (
        P.DOWNLOAD,
        "tests/referrals/test_attachments.py::test_the_answer_carries_files_the_department_downloads_with_their_checked_type",
    ),
    # A low rating's task: the comment, the masked applicant, the village (issue 12).
    "rating-task": (P.CASE, _RATING),
}

_LIST = "a list of masked summaries of many households; opening one is the logged read"
_ACTION = "a state change (POST, audited by its service); it redirects to or re-renders a logged page"
_CONFIG = "county configuration or accounts: no household's data"
_OWN = "the resident's own data, on the login-free pages (the resident is not logged as a reader)"
_PUBLIC = "a login-free public page: published (anonymised) cards, figures or forms, no household's data"
_AGGREGATE = "counts and sums over many households, never one household's row"
_ORG = "the organisation's own account, claims (the need's public card) or projects"
_TRAINING = "a volunteer's training attendance or certificate: an organisation's people, not a household"
_PUSH = "a department's push of records (a write) or its job's counts and masked error rows"

# URL name or "admin:<app>.<Model>" -> why it shows no household's personal data to a reader.
NOT_READS: dict[str, str] = {
    "happiness-flags": _LIST,
    "happiness-card-batches": "the villages in scope, each with a print button: no household's data",
    "happiness-assisted-open": _ACTION,
    "home": "the public front page",
    "healthz": "load-balancer probe",
    "api-schema": "OpenAPI schema",
    "api-docs": "OpenAPI docs",
    "set_language": "a language cookie",
    "admin:index": "the admin's menu",
    "admin:app_list": "the admin's menu of one app",
    "admin:login": "the login form",
    "admin:logout": "ends the session",
    "admin:password_change": "the user's own password",
    "admin:password_change_done": "the user's own password",
    "admin:jsi18n": "the admin's translation catalogue",
    "admin:autocomplete": "masked labels of in-scope objects for a picker, as a list",
    "admin:assist_center.Region": _CONFIG,
    "admin:assist_center.Department": _CONFIG,
    "admin:assist_center.CalendarDay": _CONFIG,
    "admin:assist_center.CalendarYear": _CONFIG,
    "admin:assist_center.OutboxMessage": "task names and ids, never personal data (security.md)",
    "admin:assist_center.SmsMessage": "the SMS log: phones masked, texts carry no personal data",
    "admin:assist_center.AuditEvent": "the audit trail: values stored masked; the auditor's and the centre's",
    "admin:auth.User": _CONFIG,
    "admin:auth_user_password_change": _CONFIG,
    "admin:axes.AccessAttempt": _CONFIG,
    "admin:axes.AccessLog": _CONFIG,
    "admin:axes.AccessFailureLog": _CONFIG,
    "admin:otp_totp.TOTPDevice": _CONFIG,
    "admin:otp_totp_totpdevice_config": _CONFIG,
    "admin:otp_totp_totpdevice_qrcode": _CONFIG,
    "admin:applications.AssistCode": "region QR codes and posters",
    "admin:applications_assistcode_poster": "region QR codes and posters",
    "admin:applications_assistcode_qr_png": "region QR codes and posters",
    "admin:applications_assistcode_qr_svg": "region QR codes and posters",
    "admin:applications_assistcode_township_posters": "region QR codes and posters",
    "admin:applications_assistcode_township_zip": "region QR codes and posters",
    "admin:applications_application_search": _LIST,
    "admin:applications_application_transition": _ACTION,
    "api-applications": _LIST,
    "api-application-on-behalf": "an assistant submitting what the resident tells them (代办): a write",
    "api-application-withdraw": _ACTION,
    "api-application-reject": _ACTION,
    "staff-on-behalf": "an assistant submitting what the resident tells them (代办): a write",
    "admin:eligibility.ImportJob": "the coordinator's import jobs: counts and masked error rows",
    "admin:eligibility_importjob_upload": "the coordinator's import jobs: counts and masked error rows",
    "admin:eligibility_importjob_status": "the coordinator's import jobs: counts and masked error rows",
    "admin:eligibility_importjob_errors": "the coordinator's import jobs: counts and masked error rows",
    "admin:eligibility_verificationreport_decide": _ACTION,
    "admin:eligibility_verificationreport_rerun": _ACTION,
    "admin:eligibility_verificationreport_complete": _ACTION,
    "admin:eligibility.Standard": _CONFIG,
    "admin:referrals.Notification": "a referral's id, department and colour: no household's data",
    "admin:referrals.DeadlineRule": _CONFIG,
    "admin:referrals.DepartmentContact": _CONFIG,
    "api-referrals": _LIST,
    "api-referral-accept": _ACTION,
    "api-referral-request-info": _ACTION,
    "api-referral-answer-info": _ACTION,
    "api-referral-return": _ACTION,
    "api-referral-complete": _ACTION,
    "api-referral-reassign": _ACTION,
    "api-referral-extend": _ACTION,
    "api-referral-cancel": _ACTION,
    "api-case-referral-add": _ACTION,
    "workbench": _LIST,
    "workbench-referral-accept": _ACTION,
    "workbench-referral-request-info": _ACTION,
    "workbench-referral-answer-info": _ACTION,
    "workbench-referral-return": _ACTION,
    "workbench-referral-complete": _ACTION,
    "workbench-referral-reassign": _ACTION,
    "workbench-referral-extend": _ACTION,
    "workbench-referral-cancel": _ACTION,
    "centre-queue": _LIST,
    "centre-stats": "counts and working days per case, no household's data",
    "apply": _OWN,
    "apply-receipt": _OWN,
    "family": _OWN,
    "api-public-regions": "the region tree",
    "api-public-otp": _OWN,
    "api-public-applications": _OWN,
    "api-public-application-status": _OWN,
    "status": _OWN,
    "family-authorisation-pdf": "a blank paper form of a family link: masked names, as the family page",
    # Issue 12: the household's own list (its verified session; its reading is audited).
    "happiness": _OWN,
    "happiness-statement": _OWN,
    "happiness-receipt": "a receipt check's yes/no: one entry's item, month and amount, to the household",
    "happiness-rate": _OWN,
    "api-public-happiness": _OWN,
    # Issue 14: the township's own duty contacts.
    "admin:benefits.TownshipContact": "the township's duty phones: no household's data",
    # Issue 11: 公益谷.
    "admin:charity.Organisation": _CONFIG,
    "admin:charity.PublicReport": "a report on a published card, with the reporter's own contact",
    "charity-board": _PUBLIC,
    "charity-need": _PUBLIC,
    "charity-public-needs": _PUBLIC,
    "charity-report": _PUBLIC,
    "charity-funds": _PUBLIC,
    "charity-funds-csv": _PUBLIC,
    "charity-funds-xlsx": _PUBLIC,
    "charity-projects": _PUBLIC,
    "charity-project": _PUBLIC,
    "charity-stats": _PUBLIC,
    "charity-resident-answer": _OWN,
    "charity-login": "the organisation's login form",
    "charity-logout": "ends the session",
    "charity-portal": _ORG,
    "charity-portal-claim": _ORG + "; the delivery details are their own, logged page",
    "charity-portal-projects": _ORG,
    "charity-portal-project": _ORG,
    "charity-need-claim": "an organisation claiming a published need: a write",
    "charity-staff": _LIST,
    "charity-training-attend": _TRAINING,
    "charity-training-code": _TRAINING,
    "charity-training-certificate": _TRAINING,
    # Issue 15: the departments' push API and its keys.
    "admin:eligibility.PushKey": _CONFIG,
    "admin:eligibility_importjob_template": "a blank CSV header for an import",
    "api-pool-records-push": _PUSH,
    "api-pool-job": _PUSH,
    "admin:otp_static.StaticDevice": _CONFIG,
    "admin:referrals.WorkChannel": "a department's DingTalk robot: configuration",
    # The dashboards (issue 13).
    "dashboard": _AGGREGATE,
    "dashboard-page": _AGGREGATE,
    "dashboard-export": _AGGREGATE,
    # Ratings and evaluation (issue 12): the rated units' figures; the task page is the logged read.
    "ratings-centre": "open tasks, disputes and flags by township and unit: no household named",
    "rating-task-contact": _ACTION,
    "rating-task-answer": _ACTION,
    "rating-dispute": _ACTION,
    "rating-dispute-review": _ACTION,
    "evaluation-home": _AGGREGATE,
    "evaluation-detail": "one unit's rating figures and low ratings, never the household",
}

# Routes not yet classified (issue 12): empty. A route named here still passes the walk below, so
# that a helper adding one may land it before classifying it; never leave one here at a release.
PENDING_CLASSIFICATION: frozenset[str] = frozenset()


def _keys() -> dict[str, str]:
    """Every URL name and ModelAdmin key -> a description for the failure message."""
    standard = standard_admin_url_names()
    keys: dict[str, str] = {}
    for url in walk(get_resolver()):
        if url.name is None:
            continue
        keys.setdefault(standard.get(url.name, url.name), f"route '{url.route}' (view {url.view})")
    for model, model_admin in admin.site._registry.items():
        keys.setdefault(model_admin_key(model), f"ModelAdmin {type(model_admin).__qualname__}")
    return keys


def test_every_route_is_a_logged_read_or_says_why_it_is_not() -> None:
    problems = [
        f"{key}: {what} is in neither READS nor NOT_READS of {THIS_FILE}. If it shows a household's "
        "personal data, call applications.services.access.household_access_record in its view (a "
        "ModelAdmin: derive from applications.admin.access.HouseholdAccessAdminMixin) and add\n"
        f'        "{key}": (AccessPurpose.<PURPOSE>, "<test that proves the row>"),\n'
        "    to READS; otherwise add it to NOT_READS with the reason."
        for key, what in sorted(_keys().items())
        if key not in READS and key not in NOT_READS and key not in PENDING_CLASSIFICATION
    ]
    assert not problems, "\n\n".join(problems)


def test_no_entry_is_stale_or_in_both_tables() -> None:
    keys = _keys()
    assert not (set(READS) & set(NOT_READS))
    assert not (set(PENDING_CLASSIFICATION) & (set(READS) | set(NOT_READS)))
    stale = sorted(k for k in [*READS, *NOT_READS, *PENDING_CLASSIFICATION] if k not in keys)
    assert not stale, f"Remove from {THIS_FILE} the entries of views that no longer exist: {stale}"


def test_every_read_names_an_existing_test_and_admins_use_the_mixin() -> None:
    missing = [f"{k}: {node}" for k, (_, node) in READS.items() if not _test_exists(node)]
    assert not missing, missing
    for model, model_admin in admin.site._registry.items():
        key = model_admin_key(model)
        if key in READS:
            assert isinstance(model_admin, HouseholdAccessAdminMixin), key
            assert model_admin.household_access_purpose == READS[key][0], key


# --- the proofs --------------------------------------------------------------------------------


def rows(household: Household, purpose: AccessPurpose) -> list[HouseholdAccess]:
    return list(HouseholdAccess.objects.filter(household=household, purpose=purpose).order_by("id"))


@pytest.fixture
def story(county_map: Any, personas: Any) -> dict[str, Any]:
    """A household of village a1 with an application, its report and decisions, a case and referrals."""
    household = f.household(county_map.village_a1, members=2)
    case = open_case(county_map.village_a1, actor=personas.assistant_a)
    Application.objects.filter(pk=case.application_id).update(household=household)
    application = Application.objects.get(pk=case.application_id)
    need = OutsidePolicyNeed.objects.create(
        case=case,
        application=application,
        township=county_map.town_a,
        text="需要轮椅",
        publish_consent=False,
        share_consent=False,
    )
    return {
        "household": household,
        "application": application,
        "case": case,
        "need": need,
        "referral": Referral.objects.filter(case=case, department=county_map.dept_civil).get(),
        "report": VerificationReport.objects.get(application=application),
        "decision": ItemDecision.objects.filter(application=application).first(),
        "person": household.members.first(),
    }


@pytest.mark.django_db
def test_the_admin_change_pages_log_their_household(story: dict[str, Any], personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    pages = [
        ("applications_household_change", story["household"], P.ADMIN_RECORD),
        ("applications_person_change", story["person"], P.ADMIN_RECORD),
        ("applications_application_change", story["application"], P.APPLICATION),
        ("eligibility_verificationreport_change", story["report"], P.VERIFICATION),
        ("eligibility_itemdecision_change", story["decision"], P.VERIFICATION),
        ("referrals_case_change", story["case"], P.CASE),
        ("referrals_referral_change", story["referral"], P.REFERRAL_BRIEF),
        ("referrals_outsidepolicyneed_change", story["need"], P.CASE),
    ]
    for name, obj, purpose in pages:
        before = len(rows(story["household"], purpose))
        assert client.get(reverse(f"admin:{name}", args=[obj.pk])).status_code == 200, name
        logged = rows(story["household"], purpose)
        assert len(logged) == before + 1, name
        assert logged[-1].actor == personas.coordinator and logged[-1].subject_id == str(obj.pk), name
    # The application's report page is reached by the application too; it redirects to the logged page.
    url = reverse("admin:eligibility_verificationreport_for_application", args=[story["application"].pk])
    assert client.get(url, follow=True).status_code == 200
    assert len(rows(story["household"], P.VERIFICATION)) == 3
    # Another township's assistant gets the 404 and leaves no row.
    assert (
        login(personas.assistant_b)
        .get(reverse("admin:applications_household_change", args=[story["household"].pk]))
        .status_code
        == 404
    )
    assert not HouseholdAccess.objects.filter(actor=personas.assistant_b).exists()


@pytest.mark.django_db
def test_a_department_opening_a_referral_brief_is_logged(
    story: dict[str, Any], personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.dept_civil)
    referral = story["referral"]
    assert client.get(reverse("workbench-referral", args=[referral.pk])).status_code == 200
    assert client.get(reverse("api-referral-detail", args=[referral.pk])).status_code == 200
    logged = rows(story["household"], P.REFERRAL_BRIEF)
    assert [(r.role, r.department, r.subject_id) for r in logged] == [
        ("department_staff", county_map.dept_civil, str(referral.pk))
    ] * 2
    # The other department's clerk gets the 404 and leaves no row.
    assert (
        login(personas.dept_medical).get(reverse("workbench-referral", args=[referral.pk])).status_code == 404
    )
    assert len(rows(story["household"], P.REFERRAL_BRIEF)) == 2


@pytest.mark.django_db
def test_reveals_are_logged_with_their_reason(story: dict[str, Any], personas: Any, login: Any) -> None:
    client = login(personas.assistant_a)
    person = story["person"]
    response = client.post(
        reverse("admin:applications_person_reveal", args=[person.pk]),
        {"field": "id_number", "reason": "核对低保材料"},
    )
    assert response.status_code == 200
    application = story["application"]
    member = application.members.get(role=ApplicationMember.Role.APPLICANT)
    url = reverse("admin:applications_application_member_reveal", args=[application.pk, member.pk])
    assert client.post(url, {"field": "phone", "reason": "联系申请人"}).status_code == 200
    api = reverse("api-application-member-reveal", args=[application.pk, member.pk])
    assert (
        client.post(
            api, {"field": "phone", "reason": "电话回访"}, content_type="application/json"
        ).status_code
        == 200
    )
    logged = rows(story["household"], P.REVEAL)
    assert [r.reason for r in logged] == ["核对低保材料", "联系申请人", "电话回访"]
    # A refused reveal (too short a reason) reveals nothing and logs nothing.
    client.post(
        reverse("admin:applications_person_reveal", args=[person.pk]), {"field": "id_number", "reason": "x"}
    )
    assert len(rows(story["household"], P.REVEAL)) == 3


@pytest.mark.django_db
def test_downloads_are_logged(story: dict[str, Any], personas: Any, login: Any) -> None:
    pdf = b"%PDF-1.4 test"
    Application.objects.filter(pk=story["application"].pk).update(
        form_pdf=pdf, form_sha256=hashlib.sha256(pdf).hexdigest(), form_generated_at=dt.datetime.now(dt.UTC)
    )
    client = login(personas.assistant_a)
    assert (
        client.get(reverse("admin:applications_application_form", args=[story["application"].pk])).status_code
        == 200
    )
    response = client.get(reverse("admin:eligibility_verificationreport_pdf", args=[story["report"].pk]))
    assert response.status_code == 200
    assert [r.subject_type for r in rows(story["household"], P.DOWNLOAD)] == [
        "applications.application",
        "eligibility.verificationreport",
    ]


@pytest.mark.django_db
def test_the_application_detail_and_the_paper_page_are_logged(
    story: dict[str, Any], personas: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    application = story["application"]
    member = application.members.get(role=ApplicationMember.Role.APPLICANT)
    assert client.get(reverse("api-application-detail", args=[application.pk])).status_code == 200
    assert client.get(reverse("staff-paper-upload", args=[application.pk, member.pk])).status_code == 200
    assert [r.subject_type for r in rows(story["household"], P.APPLICATION)] == [
        "applications.application",
        "applications.applicationmember",
    ]


@pytest.mark.django_db
def test_monitoring_warning_pages_are_logged(
    warning: MonitoringWarning,  # noqa: F811
    personas: Any,
    login: Any,
) -> None:
    client = login(personas.assistant_a)
    assert (
        client.get(reverse("admin:eligibility_monitoringwarning_change", args=[warning.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:eligibility_monitoringwarning_resolve", args=[warning.pk])).status_code
        == 200
    )
    assert rows(warning.household, P.MONITORING)[-1].subject_id == str(warning.pk)
    assert len(rows(warning.household, P.MONITORING)) == 2


@pytest.mark.django_db
def test_outreach_lead_pages_are_logged(lead: DiscoveryLead, personas: Any, login: Any) -> None:  # noqa: F811
    client = login(personas.assistant_a)
    assert client.get(reverse("admin:eligibility_discoverylead_change", args=[lead.pk])).status_code == 200
    assert client.get(reverse("admin:eligibility_discoverylead_handle", args=[lead.pk])).status_code == 200
    assert lead.person is not None
    assert len(rows(lead.person.household, P.DISCOVERY)) == 2


@pytest.mark.django_db
def test_the_what_if_table_and_its_csv_log_every_household_in_them(
    county_map: Any, personas: Any, login: Any
) -> None:
    from tests.eligibility.test_whatif import household as rolls_household

    publish_demo_standards(county_map.county)
    gains = rolls_household(county_map.village_a1, monthly_wage=1200)
    unchanged = rolls_household(county_map.village_a1, monthly_wage=5000)
    client = login(personas.coordinator)
    params = json.dumps({**DEMO_PARAMS["dibao"], "amount_per_person_month": "1300"})
    body = {"item": "dibao", "params": params}
    assert client.post(reverse("admin:eligibility_monitoringwarning_whatif"), body).status_code == 200
    assert client.post(reverse("admin:eligibility_monitoringwarning_whatif_csv"), body).status_code == 200
    assert (len(rows(gains, P.SIMULATION)), len(rows(gains, P.EXPORT))) == (1, 1)
    # A household whose result does not change is not in the table, so not in the log.
    assert not HouseholdAccess.objects.filter(household=unchanged).exists()


@pytest.mark.django_db
def test_the_household_page_is_logged(county_map: Any, personas: Any, login: Any) -> None:
    household = f.household(county_map.village_a1, members=1)
    assert login(personas.cadre_a1).get(reverse("staff-household", args=[household.pk])).status_code == 200
    logged = rows(household, P.HOUSEHOLD_PAGE)
    assert [(r.role, r.actor) for r in logged] == [("village_cadre", personas.cadre_a1)]
    assert login(personas.assistant_b).get(reverse("staff-household", args=[household.pk])).status_code == 404
    assert len(rows(household, P.HOUSEHOLD_PAGE)) == 1


@pytest.mark.django_db
def test_the_benefits_admin_logs_the_household_of_each_row_it_opens(
    county_map: Any, personas: Any, login: Any
) -> None:
    from benefits.models import BenefitEntry, EnrolmentEvent
    from benefits.services.ledger import ledger_write_month
    from tests.benefits.test_admin import _enrol, _task

    household = f.household(county_map.village_a1, members=2)
    enrolment = _enrol(household, "dibao", "850.00", personas.assistant_a)
    ledger_write_month(month=dt.date(2026, 1, 1))
    task = _task(household, enrolment, 1)
    entry = BenefitEntry.objects.filter(household=household).first()
    event = EnrolmentEvent.objects.filter(enrolment=enrolment).first()
    assert entry is not None and event is not None
    client = login(personas.assistant_a)
    pages = [
        reverse("admin:benefits_enrolment_change", args=[enrolment.pk]),
        reverse("admin:benefits_enrolmentevent_change", args=[event.pk]),
        reverse("admin:benefits_benefitentry_change", args=[entry.pk]),
        reverse("admin:benefits_rolltask_change", args=[task.pk]),
        reverse("admin:benefits_enrolment_state", args=[enrolment.pk]),
        reverse("admin:benefits_rolltask_resolve", args=[task.pk]),
    ]
    for n, url in enumerate(pages, start=1):
        assert client.get(url).status_code == 200, url
        assert len(rows(household, P.ADMIN_RECORD)) == n, url
    assert [r.subject_type for r in rows(household, P.ADMIN_RECORD)] == [
        "benefits.enrolment",
        "benefits.enrolmentevent",
        "benefits.benefitentry",
        "benefits.rolltask",
        "benefits.enrolment",
        "benefits.rolltask",
    ]
    # The lists show many households and log none; another township's assistant gets 404s, no row.
    assert client.get(reverse("admin:benefits_enrolment_changelist")).status_code == 200
    assert len(rows(household, P.ADMIN_RECORD)) == len(pages)
    other = login(personas.assistant_b)
    for url in pages:
        assert other.get(url).status_code in (302, 404), url
    assert not HouseholdAccess.objects.filter(actor=personas.assistant_b).exists()


@pytest.mark.django_db
def test_the_centres_need_and_claim_pages_are_logged(county_map: Any, personas: Any, login: Any) -> None:
    from charity.models import Organisation
    from charity.services.claims import need_claim
    from tests.charity.helpers import draft_need, published_need, vetted

    vetted(Organisation.objects.get(members=personas.org_member_1))
    draft = draft_need(personas.coordinator, county_map.village_a1)
    need = published_need(personas.coordinator, county_map.village_a1, phone="13800138001")
    claim = need_claim(actor=personas.org_member_1, public_id=need.public_id)
    client = login(personas.assistant_a)
    assert client.get(reverse("charity-staff-need", args=[draft.pk])).status_code == 200
    assert client.get(reverse("charity-staff-claim", args=[claim.pk])).status_code == 200
    assert [(r.subject_type, r.subject_id) for r in rows(draft.household, P.CASE)] == [
        ("charity.need", str(draft.pk))
    ]
    assert [(r.subject_type, r.actor) for r in rows(need.household, P.CASE)] == [
        ("charity.claim", personas.assistant_a)
    ]
    # The worklist names no household and logs nothing; another township's assistant gets a 404.
    assert client.get(reverse("charity-staff")).status_code == 200
    other = login(personas.assistant_b)
    assert other.get(reverse("charity-staff-claim", args=[claim.pk])).status_code == 404
    assert other.get(reverse("charity-staff-need", args=[draft.pk])).status_code == 404
    assert HouseholdAccess.objects.filter(purpose=P.CASE).count() == 2


@pytest.mark.django_db
def test_the_low_rating_task_page_is_logged(county_map: Any, personas: Any, login: Any) -> None:
    from tests.happiness_list.ratings_builders import closed_case, rate

    case = closed_case(county_map.village_a1, assistant=personas.assistant_a)
    rating = rate(case, (1, 2, 1), comment="等了很久")
    task = rating.task
    client = login(personas.coordinator)
    assert client.get(reverse("ratings-centre")).status_code == 200
    assert not HouseholdAccess.objects.filter(purpose=P.CASE).exists()
    response = client.get(reverse("rating-task", args=[task.pk]))
    assert response.status_code == 200 and "等了很久" in response.content.decode()
    logged = rows(rating.household, P.CASE)
    assert [(r.actor, r.subject_type, r.subject_id) for r in logged] == [
        (personas.coordinator, "happiness_list.lowratingtask", str(task.pk))
    ]
    # The township's assistant (perhaps the one rated) never sees the task, and leaves no row.
    assert login(personas.assistant_a).get(reverse("rating-task", args=[task.pk])).status_code in (403, 404)
    assert len(rows(rating.household, P.CASE)) == 1
