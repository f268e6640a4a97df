"""Staff actions of the happiness list: print 幸福签 cards (one household, a village's batch) and
open a household's list for a resident at the township window (assisted, logged).

Out of scope answers 404 (the household's or village's scoped fetch); a role that may see but
not act (a village cadre) gets 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from applications.models import AccessPurpose
from applications.services.access import household_access_record, household_access_record_many
from assist_center.models import Region, Role
from assist_center.pdf import attachment_response
from assist_center.permissions import is_centre
from assist_center.scopes import role_of, scope_queryset
from assist_center.staff_views import staff_context, staff_view

from ..services import cards as card_service
from ..services import list_access
from ..sessions import household_session_open


def _pdf(content: bytes, filename: str, ascii_fallback: str) -> HttpResponse:
    return attachment_response(
        content, content_type="application/pdf", filename=filename, ascii_fallback=ascii_fallback
    )


@require_POST
@staff_view()
def household_card(request: HttpRequest, household_id: int) -> HttpResponse:
    """Print the household's card: a new token, so an earlier card stops working."""
    cards = card_service.cards_print(actor=request.user, household_ids=[household_id])
    household_access_record(
        actor=request.user, household_id=household_id, purpose=AccessPurpose.DOWNLOAD, subject=cards[0]
    )
    return _pdf(card_service.cards_pdf(cards), "幸福签.pdf", f"happiness-card-{household_id}.pdf")


@require_POST
@staff_view()
def village_cards(request: HttpRequest, village_id: int) -> HttpResponse:
    """Print every household card of a village (each gets a new token)."""
    village, households = card_service.village_households(actor=request.user, village_id=village_id)
    if not is_centre(request.user):
        raise PermissionDenied
    if len(households) > card_service.MAX_BATCH:
        households = households[: card_service.MAX_BATCH]
    cards = card_service.cards_print(actor=request.user, household_ids=[h.pk for h in households])
    household_access_record_many(
        actor=request.user, household_ids=[h.pk for h in households], purpose=AccessPurpose.DOWNLOAD
    )
    return _pdf(
        card_service.cards_pdf(cards), f"{village.name}幸福签.pdf", f"happiness-cards-{village.code}.pdf"
    )


def may_see_card_batches(user: object) -> bool:
    """The centre and township assistants print; a village cadre sees its village's row."""
    return is_centre(user) or role_of(user) == Role.VILLAGE_CADRE


@require_GET
@staff_view(may_see_card_batches)
def card_batches(request: HttpRequest) -> HttpResponse:
    """The villages in the user's scope, each with a button printing its households' cards."""
    villages = (
        scope_queryset(Region.objects.filter(level=Region.Level.VILLAGE), request.user)
        .select_related("parent")
        .order_by("code")
    )
    ctx = {
        **staff_context(request, _("Happiness cards")),
        "villages": villages,
        "may_print": is_centre(request.user),
    }
    response = render(request, "happiness_list/staff_cards.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_view()
def assisted_open(request: HttpRequest, household_id: int) -> HttpResponse:
    """Open the household's list in this browser for the resident at the window (logged as assisted)."""
    household = list_access.happiness_assisted_open(
        actor=request.user, household_id=household_id, reason=request.POST.get("reason", "")[:200]
    )
    card = card_service.card_ensure(household_id=household.pk, actor=request.user)
    household_session_open(
        request, household_id=household.pk, application_id=None, method="assisted", token=card.token
    )
    return HttpResponseRedirect(reverse("happiness", args=[card.token]))
