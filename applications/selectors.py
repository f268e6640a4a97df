"""Reads of households, persons and applications, scoped to the user (assist_center.scopes decides)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from assist_center.identity import InvalidIdNumber, normalise_id_number, parse_id_number
from assist_center.models import AuditEvent
from assist_center.pii import id_number_index
from assist_center.scopes import (
    get_in_scope_or_404,
    person_label,
    register_scope,
    scope_audit_events,
    scope_households,
)

from .models import Application, ApplicationMember, Authorisation, Household, Person


def scope_household_qs(qs: QuerySet[Household], user: Any) -> QuerySet[Household]:
    return scope_households(qs, user)


def scope_person_qs(qs: QuerySet[Person], user: Any) -> QuerySet[Person]:
    # Persons are placed by their household: the household's township and village decide.
    return scope_households(
        qs, user, township_field="household__township", village_field="household__village"
    )


register_scope(Household, scope_household_qs)
register_scope(Person, scope_person_qs)


def household_list_visible_to(*, user: Any) -> QuerySet[Household]:
    """Households the user may see, with village, township and member count loaded in one query."""
    qs = Household.objects.select_related("village", "township").annotate(member_count=Count("members"))
    return scope_household_qs(qs, user)


def household_get(*, user: Any, household_id: int) -> Household:
    return get_in_scope_or_404(Household.objects.select_related("village", "township"), user, pk=household_id)


def person_list_visible_to(*, user: Any) -> QuerySet[Person]:
    return scope_person_qs(Person.objects.select_related("household__village", "household__township"), user)


def person_get(*, user: Any, person_id: int) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("household__village"), user, pk=person_id)


# --- applications ----------------------------------------------------------------------------

# A receipt code as the intake service makes it: short, upper-case letters and digits. Anything of
# that shape is looked up as a code; an ID number is recognised first (it is 18 characters).
_RECEIPT_CODE_RE = re.compile(r"^[A-Z0-9]{6,16}$")
HISTORY_LIMIT = 200


def scope_application_qs(qs: QuerySet[Application], user: Any) -> QuerySet[Application]:
    # Department staff get nothing here: they see the parts of a case referred to them, later.
    return scope_households(qs, user)


def scope_application_member_qs(qs: QuerySet[ApplicationMember], user: Any) -> QuerySet[ApplicationMember]:
    return scope_households(
        qs, user, township_field="application__township", village_field="application__village"
    )


register_scope(Application, scope_application_qs)
register_scope(ApplicationMember, scope_application_member_qs)


def annotate_application_list(qs: QuerySet[Application]) -> QuerySet[Application]:
    """Add the applicant's name and the authorisation counts as subqueries: one query for a page.

    Subqueries rather than Count() over a join: a join would multiply rows once a name search
    also joins the members, and a GROUP BY drops the model's default ordering.
    """
    members = ApplicationMember.objects.filter(application=OuterRef("pk"))
    applicant = members.filter(role=ApplicationMember.Role.APPLICANT).order_by("position").values("name")[:1]
    required = members.filter(must_authorise=True)
    signed = required.filter(authorisation__isnull=False)

    def count(sub: QuerySet[ApplicationMember]) -> Subquery:
        return Subquery(
            sub.order_by().values("application").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        )

    return qs.annotate(
        applicant_name=Subquery(applicant),
        authorisations_required=Coalesce(count(required), 0),
        authorisations_signed=Coalesce(count(signed), 0),
    )


def application_list_visible_to(*, user: Any) -> QuerySet[Application]:
    """Applications the user may see, with regions, submitter, applicant name and signature counts."""
    qs = Application.objects.select_related("village", "township", "submitted_by").defer("form_pdf")
    return annotate_application_list(scope_application_qs(qs, user))


def application_get(*, user: Any, application_id: int) -> Application:
    """One application with its members and their authorisations; Http404 when out of scope."""
    qs = (
        Application.objects.select_related("village", "township", "code_region", "submitted_by", "household")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=ApplicationMember.objects.select_related("authorisation").defer(
                    "authorisation__image"
                ),
            )
        )
        .defer("form_pdf")
    )
    return get_in_scope_or_404(annotate_application_list(qs), user, pk=application_id)


def application_member_get(*, user: Any, application_id: int, member_id: int) -> ApplicationMember:
    qs = ApplicationMember.objects.select_related("application__village", "application__township")
    return get_in_scope_or_404(qs, user, pk=member_id, application_id=application_id)


def search_term_id_number(term: str) -> str | None:
    """The normalised ID number if `term` is one (valid check character and date), else None."""
    try:
        return parse_id_number(term).number
    except InvalidIdNumber:
        return None


def looks_like_id_number(term: str) -> bool:
    """Whether `term` is shaped like an ID number, valid or not (15-18 digits, maybe an X)."""
    compact = normalise_id_number(term[:100])
    return bool(re.fullmatch(r"[0-9]{14,17}[0-9X]", compact))


def application_search(qs: QuerySet[Application], term: str) -> QuerySet[Application]:
    """Narrow `qs` by an exact ID number (blind index), a receipt code, or a member's name."""
    term = (term or "").strip()
    if not term:
        return qs
    number = search_term_id_number(term)
    if number is not None:
        return qs.filter(pk__in=id_index_application_ids(id_number_index(number)))
    return application_search_by_text(qs, term)


