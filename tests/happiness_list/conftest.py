"""Fixtures shared by the happiness list's tests."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from .list_builders import TODAY, Seeded, seed


@pytest.fixture
def seeded(county_map: Any, personas: Any) -> Seeded:
    """A household with a year of ledger in village A1 and one in B1, as of TODAY."""
    with time_machine.travel(TODAY, tick=False):
        return seed(
            county_map.village_a1,
            county_map.village_b1,
            civil=county_map.dept_civil,
            assistant=personas.coordinator,
        )
