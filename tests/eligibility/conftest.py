"""Fixtures shared by the eligibility tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    """The seeded demo county (200 households) with its data pool and standards."""
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command("seed_demo", stage=["county", "pool"], households=200, seed=3, stdout=io.StringIO())
        yield
