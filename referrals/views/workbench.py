"""The department workbench: a department's referrals, one referral's page and its action forms.

Each action is its own POST URL calling exactly one service (house-style.md). What a user may see
comes from the selectors (`referral_list_visible_to`, `referral_get`): another department's
referral answers 404 exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from applications.models import AccessPurpose, NeedItem
from applications.services.access import household_access_record
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent
from assist_center.permissions import (
    acts_for_department,
    is_centre,
    is_county_wide,
    is_department_staff,
    may_use_workbench,
)
from assist_center.scopes import person_label
from assist_center.staff_views import add_service_errors, staff_context, staff_view
from assist_center.workdays import working_days_between
from eligibility.rules import CRITERION_LABELS

from ..forms import (
    AnswerInfoForm,
    CancelForm,
    ExtendForm,
    OutcomeFormSet,
    ReassignForm,
    RequestInfoForm,
    ReturnForm,
    WorkbenchFilterForm,
)
from ..labels import ACTION_LABELS
from ..models import Colour, Referral
from ..permissions import REFERRAL_ACTIONS, referral_allowed_actions
from ..selectors import referral_contact_phone as contact_phone
from ..selectors import referral_get, referral_list_visible_to
from ..services import actions, cases
from ..services.notifications import notification_mark_read, notifications_unread_for

PAGE_SIZE = 50

# Red first, then yellow, blue and none: the most urgent work is at the top of the list.
COLOUR_RANK = {Colour.RED: 0, Colour.YELLOW: 1, Colour.BLUE: 2, Colour.NONE: 3}

# The badge carries a word as well as a colour, for colour-blind staff and grey-scale printouts.
BADGE_TEXT = {
    Colour.RED: gettext_lazy("Red"),
    Colour.YELLOW: gettext_lazy("Yellow"),
    Colour.BLUE: gettext_lazy("Blue"),
    Colour.NONE: gettext_lazy("On time"),
}

OPEN_FILTER = ""  # the default list: referrals still being worked on
ALL_FILTER = "all"

CONFLICT_MESSAGE = gettext_lazy("This referral has been handled by someone else; please refresh.")


CASE_EVENTS = ("case.open", "case.close")


def item_labels(items: list[str]) -> list[str]:
    labels = dict(NeedItem.choices)
    return [str(labels.get(i, i)) for i in items]


def working_days_left(due: dt.date, today: dt.date) -> int:
    """Working days from today to the due date: 0 on the due date, negative once overdue."""
    if due >= today:
        return working_days_between(today, due)
    return -working_days_between(due, today)


@dataclass
class Row:
    referral: Referral
    receipt: str
    items: list[str]
    badge: str
    days_left: int
    paused: bool
    overdue: bool

    @property
    def overdue_days(self) -> int:
        return -self.days_left

    @property
    def warned(self) -> bool:
        """Whether the colour still means something: a finished or returned referral has no clock."""
        return self.referral.status in Referral.OPEN_STATUSES


def row_for(referral: Referral, today: dt.date, *, receipt: str | None = None) -> Row:
    """A list row; pass `receipt` when the case's application was not selected with the referral."""
    return Row(
        referral=referral,
        receipt=receipt if receipt is not None else referral.case.application.receipt_code,
        items=item_labels(referral.items),
        badge=str(BADGE_TEXT.get(Colour(referral.colour), "")),
        days_left=working_days_left(referral.due_date, today),
        paused=referral.status == Referral.Status.INFO_REQUESTED,
        # Red from 00:00 after the due date even when no working day has passed since (a weekend).
        overdue=referral.due_date < today,
    )


