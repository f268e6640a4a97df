"""factory-boy factories; Faker speaks zh_CN so names look like the county's residents.

The workflow entities (application and its members, verification report, case, referral) are
built through the real services, one stage after another, so that a factory-built object is in a
state the real system can reach, with the audit events and related rows that state implies:

    ApplicationFactory()                  awaiting the family's authorisation (application_submit)
    ApplicationFactory(authorised=True)   every required member signed (paper or screen)
    ApplicationFactory(verified=True)     the data check ran: under review, with its report
    ApplicationFactory(decided=True)      each item decided; a case if anything was approved
    CaseFactory(), CaseFactory(closed=True)
    ReferralFactory(), (accepted=True), (overdue=True), (completed=True)
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import factory
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from faker import Faker
from PIL import Image, ImageDraw

from applications.intake import GUARDIAN_AGE, parse_application_input
from applications.models import (
    Application,
    ApplicationMember,
    Authorisation,
    Channel,
    Household,
    OtpPurpose,
    Person,
)
from applications.services.family import authorisation_sign, authorisation_upload_paper
from applications.services.otp import otp_send
from applications.services.submission import application_submit
from assist_center.identity import age_on, make_id_number
from assist_center.models import Department, Region, Role, SmsMessage, StaffProfile
from assist_center.phones import normalise_mobile
from assist_center.pii import id_number_index, phone_index
from assist_center.sms.services import sms_deliver
from charity.models import Organisation
from eligibility.models import VerificationReport
from eligibility.services.verification import application_verify_run
from referrals.models import Case, Referral

factory.Faker._DEFAULT_LOCALE = "zh_CN"

COUNTY_CODE = "331099000000"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = COUNTY_CODE
    name = "测试县"
    level = Region.Level.COUNTY
    kind = Region.Kind.COUNTY
    parent = None
    township = None


def county() -> Region:
    return RegionFactory.create()


def township(n: int, name: str | None = None) -> Region:
    c = county()
    return RegionFactory.create(
        code=f"331099{100 + n:03d}000",
        name=name or f"第{n}镇",
        level=Region.Level.TOWNSHIP,
        kind=Region.Kind.TOWN,
        parent=c,
    )


def village(town: Region, n: int, name: str | None = None) -> Region:
    return RegionFactory.create(
        code=f"{town.code[:9]}{200 + n:03d}",
        name=name or f"{town.name}{n}村",
        level=Region.Level.VILLAGE,
        kind=Region.Kind.VILLAGE,
        parent=town,
        township=town,
    )


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code}局")
    short_name = factory.LazyAttribute(lambda o: o.code)
    takes_referrals = True


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("name")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")


def staff_user(username: str, role: Role, **scope: Any) -> Any:
    user = UserFactory(username=username, is_staff=role != Role.ORGANISATION)
    StaffProfile.objects.update_or_create(user=user, defaults={"role": role, **scope})
    return user


_seq = iter(range(1, 10**9))


def person(
    household: Household,
    *,
    name: str | None = None,
    birth: dt.date = dt.date(1970, 5, 1),
    relation: str = Person.Relation.HEAD,
    phone: str = "",
) -> Person:
    number = make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)
    while Person.objects.filter(id_number_hash=id_number_index(number)).exists():
        number = make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)
    return Person.objects.create(
        household=household,
        name=name or factory.Faker("name").evaluate(None, None, {"locale": "zh_CN"}),
        id_number=number,
        id_number_hash=id_number_index(number),
        sex="M" if int(number[16]) % 2 else "F",
        birth_date=birth,
        phone=phone,
        phone_hash=phone_index(phone) if phone else "",
        relation=relation,
    )


def household(village_region: Region, *, address: str = "幸福路1号", members: int = 1) -> Household:
    assert village_region.township is not None
    h = Household.objects.create(village=village_region, township=village_region.township, address=address)
    for i in range(members):
        person(h, relation=Person.Relation.HEAD if i == 0 else Person.Relation.CHILD)
    return h


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"公益组织{n}")
    kind = Organisation.Kind.NGO


# --- the workflow entities, built through the services -----------------------------------------

_fake = Faker("zh_CN")
_id_seq = itertools.count(500)
_phone_seq = itertools.count(1)

SIGNER_USER_AGENT = "Mozilla/5.0 (Linux; Android 10; factory)"


def mobile() -> str:
    """A fresh mobile number: OTP limits are per phone, so two signers never share one."""
    return f"+86139555{next(_phone_seq) % 100000:05d}"


def id_number(birth: dt.date, region6: str = "331099") -> str:
    return make_id_number(region6=region6, birth=birth, seq=next(_id_seq) % 1000)


class Sign(enum.StrEnum):
    """How a member authorises the data check when a factory takes the application that far."""

    PAPER = "paper"  # the township assistant uploads the scan of the signed paper form
    SCREEN = "screen"  # the member signs on the family page after an SMS code to their phone


AUTO = "auto"


@dataclass(frozen=True)
class MemberSpec:
    """A person on an application, as the intake form asks for them (plus how they will sign)."""

    role: str = ApplicationMember.Role.MEMBER
    relation: str = ApplicationMember.Relation.SPOUSE
    name: str = ""  # Faker zh_CN when empty
    birth: dt.date = dt.date(1970, 5, 1)
    # AUTO: a fresh mobile for the applicant and supporters, none for household members (the form
    # asks members for none; a member who signs on screen gives theirs then).
    phone: str = AUTO
    id_number: str = ""  # drawn when empty
    sign: Sign = Sign.PAPER

    def resolved(self) -> MemberSpec:
        """The spec with its name, ID number and phone drawn, so the caller can refer to them."""
        phone = self.phone
        if phone == AUTO:
            phone = "" if self.role == ApplicationMember.Role.MEMBER else mobile()
        return replace(
            self,
            name=self.name or _fake.name(),
            id_number=self.id_number or id_number(self.birth),
            phone=phone,
        )


def applicant(**kw: Any) -> MemberSpec:
    kw.setdefault("birth", dt.date(1968, 3, 1))
    return MemberSpec(role=ApplicationMember.Role.APPLICANT, relation=ApplicationMember.Relation.SELF, **kw)


def member(relation: str = ApplicationMember.Relation.SPOUSE, **kw: Any) -> MemberSpec:
    return MemberSpec(role=ApplicationMember.Role.MEMBER, relation=relation, **kw)


def supporter(relation: str = ApplicationMember.Relation.CHILD, **kw: Any) -> MemberSpec:
    kw.setdefault("birth", dt.date(1990, 7, 7))
    return MemberSpec(role=ApplicationMember.Role.SUPPORTER, relation=relation, **kw)


def default_family() -> list[MemberSpec]:
    return [applicant(), member(birth=dt.date(1970, 9, 3))]


def in_form_order(people: Sequence[MemberSpec]) -> list[MemberSpec]:
    """Applicant, household members, supporters: the positions application_submit gives them."""
    role = ApplicationMember.Role
    order = [role.APPLICANT, role.MEMBER, role.SUPPORTER]
    return sorted(people, key=lambda p: order.index(role(p.role)))


def intake_body(
    *,
    village: Region,
    people: Sequence[MemberSpec],
    needs: Sequence[str],
    address: str,
    need_note: str = "",
    consent_share: bool = False,
    consent_publish: bool = False,
    guardian_confirmed: bool = False,
) -> dict[str, Any]:
    """The JSON body the intake form posts, for resolved `people` (exactly one applicant)."""
    assert village.township is not None
    applicants = [p for p in people if p.role == ApplicationMember.Role.APPLICANT]
    assert len(applicants) == 1, "an application has exactly one applicant"
    head = applicants[0]
    return {
        "region_code": village.township.code,
        "village_code": village.code,
        "address": address,
        "applicant": {"name": head.name, "id_number": head.id_number, "phone": head.phone},
        "members": [
            {"name": p.name, "id_number": p.id_number, "relation": p.relation}
            for p in people
            if p.role == ApplicationMember.Role.MEMBER
        ],
        "supporters": [
            {"name": p.name, "id_number": p.id_number, "relation": p.relation, "phone": p.phone}
            for p in people
            if p.role == ApplicationMember.Role.SUPPORTER
        ],
        "needs": list(needs),
        "need_note": need_note,
        "consents": {
            "data_check": True,
            "share_with_organisations": consent_share,
            "publish_need": consent_publish,
        },
        "guardian_confirmed": guardian_confirmed,
    }


def township_assistant(region: Region) -> Any:
    """A township assistant of the region's township (the one who applies on a family's behalf)."""
    town = region if region.level == Region.Level.TOWNSHIP else region.township
    assert town is not None
    return staff_user(f"assistant-{town.code}", Role.TOWNSHIP_ASSISTANT, region=town)


def department_staff(department: Department) -> Any:
    return staff_user(f"staff-{department.code}", Role.DEPARTMENT_STAFF, department=department)


def scan_pdf() -> bytes:
    """A tiny valid one-page PDF standing for the scan of a signed paper form."""
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def signature_png() -> bytes:
    """A drawing like signature_pad's: transparent background, dark strokes."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(20, 90), (80, 30), (140, 95), (200, 25), (280, 80)], fill=(20, 20, 20, 255), width=5
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sign_on_paper(
    member: ApplicationMember,
    *,
    actor: Any,
    data: bytes | None = None,
    name: str = "scan.pdf",
    content_type: str = "application/pdf",
) -> Authorisation:
    """The assistant uploads the member's signed paper form (authorisation_upload_paper)."""
    upload = SimpleUploadedFile(name, data if data is not None else scan_pdf(), content_type=content_type)
    return authorisation_upload_paper(actor=actor, member_id=member.pk, upload=upload)


