"""The Aliyun and Tencent SMS backends against the providers' real SDKs, faked only at the wire.

Each SDK builds and serialises its own request here (so a misspelt field or a parameter in the
wrong order fails), and only the last call that would open a connection is replaced:
Aliyun's `Client.call_api` (it receives the query the SDK would sign and send) and Tencent's
`AbstractClient.call` (it receives the serialised JSON parameters). Answers and exceptions are the
SDKs' own types, shaped like the providers' documented replies.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from assist_center.sms.backends import (
    AliyunBackend,
    OutboundSms,
    PermanentSmsError,
    TemporarySmsError,
    TencentBackend,
)

pytest.importorskip("alibabacloud_dysmsapi20170525")
pytest.importorskip("tencentcloud.sms.v20210111")

from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi import exceptions as aliyun_errors
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)

PHONE = "+8613800138000"
PROVIDER = {
    "SMS_ACCESS_KEY_ID": "AKID-test",
    "SMS_ACCESS_KEY_SECRET": "secret-test",
    "SMS_SIGN_NAME": "三门县联合帮扶中心",
    "SMS_TENCENT_APP_ID": "1400000001",
    "SMS_TEMPLATE_IDS": {"otp": "SMS_100001", "case_closed": "SMS_100002"},
}
OTP = OutboundSms(
    to=PHONE, template="otp", params={"code": "493027", "minutes": "5"}, idempotency_key="sms:42"
)
CLOSED = OutboundSms(
    to=PHONE,
    template="case_closed",
    params={"url": "https://example.org/s/abc", "receipt": "R8K2M"},  # not in the template's order
    idempotency_key="sms:43",
)


# --- Aliyun ------------------------------------------------------------------------------------


class AliyunWire:
    def __init__(self, answer: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.answer = answer or {
            "Code": "OK",
            "Message": "OK",
            "BizId": "900619746936498440^0",
            "RequestId": "r",
        }
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def __call__(self, client: Any, params: Any, request: Any, runtime: Any) -> dict[str, Any]:
        self.calls.append({"action": params.action, "query": dict(request.query), "runtime": runtime})
        if self.error is not None:
            raise self.error
        return {"body": self.answer, "headers": {}, "statusCode": 200}


@pytest.fixture
def aliyun(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(**kwargs: Any) -> AliyunWire:
        wire = AliyunWire(**kwargs)
        monkeypatch.setattr(AliyunClient, "call_api", lambda self, p, r, rt: wire(self, p, r, rt))
        return wire

    return install


@override_settings(**PROVIDER)
def test_aliyun_sends_the_documented_query_and_returns_the_biz_id(aliyun: Any) -> None:
    wire = aliyun()
    assert AliyunBackend().send(OTP) == "900619746936498440^0"
    (call,) = wire.calls
    assert call["action"] == "SendSms"
    query = call["query"]
    assert query["PhoneNumbers"] == "13800138000"  # domestic numbers without +86
    assert query["SignName"] == "三门县联合帮扶中心"
    assert query["TemplateCode"] == "SMS_100001"
    assert json.loads(query["TemplateParam"]) == {"code": "493027", "minutes": "5"}
    assert query["OutId"] == "sms:42"
    assert call["runtime"].connect_timeout == 10_000 and call["runtime"].read_timeout == 10_000


@override_settings(**PROVIDER)
def test_aliyun_template_parameters_are_named_so_their_order_does_not_matter(aliyun: Any) -> None:
    wire = aliyun()
    AliyunBackend().send(CLOSED)
    assert json.loads(wire.calls[0]["query"]["TemplateParam"]) == {
        "receipt": "R8K2M",
        "url": "https://example.org/s/abc",
    }


@pytest.mark.parametrize(
    "code",
    ["isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isv.AMOUNT_NOT_ENOUGH"],
)
@override_settings(**PROVIDER)
def test_aliyun_flow_control_and_provider_faults_are_temporary(aliyun: Any, code: str) -> None:
    aliyun(answer={"Code": code, "Message": f"触发限流 {PHONE}", "RequestId": "r"})
    with pytest.raises(TemporarySmsError) as caught:
        AliyunBackend().send(OTP)
    assert code in str(caught.value) and "13800138000" not in str(caught.value)


@pytest.mark.parametrize(
    "code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL"]
)
@override_settings(**PROVIDER)
def test_aliyun_refused_numbers_templates_and_signs_are_permanent(aliyun: Any, code: str) -> None:
    aliyun(answer={"Code": code, "Message": f"非法手机号 {PHONE}", "RequestId": "r"})
    with pytest.raises(PermanentSmsError) as caught:
        AliyunBackend().send(OTP)
    assert code in str(caught.value) and "13800138000" not in str(caught.value)


@override_settings(**PROVIDER)
def test_aliyun_sdk_exceptions_are_sorted_by_their_code(aliyun: Any) -> None:
    aliyun(error=aliyun_errors.ThrottlingException(code="Throttling.User", message="Request was denied"))
    with pytest.raises(TemporarySmsError):
        AliyunBackend().send(OTP)
    aliyun(error=aliyun_errors.ClientException(code="isv.INVALID_PARAMETERS", message="bad"))
    with pytest.raises(PermanentSmsError):
        AliyunBackend().send(OTP)
    aliyun(error=ConnectionResetError("connection reset by peer"))
    with pytest.raises(TemporarySmsError):
        AliyunBackend().send(OTP)


# --- Tencent -----------------------------------------------------------------------------------


class TencentWire:
    def __init__(self, status: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.status = status or {
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": PHONE,
            "Fee": 1,
            "SessionContext": "sms:42",
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def __call__(self, client: Any, action: str, params: dict[str, Any], **kwargs: Any) -> str:
        self.calls.append({"action": action, "params": params, "region": client.region})
        if self.error is not None:
            raise self.error
        return json.dumps({"Response": {"SendStatusSet": [self.status], "RequestId": "r"}})


@pytest.fixture
def tencent(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(**kwargs: Any) -> TencentWire:
        wire = TencentWire(**kwargs)
        monkeypatch.setattr(
            AbstractClient,
            "call",
            lambda self, action, params, options=None, headers=None: wire(self, action, params),
        )
        return wire

    return install


@override_settings(**PROVIDER)
def test_tencent_sends_the_documented_parameters_and_returns_the_serial_number(tencent: Any) -> None:
    wire = tencent()
    assert TencentBackend().send(OTP) == "5000:1045710669157053657849499619"
    (call,) = wire.calls
    assert call["action"] == "SendSms" and call["region"] == "ap-guangzhou"
    params = call["params"]
    assert params["PhoneNumberSet"] == [PHONE]  # Tencent takes E.164
    assert params["SmsSdkAppId"] == "1400000001"
    assert params["SignName"] == "三门县联合帮扶中心"
    assert params["TemplateId"] == "SMS_100001"
    assert params["TemplateParamSet"] == ["493027", "5"]
    assert params["SessionContext"] == "sms:42"


@override_settings(**PROVIDER)
def test_tencent_positional_parameters_follow_the_approved_templates_order(tencent: Any) -> None:
    wire = tencent()
    TencentBackend().send(CLOSED)
    # case_closed is "...回执码{receipt}...请查看：{url}": receipt first, whatever the dict's order.
    assert wire.calls[0]["params"]["TemplateParamSet"] == ["R8K2M", "https://example.org/s/abc"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("LimitExceeded.PhoneNumberDailyLimit", TemporarySmsError),
        ("InternalError.Timeout", TemporarySmsError),
        ("FailedOperation.PhoneNumberInBlacklist", PermanentSmsError),
        ("InvalidParameterValue.IncorrectPhoneNumber", PermanentSmsError),
        ("FailedOperation.TemplateIncorrectOrUnapproved", PermanentSmsError),
    ],
)
@override_settings(**PROVIDER)
def test_tencent_per_number_status_codes_are_sorted(
    tencent: Any, code: str, expected: type[Exception]
) -> None:
    tencent(status={"SerialNo": "", "PhoneNumber": PHONE, "Code": code, "Message": f"失败 {PHONE}"})
    with pytest.raises(expected) as caught:
        TencentBackend().send(OTP)
    assert code in str(caught.value) and "13800138000" not in str(caught.value)


@override_settings(**PROVIDER)
def test_tencent_sdk_exceptions_and_network_failures(tencent: Any) -> None:
    tencent(error=TencentCloudSDKException("RequestLimitExceeded", "请求的次数超过了频率限制"))
    with pytest.raises(TemporarySmsError):
        TencentBackend().send(OTP)
    tencent(error=TencentCloudSDKException("AuthFailure.SecretIdNotFound", "密钥不存在"))
    with pytest.raises(PermanentSmsError):
        TencentBackend().send(OTP)
    tencent(error=TencentCloudSDKException("ClientNetworkError", "connection timed out"))
    with pytest.raises(TemporarySmsError):
        TencentBackend().send(OTP)


@override_settings(**{**PROVIDER, "SMS_TEMPLATE_IDS": {}})
def test_a_template_without_a_provider_id_is_a_configuration_error(aliyun: Any, tencent: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    aliyun_wire, tencent_wire = aliyun(), tencent()
    for backend in (AliyunBackend(), TencentBackend()):
        with pytest.raises(ImproperlyConfigured, match="otp"):
            backend.send(OTP)
    assert aliyun_wire.calls == [] and tencent_wire.calls == []
