"""The resident's rating form: three dimensions on the five levels, the level's tags, a comment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models.ratings import TAGS, Level

LEVELS = [(str(v), label) for v, label in Level.choices]


def all_tags() -> list[tuple[str, Any]]:
    return [(code, label) for level in sorted(TAGS, reverse=True) for code, label in TAGS[level].items()]


class RatingForm(forms.Form):
    """Shape only: the service checks the levels, that the tags match the lowest level, the comment."""

    case = forms.IntegerField(widget=forms.HiddenInput)
    efficiency = forms.ChoiceField(label=_("Efficiency"), choices=LEVELS, widget=forms.RadioSelect)
    attitude = forms.ChoiceField(label=_("Attitude"), choices=LEVELS, widget=forms.RadioSelect)
    quality = forms.ChoiceField(label=_("Quality of help"), choices=LEVELS, widget=forms.RadioSelect)
    tags = forms.MultipleChoiceField(
        label=_("Tags (at most two, matching your lowest level)"),
        choices=all_tags,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        messages = {
            "required": _("Choose one of the five levels."),
            "invalid_choice": _("Choose one of the five levels."),
        }
        for name in ("efficiency", "attitude", "quality"):
            self.fields[name].error_messages.update(messages)
        self.fields["tags"].error_messages["invalid_choice"] = _("Choose tags that match your rating.")
