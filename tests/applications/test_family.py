"""家庭码: identification, on-screen signatures and their evidence, and the "authorised" transition."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import secrets
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from applications.intake import CONSENT_VERSION
from applications.models import Application, ApplicationMember, Authorisation
from applications.services import family as family_service
from applications.services.otp import otp_send
from applications.services.transitions import application_transition
from assist_center.audit import RESIDENT
from assist_center.errors import ApplicationError, ConflictError
from assist_center.identity import make_id_number
from assist_center.models import AuditEvent, OutboxMessage, SmsMessage
from assist_center.phones import normalise_mobile
from assist_center.pii import phone_index

from .. import factories as f
from ..factories import ApplicationFactory, MemberSpec, id_numbers

IP = "203.0.113.7"
UA = "Mozilla/5.0 (Linux; Android 10; 红米 9A) " + "x" * 500

# A person on a test application; `phone` empty for household members (the form asks them for none).
P = MemberSpec
APPLICANT = f.applicant(name="王秀英", birth=dt.date(1961, 3, 1), phone="13800138000")
SPOUSE = f.member(ApplicationMember.Relation.SPOUSE, name="李建国", birth=dt.date(1958, 7, 15), phone="")
CHILD = f.member(ApplicationMember.Relation.CHILD, name="李小明", birth=dt.date(2016, 5, 1), phone="")
SUPPORTER = f.supporter(
    ApplicationMember.Relation.CHILD, name="李强", birth=dt.date(1985, 1, 20), phone="13900139000"
)
FAMILY = (APPLICANT, SPOUSE, CHILD, SUPPORTER)
SPOUSE_PHONE = "13700137000"


def signature_png(*, size: tuple[int, int] = (900, 540), ink: bool = True) -> bytes:
    """A drawing like signature_pad's: transparent background, black strokes."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        draw = ImageDraw.Draw(img)
        w, h = size
        draw.line(
            [(w * 0.1, h * 0.6), (w * 0.3, h * 0.3), (w * 0.5, h * 0.7), (w * 0.8, h * 0.35)],
            fill="black",
            width=8,
        )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def last_code(phone: str) -> str:
    """The code of the newest SMS to `phone` (the SMS row's parameters, as the worker would send)."""
    sms = SmsMessage.objects.filter(to_hash=phone_index(normalise_mobile(phone))).order_by("-id").first()
    assert sms is not None, "no SMS was queued"
    return str(sms.params["code"])


def member(app: Application, name: str) -> ApplicationMember:
    return ApplicationMember.objects.get(application=app, name=name)


def url(app: Application) -> str:
    return reverse("family", args=[app.family_token])


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any) -> None:
    """Rate limits count in Redis: each test gets fresh counters without flushing what parallel
    workers share (changing CACHES makes Django open new cache connections)."""
    default = settings.CACHES["default"]
    prefix = f"{default.get('KEY_PREFIX', '')}:{secrets.token_hex(6)}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def app(county_map: Any) -> tuple[Application, dict[str, str]]:
    application = ApplicationFactory.create(village=county_map.village_a1, people=list(FAMILY))
    return application, id_numbers(application)


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def identify(
    c: Client, app: Application, p: P, numbers: dict[str, str], *, phone: str | None = None, **override: str
) -> Any:
    data = {"action": "identify", "name": p.name, "id_number": numbers[p.name], "phone": phone or p.phone}
    data.update(override)
    return c.post(url(app), data)


def sign(c: Client, app: Application, code: str, png: bytes | None = None) -> Any:
    return c.post(url(app), {"action": "sign", "code": code, "signature": data_url(png or signature_png())})


def sign_through_the_page(
    app: Application, p: P, numbers: dict[str, str], *, phone: str | None = None
) -> Client:
    c = client()
    r = identify(c, app, p, numbers, phone=phone)
    assert r.status_code == 302, r.content.decode()[:2000]
    r = sign(c, app, last_code(phone or p.phone))
    assert r.status_code == 302, r.content.decode()[:2000]
    return c


# --- the page -----------------------------------------------------------------------------------


