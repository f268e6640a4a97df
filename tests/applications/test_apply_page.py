"""The resident's phone application page /apply/<region_code>/ and its receipt, through HTTP."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from applications.models import Application, ApplicationMember
from assist_center.identity import make_id_number
from assist_center.models import SmsMessage
from assist_center.sms import backends
from assist_center.sms.services import sms_deliver
from tests.conftest import County, clear_test_cache

PHONE = "13800138000"
APPLICANT_ID = make_id_number(region6="331022", birth=dt.date(1960, 3, 5), seq=11)
SPOUSE_ID = make_id_number(region6="331022", birth=dt.date(1962, 7, 9), seq=22)
SON_ID = make_id_number(region6="331022", birth=dt.date(1988, 1, 2), seq=31)
# Right shape, wrong check character.
BAD_ID = APPLICANT_ID[:-1] + ("1" if APPLICANT_ID[-1] != "1" else "2")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> Any:
    """OTP and submission limits are counted in Redis, which outlives each test's transaction."""
    clear_test_cache()
    yield
    clear_test_cache()


def apply_url(code: str) -> str:
    return reverse("apply", args=[code])


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "the form carries a per-render token"
    return match.group(1)


def form_data(village_code: str, token: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": token,
        "name": "王秀英",
        "id_number": APPLICANT_ID,
        "phone": PHONE,
        "otp": "",
        "village": village_code,
        "address": "幸福路12号",
        "members-TOTAL_FORMS": "3",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "10",
        "members-0-name": "李建国",
        "members-0-id_number": SPOUSE_ID,
        "members-0-relation": "spouse",
        "supporters-TOTAL_FORMS": "2",
        "supporters-INITIAL_FORMS": "0",
        "supporters-MIN_NUM_FORMS": "0",
        "supporters-MAX_NUM_FORMS": "6",
        "supporters-0-name": "李明",
        "supporters-0-id_number": SON_ID,
        "supporters-0-relation": "child",
        "supporters-0-phone": "13900139000",
        "needs": ["dibao", "medical"],
        "need_note": "老伴住院，医药费负担重",
        "consent_data_check": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def deliver_sms() -> None:
    """What the outbox hand-off plus a worker do: send every pending SMS through the test backend."""
    for sms_id in SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)


def sent_code() -> str:
    deliver_sms()
    codes = [m.params["code"] for m in backends.outbox if m.template == "otp"]
    assert codes, "an SMS code was sent"
    return codes[-1]


def field_block(html: str, field_id: str) -> str:
    """The markup of the .field wrapper around the input with this id."""
    start = html.index(f'id="{field_id}"')
    block_start = html.rfind('<div class="field', 0, start)
    return html[block_start : html.index("</div>", start) + 6]


def start(client: Client, village_code: str, region_code: str | None = None) -> tuple[str, str]:
    url = apply_url(region_code or village_code)
    response = client.get(url)
    assert response.status_code == 200
    return url, token_of(response.content.decode())


def send_code_and_submit(client: Client, county_map: County, **overrides: Any) -> Any:
    url, token = start(client, county_map.village_a1.code)
    sent = client.post(url, form_data(county_map.village_a1.code, token, action="send_otp"))
    assert sent.status_code == 200
    token = token_of(sent.content.decode())
    data = form_data(county_map.village_a1.code, token, action="submit", otp=sent_code(), **overrides)
    return client.post(url, data), data


# --- GET --------------------------------------------------------------------------------------


def test_the_form_is_in_chinese_with_the_fixed_village_of_a_village_code(
    client: Client, county_map: County
) -> None:
    response = client.get(apply_url(county_map.village_a1.code))

    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "申请社会救助",
        "您的姓名",
        "您的身份证号码",
        "您的手机号码",
        "发送验证码",
        "短信验证码",
        "家庭住址",
        "其他家庭成员",
        "赡养（抚养、扶养）人",
        "您需要哪些帮助？",
        "最低生活保障",
        "医疗救助",
        "我同意核对我家的信息",
        "提交申请",
    ):
        assert label in html, label
    # The village is fixed by its own code: shown as text and posted as a hidden value.
    assert "上叶村" in html
    assert f'type="hidden" name="village" value="{county_map.village_a1.code}"' in html
    assert "下叶村" not in html and "沙柳村" not in html
    assert '<select name="village"' not in html


