"""Who paid: a counterparty name is taken for a private person's only by the documented rule."""
from __future__ import annotations

import pytest

from market.reconciliation.payers import looks_like_individual


@pytest.mark.parametrize("name", ["张伟", "欧阳娜娜", "李 明", "阿依古丽·买买提"])
def test_personal_names(name):
    assert looks_like_individual(name)


@pytest.mark.parametrize("name", [
    "王",                      # one character: not a full name
    "张三丰李四",               # five characters without a middle dot
    "华芯环保科技有限公司", "上海某某化工厂", "张伟公司", "中国银行", "市环保局", "检测中心",
    "运营商",                   # 营: an organisation's word
    "ICBC", "Zhang Wei", "张伟2", "", "  "])
def test_organisations_and_anything_unclear_are_not_persons(name):
    assert not looks_like_individual(name)
