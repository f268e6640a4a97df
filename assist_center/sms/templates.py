"""The SMS templates the providers have approved: a code, its parameters, and our rendering of it.

Both Aliyun and Tencent send only pre-approved templates (template id + parameters), never free
text; the text here is what the console and file backends show, and must match the approved one.
Parameters are stored, shown in the admin and kept in the providers' logs: never an ID number or phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assist_center.redaction import redact

_MAX_PARAM_LENGTH = 200


@dataclass(frozen=True)
class SmsTemplate:
    code: str
    params: tuple[str, ...]
    text: str

    def render(self, params: Mapping[str, str]) -> str:
        return self.text.format(**params)


TEMPLATES: dict[str, SmsTemplate] = {
    t.code: t
    for t in (
        SmsTemplate(
            "otp", ("code", "minutes"), "您的验证码为{code}，{minutes}分钟内有效。请勿将验证码告诉他人。"
        ),
        SmsTemplate(
            "case_closed",
            ("receipt", "url"),
            "您的救助申请（回执码{receipt}）已办结。办理结果、本户幸福清单和满意度评价请查看：{url}",
        ),
        SmsTemplate(
            "deadline_warning", ("colour", "count"), "您有{count}件帮扶事项处于{colour}预警，请及时办理。"
        ),
        SmsTemplate("family_invite", ("url",), "您的家人正在申请社会救助，需要您核对身份并签字授权：{url}"),
        # Issue 16: the applicant's receipt by SMS, with the family link and the status page, so
        # that a resident who closed the receipt page can still sign, share and check progress.
        SmsTemplate(
            "application_received",
            ("receipt", "url", "status_url"),
            "您的救助申请已提交，回执码{receipt}。请需签字的家人打开{url}核对身份并签字授权；"
            "办理进度可凭回执码在{status_url}查询。",
        ),
        # Referrals (issue 5): the closure SMS naming the granted items only (no amounts, no IDs).
        SmsTemplate(
            "case_closed_summary",
            ("receipt", "granted", "url"),
            "您的救助申请（回执码{receipt}）已办结，已获批：{granted}。本户幸福清单和满意度评价请查看：{url}",
        ),
        # Referrals (issue 5): one SMS per department contact and sweep, counting new warnings.
        SmsTemplate(
            "deadline_summary",
            ("red", "yellow", "blue"),
            "您单位有新的帮扶事项预警：红色{red}件、黄色{yellow}件、蓝色{blue}件，请登录工作台及时办理。",
        ),
        # Issue 10: every applicant hears the outcome. Refused on every item: no item, amount,
        # reason or member is named; the family's page and the township's window say the rest.
        SmsTemplate(
            "application_refused",
            ("receipt", "url"),
            "您的救助申请（回执码{receipt}）已审核办结，本次申请的救助事项未获批准。"
            "办理结果请查看：{url}，如有疑问可到乡镇（街道）社会救助窗口咨询。",
        ),
        # Rolls (issue 10): a township's gradual exits about to reach their grace end (no names).
        SmsTemplate(
            "grace_ending",
            ("count", "date"),
            "您乡镇有{count}户救助对象的渐退期即将结束（最早{date}），请登录系统核实并告知家庭。",
        ),
        # 公益谷 (issue 11): the resident is asked whether the help arrived; the help is recorded;
        # organisations are reminded and told of a released claim (need public ids only, no names).
        SmsTemplate(
            "charity_receipt_check", ("url",), "爱心组织已报告为您完成帮扶，请点击确认是否收到：{url}"
        ),
        SmsTemplate(
            "charity_help_recorded",
            ("org",),
            "{org}为您提供的帮扶已确认完成，并记入本户幸福清单。如有疑问请联系乡镇（街道）社会救助窗口。",
        ),
        SmsTemplate(
            "charity_claim_reminder",
            ("need", "date"),
            "贵组织认领的公益需求（编号{need}）将于{date}到期，请按时完成并在公益谷上报。",
        ),
        SmsTemplate(
            "charity_claim_released",
            ("need",),
            "贵组织认领的公益需求（编号{need}）已超过期限，已退回公益谷重新发布。",
        ),
        # Happiness list (issue 12): a sampled household is asked whether a payment arrived. The link
        # asks only yes or no: never a code, a bank card or a password (the text says so).
        SmsTemplate(
            "receipt_check",
            ("month", "item", "amount", "url"),
            "{month}您户的{item}{amount}元应已发放，是否已收到？请点击回答“收到”或“没收到”：{url}。"
            "本链接不会要求验证码、银行卡或密码，请勿向任何人提供。",
        ),
    )
}


def get_template(code: str) -> SmsTemplate:
    try:
        return TEMPLATES[code]
    except KeyError:
        raise ValueError(f"Unknown SMS template {code!r}.") from None


def validate_params(code: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Return the parameters as strings, or raise ValueError: unknown template, missing or extra
    parameters, non-scalar values, or anything shaped like an ID number or a phone."""
    template = get_template(code)
    if set(params) != set(template.params):
        raise ValueError(
            f"SMS template {code!r} takes parameters {sorted(template.params)}, "
            f"got {sorted(map(str, params))}."
        )
    checked: dict[str, str] = {}
    for name in template.params:
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"SMS parameter {name!r} must be a string or an integer.")
        text = str(value)
        if not text or len(text) > _MAX_PARAM_LENGTH:
            raise ValueError(f"SMS parameter {name!r} must be 1 to {_MAX_PARAM_LENGTH} characters.")
        if redact(text) != text:
            # Not echoed: the value is personal data.
            raise ValueError(f"SMS parameter {name!r} looks like an ID number or a phone number.")
        checked[name] = text
    return checked
