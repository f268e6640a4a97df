"""Fixtures of the referrals tests.

The race tests run on real concurrent connections, so they use transactional tests with
`serialized_rollback=True`: a flush would otherwise drop the calendar that migration 0003 seeds
(pytest-django runs transactional tests last, and each restores the seeded rows first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

RACE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sms_file(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "assist_center.sms.backends.FileBackend"
    settings.SMS_FILE_PATH = str(path)
    return path
