"""Issue 16: every app in the coordinator's admin sidebar is named in Chinese (no "Axes")."""

from __future__ import annotations

import re
from typing import Any

import pytest


@pytest.mark.django_db
def test_the_admin_index_names_every_app_in_chinese(personas: Any, login: Any) -> None:
    html = login(personas.coordinator).get("/admin/").content.decode()
    captions = re.findall(r'<caption>\s*<a[^>]*class="section"[^>]*>([^<]+)</a>', html)
    assert captions, "no app sections on the index"
    assert "登录安全" in captions
    for caption in captions:
        assert re.search(r"[\u4e00-\u9fff]", caption), caption
