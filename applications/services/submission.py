"""Submitting an application, by the resident (SMS code) or by a township assistant on their behalf.

A submission that got a receipt is committed (security.md): everything, from the rows to the SMS
and the audit events, is written in one transaction, and the work for Celery goes through the
outbox. A retry never makes a second application: with an Idempotency-Key the first answer is
replayed; without one, the same request again within two minutes (a double tap on the form's
button, a phone that resent the POST) returns the application the first one made.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import Actor, account_of
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ApplicationError
from assist_center.identity import parse_id_number
from assist_center.models import Region
from assist_center.permissions import may_submit_on_behalf
from assist_center.phones import normalise_mobile
from assist_center.pii import blind_index, id_number_index, phone_index
from assist_center.redaction import redact
from assist_center.scopes import region_in_scope
from assist_center.sms.services import sms_queue

from ..intake import CONSENT_VERSION, ApplicationInput, PersonInput
from ..models import (
    Application,
    ApplicationMember,
    Channel,
    Household,
    IdempotencyRecord,
    OtpPurpose,
    Person,
    RegistryEvent,
)
from . import otp as otp_service
from .transitions import application_transition

__all__ = [
    "CONSENT_VERSION",
    "DOUBLE_TAP_WINDOW",
    "RECEIPT_ALPHABET",
    "application_status_lookup",
    "application_submit",
    "authorisation_counts",
    "family_url",
    "status_url",
]

# No 0/O, 1/I: read aloud over the phone and typed by elderly residents.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10
IDEMPOTENCY_SCOPE = "application_submit"
# Double taps are recorded under their own scope with the request's hash as the key.
DOUBLE_TAP_SCOPE = "application_submit:repeat"
DOUBLE_TAP_WINDOW = timedelta(minutes=2)
ADULT_AGE = 18
# Per IP: a village office or a family sharing one phone may apply for several households; a bot
# may not. Counted for the resident channel only; assistants are accountable by their account.
SUBMISSIONS_PER_IP_PER_HOUR = 30
STATUS_PER_IP_PER_HOUR = 60
STATUS_PER_CODE_PER_HOUR = 20  # an applicant and a helper, each mistyping a few times

NOT_FOUND = _("No application matches this receipt code, phone and SMS code.")
KEY_REUSED = _("Idempotency-Key reused with a different request.")


def family_url(application: Application) -> str:
    return f"{settings.SITE_URL}/family/{application.family_token}/"


def status_url() -> str:
    """The residents' status page (issue 16): receipt code + phone + SMS code."""
    return f"{settings.SITE_URL}/status/"


def _receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def _family_token() -> str:
    # The token goes into an SMS, whose parameters refuse anything shaped like a phone or an ID
    # number; a random token containing eleven digits in a row is possible, so draw again.
    while True:
        token = secrets.token_urlsafe(32)
        if redact(token) == token:
            return token


