"""A household's page for the centre and the village: one place for the household's story.

Members (masked, with their age, never the birth date), the applications that named the household,
their cases, the enrolments and the ledger of what it received, the monitoring warnings and the
discovery leads. Every part comes through its app's scoped selector, and the household itself
through the scoped queryset first: another township's household (and every household for a
department or an organisation, who see households only through a referral) is a 404.
"""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef
from django.db.models.functions import JSONObject
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from applications.models import AccessPurpose, Application, ApplicationMember, Household, NeedItem
from applications.selectors import person_list_visible_to, scope_application_member_qs, scope_application_qs
from applications.services.access import household_access_record
from assist_center.identity import age_on
from assist_center.phones import mask_phone
from assist_center.pii import mask_id_number
from assist_center.scopes import get_in_scope_or_404
from assist_center.staff_views import staff_context, staff_view
from benefits.selectors import benefits_of_household, enrolments_of_household
from eligibility.selectors import lead_list_visible_to, warning_list_visible_to

from ..models import Case
from ..selectors import scope_cases

# The latest entries only: a year of monthly payments on a few items is already dozens of rows.
LEDGER_ROWS = 60

ITEM_LABELS = dict(NeedItem.choices)


@require_GET
@staff_view()
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household, its members, applications, cases, rolls, ledger, warnings and leads."""
    user = request.user
    # The household comes with its members in one query (a person's scope is its household's); a
    # household without members still needs its own scoped fetch, and that is the 404 as well.
    people = list(person_list_visible_to(user=user).filter(household_id=household_id).order_by("id"))
    if people:
        household = people[0].household
    else:
        household = get_in_scope_or_404(
            Household.objects.select_related("village", "township"), user, pk=household_id
        )
    household_access_record(actor=user, household_id=household.pk, purpose=AccessPurpose.HOUSEHOLD_PAGE)
    today = timezone.localdate()
    members = [
        {
            "person": p,
            "age": age_on(p.birth_date, today),
            "id_number": mask_id_number(p.id_number) if p.id_number else "-",
            "phone": mask_phone(p.phone) if p.phone else "-",
        }
        for p in people
    ]
    # The applications bring their case (one at most) and their members registered in another
    # household along, in the same query: each list in its own query made this page 15 queries.
    # Each part keeps its own scope: the case through scope_cases (a village cadre sees none), the
    # members through the application members' scope, as subqueries of the application query.
    elsewhere_qs = scope_application_member_qs(
        ApplicationMember.objects.filter(application_id=OuterRef("pk"), in_other_household=True), user
    ).order_by("position", "id")
    applications = list(
        scope_application_qs(
            Application.objects.filter(household_id=household.pk)
            .defer("form_pdf")
            .select_related("case")
            .annotate(
                case_visible=Exists(scope_cases(Case.objects.filter(application_id=OuterRef("pk")), user)),
                elsewhere=ArraySubquery(
                    elsewhere_qs.values(
                        json=JSONObject(
                            name="name",
                            household_id="person__household_id",
                            village="person__household__village__name",
                        )
                    )
                ),
            ),
            user,
        ).order_by("-created_at")
    )
    elsewhere = [
        {**m, "receipt_code": a.receipt_code}
        for a in applications
        for m in a.elsewhere  # type: ignore[attr-defined]
    ]
    # case_visible is true only for an application whose case exists and is in the user's scope.
    cases = sorted(
        (a.case for a in applications if a.case_visible),  # type: ignore[attr-defined]
        key=lambda c: c.opened_at,
        reverse=True,
    )
    enrolments = [
        (e, ITEM_LABELS.get(e.item, e.item))
        for e in enrolments_of_household(user=user, household_id=household.pk).order_by("-since", "-id")
    ]
    ledger = [
        (b, ITEM_LABELS.get(b.item, b.item))
        for b in benefits_of_household(user=user, household_id=household.pk).order_by("-period", "-id")[
            :LEDGER_ROWS
        ]
    ]
    warnings = list(warning_list_visible_to(user=user).filter(household_id=household.pk))
    leads = list(lead_list_visible_to(user=user).filter(person__household_id=household.pk))
    ctx = {
        **staff_context(
            request, _("Household %(number)s") % {"number": household.household_number or household.pk}
        ),
        "household": household,
        "members": members,
        "applications": applications,
        "elsewhere": elsewhere,
        "cases": cases,
        "enrolments": enrolments,
        "ledger": ledger,
        "ledger_limit": LEDGER_ROWS,
        "warnings": warnings,
        "leads": leads,
    }
    return render(request, "referrals/household.html", ctx)