def sign_on_screen(
    member: ApplicationMember,
    *,
    phone: str = "",
    png: bytes | None = None,
    ip: str | None = None,
    user_agent: str = SIGNER_USER_AGENT,
) -> Authorisation:
    """The member signs on the family page: SMS code to their phone, then the drawing.

    The code is read from the SMS the test backend delivered, as the member reads it on the phone.
    """
    phone = phone or member.phone or mobile()
    otp_send(phone=phone, purpose=OtpPurpose.FAMILY, ip=None)
    sms = SmsMessage.objects.filter(to_hash=phone_index(normalise_mobile(phone)), template="otp").latest("pk")
    sms_deliver(sms_id=sms.pk)
    return authorisation_sign(
        token=member.application.family_token,
        member_id=member.pk,
        phone=phone,
        otp=str(sms.params["code"]),
        png=png if png is not None else signature_png(),
        ip=ip,
        user_agent=user_agent,
    )


class Stage(enum.IntEnum):
    """How far ApplicationFactory takes an application; each stage includes the ones before."""

    SUBMITTED = 1  # application_submit: awaiting authorisation, the family invited
    AUTHORISED = 2  # every member who must authorise has signed
    VERIFIED = 3  # application_verify_run (trigger "authorised"): under review, one report
    DECIDED = 4  # item_decide on every item to decide, application_decide_complete