def _request_hash(*, data: ApplicationInput, channel: str, actor: Actor | None, otp: str | None) -> str:
    """A keyed hash (HMAC-SHA256) of the canonical request: the body holds ID numbers, so a plain
    SHA-256 of it would be a dictionary attack away from them."""
    actor_pk = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    canonical = json.dumps(
        {"data": asdict(data), "channel": channel, "actor": actor_pk, "otp": otp or ""},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return blind_index("request:application_submit", canonical)


def _advisory_lock(name: str) -> None:
    """Serialise submissions that could be duplicates of each other until this transaction ends."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _replayed(*, idempotency_key: str | None, request_hash: str) -> Application | None:
    """The application an earlier identical request made, if this one is a retry of it."""
    if idempotency_key:
        record = IdempotencyRecord.objects.filter(scope=IDEMPOTENCY_SCOPE, key=idempotency_key).first()
        if record is not None:
            if record.request_hash != request_hash:
                raise ApplicationError(KEY_REUSED, status=422)
            return _application_of(record)
    record = IdempotencyRecord.objects.filter(
        scope=DOUBLE_TAP_SCOPE, key=request_hash, created_at__gte=timezone.now() - DOUBLE_TAP_WINDOW
    ).first()
    return _application_of(record) if record is not None else None


def _application_of(record: IdempotencyRecord) -> Application | None:
    body = record.response_body if isinstance(record.response_body, dict) else {}
    application_id = body.get("application_id")
    if not isinstance(application_id, int):
        return None
    return Application.objects.filter(pk=application_id).first()


def _check_channel(*, data: ApplicationInput, channel: str, actor: Actor | None, otp: str | None) -> None:
    if channel == Channel.SELF:
        errors: dict[str, str] = {}
        if not data.applicant.phone:
            errors["applicant.phone"] = str(_("Enter the mobile phone number."))
        if not otp:
            errors["otp"] = str(_("Enter the SMS code sent to your phone."))
        elif not isinstance(otp, str) or len(otp) > 16:
            errors["otp"] = str(otp_service.WRONG_CODE)
        if errors:
            message = (
                next(iter(errors.values())) if len(errors) == 1 else _("Please correct the marked fields.")
            )
            raise ApplicationError(message, {"fields": errors})
        return
    if channel != Channel.ON_BEHALF:
        raise ApplicationError(_("Unknown channel."))
    # 代办 (on behalf): only a township assistant, only for villages of their own township.
    if not may_submit_on_behalf(actor):
        raise PermissionDenied


def _regions(data: ApplicationInput, *, channel: str, actor: Actor | None) -> tuple[Region, Region]:
    code_region = Region.objects.filter(code=data.region_code).first()
    village = Region.objects.filter(code=data.village_code, level=Region.Level.VILLAGE).first()
    if code_region is None or village is None or village.township_id is None:
        # parse_application_input checked both; a region deleted since is the only way here.
        message = _("Choose a village within the assist code's region.")
        raise ApplicationError(message, {"fields": {"village_code": str(message)}})
    if channel == Channel.ON_BEHALF and not region_in_scope(actor, village):
        message = _("This village is not in your township.")
        raise ApplicationError(message, {"fields": {"village_code": str(message)}})
    return code_region, village


def _limit_submissions(ip: str | None) -> None:
    if not ip:
        return
    try:
        otp_service.limit_hit("submit-ip", ip, limit=SUBMISSIONS_PER_IP_PER_HOUR, period=3600)
    except otp_service.RateLimited:
        raise ApplicationError(
            _("Too many applications from this network. Please try again later."), status=429
        ) from None
    except otp_service.LimitUnavailable:
        # Fail OPEN: a resident's application must go through with Redis down (security.md,
        # Reliability); the SMS code it needs was limited when it was sent.
        pass


def application_submit(
    *,
    data: ApplicationInput,
    channel: str,
    actor: Actor | None,
    otp: str | None,
    ip: str | None,
    idempotency_key: str | None = None,
) -> Application:
    """Store an application with its members, ask the family to authorise, and return it.

    `self` channel: `otp` must be the live `apply` code of the applicant's phone; it is used up only
    if the submission is stored. `on_behalf`: `actor` must be the township assistant of the
    village's township (other staff: PermissionDenied; another township's village: an error on
    `village_code`). A retry with the same `idempotency_key` and request returns the first
    application; the same key with another request raises ApplicationError(422). The same request
    again within DOUBLE_TAP_WINDOW returns the first application too (a double tap), so the resident
    who tapped twice sees one receipt. Possible duplicates (a member already in another open
    application) are flagged for staff and never told to the resident. The named persons are
    linked to the registry and the application to a household (`_link_registry`).
    """
    _check_channel(data=data, channel=channel, actor=actor, otp=otp)
    code_region, village = _regions(data, channel=channel, actor=actor)
    request_hash = _request_hash(data=data, channel=channel, actor=actor, otp=otp)

    # A replay needs the whole request, SMS code included, so it reveals nothing new to its sender.
    earlier = _replayed(idempotency_key=idempotency_key, request_hash=request_hash)
    if earlier is not None:
        return earlier

    challenge_id: int | None = None
    if channel == Channel.SELF:
        _limit_submissions(ip)
        assert otp is not None
        try:
            # Outside the transaction: a wrong code's attempt must be counted even though we fail.
            challenge_id = otp_service.otp_verify(
                phone=data.applicant.phone, purpose=OtpPurpose.APPLY, code=otp
            )
        except ApplicationError:
            # The first of two taps may have used the code up a moment ago.
            earlier = _replayed(idempotency_key=idempotency_key, request_hash=request_hash)
            if earlier is not None:
                return earlier
            raise

    with transaction.atomic():
        # Identical requests (and retries under one key) queue here; the second finds the first's
        # record below once the first commits.
        if idempotency_key:
            _advisory_lock(f"{IDEMPOTENCY_SCOPE}:{idempotency_key}")
        _advisory_lock(f"{DOUBLE_TAP_SCOPE}:{request_hash}")
        earlier = _replayed(idempotency_key=idempotency_key, request_hash=request_hash)
        if earlier is not None:
            return earlier
        if challenge_id is not None:
            otp_service.otp_consume(challenge_id=challenge_id)
        application = _create(
            data=data, channel=channel, actor=actor, code_region=code_region, village=village
        )
        _remember(application, idempotency_key=idempotency_key, request_hash=request_hash)
        audit_actor = actor if channel == Channel.ON_BEHALF else RESIDENT
        audit_record(
            actor=audit_actor,
            action="application.submitted",
            subject=application,
            new={
                "receipt_code": application.receipt_code,
                "channel": channel,
                "status": application.status,
                "village": village.code,
                "code_region": code_region.code,
                "members": len(data.people()),
                "needs": list(data.needs),
                "possible_duplicate": application.possible_duplicate,
                "household": application.household_id,
                "in_other_household": application.members.filter(in_other_household=True).count(),
                "consent_version": CONSENT_VERSION,
            },
            region=village,
        )
        application = application_transition(
            application_id=application.pk, to=Application.Status.AWAITING_AUTHORISATION, actor=audit_actor
        )
        if data.applicant.phone:
            # The family link is a bearer token and the receipt code a reference, not personal
            # data; the text names nobody. The status page link lets the applicant check progress
            # (issue 16); the idempotency key is the invite's, so a retry sends one SMS.
            sms_queue(
                to=data.applicant.phone,
                template="application_received",
                params={
                    "receipt": application.receipt_code,
                    "url": family_url(application),
                    "status_url": status_url(),
                },
                idempotency_key=f"family_invite:{application.pk}",
            )
    return application


def _create(
    *, data: ApplicationInput, channel: str, actor: Actor | None, code_region: Region, village: Region
) -> Application:
    hashes = [id_number_index(p.id_number) for p in data.people()]
    # Another open application naming any of these people: staff check it; the resident is not told.
    duplicate = ApplicationMember.objects.filter(
        id_number_hash__in=hashes, application__status__in=Application.OPEN_STATUSES
    ).exists()
    today = timezone.localdate()
    rows = [
        _member(data.applicant, role=ApplicationMember.Role.APPLICANT, position=0, today=today),
        *(
            _member(person, role=ApplicationMember.Role.MEMBER, position=i, today=today)
            for i, person in enumerate(data.members, start=1)
        ),
        *(
            _member(person, role=ApplicationMember.Role.SUPPORTER, position=i, today=today)
            for i, person in enumerate(data.supporters, start=1 + len(data.members))
        ),
    ]
    receipt_code = _unique(_receipt_code, "receipt_code")
    household = _link_registry(rows, village=village, address=data.address, receipt_code=receipt_code)
    application = Application.objects.create(
        receipt_code=receipt_code,
        family_token=_unique(_family_token, "family_token"),
        status=Application.Status.SUBMITTED,
        channel=channel,
        submitted_by=account_of(actor) if channel == Channel.ON_BEHALF else None,
        code_region=code_region,
        village=village,
        township_id=int(village.township_id or 0),  # _regions refuses a village without one
        household=household,
        address=data.address,
        needs=list(data.needs),
        need_note=data.need_note,
        consent_data_check=data.consent_data_check,
        consent_share=data.consent_share,
        consent_publish=data.consent_publish,
        guardian_confirmed=data.guardian_confirmed,
        consent_version=CONSENT_VERSION,
        possible_duplicate=duplicate,
    )
    for row in rows:
        row.application = application
    ApplicationMember.objects.bulk_create(rows)
    return application


def _link_registry(
    rows: list[ApplicationMember], *, village: Region, address: str, receipt_code: str
) -> Household:
    """Link the named persons to the registry and return the application's household.

    The household is the applicant's in the registry, else that of the first household member the
    registry knows, else a new one in the village (no 户号: known only from this application).
    Applicant and members the registry does not know are created there, source "application"; a
    member the registry places in another household is flagged (`in_other_household`), never moved:
    only the registry's own records move people. Supporters live elsewhere by definition: linked
    when known, neither created nor flagged.
    """
    household_rows = [r for r in rows if r.role != ApplicationMember.Role.SUPPORTER]
    unknown_hashes = sorted({r.id_number_hash for r in household_rows})
    # Two applications naming the same unregistered person at once: the second waits and links
    # to the person the first created, instead of failing on the unique blind index.
    for person_hash in unknown_hashes:
        _advisory_lock(f"registry-person:{person_hash}")
    persons = {
        p.id_number_hash: p
        for p in Person.objects.filter(id_number_hash__in=[r.id_number_hash for r in rows]).only(
            "id", "id_number_hash", "household_id", "relation"
        )
    }
    applicant = rows[0]
    anchor = persons.get(applicant.id_number_hash) or next(
        (persons[r.id_number_hash] for r in household_rows if r.id_number_hash in persons), None
    )
    if anchor is not None:
        household = Household.objects.get(pk=anchor.household_id)
    else:
        household = Household.objects.create(
            village=village, township_id=int(village.township_id or 0), address=address[:200]
        )
    # Relations are declared to the applicant; they are relations to the head only when the
    # applicant heads the household (always so for a household this application creates).
    applicant_heads = anchor is None or (
        anchor.id_number_hash == applicant.id_number_hash and anchor.relation == Person.Relation.HEAD
    )
    created: list[Person] = []
    for row in household_rows:
        if row.id_number_hash in persons:
            continue
        relation: str = Person.Relation.OTHER
        if applicant_heads:
            self_row = row.relation == ApplicationMember.Relation.SELF
            relation = Person.Relation.HEAD if self_row else row.relation
        person = Person(
            household=household,
            name=row.name,
            id_number=row.id_number,
            id_number_hash=row.id_number_hash,
            document_type=row.document_type,
            sex=row.sex,
            birth_date=row.birth_date,
            phone=row.phone,
            phone_hash=row.phone_hash,
            relation=relation,
            source=Person.Source.APPLICATION,
        )
        persons[row.id_number_hash] = person
        created.append(person)
    Person.objects.bulk_create(created)
    today = timezone.localdate()
    RegistryEvent.objects.bulk_create(
        RegistryEvent(
            person_id=p.pk,
            kind=RegistryEvent.Kind.REGISTERED,
            to_household_id=household.pk,
            new={"relation": p.relation, "source": Person.Source.APPLICATION},
            effective_date=today,
            source_category="application",
            source_record_id=receipt_code,
        )
        for p in created
    )
    for row in rows:
        linked = persons.get(row.id_number_hash)
        row.person = linked
        row.in_other_household = (
            linked is not None
            and row.role == ApplicationMember.Role.MEMBER
            and linked.household_id != household.pk
        )
    return household


def _unique(make: Any, field: str) -> str:
    # 32**10 receipt codes and 256-bit tokens: a collision is all but impossible, but cheap to rule out.
    while True:
        value = str(make())
        if not Application.objects.filter(**{field: value}).exists():
            return value


def _member(person: PersonInput, *, role: str, position: int, today: Any) -> ApplicationMember:
    resident = parse_id_number(person.id_number)
    adult = resident.age_on(today) >= ADULT_AGE
    return ApplicationMember(
        role=role,
        position=position,
        name=person.name,
        id_number=resident.number,
        id_number_hash=id_number_index(resident.number),
        document_type=resident.document_type.value,
        sex=resident.sex,
        birth_date=resident.birth_date,
        phone=person.phone,
        phone_hash=phone_index(person.phone) if person.phone else "",
        relation=person.relation,
        # Adults and every supporter authorise the data check; other children do not sign. The
        # applicant always signs, even a minor heading a household, so that every application has
        # at least one authorisation and cannot wait forever for none.
        must_authorise=adult or role in (ApplicationMember.Role.SUPPORTER, ApplicationMember.Role.APPLICANT),
    )


def _remember(application: Application, *, idempotency_key: str | None, request_hash: str) -> None:
    body = {"application_id": application.pk}
    if idempotency_key:
        IdempotencyRecord.objects.create(
            scope=IDEMPOTENCY_SCOPE,
            key=idempotency_key,
            request_hash=request_hash,
            response_status=201,
            response_body=body,
        )
    # An identical request older than the window may have left its record: this one replaces it.
    IdempotencyRecord.objects.filter(scope=DOUBLE_TAP_SCOPE, key=request_hash).delete()
    IdempotencyRecord.objects.create(
        scope=DOUBLE_TAP_SCOPE,
        key=request_hash,
        request_hash=request_hash,
        response_status=201,
        response_body=body,
    )


def authorisation_counts(application: Application) -> tuple[int, int]:
    """(signed, required) among the members who must authorise."""
    counts = ApplicationMember.objects.filter(application=application, must_authorise=True).aggregate(
        required=Count("pk"), signed=Count("pk", filter=Q(authorisation__isnull=False))
    )
    return int(counts["signed"] or 0), int(counts["required"] or 0)


def application_status_lookup(*, receipt_code: Any, phone: Any, otp: Any, ip: str | None) -> Application:
    """The application with this receipt code, for the applicant who proves their phone.

    Unknown receipt code, another person's phone and a wrong SMS code all give the same 404 answer,
    so that receipt codes cannot be probed. The code (purpose `status`) is used up on success.
    """
    # Per address, and per receipt code whatever it is (existing or not, so a 429 says nothing about
    # existence): many addresses aimed at one code are held back as well as one address trying many.
    code_key = receipt_code.strip().upper()[:32] if isinstance(receipt_code, str) else "-"
    try:
        otp_service.limit_hit("status-ip", ip or "-", limit=STATUS_PER_IP_PER_HOUR, period=3600)
        otp_service.limit_hit("status-code", code_key, limit=STATUS_PER_CODE_PER_HOUR, period=3600)
    except otp_service.RateLimited:
        raise ApplicationError(_("Too many look-ups. Please try again later."), status=429) from None
    except otp_service.LimitUnavailable:
        pass  # the SMS code behind every look-up is itself limited: these limits are only a second line
    not_found = ApplicationError(NOT_FOUND, status=404)
    if not isinstance(receipt_code, str) or not isinstance(phone, str) or not isinstance(otp, str):
        raise not_found
    try:
        challenge_id = otp_service.otp_verify(phone=phone, purpose=OtpPurpose.STATUS, code=otp)
    except ApplicationError:
        raise not_found from None
    code = receipt_code.strip().upper()
    application = None
    if len(code) == RECEIPT_LENGTH and all(c in RECEIPT_ALPHABET for c in code):
        application = Application.objects.filter(receipt_code=code).first()
    e164_hash = phone_index(normalise_mobile(phone))
    if (
        application is None
        or not ApplicationMember.objects.filter(
            application=application, role=ApplicationMember.Role.APPLICANT, phone_hash=e164_hash
        ).exists()
    ):
        raise not_found
    with transaction.atomic():
        otp_service.otp_consume(challenge_id=challenge_id)
    return application