def test_the_page_lists_who_must_sign_masked_without_any_numbers(app: Any) -> None:
    application, numbers = app
    r = client().get(url(application))
    assert r.status_code == 200
    html = r.content.decode()
    assert application.receipt_code in html
    assert html.count('<li class="fa-signer') == 3  # applicant, spouse, supporter; not the 10-year-old
    for masked in ("王**", "李**", "李*"):
        assert masked in html
    for p in FAMILY:
        assert p.name not in html
        assert numbers[p.name] not in html
        assert numbers[p.name][-4:] not in html
    for phone in (APPLICANT.phone, SUPPORTER.phone, "138****8000", "139****9000"):
        assert phone not in html
    assert "还差 3 人签名" in html
    # Issue 16: the page names both age rules (18 signs, 14 guardian) in the words the form uses.
    assert 'id="fa-age-rule"' in html and "18" in html and "14" in html
    assert "发送验证码" in html
    # Without JavaScript the canvas cannot work: the page says what to do instead.
    assert "<noscript>" in html and "纸质授权书" in html
    assert r["Cache-Control"].startswith("no-store")


def test_an_unknown_family_link_is_a_friendly_404(db: Any) -> None:
    r = client().get(reverse("family", args=["no-such-token"]))
    assert r.status_code == 404
    assert "家庭码链接无效" in r.content.decode()


def test_the_page_never_contains_an_id_number_at_any_step(app: Any) -> None:
    application, numbers = app
    c = client()
    pages = [c.get(url(application))]
    identify(c, application, SPOUSE, numbers, phone=SPOUSE_PHONE)
    pages.append(c.get(url(application)))
    sign(c, application, last_code(SPOUSE_PHONE))
    pages.append(c.get(url(application)))
    wrong = identify(client(), application, APPLICANT, numbers, name="王秀")
    pages.append(wrong)
    for page in pages:
        html = page.content.decode()
        for number in numbers.values():
            assert number not in html
            assert number[:6] + number[6:14] not in html
        assert SPOUSE_PHONE not in html and SPOUSE.name not in html


# --- step 1: who is signing ----------------------------------------------------------------------


def _other_application_member(county_map: Any) -> tuple[Application, dict[str, str]]:
    other = ApplicationFactory.create(
        village=county_map.village_a2,
        people=[f.applicant(name="赵大海", birth=dt.date(1970, 1, 1), phone="13600136000")],
    )
    return other, id_numbers(other)


@pytest.mark.parametrize(
    "case", ["wrong name", "wrong id", "other application", "minor", "bad id", "other phone"]
)
def test_identification_failures_all_get_the_same_generic_error(app: Any, county_map: Any, case: str) -> None:
    application, numbers = app
    c = client()
    if case == "wrong name":
        r = identify(c, application, APPLICANT, numbers, name="王秀兰")
    elif case == "wrong id":
        other = make_id_number(region6="331099", birth=APPLICANT.birth, seq=998)
        r = identify(c, application, APPLICANT, numbers, id_number=other)
    elif case == "other application":
        _, other_numbers = _other_application_member(county_map)
        r = identify(c, application, APPLICANT, numbers, name="赵大海", id_number=other_numbers["赵大海"])
    elif case == "minor":
        r = identify(c, application, CHILD, numbers, phone=SPOUSE_PHONE)
    elif case == "bad id":
        r = identify(c, application, APPLICANT, numbers, id_number="110105199001010011")
    else:  # a supporter's phone must be the one in the application
        r = identify(c, application, SUPPORTER, numbers, phone="13500135000")
    assert r.status_code == 400
    html = r.content.decode()
    assert "信息与本申请中需要签名的人不一致" in html
    assert "family_signer" not in c.session
    assert not SmsMessage.objects.filter(template="otp").exists()


def test_identification_accepts_full_width_input_and_stray_spaces(app: Any) -> None:
    application, numbers = app
    number = numbers[SPOUSE.name]
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in number)
    c = client()
    r = identify(
        c, application, SPOUSE, numbers, name=f" {SPOUSE.name} ", id_number=full_width, phone=SPOUSE_PHONE
    )
    assert r.status_code == 302
    assert c.session["family_signer"]["member_id"] == member(application, SPOUSE.name).pk