def test_a_township_code_offers_its_own_villages_only(client: Client, county_map: County) -> None:
    html = client.get(apply_url(county_map.town_a.code)).content.decode()

    assert f'<option value="{county_map.village_a1.code}">上叶村</option>' in html
    assert f'<option value="{county_map.village_a2.code}">下叶村</option>' in html
    assert "沙柳村" not in html
    assert "<optgroup" not in html


def test_the_county_code_groups_every_village_by_township(client: Client, county_map: County) -> None:
    html = client.get(apply_url(county_map.county.code)).content.decode()

    assert '<optgroup label="海游街道">' in html
    assert '<optgroup label="沙柳街道">' in html
    group_a = html[html.index('<optgroup label="海游街道">') : html.index('<optgroup label="沙柳街道">')]
    assert "上叶村" in group_a and "下叶村" in group_a and "沙柳村" not in group_a
    assert "沙柳村" in html[html.index('<optgroup label="沙柳街道">') :]


def test_the_data_notice_says_who_why_how_long_and_the_version(client: Client, county_map: County) -> None:
    html = client.get(apply_url(county_map.village_a1.code)).content.decode()

    assert "联合帮扶中心" in html and "民政局" in html
    assert "19个部门" in html
    assert re.search(r"申请办结后保存\d+年", html)
    assert "告知书版本" in html
    # Three separate consents and the guardian confirmation, none of them ticked.
    for name in ("consent_data_check", "consent_share", "consent_publish", "guardian_confirmed"):
        tag = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
        assert tag, name
        assert "checked" not in tag.group(0)


@pytest.mark.parametrize(
    "code", ["331099999999", "12345", "３３１０９９１０１２０１", "331099101201x", "receipts"]
)
def test_an_unknown_or_malformed_region_code_is_a_friendly_404(
    client: Client, county_map: County, code: str
) -> None:
    response = client.get(apply_url(code))

    assert response.status_code == 404
    html = response.content.decode()
    assert "没有找到这个救助码" in html
    assert "Traceback" not in html


