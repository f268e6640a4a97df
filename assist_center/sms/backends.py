"""SMS backends, chosen by settings.SMS_BACKEND (a dotted class path, like EMAIL_BACKEND).

A backend sends one templated message and returns the provider's message id. It raises
TemporarySmsError for what may succeed later (network, rate limits, provider outage) and
PermanentSmsError for what never will (number refused, template rejected); the service decides
about retries. Error messages must not contain the recipient's number.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from assist_center.phones import mask_phone
from assist_center.redaction import redact

from .templates import get_template

__all__ = [
    "AliyunBackend",
    "BaseBackend",
    "ConsoleBackend",
    "FileBackend",
    "LocmemBackend",
    "OutboundSms",
    "PermanentSmsError",
    "SmsError",
    "TemporarySmsError",
    "TencentBackend",
    "get_backend",
    "outbox",
]

# Provider calls run inside a worker holding the message's row lock: keep them short.
_PROVIDER_TIMEOUT_MS = 10_000


class SmsError(Exception):
    """Sending failed; the message says why without the recipient's number."""


class TemporarySmsError(SmsError):
    """May succeed later: retry with backoff."""


class PermanentSmsError(SmsError):
    """Will never succeed as it is: mark the message failed."""


@dataclass(frozen=True)
class OutboundSms:
    to: str  # E.164
    template: str
    params: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""

    def render(self) -> str:
        return get_template(self.template).render(self.params)


class BaseBackend:
    def send(self, message: OutboundSms) -> str:
        """Send one message; return the provider's message id."""
        raise NotImplementedError


def _sign_name() -> str:
    return str(settings.SMS_SIGN_NAME or f"{settings.COUNTY_NAME}联合帮扶中心")


class ConsoleBackend(BaseBackend):
    """Print each message to stdout, recipient masked (stdout ends up in logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: OutboundSms) -> str:
        stream = self.stream or sys.stdout
        text = redact(f"【{_sign_name()}】{message.render()}")
        stream.write(f"[SMS] to={mask_phone(message.to)} template={message.template} text={text}\n")
        stream.flush()
        return f"console-{uuid.uuid4().hex}"


class FileBackend(BaseBackend):
    """Append one JSON object per line to settings.SMS_FILE_PATH, for development (read your codes there).

    Several processes (web, workers) append to the same file: each line is one unbuffered write
    under an exclusive flock, so lines never interleave.
    """

    def send(self, message: OutboundSms) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "to": message.to,
                "template": message.template,
                "params": message.params,
                "text": message.render(),
                "idempotency_key": message.idempotency_key,
                "sent_at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        data = (line + "\n").encode("utf-8")
        # 0o600: the file holds full phone numbers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with open(fd, "ab", buffering=0) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.write(data)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return f"file-{uuid.uuid4().hex}"


# Messages sent through LocmemBackend, like django.core.mail.outbox; tests clear it.
outbox: list[OutboundSms] = []


class LocmemBackend(BaseBackend):
    """Keep messages in `outbox` (tests)."""

    def send(self, message: OutboundSms) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


def _require(name: str) -> str:
    value = getattr(settings, name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set for {settings.SMS_BACKEND}.")
    return str(value)


def _template_id(template: str) -> str:
    template_id = settings.SMS_TEMPLATE_IDS.get(template)
    if not template_id:
        raise ImproperlyConfigured(f"SMS_TEMPLATE_IDS has no provider template id for {template!r}.")
    return str(template_id)


def _national_cn(e164: str) -> str:
    """Aliyun's domestic API wants mainland numbers without +86; others keep their country code."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def _error_text(code: str, detail: object) -> str:
    return redact(f"{code}: {detail}")[:300]