def test_identification_failures_are_limited_per_link_and_address(app: Any) -> None:
    application, numbers = app
    c = client()
    for _ in range(family_service.IDENTIFY_FAILURES_PER_IP):
        assert identify(c, application, APPLICANT, numbers, name="王秀兰").status_code == 400
    r = identify(c, application, APPLICANT, numbers)  # now right, but too late
    assert r.status_code == 429
    assert "尝试次数过多" in r.content.decode()
    # Another address is not blocked by this one's failures.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert identify(other, application, APPLICANT, numbers).status_code == 302


def test_identification_fails_closed_when_the_cache_is_down(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    application, numbers = app

    class DownCache:
        def __getattr__(self, name: str) -> Any:
            def down(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionError("redis down")

            return down

    monkeypatch.setattr(family_service, "cache", DownCache())
    r = identify(client(), application, APPLICANT, numbers)
    assert r.status_code == 429
    assert not SmsMessage.objects.filter(template="otp").exists()


def test_identification_keeps_the_signer_in_the_session_not_the_url(app: Any) -> None:
    application, numbers = app
    c = client()
    r = identify(c, application, SUPPORTER, numbers)
    assert r.status_code == 302 and r["Location"] == url(application)
    stored = c.session["family_signer"]
    assert stored["member_id"] == member(application, SUPPORTER.name).pk
    assert stored["token"] == application.family_token
    assert SUPPORTER.phone not in str(stored)  # encrypted: sessions are rows in the database
    page = c.get(url(application)).content.decode()
    assert "第 2 步" in page and "李*" in page and "139****9000" in page
    assert "验证码已发送" in page
    assert 'nonce="' in page and "signature_pad.umd.min.js" in page and "family-sign.js" in page
    assert "<script>" not in page and "style=" not in page
    assert SmsMessage.objects.exclude(template="application_received").get().template == "otp"


def test_starting_again_forgets_the_signer(app: Any) -> None:
    application, numbers = app
    c = client()
    identify(c, application, SUPPORTER, numbers)
    r = c.post(url(application), {"action": "restart"})
    assert r.status_code == 302
    assert "family_signer" not in c.session
    assert "第 1 步" in c.get(url(application)).content.decode()


# --- step 2: the signature ----------------------------------------------------------------------


def test_a_signature_is_stored_with_its_evidence(app: Any) -> None:
    application, numbers = app
    c = client()
    identify(c, application, SPOUSE, numbers, phone=SPOUSE_PHONE)
    png = signature_png()
    r = sign(c, application, last_code(SPOUSE_PHONE), png)
    assert r.status_code == 302
    spouse = member(application, SPOUSE.name)
    auth = Authorisation.objects.get(member=spouse)
    assert auth.method == Authorisation.Method.SCREEN
    assert bytes(auth.image) == png
    assert auth.content_type == "image/png"
    assert auth.sha256 == hashlib.sha256(png).hexdigest()
    assert auth.consent_version == CONSENT_VERSION
    assert auth.ip_address == IP
    assert auth.user_agent == UA[:400]
    assert auth.otp_verified is True
    assert auth.uploaded_by is None
    # The household member had no phone in the application: the verified one is now on file.
    assert spouse.phone == "+8613700137000"
    assert spouse.phone_hash == phone_index("+8613700137000")
    event = AuditEvent.objects.get(action="authorisation.signed")
    assert event.actor_label == RESIDENT and event.region_id == application.village_id
    assert event.new_values["sha256"] == auth.sha256
    for value in (SPOUSE.name, numbers[SPOUSE.name], SPOUSE_PHONE):
        assert value not in str(event.new_values) and value not in str(event.old_values)
    page = c.get(url(application)).content.decode()
    assert "签名已记录" in page
    assert page.count("已签名") >= 1 and "还差 2 人签名" in page
    assert "family_signer" not in c.session
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_AUTHORISATION


def test_a_second_signature_of_the_same_person_is_409(app: Any) -> None:
    application, numbers = app
    sign_through_the_page(application, SUPPORTER, numbers)
    r = identify(client(), application, SUPPORTER, numbers)
    assert r.status_code == 409
    assert "您已签名" in r.content.decode()
    # And through the service, as the API or a double tap would reach it.
    with pytest.raises(ConflictError):
        family_service.authorisation_sign(
            token=application.family_token,
            member_id=member(application, SUPPORTER.name).pk,
            phone=SUPPORTER.phone,
            otp="123456",
            png=signature_png(),
            ip=IP,
            user_agent=UA,
        )
    assert Authorisation.objects.count() == 1


def test_a_wrong_sms_code_is_refused(app: Any) -> None:
    application, numbers = app
    c = client()
    identify(c, application, SUPPORTER, numbers)
    code = last_code(SUPPORTER.phone)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    r = sign(c, application, wrong)
    assert r.status_code == 400
    assert "验证码不正确或已过期" in r.content.decode()
    assert not Authorisation.objects.exists()
    # The session survives a wrong code; the right one still works.
    assert sign(c, application, code).status_code == 302
    assert Authorisation.objects.count() == 1


def test_an_expired_sms_code_is_refused(app: Any) -> None:
    application, numbers = app
    c = client()
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False):
        identify(c, application, SUPPORTER, numbers)
        code = last_code(SUPPORTER.phone)
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 11, tzinfo=dt.UTC), tick=False):
        r = sign(c, application, code)
    assert r.status_code == 400
    assert "验证码不正确或已过期" in r.content.decode()
    assert not Authorisation.objects.exists()


