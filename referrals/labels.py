"""Words for the referral app's codes that more than one page shows (the workbench, the audit log)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

# What the history shows for each audited action; an unknown action shows its code.
ACTION_LABELS = {
    "case.open": gettext_lazy("Case opened and referred"),
    "case.close": gettext_lazy("Case closed"),
    "referral.add": gettext_lazy("Added by hand"),
    "referral.accept": gettext_lazy("Accepted"),
    "referral.request_info": gettext_lazy("Asked for more information"),
    "referral.answer_info": gettext_lazy("Information given"),
    "referral.return": gettext_lazy("Returned to the centre"),
    "referral.complete": gettext_lazy("Completed"),
    "referral.reassign": gettext_lazy("Reassigned"),
    "referral.extend": gettext_lazy("Deadline extended"),
    "referral.cancel": gettext_lazy("Cancelled by the centre"),
    "referral.colour": gettext_lazy("Warning colour changed"),
    "referral.contact_read": gettext_lazy("Contact phone viewed"),
}
