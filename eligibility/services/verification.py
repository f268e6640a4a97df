"""The data check: load a household's records, compute facts, run every item's rules, save the report.

One service does the reads and the write (house-style: rules stay pure). It is called by the
`application_verify` task once an application is authorised (trigger "authorised", idempotent)
and by an assistant on demand (trigger "manual", a new report each time).
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, ApplicationMember
from assist_center.actors import Actor, AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ConflictError
from assist_center.permissions import may_run_verification
from assist_center.scopes import get_in_scope_or_404

from ..facts import MemberInput, canonical_inputs, compute_facts, input_hash
from ..models import Standard, VerificationReport
from ..pool.selectors import records_for_persons
from ..rules import evaluate, policy_first
from ..standards import standards_in_force

log = structlog.get_logger(__name__)

Trigger = VerificationReport.Trigger
S = Application.Status
RUNNABLE = (S.AUTHORISED, S.VERIFYING, S.UNDER_REVIEW)


def member_inputs(application_id: int) -> list[MemberInput]:
    rows = (
        ApplicationMember.objects.filter(application_id=application_id)
        .order_by("position")
        .values_list("position", "id_number_hash", "role", "relation", "birth_date", "sex", "name")
    )
    return [
        MemberInput(f"m{position + 1}", person_hash, role, relation, birth, sex, name)
        for position, person_hash, role, relation, birth, sex, name in rows
    ]


def _standard_rows(standards: dict[str, Standard]) -> list[dict[str, Any]]:
    return [
        {
            "item": item,
            "id": s.pk,
            "version": s.version,
            "region": s.region.code,
            "region_name": s.region.name,
            "effective_from": s.effective_from.isoformat(),
            "params": s.params,
        }
        for item, s in sorted(standards.items())
    ]


def application_for_staff(*, actor: Actor, application_id: int) -> Application:
    """The application if the actor may act on it: 404 out of scope, 403 for a role that may only look."""
    application = get_in_scope_or_404(
        Application.objects.select_related("township", "village"), actor, pk=application_id
    )
    if not may_run_verification(actor):
        raise PermissionDenied
    return application


def _move(application: Application, to: str, actor: AuditActor) -> None:
    """Move the status through intake's one transition function (which writes the audit event)."""
    from applications.services.transitions import application_transition

    application_transition(application_id=application.pk, to=to, actor=actor, reason="")
    application.status = to


def application_verify_run(
    *, application_id: int, trigger: str, actor: Actor | None = None
) -> VerificationReport:
    """Check one application against every item's standard in force today; save and return the report.

    trigger "authorised": the automatic run; a second call returns the first report unchanged.
    trigger "manual": an assistant's re-run (scope checked here); always a new report.
    """
    started = time.perf_counter()
    if trigger == Trigger.MANUAL:
        if actor is None:  # a manual run is a person's; the system never asks for one
            raise PermissionDenied
        application_for_staff(actor=actor, application_id=application_id)
    with transaction.atomic():
        # The row lock serialises two workers that received the same task (broker redelivery).
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("township", "village")
            .defer("form_pdf")
            .get(pk=application_id)
        )
        if trigger == Trigger.AUTHORISED:
            existing = VerificationReport.objects.filter(
                application=application, trigger=Trigger.AUTHORISED
            ).first()
            if existing is not None:
                return existing
        if application.status not in RUNNABLE:
            raise ConflictError(
                _("This application is “%(status)s”: its data can no longer be checked.")
                % {"status": application.get_status_display()},
                {"status": application.status},
            )
        if application.status == S.AUTHORISED:
            _move(application, S.VERIFYING, actor)
        as_of = timezone.localdate()  # Asia/Shanghai (settings.TIME_ZONE)
        members = member_inputs(application.pk)
        records = records_for_persons([m.person_hash for m in members], as_of=as_of)
        standards = standards_in_force(application.township, as_of)
        facts = compute_facts(members, records, as_of=as_of)
        params = {item: s.params for item, s in standards.items()}
        results = policy_first(evaluate(facts, params, asked=application.needs))
        standard_rows = _standard_rows(standards)
        digest = input_hash(
            {
                "facts_inputs": canonical_inputs(members, records, as_of=as_of),
                "standards": [{k: v for k, v in row.items() if k != "region_name"} for row in standard_rows],
            }
        )
        versions = {row["item"]: row for row in standard_rows}
        result_rows = []
        for r in results:
            row = r.as_dict()
            row["standard"] = (
                {k: versions[r.item][k] for k in ("id", "version", "region")} if r.item in versions else None
            )
            result_rows.append(row)
        report = VerificationReport.objects.create(
            application=application,
            trigger=trigger,
            requested_by=account_of(actor),
            as_of=as_of,
            input_hash=digest,
            standards=standard_rows,
            facts=facts.as_dict(),
            results=result_rows,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        audit_record(
            actor=actor,
            action="verification.run",
            subject=application,
            new={
                "report": report.pk,
                "trigger": trigger,
                "input_hash": digest,
                "outcomes": {r.item: str(r.outcome) for r in results},
            },
            region=application.village,
        )
        if application.status == S.VERIFYING:
            _move(application, S.UNDER_REVIEW, actor)
    log.info("verification.done", application_id=application_id, report_id=report.pk, ms=report.duration_ms)
    return report
