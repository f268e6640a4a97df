"""Which parameters each item's standard needs, and their validation. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .base import ITEM_LABELS, ITEMS

ParamKind = Literal["decimal", "int", "int_list", "str_list"]

_ASSETS: dict[str, ParamKind] = {
    "asset_limit_per_person": "decimal",
    "vehicle_limit": "int",
    "house_limit": "int",
    "business_limit": "int",
}

PARAM_SPECS: dict[str, dict[str, ParamKind]] = {
    "dibao": {"amount_per_person_month": "decimal", **_ASSETS},
    "low_income_edge": {"multiple": "decimal", **_ASSETS},
    "extreme_poverty": {
        "age_elderly": "int",
        "age_child": "int",
        "disability_grades": "int_list",
        "supporter_income_limit": "decimal",
        "asset_limit_per_person": "decimal",
    },
    "medical": {"spending_ratio": "decimal", "min_spending": "decimal"},
    "education": {"stages": "str_list"},
    "housing": {"area_per_person_min": "decimal"},
    "employment": {"age_min": "int", "age_max": "int"},
    "temporary": {"window_days": "int", "medical_spending_trigger": "decimal"},
    "disaster": {"window_days": "int"},
    "disability_living": {"grades": "int_list"},
    "disability_care": {"grades": "int_list"},
    "pension_premium": {"age_min": "int", "age_max": "int"},
    "utility_relief": {"free_kwh_month": "decimal"},
}

# Plausible demo values (domain.md: "plausible, not official"); seed_demo's pool stage publishes them.
DEMO_PARAMS: dict[str, dict[str, Any]] = {
    "dibao": {
        "amount_per_person_month": "1150.00",
        "asset_limit_per_person": "34500.00",
        "vehicle_limit": 0,
        "house_limit": 1,
        "business_limit": 0,
    },
    "low_income_edge": {
        "multiple": "1.5",
        "asset_limit_per_person": "51750.00",
        "vehicle_limit": 0,
        "house_limit": 1,
        "business_limit": 0,
    },
    "extreme_poverty": {
        "age_elderly": 60,
        "age_child": 16,
        "disability_grades": [1, 2],
        "supporter_income_limit": "2300.00",
        "asset_limit_per_person": "34500.00",
    },
    "medical": {"spending_ratio": "0.5", "min_spending": "5000.00"},
    "education": {"stages": ["学前", "小学", "初中", "高中", "中职", "高职", "本科"]},
    "housing": {"area_per_person_min": "15"},
    "employment": {"age_min": 16, "age_max": 59},
    "temporary": {"window_days": 90, "medical_spending_trigger": "10000.00"},
    "disaster": {"window_days": 180},
    "disability_living": {"grades": [1, 2, 3, 4]},
    "disability_care": {"grades": [1, 2]},
    "pension_premium": {"age_min": 16, "age_max": 59},
    "utility_relief": {"free_kwh_month": "10"},
}


class ParamsError(ValueError):
    """Bad standard parameters; `fields` maps each key to a Chinese message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def validate_params(item: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params normalised (decimals as strings, ints as ints); ParamsError names each bad key."""
    if item not in ITEMS:
        raise ParamsError({"item": "未知的救助项目"})
    if not isinstance(params, Mapping):
        raise ParamsError({"params": "参数必须是键值对（JSON 对象）"})
    spec = PARAM_SPECS[item]
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in params:
        if key not in spec:
            errors[str(key)] = f"{ITEM_LABELS[item]}标准没有这个参数"
    for key, kind in spec.items():
        if key not in params:
            errors[key] = "缺少这个参数"
            continue
        value = params[key]
        try:
            out[key] = _coerce(kind, value)
        except (ValueError, InvalidOperation, TypeError):
            errors[key] = {
                "decimal": "应为不小于 0 的数字",
                "int": "应为不小于 0 的整数",
                "int_list": "应为整数列表，如 [1, 2]",
                "str_list": "应为文字列表",
            }[kind]
    if errors:
        raise ParamsError(errors)
    return out


def _coerce(kind: ParamKind, value: Any) -> Any:
    if kind == "decimal":
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value))
        if not number.is_finite() or number < 0:
            raise ValueError
        return str(number)
    if kind == "int":
        if isinstance(value, bool) or int(value) != Decimal(str(value)) or int(value) < 0:
            raise ValueError
        return int(value)
    if not isinstance(value, list):
        raise ValueError
    if kind == "int_list":
        return [_coerce("int", v) for v in value]
    if not all(isinstance(v, str) for v in value):
        raise ValueError
    return list(value)
