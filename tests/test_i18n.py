"""The interface is Chinese by default, English on request, and the catalogue has no gaps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

PO = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str, str]]:
    text = PO.read_text(encoding="utf-8")
    pattern = re.compile(r'(#, [^\n]*\n)?msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"')
    return [(m.group(1) or "", m.group(2), m.group(3)) for m in pattern.finditer(text)]


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy() -> None:
    entries = [e for e in _entries() if e[1]]
    assert len(entries) > 100
    untranslated = [msgid for _flags, msgid, msgstr in entries if not msgstr]
    fuzzy = [msgid for flags, msgid, _msgstr in entries if "fuzzy" in flags]
    assert untranslated == [], "run scripts/i18n_merge.py and translate these"
    assert fuzzy == []


def test_api_errors_are_chinese_by_default_and_english_on_request(db: Any) -> None:
    client = Client()
    zh = client.get("/api/v1/no-such-endpoint/")
    assert zh.status_code == 404
    en = client.post("/api/v1/public/regions/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 405
    assert en.json() == {"message": 'Method "POST" not allowed.', "extra": {}}
    zh = client.post("/api/v1/public/regions/")
    assert zh.json()["message"] == "方法 “POST” 不被允许。"


def test_admin_login_page_is_chinese(db: Any) -> None:
    page = Client().get("/admin/login/").content.decode()
    assert "用户名" in page and "密码" in page
    assert 'lang="zh-hans"' in page