def urgency_order(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    rank = SqlCase(
        *(When(colour=c, then=Value(n)) for c, n in COLOUR_RANK.items()),
        default=Value(len(COLOUR_RANK)),
        output_field=IntegerField(),
    )
    return qs.annotate(colour_rank=rank).order_by("colour_rank", "due_date", "id")


# --- the list ----------------------------------------------------------------------------------


@require_GET
@staff_view(may_use_workbench)
def workbench(request: HttpRequest) -> HttpResponse:
    """The user's referrals, most urgent first, with the unread colour notifications on top."""
    filters = WorkbenchFilterForm(request.GET or None)
    status = colour = ""
    if filters.is_bound and filters.is_valid():
        status = filters.cleaned_data["status"]
        colour = filters.cleaned_data["colour"]
    qs = referral_list_visible_to(
        user=request.user,
        colour=colour or None,
        status=status if status not in (OPEN_FILTER, ALL_FILTER) else None,
    )
    if status == OPEN_FILTER:
        qs = qs.filter(status__in=Referral.OPEN_STATUSES)
    qs = urgency_order(qs.select_related("case__application", "case__village", "department"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()

    notifications = notifications_unread_for(user=request.user)
    # Shown once, then read: the banner is a nudge, the list itself always shows the colour.
    notification_mark_read(actor=request.user, notification_ids=[n.pk for n in notifications])

    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        **staff_context(request, _("Referral workbench")),
        "filters": filters,
        "rows": [row_for(r, today) for r in page.object_list],
        "page": page,
        "query": query.urlencode(),
        "notifications": [
            {"n": n, "badge": str(BADGE_TEXT.get(Colour(n.colour), "")), "label": n.get_colour_display()}
            for n in notifications
        ],
        "show_department": not is_department_staff(request.user),
        "is_centre": is_centre(request.user),
    }
    response = render(request, "referrals/workbench.html", ctx)
    response["Cache-Control"] = "no-store"  # security.md: pages with personal data
    return response


# --- one referral ------------------------------------------------------------------------------


@dataclass
class ActionForms:
    """The forms the page offers, bound when one of them was just posted with errors."""

    request_info: RequestInfoForm | None = None
    answer_info: AnswerInfoForm | None = None
    return_form: ReturnForm | None = None
    outcomes: Any = None  # an OutcomeFormSet
    reassign: ReassignForm | None = None
    extend: ExtendForm | None = None
    cancel: CancelForm | None = None


def _history(referral: Referral) -> list[dict[str, Any]]:
    """This referral's audit events, and its case's opening and closing (values are not shown)."""
    events = AuditEvent.objects.filter(
        Q(subject_type="referrals.referral", subject_id=str(referral.pk))
        | Q(subject_type="referrals.case", subject_id=str(referral.case_id), action__in=CASE_EVENTS)
    ).order_by("created_at", "id")
    # People by name, role and unit, not by username (issue 16), as the application's history.
    events = events.select_related("actor__profile__region", "actor__profile__department")
    return [
        {
            "at": e.created_at,
            "who": person_label(e.actor, e.actor_label),
            "what": str(ACTION_LABELS.get(e.action, e.action)),
            "reason": e.reason,
        }
        for e in events
    ]


def _brief_rows(brief: Any) -> list[tuple[str, str]]:
    """The brief as label/value rows; the service decides what goes in it (only what is needed)."""
    if not isinstance(brief, dict):
        return []
    rows: list[tuple[str, str]] = []
    for key, value in brief.items():
        # Items are shown as facts and messages as a thread; contact is a flag, not a value.
        if key in ("items", "contact", "messages"):
            continue
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = "；".join(f"{k}：{v}" for k, v in value.items())
        rows.append((str(BRIEF_LABELS.get(key, key)), "" if value is None else str(value)))
    return rows


def _brief_items(brief: Any) -> list[dict[str, Any]]:
    """The verification facts of the referral's own items, as the service put them in the brief."""
    items = brief.get("items") if isinstance(brief, dict) else None
    if not isinstance(items, list):
        return []
    shown = []
    for item in items:
        if not isinstance(item, dict):
            continue
        criteria = [
            {**c, "outcome": CRITERION_LABELS.get(c.get("outcome", ""), c.get("outcome", ""))}
            for c in item.get("criteria", [])
            if isinstance(c, dict)
        ]
        shown.append({**item, "criteria": criteria})
    return shown


def _thread(brief: Any) -> list[dict[str, str]]:
    """The department's questions and the centre's answers, oldest first."""
    messages = brief.get("messages") if isinstance(brief, dict) else None
    if not isinstance(messages, list):
        return []
    return [
        {
            "who": str(_("Department") if m.get("kind") == "question" else _("Centre")),
            "text": str(m.get("text", "")),
            "date": str(m.get("date", "")),
        }
        for m in messages
        if isinstance(m, dict)
    ]


BRIEF_LABELS = {
    "name": gettext_lazy("Name"),
    "applicant": gettext_lazy("Applicant"),
    "applicant_name": gettext_lazy("Applicant"),
    "village": gettext_lazy("Village"),
    "township": gettext_lazy("Township"),
    "address": gettext_lazy("Address"),
    "phone": gettext_lazy("Phone"),
    "household_size": gettext_lazy("Household size"),
    "note": gettext_lazy("Note"),
    "need_note": gettext_lazy("Other needs"),
    "receipt_code": gettext_lazy("Receipt code"),
    "items": gettext_lazy("Assistance items"),
    "title": gettext_lazy("Title"),
}


# The action forms in the order the page shows them, with the id of each one's section.
FORM_ORDER = (
    ("outcomes", "rw-complete"),
    ("request_info", "rw-request-info"),
    ("answer_info", "rw-answer-info"),
    ("return_form", "rw-return"),
    ("reassign", "rw-reassign"),
    ("extend", "rw-extend"),
    ("cancel", "rw-cancel"),
)


def _form_errors(form: Any, anchor: str, row_labels: list[str] | None = None) -> list[tuple[str, str]]:
    """(anchor, message) of a bound form's errors in its fields' order; a formset row by row."""
    if form is None or not form.is_bound:
        return []
    out: list[tuple[str, str]] = []
    rows = getattr(form, "forms", None)
    if rows is not None:  # a formset: its own errors, then each row's, named by its item
        out += [(anchor, str(m)) for m in form.non_form_errors()]
        labels = row_labels or []
        for n, row in enumerate(rows):
            item = labels[n] if n < len(labels) else ""
            out += [(a, f"{item} · {m}" if item else m) for a, m in _form_errors(row, anchor)]
        return out
    out += [(anchor, str(m)) for m in form.non_field_errors()]
    for name, field in form.fields.items():
        label = str(field.label or name)
        for message in form.errors.get(name, []):
            out.append((form[name].id_for_label or anchor, f"{label}：{message}"))
    return out


def error_summary(bound: ActionForms, error: str, items: list[str] | None = None) -> list[tuple[str, str]]:
    """What went wrong, for the summary at the top of the page: the service's message, then fields."""
    rows: list[tuple[str, str]] = []
    for slot, anchor in FORM_ORDER:
        rows += _form_errors(getattr(bound, slot), anchor, items if slot == "outcomes" else None)
    if error and all(message != error for _a, message in rows):
        rows.insert(0, ("", error))
    return rows


def render_referral(
    request: HttpRequest,
    referral: Referral,
    *,
    bound: ActionForms | None = None,
    conflict: str = "",
    error: str = "",
    status: int = 200,
    phone: str | None = None,
) -> HttpResponse:
    """The referral page with whichever action forms its status and the user's role allow."""
    user = request.user
    f = bound or ActionForms()
    st = referral.status
    centre = is_centre(user)
    allowed = referral_allowed_actions(user, referral)
    may = {action: action in allowed for action in REFERRAL_ACTIONS}
    outcomes = f.outcomes or OutcomeFormSet(prefix="outcome", items=referral.items)
    today = timezone.localdate()
    labels = dict(NeedItem.choices)
    ctx = {
        **staff_context(request, _("Referral")),
        "referral": referral,
        "row": row_for(referral, today),
        "brief": _brief_rows(referral.brief),
        "brief_items": _brief_items(referral.brief),
        "thread": _thread(referral.brief),
        "attachments": list(referral.attachments.defer("data").select_related("uploaded_by")),
        "history": _history(referral),
        "outcomes_done": [
            (str(labels.get(o.item, o.item)), o)
            for o in (referral.outcomes.all() if st == Referral.Status.COMPLETED else [])
        ],
        "may": may,
        "may_any": bool(allowed),
        "conflict": conflict,
        "error": error,
        "error_summary": [] if conflict else error_summary(f, error, item_labels(referral.items)),
        "request_info_form": f.request_info or RequestInfoForm(),
        "answer_info_form": f.answer_info or AnswerInfoForm(),
        "return_form": f.return_form or ReturnForm(),
        "outcome_rows": list(zip(item_labels(referral.items), outcomes.forms, strict=True)),
        "outcome_formset": outcomes,
        "reassign_form": f.reassign or ReassignForm(exclude_department_id=referral.department_id),
        "extend_form": f.extend or ExtendForm(),
        "cancel_form": f.cancel or CancelForm(),
        "is_centre": centre,
        "may_see_contact": acts_for_department(user, referral.department_id)
        and bool((referral.brief or {}).get("contact")),
        "phone": phone,
    }
    response = render(request, "referrals/referral_detail.html", ctx, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(may_use_workbench)
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The referral; with ?contact=1 also the applicant's phone, for its department, audited."""
    referral = referral_get(user=request.user, referral_id=referral_id)
    household_access_record(
        actor=request.user,
        household_id=referral.case.application.household_id,
        purpose=AccessPurpose.REFERRAL_BRIEF,
        subject=referral,
    )
    phone = None
    if request.GET.get("contact") == "1":
        # The same audited read as the API's detail: only the referral's own department, only
        # when the brief says the referral needs contact (security.md). Shown on request, not on
        # every visit, so that the audit log records a real need.
        phone = contact_phone(request.user, referral)
    return render_referral(request, referral, phone=phone)


# --- actions: one POST URL, one form, one service each ------------------------------------------


def action_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """POST runs the action; a GET (a reload or a typed URL after a form) goes back to the page.

    Issue 16: a reload after a refused form used to answer a blank 405. The referral page itself
    checks the scope, so the redirect shows nothing the user may not see.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, referral_id: int) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            return HttpResponseRedirect(reverse("workbench-referral", args=[referral_id]))
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, referral_id)

    return wrapped


def _run(
    request: HttpRequest,
    referral_id: int,
    *,
    form: forms.Form | Any | None,
    slot: str,
    call: Callable[[Referral], Any],
    done: str,
) -> HttpResponse:
    """Validate, call the service, and answer: redirect on success, the page with the error otherwise.

    A lost race (ConflictError, 409) re-reads the referral so the page shows what the winner did.
    """
    referral = referral_get(user=request.user, referral_id=referral_id)
    bound = ActionForms()
    if form is not None:
        setattr(bound, slot, form)
    if form is not None and not form.is_valid():
        return render_referral(request, referral, bound=bound, status=400)
    try:
        result = call(referral)
    except ApplicationError as exc:
        if exc.status == 409:
            fresh = referral_get(user=request.user, referral_id=referral_id)
            detail = str(exc.message)
            return render_referral(request, fresh, conflict=str(CONFLICT_MESSAGE), error=detail, status=409)
        add_service_errors(form, exc)
        return render_referral(request, referral, bound=bound, error=str(exc.message), status=exc.status)
    messages.success(request, done)
    target = result.pk if isinstance(result, Referral) else referral.pk
    return HttpResponseRedirect(reverse("workbench-referral", args=[target]))


@action_post
@staff_view(is_department_staff)
def referral_accept(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _run(
        request,
        referral_id,
        form=None,
        slot="",
        call=lambda r: actions.referral_accept(actor=request.user, referral_id=r.pk),
        done=_("Referral accepted."),
    )


@action_post
@staff_view(is_department_staff)
def referral_request_info(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = RequestInfoForm(request.POST)
    return _run(
        request,
        referral_id,
        form=form,
        slot="request_info",
        call=lambda r: actions.referral_request_info(
            actor=request.user, referral_id=r.pk, question=form.cleaned_data["question"]
        ),
        done=_("Your question was sent to the centre; the deadline is paused until it answers."),
    )


@action_post
@staff_view(is_centre)
def referral_answer_info(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = AnswerInfoForm(request.POST, request.FILES)
    return _run(
        request,
        referral_id,
        form=form,
        slot="answer_info",
        call=lambda r: actions.referral_answer_info(
            actor=request.user,
            referral_id=r.pk,
            answer=form.cleaned_data["answer"],
            attachments=form.cleaned_data["attachments"],
        ),
        done=_("The answer was sent to the department; its deadline runs again."),
    )


@action_post
@staff_view(is_department_staff)
def referral_return(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    return _run(
        request,
        referral_id,
        form=form,
        slot="return_form",
        call=lambda r: actions.referral_return(
            actor=request.user,
            referral_id=r.pk,
            reason_code=form.cleaned_data["reason_code"],
            note=form.cleaned_data["note"],
        ),
        done=_("The referral was returned to the centre."),
    )


@action_post
@staff_view(is_department_staff)
def referral_complete(request: HttpRequest, referral_id: int) -> HttpResponse:
    # The items come from the referral in scope, never from the POST.
    referral = referral_get(user=request.user, referral_id=referral_id)
    formset = OutcomeFormSet(request.POST, prefix="outcome", items=referral.items)

    def call(r: Referral) -> Any:
        outcomes = [actions.OutcomeInput(**row) for row in formset.outcome_rows()]
        return actions.referral_complete(actor=request.user, referral_id=r.pk, outcomes=outcomes)

    return _run(
        request,
        referral_id,
        form=formset,
        slot="outcomes",
        call=call,
        done=_("The referral is completed."),
    )


@action_post
@staff_view(is_centre)
def referral_reassign(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = referral_get(user=request.user, referral_id=referral_id)
    form = ReassignForm(request.POST, exclude_department_id=referral.department_id)
    return _run(
        request,
        referral_id,
        form=form,
        slot="reassign",
        call=lambda r: cases.referral_reassign(
            actor=request.user,
            referral_id=r.pk,
            department_id=form.cleaned_data["department"].pk,
            reason=form.cleaned_data["reason"],
        ),
        done=_("The referral was reassigned."),
    )


@action_post
@staff_view(is_centre)
def referral_extend(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = ExtendForm(request.POST)
    return _run(
        request,
        referral_id,
        form=form,
        slot="extend",
        call=lambda r: cases.referral_extend(
            actor=request.user,
            referral_id=r.pk,
            days=form.cleaned_data["days"],
            reason=form.cleaned_data["reason"],
        ),
        done=_("The deadline was extended."),
    )


@action_post
@staff_view(is_county_wide)
def referral_cancel(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = CancelForm(request.POST)
    return _run(
        request,
        referral_id,
        form=form,
        slot="cancel",
        call=lambda r: cases.referral_cancel(
            actor=request.user, referral_id=r.pk, reason=form.cleaned_data["reason"]
        ),
        done=_("The referral was cancelled."),
    )


@require_GET
@staff_view(may_use_workbench)
def referral_attachment(request: HttpRequest, referral_id: int, attachment_id: int) -> HttpResponse:
    """One file of the centre's answer: only through the referral in scope (else 404), audited."""
    referral = referral_get(user=request.user, referral_id=referral_id)
    attachment = referral.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    household_access_record(
        actor=request.user,
        household_id=referral.case.application.household_id,
        purpose=AccessPurpose.DOWNLOAD,
        subject=referral,
    )
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    # Always a download, never shown inline in the site's origin; the type is the checked one.
    disposition = content_disposition_header(as_attachment=True, filename=attachment.name)
    response["Content-Disposition"] = disposition or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
