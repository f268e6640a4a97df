"""Reads of the data pool for the rules: every record of a few persons in one indexed query.

No user argument: the pool is read by the verification service for an application the caller
already holds in scope, never listed to a user directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..models import PoolRecord


@dataclass(frozen=True)
class RecordRow:
    """One pool record as the rules read it; `data` is the canonical JSON (decimals as "1234.50")."""

    category: str
    department: str
    source_record_id: str
    effective_date: dt.date
    data: Mapping[str, Any]


def records_for_persons(
    person_hashes: Iterable[str], *, categories: Iterable[str] | None = None, as_of: dt.date | None = None
) -> dict[str, list[RecordRow]]:
    """Records of each person (every requested hash is a key), oldest first; one query on
    (person_hash, category). `as_of` leaves out records that take effect after that day."""
    hashes = list(dict.fromkeys(person_hashes))
    out: dict[str, list[RecordRow]] = {h: [] for h in hashes}
    if not hashes:
        return out
    qs = PoolRecord.objects.filter(person_hash__in=hashes)
    if categories is not None:
        qs = qs.filter(category__in=list(categories))
    if as_of is not None:
        qs = qs.filter(effective_date__lte=as_of)
    rows = qs.order_by("effective_date", "id").values_list(
        "person_hash", "category", "department", "source_record_id", "effective_date", "data"
    )
    for person_hash, category, department, source_id, effective_date, data in rows:
        out[person_hash].append(RecordRow(category, department, source_id, effective_date, data))
    return out
