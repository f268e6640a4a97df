"""Every URL and every ModelAdmin names the test that proves its scope, or says why it is public.

house-style.md: "Scope is enforced by a base class, not remembered per view; a test walks the
URLconf and every ModelAdmin and fails on any view without a permission check." This is that
test. When it fails, it prints the line to add and where.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.generic import RedirectView
from rest_framework.views import APIView

from assist_center.admin.base import CountyWideAdmin, ScopedModelAdmin
from assist_center.api import PublicAPIView, ScopedAPIView

THIS_FILE = "tests/test_every_url_and_admin_is_scoped.py"
REPO = Path(__file__).resolve().parent.parent

_ADMIN_SCOPES = "tests/test_admin_scopes.py"
_HOUSEHOLD_404 = f"{_ADMIN_SCOPES}::test_another_townships_household_and_person_pages_are_404"
_COUNTY_WIDE_HIDDEN = f"{_ADMIN_SCOPES}::test_county_wide_admins_are_invisible_to_a_township_assistant"
_COORDINATOR_ONLY = f"{_ADMIN_SCOPES}::test_changelist_status_per_persona"
_STAFF_ACCOUNTS = (
    f"{_ADMIN_SCOPES}::test_staff_accounts_are_the_coordinators_and_superusers_stay_out_of_reach"
)
_TOTP = f"{_ADMIN_SCOPES}::test_second_factor_devices_are_for_superusers_only"
_APP_ADMIN = "tests/applications/test_application_admin.py"
_RA = "tests/referrals/test_referral_admin.py"
_RAPI = "tests/referrals/test_referral_api.py::test_another_departments_referral_is_404_everywhere_in_the_api"
_WB = "tests/referrals/test_workbench.py"
_WB_404 = f"{_WB}::test_another_departments_referral_is_404_on_every_page_and_action"
_CENTRE = "tests/referrals/test_centre_views.py"
_MONITORING_ADMIN = "tests/eligibility/test_monitoring_admin.py"
_WARNING_SCOPE = (
    f"{_MONITORING_ADMIN}::test_warning_pages_are_404_for_another_township_and_read_only_for_a_cadre"
)
_WHATIF_SCOPE = f"{_MONITORING_ADMIN}::test_the_what_if_page_is_the_coordinators_with_a_table_and_a_download"
_LEAD_SCOPE = (
    f"{_MONITORING_ADMIN}::"
    "test_lead_pages_are_404_for_another_township_and_403_for_a_cadre_or_a_coordinators_convert"
)
_REPORT_SCOPE = (
    "tests/eligibility/test_report_admin.py::"
    "test_report_pages_are_404_for_another_township_and_read_only_for_a_cadre"
)
_IMPORTS_COORDINATOR_ONLY = (
    "tests/eligibility/test_import_admin.py::test_the_import_admin_is_the_coordinators_alone"
)
_STAFF_API = "tests/applications/test_staff_api.py"
_ASSIST_CODE_DOWNLOADS = (
    "tests/applications/test_assist_codes.py::"
    "test_a_township_assistant_downloads_own_regions_and_gets_404_for_another_township"
)
_EVALUATION = "tests/happiness_list/test_evaluation.py"
_EVALUATION_404 = f"{_EVALUATION}::test_another_units_evaluation_is_404_and_roles_without_one_get_403"
_RATING_CENTRE = f"{_EVALUATION}::test_the_centre_handles_a_low_rating_task_and_reviews_a_dispute_over_http"
_FLAGS_404 = (
    "tests/happiness_list/test_flags.py::test_the_worklist_is_the_townships_another_townships_flag_is_404"
)
_CARDS = "tests/happiness_list/test_cards_receipts.py"
_CARD_BATCH = f"{_CARDS}::test_a_villages_batch_prints_every_household_and_another_village_is_404"
_CHARITY_SCOPE = "tests/charity/test_scoping.py"
_CHARITY_PROJECT_404 = "test_another_organisations_project_is_404_in_the_portal_even_when_public"
_CHARITY_PORTAL_404 = (
    f"{_CHARITY_SCOPE}::test_another_organisations_claim_and_delivery_details_are_404_in_the_portal"
)
_BENEFITS_ADMIN = "tests/benefits/test_admin.py::test_another_townships_rows_are_404_and_a_cadre_reads_only"
_PUSH = "tests/eligibility/test_push_api.py"

# What proves that each view keeps other scopes' objects out (a 404 for another township's or
# department's object, a 403/redirect for a role without access). Keys:
# - "admin:<app_label>.<Model>" for a ModelAdmin: covers its changelist/add/change/delete/history;
# - "<namespace>:<url name>" for any other URL, including a ModelAdmin's extra views.
# Values are pytest node ids: "<path>::<test function>".
SCOPE_TESTS: dict[str, str] = {
    # ModelAdmins
    "admin:applications.Household": _HOUSEHOLD_404,
    "admin:applications.Person": _HOUSEHOLD_404,
    "admin:assist_center.Region": f"{_ADMIN_SCOPES}::test_another_townships_region_is_404",
    "admin:assist_center.Department": _COORDINATOR_ONLY,
    "admin:assist_center.AuditEvent": f"{_ADMIN_SCOPES}::test_an_audit_event_outside_the_users_scope_is_404",
    "admin:auth.User": _STAFF_ACCOUNTS,
    "admin:charity.Organisation": f"{_ADMIN_SCOPES}::test_organisation_pages_are_the_coordinators",
    "admin:assist_center.CalendarDay": _COUNTY_WIDE_HIDDEN,
    "admin:assist_center.CalendarYear": _COUNTY_WIDE_HIDDEN,
    "admin:assist_center.SmsMessage": _COUNTY_WIDE_HIDDEN,
    "admin:assist_center.OutboxMessage": _COUNTY_WIDE_HIDDEN,
    "admin:axes.AccessAttempt": _COORDINATOR_ONLY,
    "admin:axes.AccessLog": _COORDINATOR_ONLY,
    "admin:axes.AccessFailureLog": _COORDINATOR_ONLY,
    "admin:otp_totp.TOTPDevice": _TOTP,
    "admin:otp_static.StaticDevice": (
        "tests/core/test_recovery_codes.py::"
        "test_recovery_code_devices_are_for_superusers_only_and_cannot_be_added"
    ),
    # URLs that are not a ModelAdmin's standard views
    "admin:index": f"{_ADMIN_SCOPES}::test_the_admin_index_lists_only_what_each_persona_may_open",
    "admin:app_list": f"{_ADMIN_SCOPES}::test_the_admin_index_lists_only_what_each_persona_may_open",
    "admin:autocomplete": f"{_ADMIN_SCOPES}::test_autocomplete_and_search_stay_in_scope",
    "admin:applications_person_reveal": (
        "tests/core/test_reveal.py::test_the_admin_reveal_page_is_404_out_of_scope_and_403_for_a_cadre"
    ),
    "admin:auth_user_password_change": _STAFF_ACCOUNTS,
    "admin:otp_totp_totpdevice_config": _TOTP,
    "admin:otp_totp_totpdevice_qrcode": _TOTP,
    # Intake (issue 3)
    "staff-paper-upload": (
        "tests/applications/test_paper_upload.py::test_another_townships_application_is_404_and_a_cadre_gets_403"
    ),
    "admin:applications.AssistCode": (
        "tests/applications/test_assist_codes.py::test_the_assist_code_admin_is_scoped_like_the_regions"
    ),
    "admin:applications_assistcode_poster": _ASSIST_CODE_DOWNLOADS,
    "admin:applications_assistcode_qr_png": _ASSIST_CODE_DOWNLOADS,
    "admin:applications_assistcode_qr_svg": _ASSIST_CODE_DOWNLOADS,
    "admin:applications_assistcode_township_posters": _ASSIST_CODE_DOWNLOADS,
    "admin:applications_assistcode_township_zip": _ASSIST_CODE_DOWNLOADS,
    "admin:applications.Application": f"{_APP_ADMIN}::test_detail_page_of_another_township_is_404",
    "admin:applications_application_search": (
        f"{_APP_ADMIN}::test_exact_id_search_does_not_reach_another_township"
    ),
    "staff-on-behalf": (
        "tests/applications/test_on_behalf.py::test_only_a_township_assistant_may_submit_on_behalf"
    ),
    "admin:applications_application_form": (
        f"{_APP_ADMIN}::test_the_form_download_is_404_out_of_scope_or_without_a_form_and_403_for_a_cadre"
    ),
    "admin:applications_application_transition": (
        f"{_APP_ADMIN}::test_transitions_are_404_out_of_scope_and_403_for_a_cadre"
    ),
    "admin:applications_application_member_reveal": (
        f"{_APP_ADMIN}::test_reveal_is_404_out_of_scope_and_403_for_a_cadre"
    ),
    "api-applications": f"{_STAFF_API}::test_the_list_is_scoped_and_masked",
    # Eligibility (issue 4)
    "admin:eligibility.ImportJob": _IMPORTS_COORDINATOR_ONLY,
    "admin:eligibility_importjob_upload": _IMPORTS_COORDINATOR_ONLY,
    "admin:eligibility_importjob_status": _IMPORTS_COORDINATOR_ONLY,
    "admin:eligibility_importjob_errors": _IMPORTS_COORDINATOR_ONLY,
    "admin:eligibility_importjob_template": (
        "tests/eligibility/test_import_chinese_headers.py::"
        "test_the_template_downloads_from_the_import_page_and_imports_as_it_stands"
    ),
    "admin:eligibility.VerificationReport": _REPORT_SCOPE,
    # Referrals (issue 5)
    "admin:referrals.Case": f"{_RA}::test_another_departments_referral_is_404_in_the_admin",
    "admin:referrals.Referral": f"{_RA}::test_another_departments_referral_is_404_in_the_admin",
    "admin:referrals.Notification": f"{_RA}::test_notifications_are_scoped_and_read_only",
    "admin:referrals.OutsidePolicyNeed": f"{_RA}::test_outside_policy_needs_are_the_townships",
    "admin:referrals.DeadlineRule": f"{_RA}::test_deadline_rules_are_the_coordinators",
    "admin:referrals.DepartmentContact": (
        f"{_RA}::test_warning_contacts_are_the_coordinators_and_shown_masked"
    ),
    "api-referrals": (
        "tests/referrals/test_referral_api.py::test_the_list_is_scoped_per_department_and_township"
    ),
    "api-referral-detail": _RAPI,
    "api-referral-accept": _RAPI,
    "api-referral-request-info": _RAPI,
    "api-referral-answer-info": _RAPI,
    "api-referral-return": _RAPI,
    "api-referral-complete": _RAPI,
    "api-referral-reassign": _RAPI,
    "api-referral-extend": _RAPI,
    "api-referral-cancel": _RAPI,
    "api-case-referral-add": _RAPI,
    "workbench": f"{_WB}::test_department_staff_see_only_their_departments_referrals",
    "workbench-referral": _WB_404,
    "workbench-referral-accept": _WB_404,
    "workbench-referral-request-info": _WB_404,
    "workbench-referral-answer-info": _WB_404,
    "workbench-referral-attachment": (
        "tests/referrals/test_attachments.py::test_another_department_or_township_gets_404_and_no_file"
    ),
    "workbench-referral-return": _WB_404,
    "workbench-referral-complete": _WB_404,
    "workbench-referral-reassign": _WB_404,
    "workbench-referral-extend": _WB_404,
    "workbench-referral-cancel": f"{_WB}::test_read_only_centre_roles_get_403_on_department_actions",
    "centre-queue": f"{_CENTRE}::test_a_township_assistant_sees_only_their_townships_part_of_the_queue",
    "centre-stats": f"{_CENTRE}::test_statistics_per_case_against_the_two_day_figure",
    # Issue 13: the dashboards (a township sees its own, departments their referrals, no one else).
    "dashboard": "tests/dashboards/test_dashboards.py::test_who_may_open_which_dashboard",
    "dashboard-page": "tests/dashboards/test_dashboards.py::test_another_townships_figures_never_appear",
    "dashboard-export": (
        "tests/dashboards/test_dashboards.py::test_each_figure_downloads_as_excel_with_formula_cells_escaped"
    ),
    "staff-household": (
        "tests/referrals/test_household_page.py::"
        "test_another_township_and_departments_get_404_as_for_a_missing_household"
    ),
    "admin:eligibility.MonitoringWarning": _WARNING_SCOPE,
    "admin:eligibility_monitoringwarning_resolve": _WARNING_SCOPE,
    "admin:eligibility_monitoringwarning_whatif": _WHATIF_SCOPE,
    "admin:eligibility_monitoringwarning_whatif_csv": _WHATIF_SCOPE,
    "admin:eligibility.DiscoveryLead": _LEAD_SCOPE,
    "admin:eligibility_discoverylead_handle": _LEAD_SCOPE,
    "admin:eligibility.ItemDecision": "tests/eligibility/test_report_admin.py::test_decisions_list_is_scoped",
    "admin:eligibility.Standard": "tests/eligibility/test_standards.py::test_standards_are_the_coordinators",
    "admin:eligibility_verificationreport_for_application": _REPORT_SCOPE,
    "admin:eligibility_verificationreport_decide": _REPORT_SCOPE,
    "admin:eligibility_verificationreport_rerun": _REPORT_SCOPE,
    "admin:eligibility_verificationreport_complete": _REPORT_SCOPE,
    "admin:eligibility_verificationreport_pdf": _REPORT_SCOPE,
    "api-application-detail": f"{_STAFF_API}::test_the_detail_is_404_out_of_scope",
    "api-application-on-behalf": f"{_STAFF_API}::test_on_behalf_is_for_township_assistants_only",
    "api-application-withdraw": f"{_STAFF_API}::test_transitions_are_404_out_of_scope_and_403_read_only",
    "api-application-reject": f"{_STAFF_API}::test_transitions_are_404_out_of_scope_and_403_read_only",
    "api-application-member-reveal": (
        f"{_STAFF_API}::test_reveal_is_404_out_of_scope_and_403_for_read_only_roles"
    ),
    # Charity funds, projects, training (issue 11)
    "charity-training-code": (
        "tests/charity/test_training.py::test_the_code_screen_is_the_organisers_and_the_coordinators_only"
    ),
    "charity-training-certificate": (
        "tests/charity/test_training.py::test_the_code_screen_is_the_organisers_and_the_coordinators_only"
    ),
    # The 公益谷 board, claims and the organisations' portal (issue 11)
    "charity-need-claim": (
        f"{_CHARITY_SCOPE}::test_the_claim_api_is_for_members_of_a_vetted_unexpired_organisation"
    ),
    "charity-portal": _CHARITY_PORTAL_404,
    "charity-portal-claim": _CHARITY_PORTAL_404,
    "charity-portal-delivery": _CHARITY_PORTAL_404,
    "charity-portal-projects": f"{_CHARITY_SCOPE}::{_CHARITY_PROJECT_404}",
    "charity-portal-project": f"{_CHARITY_SCOPE}::{_CHARITY_PROJECT_404}",
    "charity-staff-claim": (
        f"{_CHARITY_SCOPE}::"
        "test_the_centres_claim_page_is_404_for_another_township_and_403_for_roles_without_claims"
    ),
    "admin:charity.PublicReport": (
        "tests/charity/test_reports.py::test_the_report_list_is_the_coordinators_alone"
    ),
    "charity-staff": (
        f"{_CHARITY_SCOPE}::"
        "test_the_centres_worklist_lists_the_users_township_only_and_is_403_for_other_roles"
    ),
    "charity-staff-need": (
        f"{_CHARITY_SCOPE}::"
        "test_the_centres_need_page_is_404_for_another_township_and_403_for_roles_without_publishing"
    ),
    # Ratings and evaluation (issue 12)
    "ratings-centre": _RATING_CENTRE,
    "rating-task": _RATING_CENTRE,
    "rating-task-contact": _RATING_CENTRE,
    "rating-task-answer": _RATING_CENTRE,
    "rating-dispute": _RATING_CENTRE,
    "rating-dispute-review": _RATING_CENTRE,
    "evaluation-home": _EVALUATION_404,
    "evaluation-detail": _EVALUATION_404,
    # The cadre's worklist of omission and duplicate flags (issue 12)
    "happiness-flags": _FLAGS_404,
    "happiness-flag": _FLAGS_404,
    "happiness-household-flags": _FLAGS_404,
    # 幸福签 cards and the township window's assisted opening (issue 12)
    "happiness-card": f"{_CARDS}::test_printing_a_households_card_rotates_its_token_and_is_scoped",
    "happiness-village-cards": _CARD_BATCH,
    "happiness-card-batches": _CARD_BATCH,
    "happiness-assisted-open": f"{_CARDS}::test_assisted_opening_at_the_window_is_logged_and_scoped",
    # The rolls, the ledger and roll tasks (issue 10)
    "admin:benefits.Enrolment": _BENEFITS_ADMIN,
    "admin:benefits.EnrolmentEvent": _BENEFITS_ADMIN,
    "admin:benefits.BenefitEntry": _BENEFITS_ADMIN,
    "admin:benefits.RollTask": _BENEFITS_ADMIN,
    "admin:benefits.TownshipContact": _BENEFITS_ADMIN,
    "admin:benefits_enrolment_state": _BENEFITS_ADMIN,
    "admin:benefits_rolltask_resolve": _BENEFITS_ADMIN,
    # Departments' systems push pool records with their own keys (issue 13)
    "admin:eligibility.PushKey": f"{_PUSH}::test_the_key_admin_is_the_coordinators_alone",
    "admin:referrals.WorkChannel": (
        "tests/referrals/test_work_notices.py::"
        "test_the_coordinator_sets_up_a_channel_whose_secrets_are_never_shown_or_audited"
    ),
}

# Views anyone may reach, each with the reason it is safe.
PUBLIC: dict[str, str] = {
    "healthz": "load-balancer probe; reports only whether the services answer",
    "api-schema": "OpenAPI schema of the API: describes endpoints, holds no data",
    "api-docs": "browsable docs of that schema, served locally",
    "api-public-regions": "the region tree, printed on the QR-code posters anyway (PublicAPIView)",
    "set_language": "stores the chosen language in a cookie",
    "admin:login": "the staff login form (django-axes limits attempts)",
    "admin:logout": "ends the caller's own session",
    "admin:password_change": "changes the signed-in user's own password",
    "admin:password_change_done": "confirmation page of the above",
    "admin:jsi18n": "the admin's JavaScript translation catalogue",
    "home": "the public front page: links to the county's application form and the staff login",
    # Intake (issue 3): the residents' login-free front door.
    "apply": (
        "the application form a printed 救助码 opens: login-free by design; reads only the region tree, "
        "and SMS codes and submissions are rate-limited in the services"
    ),
    "apply-receipt": (
        "shows only the application whose id this browser's own session stored at submission "
        "(no code or token in the URL); anything else is a 404"
    ),
    "family": (
        "the 家庭码 signing page: the unguessable family token is the capability; it shows masked names "
        "and signed/missing only, never ID numbers; identification is rate-limited per link and IP"
    ),
    # Issue 16: the residents' status page and the printable paper authorisation.
    "status": (
        "the residents' status page: the same look-up as api-public-application-status (receipt code, "
        "the applicant's phone and an SMS code, answering alike when any is wrong); the result is kept "
        "only in this browser's session"
    ),
    "family-authorisation-pdf": (
        "the blank paper authorisation of a family link: the unguessable family token is the capability, "
        "as for the family page; names are masked as there, no ID numbers or phones; limited per IP"
    ),
    # Departments' systems (issue 13): no session; a department's push key, a fresh timestamp and a
    # nonce spent once per key (eligibility.services.push). Scope: the key's own categories only
    # (tests/eligibility/test_push_api.py::test_a_key_pushes_only_its_own_categories), another
    # department's job 404 like a missing one (::test_another_departments_job_is_404_like_a_missing_one).
    "api-pool-records-push": "a department system's push with its key, limited to its categories",
    "api-pool-job": "a department system's poll of its own department's job with its key",
    "api-public-otp": (
        "login-free SMS code request; answers the same whether or not the phone is known; limited per "
        "phone and per IP (PublicAPIView)"
    ),
    "api-public-applications": (
        "the residents' login-free application API; needs a valid SMS code; limited per IP; "
        "idempotent (PublicAPIView)"
    ),
    # Issue 12: the household's happiness list, behind its 幸福签 card token and an SMS code.
    "happiness": (
        "the household's list: the unguessable card token (rotated on reprint) only reaches the phone "
        "check; the list shows after an SMS code to a phone on record for that household, in a "
        "15-minute session for it alone (another household's token: the phone check or 404); five "
        "wrong codes lock the token (tests/happiness_list/test_access_token.py)"
    ),
    "happiness-statement": (
        "the printable year statement of the same verified household session; without one it "
        "redirects to the phone check (tests/happiness_list/test_list_page.py)"
    ),
    "happiness-receipt": (
        "a receipt-check SMS's short link: its own unguessable token answers yes/no for one entry, "
        "shows the item, month and amount only, asks for no code or bank detail"
    ),
    "api-public-happiness": (
        "the list as JSON after a `happiness` SMS code (POST /api/v1/public/otp/ with the token): the "
        "same answer for a wrong phone or code, the same lockout as the page (PublicAPIView)"
    ),
    "happiness-rate": (
        "the resident's rating form: acts only for the household of this browser's verified 15-minute "
        "session opened under this token; a signed-in staff account gets 403, anyone else goes back "
        "to the phone check"
    ),
    "api-public-application-status": (
        "a resident's own status after an SMS code to the applicant's phone; a wrong code, phone or "
        "receipt all answer the same 404 (PublicAPIView)"
    ),
    # Charity funds, projects, training and statistics (issue 11): public by the disclosure rules.
    "charity-funds": "public fund ledger: amounts, organisations, projects; donors named with consent only",
    "charity-funds-csv": "the same public ledger as CSV (formula-escaped)",
    "charity-funds-xlsx": "the same public ledger as Excel (formula-escaped)",
    "charity-projects": "approved 公益创投 projects only; drafts and refusals are never listed",
    "charity-project": "an approved project's public page, by its unguessable public id; drafts are a 404",
    "charity-stats": "aggregate figures only, township cells under 5 suppressed",
    "charity-training-attend": (
        "an attendee's sign-in form: needs the trainer's rotating code; limited per IP and per session; "
        "shows only the attendee's own masked name"
    ),
    # The 公益谷 board and its doors (issue 11).
    "charity-board": (
        "the public needs board: the allowlisted, de-identified fields only (charity.selectors."
        "public_need_dict); vetted-only profiles are left out unless a vetted organisation's member asks"
    ),
    "charity-need": (
        "a published need's share page by its unguessable public id, allowlisted fields only; drafts and "
        "withdrawn needs are a 404; its claim button acts through need_claim, which requires a member of a "
        "vetted organisation"
    ),
    "charity-public-needs": (
        "the board's allowlisted fields as JSON for the county's WeChat account (PublicAPIView)"
    ),
    "charity-report": (
        "纠错/举报 form: anyone may report an error or abuse on a public need or project; it only writes a "
        "report for the centre and shows nothing back"
    ),
    "charity-resident-answer": (
        "the resident's received/partly/not-received answer from the SMS link: the unguessable per-claim "
        "token is the capability; it shows only the need's category"
    ),
    "charity-login": (
        "the organisation members' login form (django-axes limits attempts, TOTP where staff need it)"
    ),
    "charity-logout": "ends the caller's own session (POST only)",
}

# ModelAdmin URL suffixes covered by the ModelAdmin's entry.
STANDARD_ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history")


@dataclass(frozen=True)
class Url:
    name: str | None
    route: str
    callback: Any

    @property
    def view(self) -> str:
        cls = getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)
        target = cls or self.callback
        return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def walk(resolver: URLResolver, namespace: str = "", prefix: str = "") -> Iterator[Url]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield Url(f"{namespace}{p.name}" if p.name else None, prefix + str(p.pattern), p.callback)


def model_admin_key(model: Any) -> str:
    return f"admin:{model._meta.app_label}.{model.__name__}"


def standard_admin_url_names() -> dict[str, str]:
    """URL name -> ModelAdmin key, for the stock views every ModelAdmin has."""
    names = {}
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        for view in STANDARD_ADMIN_VIEWS:
            names[f"admin:{info[0]}_{info[1]}_{view}"] = model_admin_key(model)
    return names


def _is_redirect_only(url: Url) -> bool:
    # The admin's unnamed "<object_id>/" patterns redirect to the named change view, and the
    # catch-all view redirects to login or 404s; both land on views checked here.
    view_class = getattr(url.callback, "view_class", None)
    if view_class is not None and issubclass(view_class, RedirectView):
        return True
    return getattr(url.callback, "__name__", "") == AdminSite.catch_all_view.__name__


def _test_exists(node_id: str) -> bool:
    path, _, func = node_id.partition("::")
    func = func.split("[")[0]
    if not path.endswith(".py") or not func or not (REPO / path).is_file():
        return False
    module = importlib.import_module(path[: -len(".py")].replace("/", "."))
    return callable(getattr(module, func, None))


def _entry_hint(key: str, what: str) -> str:
    return (
        f"{what} has no scope test. Add to SCOPE_TESTS in {THIS_FILE}:\n"
        f'        "{key}": "tests/<app>/test_<module>.py::test_<behaviour>",\n'
        "    naming a test where a persona of another township/department gets 404 and a role without "
        "access gets 403 (personas in tests/conftest.py); or, if it is meant for anyone, add it to "
        "PUBLIC with a one-line reason."
    )


def test_every_url_is_public_or_names_its_scope_test() -> None:
    standard = standard_admin_url_names()
    problems: list[str] = []
    reported: set[str] = set()
    for url in walk(get_resolver()):
        if url.name is None:
            if not _is_redirect_only(url):
                problems.append(
                    f"URL route '{url.route}' (view {url.view}) has no name. Give it a name= in its "
                    f"urls.py, then add the name to SCOPE_TESTS or PUBLIC in {THIS_FILE}."
                )
            continue
        if url.name in PUBLIC:
            continue
        key = standard.get(url.name, url.name)
        if key not in SCOPE_TESTS and key not in reported:
            reported.add(key)
            problems.append(_entry_hint(key, f"URL '{url.name}' (route '{url.route}', view {url.view})"))
    assert not problems, "\n\n".join(problems)


def test_every_model_admin_names_its_scope_test_and_derives_from_a_scoped_base() -> None:
    problems: list[str] = []
    for model, model_admin in admin.site._registry.items():
        key = model_admin_key(model)
        if key not in SCOPE_TESTS:
            problems.append(
                _entry_hint(key, f"ModelAdmin {type(model_admin).__qualname__} of {model._meta.label}")
            )
        if not isinstance(model_admin, ScopedModelAdmin | CountyWideAdmin):
            problems.append(
                f"ModelAdmin {type(model_admin).__module__}.{type(model_admin).__qualname__} of "
                f"{model._meta.label} derives from neither ScopedModelAdmin nor CountyWideAdmin "
                "(assist_center/admin/base.py). Derive from ScopedModelAdmin for township/village/department "
                "data (register its scope with assist_center.scopes.register_scope), or from CountyWideAdmin "
                "for county-wide configuration. A third-party admin is re-registered the same way "
                "(see assist_center/admin/core.py)."
            )
    assert not problems, "\n\n".join(problems)


def test_every_named_scope_test_exists() -> None:
    missing = [f"{key}: {node}" for key, node in SCOPE_TESTS.items() if not _test_exists(node)]
    assert not missing, (
        "These SCOPE_TESTS entries name a test that does not exist (renamed or deleted?). "
        "Point them at the test that now covers the view:\n" + "\n".join(missing)
    )


def test_no_entry_is_stale() -> None:
    url_names = {u.name for u in walk(get_resolver()) if u.name}
    admin_keys = {model_admin_key(m) for m in admin.site._registry}
    stale = sorted(k for k in SCOPE_TESTS if k not in url_names and k not in admin_keys)
    # Optional views may be absent from one configuration; the rest must exist.
    stale_public = sorted(k for k in PUBLIC if k not in url_names and k not in {"api-redoc"})
    assert not stale and not stale_public, (
        f"Remove from {THIS_FILE} the entries for views that no longer exist: {stale + stale_public}"
    )


def test_api_views_derive_from_the_scoped_or_the_public_base() -> None:
    problems: list[str] = []
    for url in walk(get_resolver()):
        cls = getattr(url.callback, "cls", None)
        if cls is None or not issubclass(cls, APIView) or cls.__module__.startswith("drf_spectacular."):
            continue
        if url.name in PUBLIC:
            if not issubclass(cls, PublicAPIView):
                problems.append(
                    f"{url.name}: {url.view} is listed as PUBLIC but does not derive from PublicAPIView."
                )
        elif not issubclass(cls, ScopedAPIView):
            problems.append(
                f"{url.name}: {url.view} must derive from assist_center.api.ScopedAPIView (staff) or, "
                f"if it is login-free, from PublicAPIView and be listed in PUBLIC in {THIS_FILE}."
            )
    assert not problems, "\n".join(problems)


def test_auth_groups_are_not_in_the_admin() -> None:
    from django.contrib.auth.models import Group

    # Rights come from StaffProfile roles only; groups would be a second, unscoped source.
    assert not admin.site.is_registered(Group)