def _default_village() -> Region:
    return village(township(1), 1)


class ApplicationFactory(factory.Factory):
    """An application taken through the real services up to `stage` (see the traits).

    `people` are MemberSpecs (default: an applicant and a spouse, both adults); their drawn
    names, ID numbers and phones are on `application.factory_people`, in form order. The
    township assistant of the village submits on the family's behalf and uploads the paper
    signatures; `decided_by` (default: that assistant) decides, approving `approve` (default:
    every item asked for) and rejecting every other item to decide.
    """

    class Meta:
        model = Application
        strategy = factory.CREATE_STRATEGY

    class Params:
        submitted = factory.Trait(stage=Stage.SUBMITTED)
        authorised = factory.Trait(stage=Stage.AUTHORISED)
        verified = factory.Trait(stage=Stage.VERIFIED)
        decided = factory.Trait(stage=Stage.DECIDED)

    stage = Stage.SUBMITTED
    village = factory.LazyFunction(_default_village)
    people = factory.LazyFunction(default_family)
    needs: Any = ("dibao",)
    address = "幸福路1号"
    need_note = ""
    consent_share = False
    consent_publish = False
    # The form asks for it exactly when a child under 14 is named, and refuses the body without it.
    guardian_confirmed = factory.LazyAttribute(
        lambda o: any(age_on(p.birth, timezone.localdate()) < GUARDIAN_AGE for p in o.people)
    )
    assistant = factory.LazyAttribute(lambda o: township_assistant(o.village))
    decided_by = factory.SelfAttribute("assistant")
    approve: Any = None
    reject_reason = "经核查不符合条件"

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ApplicationFactory only creates: its states exist in the database.")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kw: Any) -> Application:
        stage = Stage(kw["stage"])
        people = in_form_order([p.resolved() for p in kw["people"]])
        body = intake_body(
            village=kw["village"],
            people=people,
            needs=kw["needs"],
            address=kw["address"],
            need_note=kw["need_note"],
            consent_share=kw["consent_share"],
            consent_publish=kw["consent_publish"],
            guardian_confirmed=kw["guardian_confirmed"],
        )
        assistant = kw["assistant"]
        app = application_submit(
            data=parse_application_input(body), channel=Channel.ON_BEHALF, actor=assistant, otp=None, ip=None
        )
        if stage >= Stage.AUTHORISED:
            authorise(app, people, actor=assistant)
        if stage >= Stage.VERIFIED:
            application_verify_run(application_id=app.pk, trigger=VerificationReport.Trigger.AUTHORISED)
        if stage >= Stage.DECIDED:
            approve = list(kw["needs"]) if kw["approve"] is None else list(kw["approve"])
            decide(app, approve=approve, actor=kw["decided_by"], reason=kw["reject_reason"])
        app = Application.objects.get(pk=app.pk)
        app.factory_people = people  # type: ignore[attr-defined]
        return app