def test_a_malformed_region_code_is_refused_before_any_query(
    client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get(apply_url("３３１０９９１０１２０１"))
    assert response.status_code == 404


def test_the_page_has_no_inline_script_or_style_and_weighs_under_300_kb(
    client: Client, county_map: County
) -> None:
    response = client.get(apply_url(county_map.county.code))
    html = response.content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> is blocked by the CSP"
    assert " style=" not in html
    assert "<style" not in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert "http://" not in html.replace(str(response.wsgi_request.build_absolute_uri("/")), "")

    total = len(response.content)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert stylesheets == ["/static/css/public.css"]
    for href in stylesheets + re.findall(r'<(?:img|script)[^>]+src="(/[^"]+)"', html):
        asset = client.get(href)
        assert asset.status_code == 200, href
        total += len(b"".join(asset.streaming_content))  # type: ignore[attr-defined]
    assert total < 300 * 1024


# --- POST: the whole flow -----------------------------------------------------------------------


def test_send_code_then_submit_redirects_to_the_receipt_of_the_stored_application(
    client: Client, county_map: County
) -> None:
    url, token = start(client, county_map.village_a1.code)

    sent = client.post(url, form_data(county_map.village_a1.code, token, action="send_otp"))

    html = sent.content.decode()
    assert sent.status_code == 200
    assert "验证码已发送至 138****8000，10分钟内有效" in html
    assert PHONE not in html.replace(f'value="{PHONE}"', "")  # only the field keeps the full number
    assert 'value="王秀英"' in html and 'value="李建国"' in html  # everything typed is kept
    assert Application.objects.count() == 0

    code = sent_code()
    response = client.post(
        url, form_data(county_map.village_a1.code, token_of(html), action="submit", otp=code)
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("apply-receipt")
    application = Application.objects.get()
    assert application.receipt_code not in response["Location"]
    assert application.family_token not in response["Location"]
    assert application.village == county_map.village_a1
    assert application.channel == "self"
    assert sorted(application.needs) == ["dibao", "medical"]
    assert (
        application.consent_data_check and not application.consent_share and not application.consent_publish
    )
    roles = list(application.members.order_by("position").values_list("role", "name"))
    assert roles == [("applicant", "王秀英"), ("member", "李建国"), ("supporter", "李明")]

    receipt = client.get(response["Location"])
    page = receipt.content.decode()
    assert receipt.status_code == 200
    assert re.search(rf'id="receipt-code">{application.receipt_code}<', page)
    assert "请截图或抄下回执码" in page
    assert application.get_status_display() in page
    assert f"/family/{application.family_token}/" in page
    assert 'src="data:image/svg+xml;base64,' in page
    # Who must sign: the applicant by name, the others masked.
    assert "王秀英" in page and "李**" in page and "李*" in page
    assert "李建国" not in page and "李明<" not in page
    assert "no-store" in receipt["Cache-Control"]
    # A refresh shows the same receipt.
    assert client.get(reverse("apply-receipt")).content.decode() == page


def test_the_receipt_is_not_shown_to_another_browser(client: Client, county_map: County) -> None:
    response, _data = send_code_and_submit(client, county_map)
    assert response.status_code == 302

    other = Client().get(reverse("apply-receipt"))

    assert other.status_code == 404
    html = other.content.decode()
    assert "没有可显示的回执" in html
    assert Application.objects.get().receipt_code not in html


def test_a_double_tap_makes_one_application(client: Client, county_map: County) -> None:
    first, data = send_code_and_submit(client, county_map)
    second = client.post(apply_url(county_map.village_a1.code), data)

    assert first.status_code == 302 and second.status_code == 302
    assert Application.objects.count() == 1
    receipt = client.get(reverse("apply-receipt")).content.decode()
    assert Application.objects.get().receipt_code in receipt


def test_a_bad_id_number_is_shown_next_to_the_field_in_chinese_and_the_rest_is_kept(
    client: Client, county_map: County
) -> None:
    response, _data = send_code_and_submit(client, county_map, id_number=BAD_ID)

    assert response.status_code == 400
    html = response.content.decode()
    block = field_block(html, "id_id_number")
    assert 'class="error"' in block
    assert "校验" in unescape(block)  # the check character is wrong
    assert BAD_ID not in block.split('class="error"')[1].split("</p>")[0]  # never echoed in the message
    assert "请修改下面这些地方" in html and 'href="#id_id_number"' in html
    assert 'value="王秀英"' in html and 'value="幸福路12号"' in html and 'value="李建国"' in html
    assert re.search(r'<input type="checkbox" name="needs" value="dibao"[^>]*checked', html)
    otp_input = re.search(r'<input[^>]*name="otp"[^>]*>', html)
    assert otp_input and "value=" not in otp_input.group(0)  # the code is not kept
    assert Application.objects.count() == 0


def test_an_error_in_a_member_row_lands_on_that_row_even_after_an_empty_row(
    client: Client, county_map: County
) -> None:
    overrides = {
        "members-0-name": "",
        "members-0-id_number": "",
        "members-0-relation": "",
        "members-1-name": "李建国",
        "members-1-id_number": BAD_ID,
        "members-1-relation": "spouse",
    }
    response, _data = send_code_and_submit(client, county_map, **overrides)

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error"' in field_block(html, "id_members-1-id_number")
    assert 'class="error"' not in field_block(html, "id_members-0-id_number")
    assert "家庭成员2 · 身份证号码" in html


def test_the_consent_and_the_code_are_required(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)
    response = client.post(
        url, form_data(county_map.village_a1.code, token, action="submit", consent_data_check=None)
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert (
        'class="error"'
        in html[html.index('name="consent_data_check"') - 600 : html.index('name="consent_data_check"')]
    )
    assert 'class="error"' in field_block(html, "id_otp")
    assert Application.objects.count() == 0


def test_markup_in_the_address_is_shown_escaped_on_the_receipt(client: Client, county_map: County) -> None:
    address = "<script>alert(1)</script>'; DROP TABLE x;--"
    response, _data = send_code_and_submit(client, county_map, address=address)
    assert response.status_code == 302
    assert Application.objects.get().address == address

    page = client.get(reverse("apply-receipt")).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#x27;; DROP TABLE x;--" in page


def test_add_more_rows_re_renders_with_more_empty_rows_and_the_values_kept(
    client: Client, county_map: County
) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(url, form_data(county_map.village_a1.code, token, action="add_member"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="members-TOTAL_FORMS" value="6"' in html
    assert 'name="members-5-name"' in html
    assert 'value="李建国"' in html
    assert 'class="error"' not in html  # nothing was submitted yet
    assert Application.objects.count() == 0


def test_rows_stop_at_the_household_limit(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(
        url, form_data(county_map.village_a1.code, token, action="add_member", **{"members-TOTAL_FORMS": "9"})
    )

    html = response.content.decode()
    assert 'name="members-TOTAL_FORMS" value="10"' in html
    assert 'value="add_member"' not in html


def test_a_second_code_within_a_minute_is_refused_in_chinese(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)
    client.post(url, form_data(county_map.village_a1.code, token, action="send_otp"))

    again = client.post(url, form_data(county_map.village_a1.code, token, action="send_otp"))

    assert again.status_code == 429
    html = again.content.decode()
    assert "请等" in html or "分钟" in html
    assert 'value="王秀英"' in html


def test_a_landline_gets_a_chinese_message_and_no_sms(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(
        url, form_data(county_map.village_a1.code, token, action="send_otp", phone="057683312345")
    )

    assert response.status_code == 400
    assert "手机" in response.content.decode()
    assert not SmsMessage.objects.exists()


def test_enter_in_a_text_box_only_re_renders(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(url, form_data(county_map.village_a1.code, token, action="refresh"))

    assert response.status_code == 200
    assert not SmsMessage.objects.exists()
    assert Application.objects.count() == 0
    assert ApplicationMember.objects.count() == 0


def test_the_same_page_sent_again_with_changes_after_success_asks_to_check_and_resend(
    client: Client, county_map: County
) -> None:
    first, data = send_code_and_submit(client, county_map)
    assert first.status_code == 302

    again = client.post(apply_url(county_map.village_a1.code), {**data, "address": "幸福路14号"})

    assert again.status_code == 422
    html = again.content.decode()
    assert "这份表格已经提交过" in html
    assert token_of(html) != data["token"]  # a fresh token: pressing submit again is a new application
    assert Application.objects.count() == 1


def test_a_tampered_row_count_is_capped_and_refused_without_a_huge_page(
    client: Client, county_map: County
) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(
        url,
        form_data(county_map.village_a1.code, token, action="submit", **{"members-TOTAL_FORMS": "100000"}),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('name="members-') < 50
    assert Application.objects.count() == 0


def test_an_oversized_body_is_a_400_not_a_500(client: Client, county_map: County) -> None:
    url, token = start(client, county_map.village_a1.code)

    response = client.post(
        url,
        form_data(county_map.village_a1.code, token, action="submit", need_note="a" * (2 * 1024 * 1024 + 1)),
    )

    assert response.status_code == 400
    assert Application.objects.count() == 0
