"""Who paid (pure): is a statement's counterparty name a private person's?

A receipt toward a disposal order from a carrier's or a private person's account raises the
"direct payment" alert (DESIGN.md §8). Statements give no account type in the CSV and MT940
layouts, so the person is recognised by the name, conservatively (an alert that is wrong costs
a regulator's time; one that is missed is still visible on the ledger):

- the name, without blanks and the middle dots of transcribed names (· • ・), consists only of
  Chinese characters (CJK unified ideographs);
- it is 2–4 characters long (a surname and a given name), or, with a middle dot (阿依古丽·买买提),
  at most 10 characters in parts of 1–6;
- it contains none of the words organisations are named with: 公司 厂 中心 局 院 所 店 部 行 社
  会 站 处 委 校 馆 场 队 室 组 团 司 科 府 办 厅 署 园 坊 铺 矿 业 村 镇 街 库 军 营 州 省 市
  县 区 国 银 (a bank, a shop, a works, a bureau, an institute and the like);
- names in Latin letters, digits or mixed scripts are never taken for a person.

The caller also rules out any name that is a registered organisation's.
"""
from __future__ import annotations

import re

ORGANISATION_MARKERS = frozenset("厂局院所店部行社会站处委校馆场队室组团司科府办厅署园坊铺矿业村镇街库军营州省市县区国银")
_DOTS = re.compile(r"[·•・]")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def looks_like_individual(name: str) -> bool:
    """True for a counterparty name that is a private person's by the rule above."""
    compact = "".join((name or "").split())
    if "中心" in compact or "公司" in compact:
        return False
    parts = _DOTS.split(compact)
    if not all(_HAN.fullmatch(p) for p in parts):
        return False
    if ORGANISATION_MARKERS.intersection("".join(parts)):
        return False
    if len(parts) == 1:
        return 2 <= len(compact) <= 4
    return all(1 <= len(p) <= 6 for p in parts) and len("".join(parts)) <= 10