def _big_png() -> bytes:
    # Noise does not compress: a 1000x1000 RGBA of random bytes is far over 200 KB.
    img = Image.frombytes("RGBA", (600, 600), secrets.token_bytes(600 * 600 * 4))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (600, 300), "white").save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (lambda: data_url(signature_png(ink=False)), "签名框是空的"),
        (lambda: data_url(signature_png(size=(60, 40))), "签名图片尺寸异常"),
        (lambda: data_url(signature_png(size=(2400, 600))), "签名图片尺寸异常"),
        (lambda: data_url(_big_png()), "签名图片太大"),
        (lambda: "data:image/jpeg;base64," + base64.b64encode(_jpeg()).decode(), "签名不是 PNG 图片"),
        (lambda: data_url(_jpeg()), "签名不是 PNG 图片"),
        (lambda: "data:image/png;base64,!!!not base64!!!", "签名不是 PNG 图片"),
        (lambda: data_url(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200), "签名不是 PNG 图片"),
        (lambda: "", "请先在框内签名"),
    ],
    ids=["blank", "tiny", "huge", "too-big", "jpeg-url", "jpeg-bytes", "not-base64", "truncated", "missing"],
)
def test_a_bad_signature_image_is_refused_and_keeps_the_code(app: Any, signature: Any, message: str) -> None:
    application, numbers = app
    c = client()
    identify(c, application, SUPPORTER, numbers)
    code = last_code(SUPPORTER.phone)
    r = c.post(url(application), {"action": "sign", "code": code, "signature": signature()})
    assert r.status_code == 400
    assert message in r.content.decode()
    assert not Authorisation.objects.exists()
    # The drawing is checked before the code: a bad drawing does not use the code up.
    assert sign(c, application, code).status_code == 302


def test_signing_without_identification_first_is_refused(app: Any) -> None:
    application, _numbers = app
    r = sign(client(), application, "123456")
    assert r.status_code == 400
    assert "验证已过期" in r.content.decode()
    assert not Authorisation.objects.exists()


# --- completion ---------------------------------------------------------------------------------


def test_the_last_signature_authorises_the_application_and_queues_the_check(app: Any) -> None:
    application, numbers = app
    sign_through_the_page(application, APPLICANT, numbers)
    sign_through_the_page(application, SUPPORTER, numbers)
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_AUTHORISATION
    assert not OutboxMessage.objects.filter(
        dedupe_key__in=[f"verify:{application.pk}", f"form:{application.pk}"]
    )

    c = sign_through_the_page(application, SPOUSE, numbers, phone=SPOUSE_PHONE)

    application.refresh_from_db()
    assert application.status == Application.Status.AUTHORISED
    assert application.authorised_at is not None
    tasks = {
        m.dedupe_key: m
        for m in OutboxMessage.objects.filter(
            dedupe_key__in=[f"verify:{application.pk}", f"form:{application.pk}"]
        )
    }
    assert tasks[f"verify:{application.pk}"].task_name == "eligibility.tasks.application_verify"
    assert tasks[f"form:{application.pk}"].task_name == "applications.tasks.application_form_generate"
    for m in tasks.values():
        assert m.kwargs == {"application_id": application.pk}
    status_event = AuditEvent.objects.get(
        action="application.status", subject_id=str(application.pk), new_values__status="authorised"
    )
    assert status_event.old_values == {"status": "awaiting_authorisation"}
    assert status_event.new_values == {"status": "authorised"}
    # The minor never signed, and was never needed.
    assert not Authorisation.objects.filter(member__name=CHILD.name).exists()
    page = c.get(url(application)).content.decode()
    assert "所有人都已签名" in page and "发送验证码" not in page


