"""The resident's rating page: POST /happiness/<token>/rate/ from the list's rating panel.

Only the household's verified session rates (happiness_list.sessions); a signed-in staff account
gets 403 even with a household session in the same browser (an assistant at the township window
must not rate their own work). Without a live session for this token the resident goes back to
the list page, which asks for the phone and SMS code again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assist_center.errors import ApplicationError
from assist_center.http import client_ip

from ..rating_forms import RatingForm
from ..selectors.ratings import household_cases_to_rate
from ..services.ratings import AlreadyRated, RatingInput, rating_submit
from ..sessions import household_session


def _list_url(token: str) -> str:
    return f"/happiness/{token}/"


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        raise PermissionDenied
    session = household_session(request)
    if session is None or session.token != token:
        return redirect(_list_url(token))
    form = RatingForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                rating_submit(
                    actor=request.user,
                    household_id=session.household_id,
                    case_id=data["case"],
                    data=RatingInput(
                        efficiency=data["efficiency"],
                        attitude=data["attitude"],
                        quality=data["quality"],
                        tags=data["tags"],
                        comment=data["comment"],
                    ),
                    client_ip=client_ip(request),
                )
            except AlreadyRated:
                messages.info(request, _("This case has already been rated. Here is your rating."))
                return redirect(f"{_list_url(token)}#ratings")
            except Http404:
                raise
            except ApplicationError as exc:
                fields = exc.extra.get("fields", {}) if isinstance(exc.extra, dict) else {}
                for name, message in fields.items():
                    if name in form.fields:
                        form.add_error(name, str(message))
                error = str(exc.message)
            else:
                messages.success(request, _("Thank you for your rating."))
                return redirect(f"{_list_url(token)}#ratings")
        else:
            error = _("Please check the marked fields.")
    rows = household_cases_to_rate(household_id=session.household_id, application_id=session.application_id)
    selected = form.data.get("case") if form.is_bound else None
    ctx = {"rows": rows, "form": form, "token": token, "error": error, "selected": str(selected or "")}
    response = render(request, "happiness_list/rate.html", ctx, status=400 if error else 200)
    response["Cache-Control"] = "no-store"
    return response