def id_numbers(app: Application) -> dict[str, str]:
    """{name: plain ID number} of the people a factory put on the application."""
    return {p.name: p.id_number for p in app.factory_people}  # type: ignore[attr-defined]


def authorise(app: Application, people: Sequence[MemberSpec], *, actor: Any) -> None:
    """Every member who must authorise and has not yet signs, each the way their spec says."""
    members = ApplicationMember.objects.filter(application=app).select_related("application")
    for spec, m in zip(people, members.order_by("position"), strict=True):
        if not m.must_authorise or Authorisation.objects.filter(member=m).exists():
            continue
        if spec.sign == Sign.SCREEN:
            sign_on_screen(m, phone=spec.phone)
        else:
            sign_on_paper(m, actor=actor)


def decide(app: Application, *, approve: Sequence[str], actor: Any, reason: str) -> None:
    """Approve `approve`, reject every other item to decide, and close the review."""
    from eligibility.services.decisions import (
        application_decide_complete,
        item_decide,
        items_to_decide,
        latest_report,
    )
    from referrals.services.cases import ITEM_DEPARTMENT

    report = latest_report(app.pk)
    assert report is not None, "decide needs a verification report"
    for item in approve:
        # Departments come from a data migration, which a transactional test's flush removes.
        DepartmentFactory(code=ITEM_DEPARTMENT[item])
    for item in items_to_decide(Application.objects.get(pk=app.pk), report):
        if item in approve:
            item_decide(actor=actor, application_id=app.pk, item=item, decision="approve")
        else:
            item_decide(actor=actor, application_id=app.pk, item=item, decision="reject", reason=reason)
    application_decide_complete(actor=actor, application_id=app.pk)


