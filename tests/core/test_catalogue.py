"""The project's catalogue says what each word means here, and never rewords Django's own screens."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import django
from django.apps import apps
from django.template import Context, Template
from django.utils import translation

from applications.models import Application
from assist_center.models import SmsMessage
from charity.models import Attendance
from eligibility.models import ImportJob
from referrals.models import Case

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(
    r'(?:^msgctxt "(?P<ctx>(?:[^"\\]|\\.)*)"\n)?^msgid "(?P<id>(?:[^"\\]|\\.)*)"\n'
    r'(?:^msgid_plural "(?:[^"\\]|\\.)*"\n)?^msgstr(?:\[0\])? "(?P<str>(?:[^"\\]|\\.)*)"',
    re.M,
)


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def project_catalogue() -> dict[str, str]:
    """msgid (with "context\\x04" in front when it has one) -> msgstr, as gettext keys them."""
    out: dict[str, str] = {}
    for m in ENTRY.finditer(PO.read_text(encoding="utf-8")):
        if not m.group("id") or not m.group("str"):
            continue  # an empty msgstr is not compiled: Django's words show
        key = _unescape(m.group("id"))
        if m.group("ctx") is not None:
            key = _unescape(m.group("ctx")) + "\x04" + key
        out[key] = _unescape(m.group("str"))
    return out


def django_catalogues() -> dict[str, gettext.GNUTranslations]:
    """Django's own zh_Hans catalogues: the core's and those of every installed django.contrib app."""
    roots = [Path(django.__file__).parent / "conf"]
    roots += [Path(a.path) for a in apps.get_app_configs() if a.name.startswith("django.")]
    found: dict[str, gettext.GNUTranslations] = {}
    for root in roots:
        mo = root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
        if mo.exists():
            with mo.open("rb") as fh:
                found[str(root.relative_to(Path(django.__file__).parent))] = gettext.GNUTranslations(fh)
    return found


def _lookup(catalogue: gettext.GNUTranslations, key: str) -> str | None:
    """Django's words for a project key, or None when Django has no such message."""
    context, _sep, msgid = key.rpartition("\x04")
    found = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
    return None if found == msgid else found


def test_the_project_never_gives_a_django_message_other_words() -> None:
    ours = project_catalogue()
    catalogues = django_catalogues()
    assert {"conf", "contrib/admin", "contrib/auth"} <= set(catalogues)
    shadowed = [
        f"{where}: {msgid!r} is {ours[msgid]!r} here but {words!r} in Django"
        for where, theirs in catalogues.items()
        for msgid in ours
        if (words := _lookup(theirs, msgid)) is not None and words != ours[msgid]
    ]
    assert shadowed == [], "give the project's meaning its own msgid or a context (pgettext)"


def test_the_admin_speaks_djangos_words_where_the_project_has_its_own() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Change") == "修改"
        assert translation.gettext("History") == "历史"
        assert translation.gettext("content type") == "内容类型"
        assert translation.gettext("active") == "有效"
        # The project's own meanings, each under its own context.
        assert translation.pgettext("monitoring signal", "Change") == "变化"
        assert translation.pgettext("case", "History") == "办理记录"
        assert translation.pgettext("job", "title") == "职务"
        # Django's "session" (会话, contrib.sessions) and the 公益谷's training session (培训场次).
        assert translation.gettext("session") == "会话"
        assert str(Attendance._meta.get_field("session").verbose_name) == "培训场次"


def test_statuses_read_as_what_they_are() -> None:
    with translation.override("zh-hans"):
        assert str(Case.Status.CLOSED.label) == "已结案"
        assert str(ImportJob.Status.FAILED.label) == "导入失败"
        assert str(SmsMessage.Status.FAILED.label) == "发送失败"
        assert str(Application.Status.DECIDED.label) == "已认定"
        header = Template('{% load i18n %}{% translate "Closed on" %}').render(Context())
        assert header == "结案日期"
