"""Print where the development site is and how to sign in (called by `make run`)."""

from __future__ import annotations

import textwrap
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from assist_center.models import Department
from demo.county import VILLAGE_CADRES
from demo.happiness import showcase
from demo.organisations import ORGANISATIONS
from demo.password import password_file, read_demo_password
from demo.regions import TOWNSHIPS

FILE_BACKEND = "assist_center.sms.backends.FileBackend"


def banner_lines() -> list[str]:
    """Return the banner. Deliberately bilingual in one text rather than translated: it is read
    in a terminal by whoever runs `make run`, whatever their locale, and names the same logins."""
    base = settings.SITE_URL
    password = read_demo_password()
    # One dept_<code> account per referral-taking department: the rows the migrations made.
    referral_departments = Department.objects.filter(takes_referrals=True).order_by("sort_order", "code")
    codes = list(referral_departments.values_list("code", flat=True))
    if password is None:
        shown = "（尚未生成，请先运行 make seed） / (not generated yet: run `make seed` first)"
    elif settings.DEMO_PASSWORD:
        shown = f"{password}   （来自 DEMO_PASSWORD / from DEMO_PASSWORD）"
    else:
        shown = f"{password}   （保存在 / stored in {password_file()}）"
    # org_N is the member of the N-th demo organisation: one that may claim, one still waiting.
    first_vetted = next(n for n, spec in enumerate(ORGANISATIONS, 1) if spec.vetted)
    first_waiting = next(n for n, spec in enumerate(ORGANISATIONS, 1) if not spec.vetted)
    lines = [
        "=" * 72,
        f"{settings.COUNTY_NAME}联合帮扶中心 assist_center — 开发环境 / development",
        "-" * 72,
        f"管理后台 Admin:           {base}/admin/",
        f"接口文档 API docs:        {base}/api/docs/",
        f"健康检查 Health check:    {base}/healthz",
        f"公益谷 Charity board:     {base}/charity/   （无需登录 / no login；统计 stats: /charity/stats/）",
        f"公益谷组织登录 Org login: {base}/charity/login/   org_{first_vetted}"
        f"（{ORGANISATIONS[first_vetted - 1].name(settings.COUNTY_NAME)}，已审核 / vetted），"
        f"org_{first_waiting} 待审核 / waiting",
        "",
        "演示账号 Demo logins (同一密码 / one password for all):",
        "  admin                     超级管理员 / superuser",
        "  coordinator               县联合帮扶中心协调员 / county coordinator",
        f"  assistant_1 … assistant_{len(TOWNSHIPS)}  乡镇民政助理员 / township assistants "
        f"(assistant_1 = {TOWNSHIPS[0].name})",
        f"  cadre_1 … cadre_{VILLAGE_CADRES}          村干部 / village cadres",
        "  dept_<code>               部门工作人员 / department staff, one per referral department:",
        *textwrap.wrap(
            ", ".join(f"dept_{code}" for code in codes),
            width=100,
            initial_indent=" " * 28,
            subsequent_indent=" " * 28,
        ),
        "  auditor                   审计员（只读）/ auditor (read-only)",
        f"  org_1 … org_{len(ORGANISATIONS)}            社会组织成员（公益谷）/ organisation members",
        f"  密码 Password:            {shown}",
    ]
    try:
        shown_list = showcase()
    except Exception:  # the banner must print even on a half-seeded database
        shown_list = None
    if shown_list is not None:
        lines += [
            "",
            f"幸福清单 Happiness list:   {shown_list.url}",
            f"  本户手机 phone to use:   {shown_list.phone}"
            "   （验证码见下方短信文件 / the code is in the SMS file）",
        ]
    if getattr(settings, "STAFF_REQUIRE_2FA", False):
        lines += [
            "",
            "员工登录需要动态口令：python manage.py totp_enroll <用户名>",
            "Staff sign-in needs a TOTP code: python manage.py totp_enroll <username> (STAFF_REQUIRE_2FA)",
        ]
    if settings.SMS_BACKEND == FILE_BACKEND:
        lines += [
            "",
            f"短信验证码写入 {settings.SMS_FILE_PATH}（SMS_FILE_PATH）",
            f"SMS codes are written to {settings.SMS_FILE_PATH} (SMS_FILE_PATH)",
        ]
    lines.append("=" * 72)
    return lines


class Command(BaseCommand):
    help = "Print the development URLs, the demo logins and where SMS codes go."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("\n".join(banner_lines()))
