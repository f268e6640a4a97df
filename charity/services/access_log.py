"""Every view of a claim's delivery details goes into the household's access log and the audit trail."""

from __future__ import annotations

from applications.models.access import AccessPurpose
from applications.services.access import household_access_record
from assist_center.actors import Actor
from assist_center.audit import audit_record

from ..models import Claim


def record_delivery_view(*, actor: Actor, claim: Claim) -> None:
    """One access-log row (purpose claim_delivery, the organisation named) and one audit event."""
    household_access_record(
        actor=actor,
        household_id=claim.need.household_id,
        purpose=AccessPurpose.CLAIM_DELIVERY,
        subject=claim,
        organisation_id=claim.organisation_id,
        organisation_name=claim.organisation.name,
    )
    audit_record(
        actor=actor,
        action="household.read",
        subject=claim,
        new={"purpose": "claim_delivery", "organisation": claim.organisation.name},
        region=claim.need.township,
    )
