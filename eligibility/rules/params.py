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

# What a person reads for each parameter: its Chinese name and unit (issue 16: the coordinator
# edits these in a form, the report prints them; the keys stay the storage).
PARAM_LABELS: dict[str, tuple[str, str]] = {
    "amount_per_person_month": ("低保标准（每人每月）", "元"),
    "asset_limit_per_person": ("人均金融资产上限", "元"),
    "vehicle_limit": ("机动车上限（不含豁免车辆）", "辆"),
    "house_limit": ("住宅上限", "套"),
    "business_limit": ("在营企业或个体工商户上限", "户"),
    "multiple": ("低保边缘：不超过低保标准的倍数", "倍"),
    "age_elderly": ("老年人年龄（不低于）", "周岁"),
    "age_child": ("未成年人年龄（低于）", "周岁"),
    "disability_grades": ("残疾等级", "级"),
    "supporter_income_limit": ("赡养（抚养、扶养）义务人月收入上限", "元"),
    "spending_ratio": ("自付医疗费用占家庭年收入的比例（不低于）", ""),
    "min_spending": ("自付医疗费用下限", "元"),
    "stages": ("救助的学段", ""),
    "area_per_person_min": ("人均住房面积低于", "平方米"),
    "age_min": ("年龄下限", "周岁"),
    "age_max": ("年龄上限", "周岁"),
    "window_days": ("困难发生后多少天内", "天"),
    "medical_spending_trigger": ("突发医疗支出触发线", "元"),
    "grades": ("残疾等级", "级"),
    "free_kwh_month": ("每月减免电量", "千瓦时"),
}


def param_label(key: str) -> str:
    label, unit = PARAM_LABELS.get(key, (key, ""))
    return f"{label}（{unit}）" if unit else label


def params_text(params: Mapping[str, Any]) -> str:
    """ "低保标准（每人每月）1150.00 元；机动车上限（不含豁免车辆）0 辆": no keys, no braces."""
    parts = []
    for key, value in params.items():
        label, unit = PARAM_LABELS.get(str(key), (str(key), ""))
        shown = "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{label} {shown}{(' ' + unit) if unit else ''}")
    return "；".join(parts)


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
            errors[key] = f"缺少“{param_label(key)}”"
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
