"""A task whose row is gone (a restored backup, a purged test database) ends quietly, not in a crash loop."""

from __future__ import annotations

from typing import Any

import pytest

from applications.tasks import application_form_generate
from eligibility.tasks import application_verify, pool_import_run


@pytest.mark.django_db
@pytest.mark.parametrize("task", [application_verify, application_form_generate, pool_import_run])
def test_a_task_for_a_missing_row_returns_without_error(task: Any) -> None:
    assert task.run(987654321) is None