class CaseFactory(factory.Factory):
    """The case the decision opens: `items` approved, one referral per department (pending).

    `closed`: every referral completed by its department (granted), which closes the case.
    """

    class Meta:
        model = Case
        strategy = factory.CREATE_STRATEGY

    class Params:
        open = factory.Trait(closed_flag=False)
        closed = factory.Trait(closed_flag=True)

    closed_flag = False
    items: Any = ("dibao",)
    village = factory.LazyFunction(_default_village)
    people = factory.LazyFunction(default_family)
    need_note = ""
    consent_share = False
    consent_publish = False
    assistant = factory.LazyAttribute(lambda o: township_assistant(o.village))
    decided_by = factory.SelfAttribute("assistant")

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("CaseFactory only creates: its states exist in the database.")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kw: Any) -> Case:
        app = ApplicationFactory.create(
            decided=True,
            village=kw["village"],
            people=kw["people"],
            needs=list(kw["items"]),
            approve=list(kw["items"]),
            need_note=kw["need_note"],
            consent_share=kw["consent_share"],
            consent_publish=kw["consent_publish"],
            assistant=kw["assistant"],
            decided_by=kw["decided_by"],
        )
        case = Case.objects.get(application=app)
        if kw["closed_flag"]:
            for referral in case.referrals.select_related("department"):
                complete(referral)
        return Case.objects.get(pk=case.pk)


def complete(referral: Referral, *, actor: Any = None) -> Referral:
    """The department grants every item of the referral (referral_complete)."""
    from referrals.services.actions import OutcomeInput, referral_complete

    return referral_complete(
        actor=actor or department_staff(referral.department),
        referral_id=referral.pk,
        outcomes=[OutcomeInput(item=i, granted=True, benefit_kind="救助金") for i in referral.items],
    )


# An overdue referral was opened this long ago: more than any allotment plus a Spring Festival.
OVERDUE_AFTER = dt.timedelta(days=30)


class ReferralFactory(factory.Factory):
    """The one referral of a case opened for `item`: pending, or accepted / overdue / completed.

    `overdue`: opened OVERDUE_AFTER ago and still pending; the colour sweep has turned it red.
    """

    class Meta:
        model = Referral
        strategy = factory.CREATE_STRATEGY

    class Params:
        pending = factory.Trait(state="pending")
        accepted = factory.Trait(state="accepted")
        overdue = factory.Trait(state="overdue")
        completed = factory.Trait(state="completed")

    state = "pending"
    item = "dibao"
    village = factory.LazyFunction(_default_village)
    assistant = factory.LazyAttribute(lambda o: township_assistant(o.village))
    department_actor: Any = None

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ReferralFactory only creates: its states exist in the database.")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kw: Any) -> Referral:
        from referrals.services.actions import referral_accept
        from referrals.services.sweep import colour_sweep

        state = kw["state"]
        opened = CaseFactory.create
        if state == "overdue":
            with time_machine.travel(timezone.now() - OVERDUE_AFTER, tick=False):
                case = opened(items=[kw["item"]], village=kw["village"], assistant=kw["assistant"])
        else:
            case = opened(items=[kw["item"]], village=kw["village"], assistant=kw["assistant"])
        referral = case.referrals.select_related("department").get()
        actor = kw["department_actor"] or department_staff(referral.department)
        if state in ("accepted", "completed"):
            referral_accept(actor=actor, referral_id=referral.pk)
        if state == "completed":
            complete(referral, actor=actor)
        if state == "overdue":
            colour_sweep(full=True)
        return Referral.objects.select_related("case", "department").get(pk=referral.pk)