def id_index_application_ids(index: str) -> QuerySet[ApplicationMember, Any]:
    """Ids of applications naming the person whose ID number has blind index `index` (exact only)."""
    return ApplicationMember.objects.filter(id_number_hash=index).values("application_id")


def application_search_by_text(qs: QuerySet[Application], term: str) -> QuerySet[Application]:
    """A receipt code, else a member's name (contains); never a lookup on an encrypted column."""
    # A subquery instead of a join: no duplicate rows, so no DISTINCT that would fight the ordering.
    match = Q(pk__in=ApplicationMember.objects.filter(name__icontains=term).values("application_id"))
    code = term.upper()
    if _RECEIPT_CODE_RE.fullmatch(code):
        match |= Q(receipt_code=code)
    return qs.filter(match)


def application_audit_events(*, user: Any, application: Application) -> QuerySet[AuditEvent]:
    """Audit events about the application, its members and their authorisations that the user may read."""
    members = list(application.members.values_list("pk", flat=True))
    auths = list(Authorisation.objects.filter(member__application=application).values_list("pk", flat=True))
    about = Q(subject_type="applications.application", subject_id=str(application.pk))
    if members:
        about |= Q(subject_type="applications.applicationmember", subject_id__in=[str(pk) for pk in members])
    if auths:
        about |= Q(subject_type="applications.authorisation", subject_id__in=[str(pk) for pk in auths])
    qs = (
        AuditEvent.objects.filter(about)
        .select_related("actor__profile__region", "actor__profile__department")
        .order_by("created_at", "id")
    )
    return scope_audit_events(qs, user)[:HISTORY_LIMIT]


def application_versions(*, application: Application) -> list[dict[str, Any]]:
    """The application's saved states, oldest first, each with the fields that changed from the last."""
    history: Any = application.history
    rows = list(
        history.select_related("history_user__profile__region", "history_user__profile__department").order_by(
            "history_date", "history_id"
        )[:HISTORY_LIMIT]
    )
    versions: list[dict[str, Any]] = []
    previous: Any = None
    for row in rows:
        changed = (
            []
            if previous is None
            else [application_field_label(c.field) for c in row.diff_against(previous).changes]
        )
        who = person_label(row.history_user, "-") if row.history_user_id else "-"
        versions.append({"row": row, "changed": changed, "who": who})
        previous = row
    return versions


def application_field_label(name: str) -> str:
    """The verbose name of an application field, or the name itself when there is none."""
    try:
        field = Application._meta.get_field(name)
    except FieldDoesNotExist:  # a field the model no longer has: its history row still names it
        return name
    return str(getattr(field, "verbose_name", name))
