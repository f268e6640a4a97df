"""Celery tasks of intake: thin, take ids, call a service, safe to run twice."""

from __future__ import annotations

import structlog
from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist

from assist_center.errors import ConflictError

from .services.forms import application_form_archive

log = structlog.get_logger(__name__)


@shared_task(name="applications.tasks.application_form_generate", ignore_result=True)
def application_form_generate(application_id: int) -> None:
    """Archive the electronic application form of an authorised application (queued on authorisation).

    Idempotent: the service keeps the first form, so a redelivered task changes nothing.
    """
    try:
        application_form_archive(application_id=application_id)
    except ObjectDoesNotExist:
        # The row is gone (a database restored from an older backup): retrying cannot help.
        log.warning("application.form_application_missing", application_id=application_id)
    except ConflictError:
        # Not (or no longer) authorised: retrying cannot help, and the next authorisation queues
        # the task again. Logged for the operator; no personal data in the event.
        log.warning("application.form_not_due", application_id=application_id)
