"""`{% rating_panel happiness token %}`: the rating panel the resident's list page includes."""

from __future__ import annotations

from typing import Any

from django import template

from ..rating_forms import RatingForm
from ..selectors.ratings import household_cases_to_rate

register = template.Library()


@register.inclusion_tag("happiness_list/_ratings_panel.html")
def rating_panel(happiness: Any, token: str) -> dict[str, Any]:
    if happiness is None:
        return {"rows": [], "token": token}
    rows = household_cases_to_rate(
        household_id=happiness.household_id, application_id=happiness.application_id
    )
    # At the township window (assisted) the assistant's account may not rate: no forms, a note.
    assisted = bool(getattr(happiness, "assisted", False))
    return {"rows": rows, "token": token, "form": RatingForm(), "selected": "", "assisted": assisted}