def test_authorisation_from_submitted_passes_through_awaiting(county_map: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, people=[APPLICANT])
    # Submission moves on to "awaiting" in its own transaction; signing still copes with an
    # application left "submitted" (the status table allows it), so put it back there.
    Application.objects.filter(pk=application.pk).update(status=Application.Status.SUBMITTED)
    before = AuditEvent.objects.filter(action="application.status").count()
    sign_through_the_page(application, APPLICANT, id_numbers(application))
    application.refresh_from_db()
    assert application.status == Application.Status.AUTHORISED
    moves = AuditEvent.objects.filter(action="application.status").order_by("id")[before:]
    assert [e.new_values["status"] for e in moves] == ["awaiting_authorisation", "authorised"]


def test_a_withdrawn_application_takes_no_signatures(county_map: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, people=list(FAMILY))
    application_transition(
        application_id=application.pk, to=Application.Status.WITHDRAWN, actor=None, reason="家属撤回"
    )
    numbers = id_numbers(application)
    page = client().get(url(application)).content.decode()
    assert "发送验证码" not in page
    r = identify(client(), application, SUPPORTER, numbers)
    assert r.status_code == 409
    otp_send(phone=SUPPORTER.phone, purpose="family", ip=IP)
    with pytest.raises(ApplicationError):
        family_service.authorisation_sign(
            token=application.family_token,
            member_id=member(application, SUPPORTER.name).pk,
            phone=SUPPORTER.phone,
            otp=last_code(SUPPORTER.phone),
            png=signature_png(),
            ip=IP,
            user_agent=UA,
        )
    assert not Authorisation.objects.exists()


def test_a_member_id_of_another_application_cannot_be_signed_through_this_link(
    app: Any, county_map: Any
) -> None:
    application, _numbers = app
    other, _ = _other_application_member(county_map)
    otp_send(phone="13600136000", purpose="family", ip=IP)
    with pytest.raises(Exception) as caught:
        family_service.authorisation_sign(
            token=application.family_token,
            member_id=member(other, "赵大海").pk,
            phone="13600136000",
            otp=last_code("13600136000"),
            png=signature_png(),
            ip=IP,
            user_agent=UA,
        )
    assert type(caught.value).__name__ == "Http404"
    assert not Authorisation.objects.exists()


def test_wrong_codes_are_counted_even_though_the_signature_is_refused(app: Any) -> None:
    """The attempt count lives outside the signing transaction: five wrong codes end the code."""
    application, numbers = app
    c = client()
    identify(c, application, SUPPORTER, numbers)
    code = last_code(SUPPORTER.phone)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        assert sign(c, application, wrong).status_code == 400
    r = sign(c, application, code)
    assert r.status_code == 400
    assert "错误次数过多" in r.content.decode()
    assert not Authorisation.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "identify", "name": "王\x00秀英", "id_number": "1", "phone": "1"},
        {"action": "identify", "name": "x" * 5000, "id_number": "<script>", "phone": "' OR 1=1 --"},
        {"action": "identify", "name": "𠈌", "id_number": "３３１０９９", "phone": "１３８"},
        {"action": "identify"},
        {"action": "sign", "code": "\x00", "signature": "data:image/png;base64," + "A" * 300_000},
        {"action": "resend"},
        {"action": "whatever"},
    ],
    ids=[
        "nul",
        "huge-and-markup",
        "rare-cjk",
        "empty",
        "huge-signature",
        "resend-unidentified",
        "unknown-action",
    ],
)
def test_hostile_input_never_gives_a_server_error(app: Any, data: dict[str, str]) -> None:
    application, _numbers = app
    r = client().post(url(application), data)
    assert r.status_code in (302, 400, 429)
    assert "<script>" not in r.content.decode()
    assert not Authorisation.objects.exists()