class AliyunBackend(BaseBackend):
    """Aliyun SMS (dysmsapi 2017-05-25). Needs the `sms-aliyun` extra."""

    # Codes that may clear by themselves: flow control, provider faults, an empty balance being topped up.
    TEMPORARY_CODES = frozenset(
        {
            "isv.BUSINESS_LIMIT_CONTROL",
            "isv.DAY_LIMIT_CONTROL",
            "isp.SYSTEM_ERROR",
            "isp.RAM_PERMISSION_DENY",
            "isv.AMOUNT_NOT_ENOUGH",
            "Throttling.User",
            "ServiceUnavailable",
        }
    )

    def send(self, message: OutboundSms) -> str:
        try:
            from alibabacloud_dysmsapi20170525 import models as dysms_models
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi import models as open_api_models
            from alibabacloud_tea_util import models as util_models
        except ImportError as exc:
            raise ImproperlyConfigured(
                "AliyunBackend needs the Aliyun SMS SDK: pip install 'assist_center[sms-aliyun]'."
            ) from exc
        config = open_api_models.Config(
            access_key_id=_require("SMS_ACCESS_KEY_ID"),
            access_key_secret=_require("SMS_ACCESS_KEY_SECRET"),
            endpoint="dysmsapi.aliyuncs.com",
        )
        request = dysms_models.SendSmsRequest(
            phone_numbers=_national_cn(message.to),
            sign_name=_require("SMS_SIGN_NAME"),
            template_code=_template_id(message.template),
            template_param=json.dumps(message.params, ensure_ascii=False),
            # Shown in the provider's receipts: lets an operator match a receipt to our row.
            out_id=message.idempotency_key[:64],
        )
        runtime = util_models.RuntimeOptions(
            connect_timeout=_PROVIDER_TIMEOUT_MS, read_timeout=_PROVIDER_TIMEOUT_MS
        )
        try:
            response = Client(config).send_sms_with_options(request, runtime)
        except Exception as exc:
            code = str(getattr(exc, "code", "") or type(exc).__name__)
            raise self._error(code, getattr(exc, "message", exc)) from exc
        body: Any = response.body
        if body.code != "OK":
            raise self._error(str(body.code), body.message)
        return str(body.biz_id)

    def _error(self, code: str, detail: object) -> SmsError:
        # Network failures carry no provider code: the class name lands here and counts as temporary.
        if code in self.TEMPORARY_CODES or not code.startswith(("isv.", "isp.")):
            return TemporarySmsError(_error_text(code, detail))
        return PermanentSmsError(_error_text(code, detail))


class TencentBackend(BaseBackend):
    """Tencent Cloud SMS (sms 2021-01-11). Needs the `sms-tencent` extra."""

    TEMPORARY_PREFIXES = ("InternalError", "LimitExceeded", "RequestLimitExceeded", "ClientNetworkError")

    def send(self, message: OutboundSms) -> str:
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import models, sms_client
        except ImportError as exc:
            raise ImproperlyConfigured(
                "TencentBackend needs the Tencent Cloud SMS SDK: pip install 'assist_center[sms-tencent]'."
            ) from exc
        cred = credential.Credential(_require("SMS_ACCESS_KEY_ID"), _require("SMS_ACCESS_KEY_SECRET"))
        http = HttpProfile(reqTimeout=_PROVIDER_TIMEOUT_MS // 1000)
        client = sms_client.SmsClient(cred, settings.SMS_TENCENT_REGION, ClientProfile(httpProfile=http))
        request = models.SendSmsRequest()
        request.SmsSdkAppId = _require("SMS_TENCENT_APP_ID")
        request.SignName = _require("SMS_SIGN_NAME")
        request.TemplateId = _template_id(message.template)
        # Tencent's parameters are positional: the registry's order is the approved template's order.
        request.TemplateParamSet = [message.params[p] for p in get_template(message.template).params]
        request.PhoneNumberSet = [message.to]
        request.SessionContext = message.idempotency_key
        try:
            response = client.SendSms(request)
        except Exception as exc:
            code = str(getattr(exc, "code", "") or "ClientNetworkError")
            raise self._error(code, getattr(exc, "message", exc)) from exc
        statuses: Any = response.SendStatusSet or []
        if not statuses:
            raise TemporarySmsError("Tencent SMS answered without a send status.")
        status = statuses[0]
        if status.Code != "Ok":
            raise self._error(str(status.Code), status.Message)
        return str(status.SerialNo)

    def _error(self, code: str, detail: object) -> SmsError:
        if code.startswith(self.TEMPORARY_PREFIXES):
            return TemporarySmsError(_error_text(code, detail))
        return PermanentSmsError(_error_text(code, detail))


def get_backend() -> BaseBackend:
    """An instance of settings.SMS_BACKEND."""
    backend_class = import_string(settings.SMS_BACKEND)
    backend = backend_class()
    if not isinstance(backend, BaseBackend):
        raise ImproperlyConfigured(
            "SMS_BACKEND must name a subclass of assist_center.sms.backends.BaseBackend."
        )
    return backend
