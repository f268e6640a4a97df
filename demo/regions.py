"""The demo county's region tree: 三门县's townships with plausible villages and communities.

Codes follow the statistical division scheme (统计用区划代码): 12 digits, the county's six, then
three for the township (subdistricts 001-, towns 101-, townships 201-) and three for the village
level (residents' committees 001-, villages' committees 201-). The names of townships are real;
the villages are plausible composites, generated from a fixed seed so every run yields the same tree.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

COUNTY_CODE6 = "331022"
COUNTY_CODE = COUNTY_CODE6 + "000000"

# Kinds match assist_center.models.Region.Kind values.
SUBDISTRICT, TOWN, TOWNSHIP = "subdistrict", "town", "township"
VILLAGE, COMMUNITY = "village", "community"


@dataclass(frozen=True)
class TownshipSpec:
    code: str
    name: str
    kind: str
    communities: int
    villages: int


@dataclass(frozen=True)
class VillageSpec:
    code: str
    name: str
    kind: str
    township_code: str


def _township(seq: int, name: str, kind: str, communities: int, villages: int) -> TownshipSpec:
    return TownshipSpec(f"{COUNTY_CODE6}{seq:03d}000", name, kind, communities, villages)


TOWNSHIPS: tuple[TownshipSpec, ...] = (
    _township(1, "海游街道", SUBDISTRICT, 6, 6),
    _township(2, "沙柳街道", SUBDISTRICT, 3, 8),
    _township(3, "海润街道", SUBDISTRICT, 4, 7),
    _township(101, "珠岙镇", TOWN, 1, 9),
    _township(102, "亭旁镇", TOWN, 1, 10),
    _township(103, "浦坝港镇", TOWN, 1, 9),
    _township(104, "健跳镇", TOWN, 2, 10),
    _township(105, "横渡镇", TOWN, 1, 8),
    _township(106, "花桥镇", TOWN, 1, 8),
    _township(107, "小雄镇", TOWN, 1, 7),
    _township(108, "六敖镇", TOWN, 1, 8),
    _township(201, "高枧乡", TOWNSHIP, 0, 6),
    _township(202, "蛇蟠乡", TOWNSHIP, 0, 5),
)

# Common parts of village names along the Zhejiang coast: a position or feature, then a place word.
_PREFIXES = "上下东西南北前后大小新里外中高横塘石岭湾溪沙花桥"
_STEMS = (
    "叶",
    "岙",
    "屏",
    "洋",
    "塘",
    "山",
    "坑",
    "溪",
    "岩",
    "湾",
    "朱",
    "陈",
    "林",
    "潘",
    "章",
    "周",
    "蒋",
    "王",
    "许",
    "郑",
    "坦",
    "岭",
    "埠",
    "浦",
    "港",
    "桥",
    "田",
    "园",
    "头",
    "岸",
    "宅",
    "坪",
)
_COMMUNITY_NAMES = (
    "心湖",
    "城东",
    "城西",
    "广润",
    "三峰",
    "光明",
    "南山",
    "湖滨",
    "振兴",
    "德福",
    "和美",
    "金鳌",
    "琴江",
    "滨海",
    "文峰",
    "安康",
    "丰泽",
    "梅园",
    "银河",
)


def _rng(seed: str) -> random.Random:
    # A seed from a hash, not hash(): str hashing is randomised per process.
    return random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))  # noqa: S311


def villages_of(township: TownshipSpec) -> list[VillageSpec]:
    """Return the township's communities (0xx) and villages (2xx), the same on every run."""
    rng = _rng(township.code)
    prefix = township.code[:9]
    result: list[VillageSpec] = []
    short = township.name[:2]
    community_names = rng.sample(_COMMUNITY_NAMES, township.communities)
    if township.communities:
        # A town's seat is usually a residents' committee named after the town.
        community_names[0] = short
    for i, stem in enumerate(community_names, start=1):
        result.append(VillageSpec(f"{prefix}{i:03d}", f"{stem}社区", COMMUNITY, township.code))
    seen: set[str] = set()
    n = 0
    while n < township.villages:
        first, second = rng.choice(_PREFIXES), rng.choice(_STEMS)
        name = first + second + "村"
        if first == second or name in seen:
            continue
        seen.add(name)
        n += 1
        result.append(VillageSpec(f"{prefix}{200 + n:03d}", name, VILLAGE, township.code))
    return result


def all_villages() -> list[VillageSpec]:
    return [v for t in TOWNSHIPS for v in villages_of(t)]
